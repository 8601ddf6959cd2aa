"""Findings (``Discrepancy`` rows): recording them once per subject, and who resolves them.

Each finding is about one subject (``pool:<id>``, ``pool:<id>:open``, ``pool:<id>:close``,
``tx:<id>``); the database keeps at most one *open* row per kind and subject, so a finding
seen again only bumps ``last_seen_at`` and ``times_seen``. Demo (play money) pools and
transactions are never reconciled.

Resolution policy
-----------------
Conditions the system itself repairs (``stuck_unknown``, ``win_overdue``,
``lock_unacknowledged``, ``empty_open_pool``) are auto-resolved, with a note naming the run,
by the first run that no longer sees them (or at once when this run's own action fixed
them); if one comes back it is a new finding. So is ``journal_mismatch``, once the journal
agrees with the transaction log again (``manage.py journal_post_missing``). Evidence that money moved outside our flows
(``pool_overvalued``, ``balance_moved_offline``, ``orphan_debit``, ``balance_mismatch``)
stays open until staff resolve it (``discrepancy_resolve``: who and why); a later reading
that looks normal does not undo what happened. ``orphan_debit`` and ``balance_mismatch`` are
about one transaction: once staff resolved one, it is not raised again for that transaction.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.wire import jsonable
from apps.pools.models import Pool
from apps.transactions.models import Discrepancy, ReconciliationRun

Kind = Discrepancy.Kind

AUTO_RESOLVED_KINDS = frozenset(
    {
        Kind.STUCK_UNKNOWN,
        Kind.WIN_OVERDUE,
        Kind.LOCK_UNACKNOWLEDGED,
        Kind.EMPTY_OPEN_POOL,
        Kind.JOURNAL_MISMATCH,
    }
)
ONCE_PER_SUBJECT_KINDS = frozenset({Kind.ORPHAN_DEBIT, Kind.BALANCE_MISMATCH})
MAX_MOVEMENTS_KEPT = 20


@dataclass
class Finding:
    kind: str
    subject: str
    pool_id: int | None = None
    transaction_id: int | None = None
    expected: Decimal | None = None
    actual: Decimal | None = None
    details: dict[str, Any] = field(default_factory=dict)
    action_taken: str = ""
    # Set when this run's own action repaired it: resolve at once with this note.
    fixed: str = ""


def tx_details(row: Mapping[str, Any]) -> dict[str, Any]:
    """A transaction row's fields as a finding's details (the subject and amount aside)."""
    return {key: row[key] for key in row if key not in ("pk", "amount")}


def pool_finding(
    kind: str, pool: Pool, suffix: str = "", *, action_taken: str = "", fixed: str = ""
) -> Finding:
    """A finding about a pool (``pool:<id>`` and ``suffix``) with the pool's lock details."""
    return Finding(
        kind=kind,
        subject=f"pool:{pool.pk}{suffix}",
        pool_id=pool.pk,
        details={
            "state": pool.state,
            "lock_state": pool.lock_state,
            "opened_at": pool.opened_at,
            "open_sent_at": pool.open_sent_at,
            "streamer": pool.streamer.operator_user_id,
        },
        action_taken=action_taken,
        fixed=fixed,
    )


