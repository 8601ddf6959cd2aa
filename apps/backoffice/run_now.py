"""Staff running the scheduled jobs now: a reconciliation run, a day's settlement.

Both run in the request (the schedule keeps running them as before: see
``apps.transactions.schedules``), so the page that asked shows the result at once, in the demo
too, where no Celery worker runs. Neither moves money by itself: a reconciliation run reads
balances and records findings (its automatic repairs are those the schedule makes), and a
settlement recomputes figures. Each is still confirmed and audited with who and why, like any
staff action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from apps.backoffice.models import StaffAction
from apps.backoffice.services import staff_action_record
from apps.core.errors import ErrorCode, ValidationFailed
from apps.operators.models import Operator
from apps.transactions.finance.invoices import utc_today
from apps.transactions.models import DailySettlement, ReconciliationRun
from apps.transactions.reconciliation import reconciliation_run
from apps.transactions.settlement import settlement_compute

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# How long a run asked for from the admin may spend reading one operator's balances: the page
# waits for it. The schedule's runs keep the full budget.
RUN_NOW_BUDGET_SECONDS = 60.0
# How far back a settlement may be recomputed from the admin (the command goes further).
SETTLEMENT_MAX_DAYS_BACK = 366

RECONCILE_ACTION = "reconciliation_run_now"
SETTLE_ACTION = "settlement_run_now"


@dataclass(frozen=True)
class ReconciliationRunNow:
    runs: list[ReconciliationRun]
    busy: list[Operator]  # skipped: a run of theirs was already going

    def describe(self) -> str:
        if not self.runs and not self.busy:
            return "Nothing to reconcile: no enabled operator and no unclosed pool."
        parts = [
            f"{run.operator}: run #{run.pk} {run.get_status_display().lower()}, "
            f"{run.findings} finding(s)"
            for run in self.runs
        ]
        parts += [f"{op}: skipped, a run is already in progress" for op in self.busy]
        return "; ".join(parts)


def reconciliation_run_now(
    *, user: User | AnonymousUser, reason: str, operator: Operator | None = None
) -> ReconciliationRunNow:
    """One reconciliation run now for ``operator`` (or every operator that needs one),
    triggered "manual", each run recorded as a staff action on it."""
    if not (reason or "").strip():
        raise ValidationFailed("Say why", code=ErrorCode.VALIDATION)
    report = reconciliation_run(
        operators=[operator] if operator is not None else None,
        trigger=ReconciliationRun.Trigger.MANUAL,
        budget=RUN_NOW_BUDGET_SECONDS,
    )
    for run in report.runs:
        run.refresh_from_db()
        staff_action_record(
            user=user,
            action=RECONCILE_ACTION,
            target=run,
            reason=reason,
            outcome=(
                StaffAction.Outcome.ERROR
                if run.status == ReconciliationRun.Status.FAILED
                else StaffAction.Outcome.DONE
            ),
            message=f"{run.get_status_display()}, {run.findings} finding(s)",
        )
    for op in report.busy:
        staff_action_record(
            user=user,
            action=RECONCILE_ACTION,
            target=op,
            reason=reason,
            outcome=StaffAction.Outcome.REFUSED,
            message="A run of this operator was already in progress",
        )
    return ReconciliationRunNow(runs=report.runs, busy=report.busy)


def settlement_day_check(day: date, *, today: date | None = None) -> None:
    """A day the admin may settle: not in the future, at most a year back."""
    today = today or utc_today()
    if day > today:
        raise ValidationFailed("The day is in the future", code=ErrorCode.VALIDATION)
    if day < today - timedelta(days=SETTLEMENT_MAX_DAYS_BACK):
        raise ValidationFailed(
            f"At most {SETTLEMENT_MAX_DAYS_BACK} days back from the admin "
            "(use `manage.py settle --date` for older days)",
            code=ErrorCode.VALIDATION,
        )


def settlement_run_now(
    *, user: User | AnonymousUser, day: date, reason: str
) -> list[DailySettlement]:
    """Recompute ``day``'s settlement rows now; each row's recomputation is audited."""
    if not (reason or "").strip():
        raise ValidationFailed("Say why", code=ErrorCode.VALIDATION)
    settlement_day_check(day)
    rows = settlement_compute(day=day)
    for row in rows:
        staff_action_record(
            user=user,
            action=SETTLE_ACTION,
            target=row,
            reason=reason,
            outcome=StaffAction.Outcome.DONE,
            message=f"{row.day} {row.currency}: money in {row.money_in}, money out "
            f"{row.money_out}, fees {row.fees}, {row.transactions_count} transaction(s)",
        )
    return rows
