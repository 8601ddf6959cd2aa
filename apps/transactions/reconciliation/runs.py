"""Reconciliation: our ledger against what each operator says, and balance snapshots.

Two passes share the balance-reading machinery here:

* ``pools_snapshot`` (every few minutes) reads the streamer balance of every open pool,
  records it as the pool's last known balance with a ``PoolSnapshot`` (the history behind the
  charts), starts the bust flow at a zero balance, and raises the two balance findings below.
* ``reconciliation_run`` (every quarter of an hour, or ``manage.py reconcile``) does the same
  reading for operator pools, then checks the ledger, one ``ReconciliationRun`` per operator.

Reading balances
----------------
A pool whose pricing claim is held (``Pool.pricing_saga`` set: a join or leave is between its
balance read and its transfer's definite answer) is not read that round. Because a claim can
be taken while we wait for the operator, a reading is only recorded if, under the pool's row
lock, the claim is still free and ``balance_at`` has not moved since we looked (every pricing
observes a balance first, so a pricing that started and finished in between is noticed too);
otherwise it is dropped ("priced during read"). Operator pools are read concurrently through
``apps.operators.clients.streamer_balances_fetch`` (bounded connections per operator, each
operator processed as soon as its own answers are in); demo pools through their gateway.

Findings (``Discrepancy.Kind``)
-------------------------------
Each finding is about one subject (``pool:<id>``, ``pool:<id>:open``, ``pool:<id>:close``,
``tx:<id>``); the database keeps at most one *open* row per kind and subject, so a finding
seen again only bumps ``last_seen_at`` and ``times_seen``. Demo (play money) pools and
transactions are never reconciled.

``stuck_unknown``
    A transaction whose outcome has been unknown (sent, answer lost) for more than
    ``STUCK_UNKNOWN_AFTER``. Its saga keeps asking; this makes the doubt visible.
``win_overdue``
    A WIN (follower credit) still unpaid ``COPYPOOL_WIN_REVIEW_AFTER`` (24 h) after it was
    created. Its saga keeps retrying (and has flagged itself for review).
``pool_overvalued``
    The operator's balance ``B`` of an open pool is below the value owed to the followers:
    their units ``F = total_units - streamer_units`` valued at the balance our ledger last
    confirmed (``Pool.balance`` at ``balance_at``, set from every transfer answer and every
    recorded reading): ``B < F * balance / total_units`` (rounded down to 8 places). Only
    raised when no stream of the streamer has been live since ``balance_at``: while the
    streamer plays, the balance falling is the streamer losing, which unit accounting passes
    on to the followers pro rata (the followers' units being worth less than they were
    priced at is not a finding). With no play, money left the account outside our flows
    (a cash-out through the withdrawal lock, an operator-side adjustment, a transfer applied
    that we think failed) and the followers would be paid less than they are owed.
``balance_moved_offline``
    No stream of the streamer has been live since ``balance_at`` and the operator's balance
    differs from ``Pool.balance`` (either way, any amount). ``pool_overvalued`` is its
    serious subset. Each movement is kept in ``details["movements"]``; the new balance
    becomes the last known one (so it is reported once, not on every reading).
``lock_unacknowledged``
    ``game-pool`` OPEN sent more than ``ACK_GRACE`` ago and never acknowledged
    (``lock_state`` pending on an open pool; subject ``pool:<id>:open``): a join saga waiting
    on it is made due now, else OPEN is re-sent here and an acknowledgement locks the pool.
    Or a pool stuck ``closing`` for more than ``ACK_GRACE`` (subject ``pool:<id>:close``):
    its close-pool saga (created if a crash lost it) is made due and driven, re-sending CLOSE.
``empty_open_pool``
    An open pool older than ``EMPTY_POOL_GRACE`` with no members: it is closed the way the
    sagas close one (``pool_begin_close_if_empty`` and a close-pool saga).
``orphan_debit``
    A BET (follower debit) that succeeded in a join saga that has finished (done or failed)
    with no succeeded DEPOSIT and no rollback: the follower paid and the money is nowhere.
``balance_mismatch``
    An operator's answer that contradicts itself: a wallet withdraw, deposit or rollback
    whose ``newBalance`` is not ``oldBalance`` -/+ the amount; or a streamer transfer, made
    while no stream of the streamer was live, whose answered balance is not the balance it
    was priced on +/- the amount.

Resolution policy
-----------------
Conditions the system itself repairs (``stuck_unknown``, ``win_overdue``,
``lock_unacknowledged``, ``empty_open_pool``) are auto-resolved, with a note naming the run,
by the first run that no longer sees them (or at once when this run's own action fixed
them); if one comes back it is a new finding. Evidence that money moved outside our flows
(``pool_overvalued``, ``balance_moved_offline``, ``orphan_debit``, ``balance_mismatch``)
stays open until staff resolve it (``discrepancy_resolve``: who and why); a later reading
that looks normal does not undo what happened. ``orphan_debit`` and ``balance_mismatch`` are
about one transaction: once staff resolved one, it is not raised again for that transaction.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone

from apps.operators import clients
from apps.operators.clients import CallResult
from apps.operators.models import Operator
from apps.pools import services as pools
from apps.pools import snapshots
from apps.pools.accounting import value_of_units
from apps.pools.models import Pool
from apps.pools.snapshots import PoolView, ReadingStats
from apps.streamers.models import Stream
from apps.transactions import sagas
from apps.transactions.gateways import gateway_for
from apps.transactions.locks import CLOSE_DRIVE_SECONDS, pool_game_pool_resend
from apps.transactions.models import Discrepancy, ReconciliationRun, Saga, Transaction
from apps.transactions.tasks import sagas_drive

logger = logging.getLogger(__name__)

Kind = Discrepancy.Kind
TxKind = Transaction.Kind
TxStatus = Transaction.Status

STUCK_UNKNOWN_AFTER = timedelta(minutes=15)
ACK_GRACE = timedelta(minutes=2)
EMPTY_POOL_GRACE = timedelta(minutes=5)
RUN_STALE_AFTER = timedelta(hours=1)
# Incremental checks (answers, finished sagas) look back to the previous finished run's
# start, less this overlap, so nothing falls between two runs.
WINDOW_OVERLAP = timedelta(hours=1)
FETCH_BUDGET_SECONDS = 600.0
QUERY_CHUNK = 500

AUTO_RESOLVED_KINDS = frozenset(
    {Kind.STUCK_UNKNOWN, Kind.WIN_OVERDUE, Kind.LOCK_UNACKNOWLEDGED, Kind.EMPTY_OPEN_POOL}
)
ONCE_PER_SUBJECT_KINDS = frozenset({Kind.ORPHAN_DEBIT, Kind.BALANCE_MISMATCH})
MAX_MOVEMENTS_KEPT = 20


# --- findings ------------------------------------------------------------------------


@dataclass
class Finding:
    kind: str
    subject: str
    pool_id: int | None = None
    transaction_id: int | None = None
    expected: Decimal | None = None
    actual: Decimal | None = None
    details: dict = field(default_factory=dict)
    action_taken: str = ""
    # Set when this run's own action repaired it: resolve at once with this note.
    fixed: str = ""


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def discrepancy_record(
    *, operator_id: int, finding: Finding, run: ReconciliationRun | None = None
) -> tuple[Discrepancy | None, str]:
    """Record a finding: a new open row, or the open row of the same kind+subject seen again.

    Returns the row and ``"new"``, ``"seen"``, or ``"resolved_before"`` (a once-per-subject
    kind that staff already resolved: nothing is written, the row is None).
    """
    now = timezone.now()
    details = _jsonable(finding.details)
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
            updates = {
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


def _merge_movements(previous: dict, details: dict) -> dict:
    movement = {key: details.get(key) for key in ("from", "to", "delta", "observed_at", "since")}
    movements = [*previous.get("movements", []), movement][-MAX_MOVEMENTS_KEPT:]
    return {**details, "movements": movements}


@transaction.atomic
def discrepancy_resolve(
    *, discrepancy: Discrepancy, by: AbstractBaseUser | None, note: str
) -> Discrepancy:
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

    def __init__(self, *, run: ReconciliationRun | None = None):
        self.run = run
        self.by_kind: dict[str, Counter] = defaultdict(Counter)
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


# --- reading balances ----------------------------------------------------------------


class StreamHistory:
    """When each of an operator's streamers was last live, to tell play from no play."""

    def __init__(self, *, operator_id: int):
        streams = Stream.objects.filter(streamer__operator_id=operator_id)
        self.live_now = set(
            streams.filter(status=Stream.Status.LIVE).values_list("streamer_id", flat=True)
        )
        self.last_end = dict(
            streams.filter(started_at__isnull=False, ended_at__isnull=False)
            .values("streamer_id")
            .annotate(last=Max("ended_at"))
            .values_list("streamer_id", "last")
        )

    def offline_since(self, streamer_id: int, since: datetime | None) -> bool:
        """True when no stream of the streamer was live at any moment since ``since``."""
        if since is None or streamer_id in self.live_now:
            return False
        last = self.last_end.get(streamer_id)
        return last is None or last < since


