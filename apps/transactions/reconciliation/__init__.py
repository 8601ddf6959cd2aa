"""Reconciliation: our ledger against what each operator says, and balance snapshots."""

from apps.transactions.reconciliation.runs import (
    FETCH_BUDGET_SECONDS,
    Hooks,
    discrepancy_resolve,
    pools_snapshot,
    reconciliation_run,
)

__all__ = [
    "FETCH_BUDGET_SECONDS",
    "Hooks",
    "discrepancy_resolve",
    "pools_snapshot",
    "reconciliation_run",
]
