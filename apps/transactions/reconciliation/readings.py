"""What a pass does with balance readings, and the snapshot pass.

``apps.pools.snapshots`` reads operator pools' balances and records each reading (guarded
against pricing) with a ``PoolSnapshot``; here every recorded reading is also checked for the
balance findings (``checks.balances``, operator pools only) and a zero balance starts the bust
flow (``repairs.pool_bust_start``). Demo pools are read through their saga gateway (play
money), then recorded the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from apps.operators import clients
from apps.operators.clients import CallResult, OperatorBalances
from apps.operators.models import Operator
from apps.pools import snapshots
from apps.pools.models import Pool
from apps.pools.snapshots import PoolView, ReadingStats
from apps.transactions import gateways
from apps.transactions.copy_limits import copy_limits_enforce_many
from apps.transactions.models import ReconciliationRun
from apps.transactions.reconciliation.checks.balances import StreamHistory, balance_findings
from apps.transactions.reconciliation.findings import FindingSink
from apps.transactions.reconciliation.repairs import pool_bust_start

FETCH_BUDGET_SECONDS = 600.0
# Answers handed over per batch while the rest are read (``streamer_balances_fetch``): a
# batch is recorded (one statement), checked and its calls logged while the operator
# answers the next, instead of every answer waiting for the slowest.
READ_BATCH = 250


@dataclass
class Hooks:
    """Progress callbacks for commands: ``start(total_readings)``, ``answer()`` (called from
    the reading thread), ``operator_done(operator, run)``."""

    start: Callable[[int], None] | None = None
    answer: Callable[[], None] | None = None
    operator_done: Callable[[Operator, ReconciliationRun], None] | None = None


@dataclass
class ObserveStats(ReadingStats):
    busts: int = 0
    limit_leaves: int = 0  # positions a reading took past a stop-loss or take-profit
    recorded: set[int] = field(default_factory=set)  # pools whose reading was recorded

    def add(self, other: ObserveStats) -> None:
        self.read += other.read
        self.failed += other.failed
        self.failed_codes.update(other.failed_codes)
        self.priced_during_read += other.priced_during_read
        self.snapshots += other.snapshots
        self.busts += other.busts
        self.limit_leaves += other.limit_leaves
        self.recorded |= other.recorded


def observe(
    views: Mapping[int, PoolView],
    results: Mapping[int, CallResult],
    *,
    sink: FindingSink,
    history: StreamHistory | None,
) -> ObserveStats:
    """Record readings (guarded against pricing), snapshot them, bust, balance findings, and
    the leaves of positions a reading takes past a copy limit (``copy_limits_enforce_many``,
    one query for every pool read, not two per pool)."""
    stats = ObserveStats()
    limited: list[int] = []
    for reading in snapshots.pool_readings_record(views, results, stats=stats):
        view, balance = reading.view, reading.balance
        stats.recorded.add(view.id)
        if not view.is_demo and history is not None:
            for finding in balance_findings(view, balance, history):
                sink.record(operator_id=view.operator_id, finding=finding)
        if reading.shows_bust:
            stats.busts += pool_bust_start(pool_id=view.id)
        else:
            limited.append(view.id)
    if limited:
        stats.limit_leaves += len(copy_limits_enforce_many(pool_ids=limited))
    return stats


@dataclass
class OperatorReading:
    """One operator's balances in a pass, taken batch by batch as they come in."""

    sink: FindingSink
    history: StreamHistory
    stats: ObserveStats = field(default_factory=ObserveStats)
    observed: set[int] = field(default_factory=set)
    calls_logged: int = 0

    def take(self, answers: OperatorBalances, views: Mapping[int, PoolView]) -> None:
        """Log the calls of ``answers`` and observe the results not observed yet (an
        operator's last, whole item repeats its batches' results)."""
        self.calls_logged += answers.save_call_log()
        fresh = {key: r for key, r in answers.results.items() if key not in self.observed}
        self.observed.update(fresh)
        self.stats.add(observe(views, fresh, sink=self.sink, history=self.history))


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
    taken: dict[int, OperatorReading] = {}
    for answers in snapshots.pool_balances_fetch(
        jobs, connections=connections, budget=budget, on_answer=hooks.answer, batch=READ_BATCH
    ):
        operator_id = answers.operator.pk
        if operator_id not in taken:
            history = StreamHistory(operator_id=operator_id)
            taken[operator_id] = OperatorReading(sink=sink, history=history)
        taken[operator_id].take(answers, by_id)
        if not answers.partial:
            report.not_sent += answers.not_sent
    for reading in taken.values():
        report.stats.add(reading.stats)
    demo = [v for v in views if v.is_demo]
    demo_pools = Pool.objects.select_related("streamer").in_bulk([v.id for v in demo])
    results: dict[int, CallResult] = {}
    for view in demo:
        results[view.id] = gateways.gateway_for(demo_pools[view.id]).balance(
            pool=demo_pools[view.id]
        )
        if hooks.answer:
            hooks.answer()
    report.stats.add(observe(by_id, results, sink=sink, history=None))
    report.elapsed = time.monotonic() - started
    return report