@dataclass
class ObserveStats(ReadingStats):
    busts: int = 0

    def add(self, other: ObserveStats) -> None:
        self.read += other.read
        self.failed += other.failed
        self.failed_codes.update(other.failed_codes)
        self.priced_during_read += other.priced_during_read
        self.snapshots += other.snapshots
        self.busts += other.busts


def _observe(
    views: dict[int, PoolView],
    results: dict[int, CallResult],
    *,
    sink: FindingSink,
    history: StreamHistory | None,
) -> ObserveStats:
    """Record readings (guarded against pricing), snapshot them, bust, balance findings."""
    stats = ObserveStats()
    for reading in snapshots.pool_readings_record(views, results, stats=stats):
        view, balance = reading.view, reading.balance
        if not view.is_demo and history is not None:
            for finding in _balance_findings(view, balance, history):
                sink.record(operator_id=view.operator_id, finding=finding)
        if reading.shows_bust and pools.pool_mark_bust(pool_id=view.id):
            logger.warning("Pool %s is bust (zero balance read)", view.id)
            stats.busts += 1
            sagas_drive(sagas.pool_pay_out_all(Pool.objects.get(pk=view.id)))
    return stats


def _balance_findings(view: PoolView, balance: Decimal, history: StreamHistory) -> list[Finding]:
    if not history.offline_since(view.streamer_id, view.balance_at):
        return []
    findings = []
    subject = f"pool:{view.id}"
    base = {
        "currency": view.currency,
        "since": view.balance_at,
        "observed_at": timezone.now(),
        "last_stream_ended_at": history.last_end.get(view.streamer_id),
    }
    if balance != view.balance:
        findings.append(
            Finding(
                kind=Kind.BALANCE_MOVED_OFFLINE,
                subject=subject,
                pool_id=view.id,
                expected=view.balance,
                actual=balance,
                details={
                    **base,
                    "from": view.balance,
                    "to": balance,
                    "delta": balance - view.balance,
                },
            )
        )
    if view.follower_units > 0 and view.total_units > 0:
        owed = value_of_units(
            units=view.follower_units, balance=view.balance, total_units=view.total_units
        )
        if balance < owed:
            findings.append(
                Finding(
                    kind=Kind.POOL_OVERVALUED,
                    subject=subject,
                    pool_id=view.id,
                    expected=owed,
                    actual=balance,
                    details={
                        **base,
                        "follower_units": view.follower_units,
                        "total_units": view.total_units,
                        "confirmed_balance": view.balance,
                        "shortfall": owed - balance,
                    },
                )
            )
    return findings


