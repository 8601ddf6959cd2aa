"""``empty_open_pool``: an open pool older than ``EMPTY_POOL_GRACE`` with no members: it is
closed the way the sagas close one (``pool_begin_close_if_empty`` and a close-pool saga;
``repairs.pool_empty_close``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from apps.operators.models import Operator
from apps.pools.models import Pool
from apps.pools.selectors import MEMBERS
from apps.transactions.models import Discrepancy
from apps.transactions.reconciliation.findings import Finding, pool_finding
from apps.transactions.reconciliation.repairs import pool_empty_close

EMPTY_POOL_GRACE = timedelta(minutes=5)


def check_empty_pools(*, operator: Operator, now: datetime) -> list[Finding]:
    """Open pools with no members: close them as the sagas would."""
    findings: list[Finding] = []
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
        state = pool_empty_close(pool_id=pool.pk)
        findings.append(
            pool_finding(
                Discrepancy.Kind.EMPTY_OPEN_POOL,
                pool,
                action_taken=f"closing: pool is now {state}",
                fixed="closed by reconciliation" if state == Pool.State.CLOSED else "",
            )
        )
    return findings
