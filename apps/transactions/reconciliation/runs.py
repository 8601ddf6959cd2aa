"""Reconciliation runs: one ``ReconciliationRun`` per operator, its checks, its report.

A run reads the balances of the operator's open pools (``apps.pools.snapshots``; what the
readings show: ``readings``), then runs every check of ``checks`` and records the findings
(``findings``), repairing what it can (``repairs``). Incremental checks (operator answers,
finished sagas) look back to the start of the operator's previous finished run, less
``WINDOW_OVERLAP``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from apps.core.wire import jsonable
from apps.operators import clients
from apps.operators.clients import OperatorBalances
from apps.operators.models import Operator
from apps.pools import snapshots
from apps.pools.models import Pool
from apps.pools.snapshots import PoolView
from apps.transactions.models import ReconciliationRun
from apps.transactions.reconciliation.checks.answered_balances import check_answered_balances
from apps.transactions.reconciliation.checks.balances import StreamHistory
from apps.transactions.reconciliation.checks.empty_pools import check_empty_pools
from apps.transactions.reconciliation.checks.journal import check_journal
from apps.transactions.reconciliation.checks.locks import check_locks
from apps.transactions.reconciliation.checks.orphan_debits import check_orphan_debits
from apps.transactions.reconciliation.checks.stuck_unknown import check_stuck_unknown
from apps.transactions.reconciliation.checks.win_overdue import check_win_overdue
from apps.transactions.reconciliation.findings import (
    Finding,
    FindingSink,
    run_operator_id,
)
from apps.transactions.reconciliation.readings import (
    FETCH_BUDGET_SECONDS,
    READ_BATCH,
    Hooks,
    ObserveStats,
    OperatorReading,
    observe,
)
from apps.transactions.reconciliation.repairs import findings_auto_resolve

logger = logging.getLogger(__name__)

RUN_STALE_AFTER = timedelta(hours=1)
# Incremental checks (answers, finished sagas) look back to the previous finished run's
# start, less this overlap, so nothing falls between two runs.
WINDOW_OVERLAP = timedelta(hours=1)


def _window_start(run: ReconciliationRun) -> datetime | None:
    previous = (
        ReconciliationRun.objects.filter(
            operator_id=run_operator_id(run), status=ReconciliationRun.Status.FINISHED
        )
        .exclude(pk=run.pk)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    return previous - WINDOW_OVERLAP if previous else None


def _run_begin(operator: Operator, trigger: str) -> ReconciliationRun | None:
    now = timezone.now()
    ReconciliationRun.objects.filter(
        operator=operator,
        status=ReconciliationRun.Status.RUNNING,
        started_at__lt=now - RUN_STALE_AFTER,
    ).update(
        status=ReconciliationRun.Status.FAILED,
        finished_at=now,
        error="Abandoned: still running after an hour (the process running it died).",
    )
    try:
        with transaction.atomic():
            return ReconciliationRun.objects.create(operator=operator, trigger=trigger)
    except IntegrityError:
        return None  # another run of this operator is in progress


def _run_finish(run: ReconciliationRun, *, error: str = "") -> None:
    run.finished_at = timezone.now()
    run.duration_ms = max(int((run.finished_at - run.started_at).total_seconds() * 1000), 0)
    run.status = ReconciliationRun.Status.FAILED if error else ReconciliationRun.Status.FINISHED
    run.error = error
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "duration_ms",
            "checked",
            "findings",
            "found",
            "auto_resolved",
            "error",
        ]
    )


def _reconcile_operator(
    run: ReconciliationRun,
    *,
    answers: OperatorBalances,
    views: dict[int, PoolView],
    claimed: int,
    reading: OperatorReading,
) -> None:
    """Finish an operator's run once its last answers are in (``reading`` took the batches
    before them): record them, read again what was priced meanwhile, run the checks."""
    operator = answers.operator
    reading.take(answers, views)
    sink, history, stats = reading.sink, reading.history, reading.stats
    now = timezone.now()
    since = _window_start(run)
    calls = reading.calls_logged
    priced_first = stats.priced_during_read
    retried, unread = _read_again(
        operator, answers=answers, views=views, stats=stats, sink=sink, history=history
    )
    findings: list[Finding] = []
    findings += check_stuck_unknown(operator_id=operator.pk, now=now)
    findings += check_win_overdue(operator_id=operator.pk, now=now)
    orphans, debits_checked = check_orphan_debits(operator_id=operator.pk, since=since)
    findings += orphans
    mismatches, wallet_checked, transfers_checked = check_answered_balances(
        operator_id=operator.pk, since=since
    )
    findings += mismatches
    findings += check_empty_pools(operator=operator, now=now)
    findings += check_locks(operator=operator, now=now)
    journal_findings, journal_checked = check_journal(operator=operator)
    findings += journal_findings
    for finding in findings:
        sink.record(operator_id=operator.pk, finding=finding)
    run.auto_resolved = findings_auto_resolve(run=run, sink=sink)
    run.findings = sink.count
    run.found = sink.summary()
    run.checked = jsonable(
        {
            "open_pools": answers.requested + claimed,
            "pools_claimed_skipped": claimed,
            "balances_requested": answers.requested,
            "balances_not_sent": answers.not_sent,
            "balances_read": stats.read,
            "balances_failed": stats.failed,
            "balance_errors": dict(stats.failed_codes),
            "pools_priced_during_read": priced_first,
            "readings_retried": retried,
            "pools_unread_after_retries": unread,
            "snapshots": stats.snapshots,
            "busts_started": stats.busts,
            "calls_logged": calls,
            "fetch_seconds": round(answers.elapsed, 3),
            "window_start": since,
            "debits_checked": debits_checked,
            "wallet_answers_checked": wallet_checked,
            "transfers_checked": transfers_checked,
            "journal_transactions_checked": journal_checked,
        }
    )
    _run_finish(run, error=f"reading balances: {answers.error}" if answers.error else "")


# A pool being priced when its balance was read (or whose pricing claim was held) is read
# again within the run, up to this many more times, this long apart: a run during traffic
# must not come back without balances because joins and leaves were pricing pools.
RETRY_ROUNDS = 3


def _read_again(
    operator: Operator,
    *,
    answers: OperatorBalances,
    views: dict[int, PoolView],
    stats: ObserveStats,
    sink: FindingSink,
    history: StreamHistory,
) -> tuple[int, int]:
    """Read again the operator's open pools whose answered balance was dropped (priced during
    the read) or that were not asked (pricing claim held). Pools whose reading failed, or
    that the reading budget left out, are not asked again. Returns (readings retried, pools
    still unread)."""
    answered = {
        pk for pk, result in answers.results.items() if result.amount("balance") is not None
    }
    open_now = Pool.objects.filter(operator=operator, state=Pool.State.OPEN, is_demo=False)
    claimed = set(open_now.values_list("pk", flat=True)) - set(views)
    pending = (answered - stats.recorded) | claimed
    retried = 0
    for _ in range(RETRY_ROUNDS):
        if not pending:
            break
        time.sleep(settings.COPYPOOL_RECONCILE_RETRY_WAIT_SECONDS)
        fresh, _claimed = snapshots.open_pool_views(pool_ids=pending, include_demo=False)
        if not fresh:
            continue
        retried += len(fresh)
        by_id = {view.id: view for view in fresh}
        views.update(by_id)
        for again in snapshots.pool_balances_fetch(
            [(operator, fresh)], budget=FETCH_BUDGET_SECONDS
        ):
            again.save_call_log()
            round_stats = observe(by_id, again.results, sink=sink, history=history)
            round_stats.priced_during_read = 0  # counted once, as pools_unread_after_retries
            stats.add(round_stats)
            pending -= {pk for pk, r in again.results.items() if r.amount("balance") is None}
        pending -= stats.recorded
    return retried, len(pending)


@dataclass
class ReconciliationReport:
    runs: list[ReconciliationRun]
    busy: list[Operator]  # operators skipped: a run of theirs was already in progress
    elapsed: float


def reconciliation_operators() -> list[Operator]:
    """Operators to reconcile: the enabled ones and any that still has an unclosed pool."""
    unclosed = Pool.objects.filter(operator=OuterRef("pk"), is_demo=False).exclude(
        state=Pool.State.CLOSED
    )
    return list(Operator.objects.filter(Q(enabled=True) | Exists(unclosed)).order_by("pk"))


def reconciliation_run(
    *,
    operators: Sequence[Operator] | None = None,
    trigger: str = ReconciliationRun.Trigger.SCHEDULE,
    connections: int = clients.DEFAULT_BALANCE_CONNECTIONS,
    budget: float | None = FETCH_BUDGET_SECONDS,
    hooks: Hooks | None = None,
) -> ReconciliationReport:
    """One reconciliation run per operator, balances read concurrently; see the package doc.

    Each operator's run is processed as soon as that operator's balances are in, so a slow
    operator delays only its own run. An operator whose previous run is still going is
    skipped (``busy``); a run that breaks is recorded as failed and the others go on.
    """
    started = time.monotonic()
    hooks = hooks or Hooks()
    operators = list(operators) if operators is not None else reconciliation_operators()
    runs: dict[int, ReconciliationRun] = {}
    busy: list[Operator] = []
    for operator in operators:
        run = _run_begin(operator, trigger)
        if run is None:
            busy.append(operator)
        else:
            runs[operator.pk] = run
    views, claimed = snapshots.open_pool_views(operator_ids=list(runs), include_demo=False)
    if hooks.start:
        hooks.start(len(views))
    by_id = {view.id: view for view in views}
    grouped = snapshots.views_by_operator(views)
    jobs = [(op, grouped.get(op.pk, [])) for op in operators if op.pk in runs]
    taken: dict[int, OperatorReading] = {}
    broken: set[int] = set()
    for answers in snapshots.pool_balances_fetch(
        jobs, connections=connections, budget=budget, on_answer=hooks.answer, batch=READ_BATCH
    ):
        run = runs[answers.operator.pk]
        if run.pk not in broken:
            try:
                if run.pk not in taken:
                    history = StreamHistory(operator_id=answers.operator.pk)
                    taken[run.pk] = OperatorReading(sink=FindingSink(run=run), history=history)
                if answers.partial:
                    taken[run.pk].take(answers, by_id)
                else:
                    _reconcile_operator(
                        run,
                        answers=answers,
                        views=by_id,
                        claimed=claimed.get(run_operator_id(run), 0),
                        reading=taken[run.pk],
                    )
            except Exception as exc:
                logger.exception("Reconciliation run %s of %s failed", run.pk, answers.operator)
                _run_finish(run, error=f"{type(exc).__name__}: {exc}"[:2000])
                broken.add(run.pk)  # the rest of its answers are dropped
        if not answers.partial and hooks.operator_done:
            hooks.operator_done(answers.operator, run)
    return ReconciliationReport(
        runs=list(runs.values()), busy=busy, elapsed=time.monotonic() - started
    )