@dataclass
class Hooks:
    """Progress callbacks for commands: ``start(total_readings)``, ``answer()`` (called from
    the reading thread), ``operator_done(operator, summary)``."""

    start: Callable[[int], None] | None = None
    answer: Callable[[], None] | None = None
    operator_done: Callable[[Operator, object], None] | None = None


# --- snapshots -----------------------------------------------------------------------


@dataclass
class SnapshotReport:
    pools: int = 0
    claimed_skipped: int = 0
    not_sent: int = 0
    stats: ObserveStats = field(default_factory=ObserveStats)
    elapsed: float = 0.0


def pools_snapshot(
    *,
    operators: Sequence[Operator] | None = None,
    connections: int = clients.DEFAULT_BALANCE_CONNECTIONS,
    budget: float | None = FETCH_BUDGET_SECONDS,
    hooks: Hooks | None = None,
) -> SnapshotReport:
    """Read, record and snapshot every open pool's balance (demo pools included)."""
    started = time.monotonic()
    hooks = hooks or Hooks()
    operator_ids = [op.pk for op in operators] if operators is not None else None
    views, claimed = snapshots.open_pool_views(operator_ids=operator_ids, include_demo=True)
    report = SnapshotReport(pools=len(views) + sum(claimed.values()))
    report.claimed_skipped = sum(claimed.values())
    if hooks.start:
        hooks.start(len(views))
    by_id = {view.id: view for view in views}
    grouped = snapshots.views_by_operator(v for v in views if not v.is_demo)
    operator_rows = {op.pk: op for op in Operator.objects.filter(pk__in=list(grouped))}
    jobs = [(operator_rows[op_id], group) for op_id, group in grouped.items()]
    sink = FindingSink(run=None)
    for answers in snapshots.pool_balances_fetch(
        jobs, connections=connections, budget=budget, on_answer=hooks.answer
    ):
        answers.save_call_log()
        report.not_sent += answers.not_sent
        history = StreamHistory(operator_id=answers.operator.pk)
        report.stats.add(_observe(by_id, answers.results, sink=sink, history=history))
    demo = [v for v in views if v.is_demo]
    demo_pools = Pool.objects.select_related("streamer").in_bulk([v.id for v in demo])
    results = {}
    for view in demo:
        results[view.id] = gateway_for(demo_pools[view.id]).balance(pool=demo_pools[view.id])
        if hooks.answer:
            hooks.answer()
    report.stats.add(_observe(by_id, results, sink=sink, history=None))
    report.elapsed = time.monotonic() - started
    return report


