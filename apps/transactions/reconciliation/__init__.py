"""Reconciliation: our ledger against what each operator says, and balance snapshots.

Two passes share the balance-reading machinery of ``apps.pools.snapshots`` (which pools to
read, reading them concurrently, recording each reading unless the pool was priced while we
read it, with a ``PoolSnapshot``):

* ``pools_snapshot`` (every few minutes, ``readings``) reads the streamer balance of every open
  pool, demo pools included, records it as the pool's last known balance, starts the bust flow
  at a zero balance, and raises the two balance findings.
* ``reconciliation_run`` (every quarter of an hour, or ``manage.py reconcile``; ``runs``) does
  the same reading for operator pools, then checks the ledger, one ``ReconciliationRun`` per
  operator.

Findings (``Discrepancy.Kind``), one module of ``checks`` each, with its definition:

* ``stuck_unknown`` (``checks.stuck_unknown``): a transaction's outcome unknown for too long.
* ``win_overdue`` (``checks.win_overdue``): a WIN still unpaid after 24 hours.
* ``orphan_debit`` (``checks.orphan_debits``): a follower paid a BET into a join that ended
  with neither a deposit nor a rollback.
* ``balance_mismatch`` (``checks.answered_balances``): an operator's answer contradicting
  itself.
* ``pool_overvalued``, ``balance_moved_offline`` (``checks.balances``): a reading showing
  money moved while the streamer was not playing.
* ``lock_unacknowledged`` (``checks.locks``): OPEN or CLOSE never acknowledged.
* ``empty_open_pool`` (``checks.empty_pools``): an open pool left with no members.
* ``journal_mismatch`` (``checks.journal``): the double-entry journal disagrees with the
  transaction log (a movement without entry, an entry for another amount, an entry that does
  not balance, a closed pool's account not at 0).

``findings`` records them (one open row per kind and subject) and holds the resolution
policy: which kinds resolve themselves and which wait for staff. ``repairs`` is everything a
run fixes by itself (re-sending OPEN/CLOSE through ``apps.transactions.locks``, closing empty
pools, paying out bust pools, auto-resolving what is no longer seen).
"""

from apps.transactions.reconciliation.findings import (
    AUTO_RESOLVED_KINDS,
    ONCE_PER_SUBJECT_KINDS,
    Finding,
    FindingSink,
    discrepancy_record,
    discrepancy_resolve,
)
from apps.transactions.reconciliation.readings import (
    FETCH_BUDGET_SECONDS,
    Hooks,
    ObserveStats,
    SnapshotReport,
    pools_snapshot,
)
from apps.transactions.reconciliation.runs import (
    ReconciliationReport,
    reconciliation_operators,
    reconciliation_run,
)

__all__ = [
    "AUTO_RESOLVED_KINDS",
    "FETCH_BUDGET_SECONDS",
    "ONCE_PER_SUBJECT_KINDS",
    "Finding",
    "FindingSink",
    "Hooks",
    "ObserveStats",
    "ReconciliationReport",
    "SnapshotReport",
    "discrepancy_record",
    "discrepancy_resolve",
    "pools_snapshot",
    "reconciliation_operators",
    "reconciliation_run",
]
