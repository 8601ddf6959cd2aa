"""Celery tasks of pools: thin; the work is in apps.transactions.reconciliation."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
def pools_snapshot_task() -> dict:
    """Read every open pool's balance; record it with a snapshot; start busts at zero."""
    from apps.transactions.reconciliation import FETCH_BUDGET_SECONDS, pools_snapshot

    report = pools_snapshot(budget=FETCH_BUDGET_SECONDS / 2)
    return {
        "pools": report.pools,
        "snapshots": report.stats.snapshots,
        "skipped": report.claimed_skipped + report.stats.priced_during_read,
        "failed": report.stats.failed,
        "busts": report.stats.busts,
    }