# --- reconciliation ------------------------------------------------------------------


def _window_start(run: ReconciliationRun) -> datetime | None:
    previous = (
        ReconciliationRun.objects.filter(
            operator_id=run.operator_id, status=ReconciliationRun.Status.FINISHED
        )
        .exclude(pk=run.pk)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    return previous - WINDOW_OVERLAP if previous else None


def _tx_details(row: dict) -> dict:
    return {key: row[key] for key in row if key not in ("pk", "amount")}


def check_stuck_unknown(*, operator_id: int, now: datetime) -> list[Finding]:
    rows = Transaction.objects.filter(
        operator_id=operator_id,
        is_demo=False,
        status=TxStatus.UNKNOWN,
        created_at__lt=now - STUCK_UNKNOWN_AFTER,
    ).values(
        "pk",
        "kind",
        "external_id",
        "amount",
        "currency",
        "attempts",
        "last_error_code",
        "last_attempt_at",
        "created_at",
        "saga_id",
        "pool_id",
    )
    return [
        Finding(
            kind=Kind.STUCK_UNKNOWN,
            subject=f"tx:{row['pk']}",
            transaction_id=row["pk"],
            pool_id=row["pool_id"],
            expected=row["amount"],
            details=_tx_details(row),
        )
        for row in rows
    ]


def check_win_overdue(*, operator_id: int, now: datetime) -> list[Finding]:
    rows = Transaction.objects.filter(
        operator_id=operator_id,
        is_demo=False,
        kind=TxKind.FOLLOWER_CREDIT,
        status__in=[TxStatus.PENDING, TxStatus.UNKNOWN, TxStatus.FAILED],
        created_at__lt=now - settings.COPYPOOL_WIN_REVIEW_AFTER,
    ).values(
        "pk",
        "external_id",
        "amount",
        "currency",
        "status",
        "attempts",
        "last_error_code",
        "created_at",
        "saga_id",
        "pool_id",
        "follower_id",
    )
    return [
        Finding(
            kind=Kind.WIN_OVERDUE,
            subject=f"tx:{row['pk']}",
            transaction_id=row["pk"],
            pool_id=row["pool_id"],
            expected=row["amount"],
            details=_tx_details(row),
        )
        for row in rows
    ]


def check_orphan_debits(*, operator_id: int, since: datetime | None) -> tuple[list[Finding], int]:
    """Succeeded BETs of finished join sagas with neither a succeeded DEPOSIT nor a rollback.

    Three plain queries and a set difference rather than one anti-join: the result does not
    hinge on the planner's row estimates (a correlated NOT EXISTS on freshly loaded tables
    was measured at 8 s for 10,000 debits).
    """
    debits = Transaction.objects.filter(
        operator_id=operator_id,
        is_demo=False,
        kind=TxKind.FOLLOWER_DEBIT,
        saga__status__in=[Saga.Status.DONE, Saga.Status.FAILED],
    )
    if since is not None:
        debits = debits.filter(saga__finished_at__gte=since)
    candidates = {
        row["pk"]: row
        for row in debits.filter(status=TxStatus.SUCCEEDED).values(
            "pk",
            "external_id",
            "amount",
            "currency",
            "saga_id",
            "saga__status",
            "pool_id",
            "follower_id",
            "completed_at",
        )
    }
    deposited: set[int] = set()
    rolled_back: set[int] = set()
    ids = sorted(candidates)
    for start in range(0, len(ids), QUERY_CHUNK):
        chunk = ids[start : start + QUERY_CHUNK]
        sagas_of_chunk = {candidates[pk]["saga_id"] for pk in chunk}
        deposited |= set(
            Transaction.objects.filter(
                saga_id__in=sagas_of_chunk,
                kind=TxKind.STREAMER_DEPOSIT,
                status=TxStatus.SUCCEEDED,
            ).values_list("saga_id", flat=True)
        )
        rolled_back |= set(
            Transaction.objects.filter(
                rolls_back_id__in=chunk,
                kind=TxKind.FOLLOWER_ROLLBACK,
                status=TxStatus.SUCCEEDED,
            ).values_list("rolls_back_id", flat=True)
        )
    findings = [
        Finding(
            kind=Kind.ORPHAN_DEBIT,
            subject=f"tx:{pk}",
            transaction_id=pk,
            pool_id=row["pool_id"],
            expected=row["amount"],
            details=_tx_details(row),
        )
        for pk, row in sorted(candidates.items())
        if row["saga_id"] not in deposited and pk not in rolled_back
    ]
    return findings, debits.count()


WALLET_SIGN = {
    TxKind.FOLLOWER_DEBIT: -1,
    TxKind.FOLLOWER_CREDIT: +1,
    TxKind.FOLLOWER_ROLLBACK: +1,
}


def _live_intervals(operator_id: int, since: datetime | None) -> dict[int, list[tuple]]:
    streams = Stream.objects.filter(streamer__operator_id=operator_id, started_at__isnull=False)
    if since is not None:
        streams = streams.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=since))
    intervals: dict[int, list[tuple]] = defaultdict(list)
    for streamer_id, started_at, ended_at in streams.values_list(
        "streamer_id", "started_at", "ended_at"
    ):
        intervals[streamer_id].append((started_at, ended_at))
    return intervals