def discrepancy_record(
    *, operator_id: int, finding: Finding, run: ReconciliationRun | None = None
) -> tuple[Discrepancy | None, str]:
    """Record a finding: a new open row, or the open row of the same kind+subject seen again.

    Returns the row and ``"new"``, ``"seen"``, or ``"resolved_before"`` (a once-per-subject
    kind that staff already resolved: nothing is written, the row is None).
    """
    now = timezone.now()
    details = jsonable(finding.details)
    for _ in range(3):
        existing = (
            Discrepancy.objects.filter(
                kind=finding.kind, subject=finding.subject, state=Discrepancy.State.OPEN
            )
            .only("pk", "details")
            .first()
        )
        if existing is not None:
            if finding.kind == Kind.BALANCE_MOVED_OFFLINE:
                details = _merge_movements(existing.details, details)
            updates: dict[str, Any] = {
                "expected": finding.expected,
                "actual": finding.actual,
                "details": details,
                "last_seen_at": now,
                "times_seen": F("times_seen") + 1,
            }
            if run is not None:  # a snapshot's sighting keeps the last run's link
                updates["run"] = run
            if finding.action_taken:
                updates["action_taken"] = finding.action_taken[:255]
            Discrepancy.objects.filter(pk=existing.pk).update(**updates)
            existing.refresh_from_db()
            return existing, "seen"
        if (
            finding.kind in ONCE_PER_SUBJECT_KINDS
            and Discrepancy.objects.filter(kind=finding.kind, subject=finding.subject).exists()
        ):
            return None, "resolved_before"
        if finding.kind == Kind.BALANCE_MOVED_OFFLINE:
            details = _merge_movements({}, details)
        try:
            with transaction.atomic():
                row = Discrepancy.objects.create(
                    run=run,
                    operator_id=operator_id,
                    kind=finding.kind,
                    subject=finding.subject[:128],
                    pool_id=finding.pool_id,
                    transaction_id=finding.transaction_id,
                    expected=finding.expected,
                    actual=finding.actual,
                    details=details,
                    action_taken=finding.action_taken[:255],
                )
            return row, "new"
        except IntegrityError:
            continue  # a concurrent pass opened it first: update that one
    raise RuntimeError(f"could not record {finding.kind} {finding.subject}")


def _merge_movements(previous: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    movement = {key: details.get(key) for key in ("from", "to", "delta", "observed_at", "since")}
    movements = [*previous.get("movements", []), movement][-MAX_MOVEMENTS_KEPT:]
    return {**details, "movements": movements}


@transaction.atomic
def discrepancy_resolve(*, discrepancy: Discrepancy, by: User | None, note: str) -> Discrepancy:
    """Staff resolve a finding: who and why are kept; the note is required."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"resolution_note": "Say why the finding is resolved."})
    row = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
    if row.state == Discrepancy.State.RESOLVED:
        return row
    row.state = Discrepancy.State.RESOLVED
    row.resolved_by = by
    row.resolution_note = note
    row.resolved_at = timezone.now()
    row.save(update_fields=["state", "resolved_by", "resolution_note", "resolved_at"])
    return row


class FindingSink:
    """Records one pass's findings and counts them by kind (new / seen again)."""

    def __init__(self, *, run: ReconciliationRun | None = None) -> None:
        self.run = run
        self.by_kind: dict[str, Counter[str]] = defaultdict(Counter)
        self.subjects: set[tuple[str, str]] = set()

    def record(self, *, operator_id: int, finding: Finding) -> Discrepancy | None:
        self.subjects.add((finding.kind, finding.subject))
        row, outcome = discrepancy_record(operator_id=operator_id, finding=finding, run=self.run)
        self.by_kind[finding.kind][outcome] += 1
        if row is not None and finding.fixed:
            note = f"{finding.fixed} (run #{self.run.pk})" if self.run else finding.fixed
            Discrepancy.objects.filter(pk=row.pk, state=Discrepancy.State.OPEN).update(
                state=Discrepancy.State.RESOLVED,
                resolved_at=timezone.now(),
                resolution_note=f"Auto-resolved: {note}",
            )
            self.by_kind[finding.kind]["fixed"] += 1
        return row

    @property
    def count(self) -> int:
        return sum(c["new"] + c["seen"] for c in self.by_kind.values())

    def summary(self) -> dict[str, dict[str, int]]:
        return {kind: dict(counts) for kind, counts in sorted(self.by_kind.items())}


def run_operator_id(run: ReconciliationRun) -> int:
    """The operator a run is for (every run is one operator's; the column allows none only
    for runs recorded before that rule)."""
    if run.operator_id is None:
        raise ValueError(f"reconciliation run {run.pk} has no operator")
    return run.operator_id
