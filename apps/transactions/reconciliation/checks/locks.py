"""``lock_unacknowledged``: ``game-pool`` OPEN sent more than ``ACK_GRACE`` ago and never
acknowledged (``lock_state`` pending on an open pool; subject ``pool:<id>:open``): a join saga
waiting on it is made due now, else OPEN is re-sent here and an acknowledgement locks the pool.
Or a pool stuck ``closing`` for more than ``ACK_GRACE`` (subject ``pool:<id>:close``): its
close-pool saga (created if a crash lost it) is made due and driven, re-sending CLOSE. Both
repairs are ``repairs.pool_lock_resend``."""

from __future__ import annotations

from datetime import datetime, timedelta

from apps.operators.models import Operator
from apps.pools.models import Pool
from apps.transactions.models import Discrepancy
from apps.transactions.reconciliation.findings import Finding, pool_finding
from apps.transactions.reconciliation.repairs import pool_lock_resend

ACK_GRACE = timedelta(minutes=2)


def check_locks(*, operator: Operator, now: datetime) -> list[Finding]:
    """OPEN never acknowledged (re-sent) and pools stuck closing (CLOSE re-sent by their saga)."""
    findings: list[Finding] = []
    base = Pool.objects.filter(operator=operator, is_demo=False).select_related("streamer")
    unacknowledged = base.filter(
        state=Pool.State.OPEN,
        lock_state=Pool.LockState.PENDING,
        open_sent_at__lt=now - ACK_GRACE,
    ).order_by("pk")
    for pool in unacknowledged:
        action = pool_lock_resend(pool=pool)
        locked = Pool.objects.filter(pk=pool.pk, lock_state=Pool.LockState.LOCKED).exists()
        findings.append(
            pool_finding(
                Discrepancy.Kind.LOCK_UNACKNOWLEDGED,
                pool,
                ":open",
                action_taken=action,
                fixed="OPEN acknowledged after re-sending" if locked else "",
            )
        )
    stuck_closing = base.filter(state=Pool.State.CLOSING, updated_at__lt=now - ACK_GRACE)
    for pool in stuck_closing.order_by("pk"):
        action = pool_lock_resend(pool=pool)
        closed = Pool.objects.filter(pk=pool.pk, state=Pool.State.CLOSED).exists()
        findings.append(
            pool_finding(
                Discrepancy.Kind.LOCK_UNACKNOWLEDGED,
                pool,
                ":close",
                action_taken=action,
                fixed="CLOSE acknowledged after re-sending" if closed else "",
            )
        )
    return findings