def check_answered_balances(
    *, operator_id: int, since: datetime | None
) -> tuple[list[Finding], int, int]:
    """Operator answers that contradict themselves (see ``balance_mismatch``)."""
    answered = Transaction.objects.filter(
        operator_id=operator_id,
        is_demo=False,
        status=TxStatus.SUCCEEDED,
        balance_after__isnull=False,
    )
    if since is not None:
        answered = answered.filter(completed_at__gte=since)
    findings: list[Finding] = []
    fields = (
        "pk",
        "kind",
        "external_id",
        "amount",
        "currency",
        "balance_before",
        "balance_after",
        "priced_balance",
        "created_at",
        "completed_at",
        "pool_id",
        "streamer_id",
    )
    wallet = answered.filter(kind__in=list(WALLET_SIGN), balance_before__isnull=False)
    wallet_checked = 0
    for row in wallet.values(*fields).iterator(chunk_size=2000):
        wallet_checked += 1
        expected = row["balance_before"] + WALLET_SIGN[row["kind"]] * row["amount"]
        if expected != row["balance_after"]:
            findings.append(_mismatch(row, expected, "wallet answer"))
    transfers = answered.filter(
        kind__in=[TxKind.STREAMER_DEPOSIT, TxKind.STREAMER_WITHDRAWAL],
        priced_balance__isnull=False,
    )
    intervals = _live_intervals(operator_id, since)
    transfers_checked = 0
    for row in transfers.values(*fields).iterator(chunk_size=2000):
        sent, answered_at = row["created_at"], row["completed_at"] or row["created_at"]
        if any(
            start <= answered_at and (end is None or end >= sent)
            for start, end in intervals.get(row["streamer_id"], ())
        ):
            continue  # the streamer was playing: the balance may have moved in between
        transfers_checked += 1
        sign = 1 if row["kind"] == TxKind.STREAMER_DEPOSIT else -1
        expected = row["priced_balance"] + sign * row["amount"]
        if expected != row["balance_after"]:
            findings.append(_mismatch(row, expected, "transfer answer, no stream live"))
    return findings, wallet_checked, transfers_checked


def _mismatch(row: dict, expected: Decimal, source: str) -> Finding:
    return Finding(
        kind=Kind.BALANCE_MISMATCH,
        subject=f"tx:{row['pk']}",
        transaction_id=row["pk"],
        pool_id=row["pool_id"],
        expected=expected,
        actual=row["balance_after"],
        details={
            **_tx_details(row),
            "source": source,
            "difference": row["balance_after"] - expected,
        },
    )


def _pool_finding(kind: str, pool: Pool, suffix: str = "", **extra) -> Finding:
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
        **extra,
    )


def check_locks(*, operator: Operator, now: datetime) -> list[Finding]:
    """OPEN never acknowledged (re-sent) and pools stuck closing (CLOSE re-sent by their saga)."""
    findings = []
    base = Pool.objects.filter(operator=operator, is_demo=False).select_related("streamer")
    unacknowledged = base.filter(
        state=Pool.State.OPEN,
        lock_state=Pool.LockState.PENDING,
        open_sent_at__lt=now - ACK_GRACE,
    ).order_by("pk")
    for pool in unacknowledged:
        action = pool_game_pool_resend(pool=pool, repair=True)
        locked = Pool.objects.filter(pk=pool.pk, lock_state=Pool.LockState.LOCKED).exists()
        findings.append(
            _pool_finding(
                Kind.LOCK_UNACKNOWLEDGED,
                pool,
                ":open",
                action_taken=action,
                fixed="OPEN acknowledged after re-sending" if locked else "",
            )
        )
    stuck_closing = base.filter(state=Pool.State.CLOSING, updated_at__lt=now - ACK_GRACE)
    for pool in stuck_closing.order_by("pk"):
        action = pool_game_pool_resend(pool=pool, repair=True)
        closed = Pool.objects.filter(pk=pool.pk, state=Pool.State.CLOSED).exists()
        findings.append(
            _pool_finding(
                Kind.LOCK_UNACKNOWLEDGED,
                pool,
                ":close",
                action_taken=action,
                fixed="CLOSE acknowledged after re-sending" if closed else "",
            )
        )
    return findings


def check_empty_pools(*, operator: Operator, now: datetime) -> list[Finding]:
    """Open pools with no members: close them as the sagas would."""
    from apps.pools.selectors import MEMBERS

    findings = []
    empty = (
        Pool.objects.filter(
            operator=operator,
            is_demo=False,
            state=Pool.State.OPEN,
            opened_at__lt=now - EMPTY_POOL_GRACE,
            pricing_saga__isnull=True,
        )
        .annotate(members=MEMBERS)
        .filter(members=0)
        .select_related("streamer")
        .order_by("pk")
    )
    for pool in empty:
        close = sagas.pool_close_begin(pool_id=pool.pk)
        if close is not None:
            sagas.saga_advance(close.pk, budget=CLOSE_DRIVE_SECONDS, follow=False)
        state = Pool.objects.values_list("state", flat=True).get(pk=pool.pk)
        findings.append(
            _pool_finding(
                Kind.EMPTY_OPEN_POOL,
                pool,
                action_taken=f"closing: pool is now {state}",
                fixed="closed by reconciliation" if state == Pool.State.CLOSED else "",
            )
        )
    return findings


def _auto_resolve(run: ReconciliationRun, sink: FindingSink) -> int:
    stale = [
        pk
        for pk, kind, subject in Discrepancy.objects.filter(
            operator_id=run.operator_id,
            state=Discrepancy.State.OPEN,
            kind__in=list(AUTO_RESOLVED_KINDS),
        ).values_list("pk", "kind", "subject")
        if (kind, subject) not in sink.subjects
    ]
    if not stale:
        return 0
    return Discrepancy.objects.filter(pk__in=stale, state=Discrepancy.State.OPEN).update(
        state=Discrepancy.State.RESOLVED,
        resolved_at=timezone.now(),
        resolution_note=f"Auto-resolved: no longer observed by reconciliation run #{run.pk}.",
    )


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
    answers: clients.OperatorBalances,
    views: dict[int, PoolView],
    claimed: int,
) -> None:
    operator = answers.operator
    sink = FindingSink(run=run)
    now = timezone.now()
    since = _window_start(run)
    calls = answers.save_call_log()
    stats = _observe(
        views, answers.results, sink=sink, history=StreamHistory(operator_id=operator.pk)
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
    for finding in findings:
        sink.record(operator_id=operator.pk, finding=finding)
    run.auto_resolved = _auto_resolve(run, sink)
    run.findings = sink.count
    run.found = sink.summary()
    run.checked = _jsonable(
        {
            "open_pools": answers.requested + claimed,
            "pools_claimed_skipped": claimed,
            "balances_requested": answers.requested,
            "balances_not_sent": answers.not_sent,
            "balances_read": stats.read,
            "balances_failed": stats.failed,
            "balance_errors": dict(stats.failed_codes),
            "pools_priced_during_read": stats.priced_during_read,
            "snapshots": stats.snapshots,
            "busts_started": stats.busts,
            "calls_logged": calls,
            "fetch_seconds": round(answers.elapsed, 3),
            "window_start": since,
            "debits_checked": debits_checked,
            "wallet_answers_checked": wallet_checked,
            "transfers_checked": transfers_checked,
        }
    )
    _run_finish(run, error=f"reading balances: {answers.error}" if answers.error else "")


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
    """One reconciliation run per operator, balances read concurrently; see the module doc.

    Each operator's run is processed as soon as that operator's balances are in, so a slow
    operator delays only its own run. An operator whose previous run is still going is
    skipped (``busy``); a run that breaks is recorded as failed and the others go on.
    """
    started = time.monotonic()
    hooks = hooks or Hooks()
    operators = list(operators) if operators is not None else reconciliation_operators()
    runs: dict[int, ReconciliationRun] = {}
    busy = []
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
    for answers in snapshots.pool_balances_fetch(
        jobs, connections=connections, budget=budget, on_answer=hooks.answer
    ):
        run = runs[answers.operator.pk]
        try:
            _reconcile_operator(
                run, answers=answers, views=by_id, claimed=claimed.get(run.operator_id, 0)
            )
        except Exception as exc:
            logger.exception("Reconciliation run %s of %s failed", run.pk, answers.operator)
            _run_finish(run, error=f"{type(exc).__name__}: {exc}"[:2000])
        if hooks.operator_done:
            hooks.operator_done(answers.operator, run)
    return ReconciliationReport(
        runs=list(runs.values()), busy=busy, elapsed=time.monotonic() - started
    )
