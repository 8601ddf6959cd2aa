"""The withdrawal lock: re-sending ``game-pool`` OPEN/CLOSE outside the sagas' own steps.

One function does it for everyone who asks: staff on the pool page, staff re-sending a logged
call, and reconciliation repairing a lock that the operator never acknowledged.
"""

from __future__ import annotations

from apps.core.errors import Conflict, ErrorCode
from apps.operators.clients import CallResult
from apps.pools import services as pools
from apps.pools.models import Pool
from apps.transactions import gateways, sagas
from apps.transactions.models import Saga
from apps.transactions.services import saga_retry_now
from apps.transactions.tasks import sagas_drive

# How long reconciliation drives a close-pool saga inline before leaving it to the scheduler.
CLOSE_DRIVE_SECONDS = 10.0


def pool_game_pool_resend(*, pool: Pool, repair: bool = False) -> str:
    """Re-send the ``game-pool`` state the pool should be in: OPEN while it is open, CLOSE once
    it is closing or closed. Idempotent on the operator's side; signed afresh. Returns what was
    done, in words.

    When a running saga owns that call (a join waiting for OPEN, a close waiting for CLOSE),
    the saga sends it instead, so its answer is recorded where it belongs. Otherwise the call
    is sent here through the saga engine's gateway and an acknowledgement is recorded: OPEN
    locks the pool; CLOSE closes a closing pool, or releases a closed pool's lock.

    Staff (the default) act on one pool and wait for the answer: the owning saga is retried
    now (refused while a worker runs it); an OPEN never sent, a CLOSE while the pool has
    members and an operator's refusal raise.

    Reconciliation (``repair``: an open pool whose OPEN went unacknowledged, or a pool stuck
    closing) sweeps many pools and must neither stop at a refusal nor wait on each saga: every
    join saga waiting for OPEN is made due and driven (a worker each, inline when tasks run
    eagerly), and an OPEN sent here that is refused is reported in the returned words. A CLOSE
    always goes through the pool's close-pool saga, created when none owns it (a crash lost
    it), made due and driven for at most ``CLOSE_DRIVE_SECONDS``.
    """
    pool = Pool.objects.select_related("streamer", "operator").get(pk=pool.pk)
    if pool.state == Pool.State.OPEN:
        return _open_resend(pool, repair=repair)
    return _close_resend(pool, repair=repair)


def _open_resend(pool: Pool, *, repair: bool) -> str:
    owners = pool_running_sagas(pool, Saga.Kind.JOIN, step="open_pool")
    if repair:
        if owners:
            Saga.objects.filter(pk__in=owners).update(next_run_at=None)
            sagas_drive(owners)
            return f"join saga(s) {', '.join(map(str, owners))} re-sending OPEN"
        result = _send(pool, "OPEN")
        return f"re-sent OPEN: {'acknowledged' if result.ok else result.error_code}"
    if owners:
        return _retry("OPEN", owners[0])
    if pool.open_sent_at is None:
        raise Conflict(
            "OPEN was never sent: the pool's first join sends it", code=ErrorCode.NOTHING_TO_RESEND
        )
    result = _send(pool, "OPEN")
    if not result.ok:
        raise result.refusal("game-pool OPEN")
    return "OPEN acknowledged: the streamer's balance is locked"


def _close_resend(pool: Pool, *, repair: bool) -> str:
    if repair:
        saga_id = sagas.close_saga_for(pool).pk
        Saga.objects.filter(pk=saga_id, status=Saga.Status.RUNNING).update(next_run_at=None)
        sagas.saga_advance(saga_id, budget=CLOSE_DRIVE_SECONDS, follow=False)
        return f"close-pool saga #{saga_id} re-sending CLOSE"
    owners = pool_running_sagas(pool, Saga.Kind.CLOSE_POOL)
    if pools.pool_member_count(pool=pool) > 0:
        raise Conflict("The pool still has members: CLOSE would be premature")
    if owners:
        return _retry("CLOSE", owners[0])
    result = _send(pool, "CLOSE")
    if not result.ok:
        raise result.refusal("game-pool CLOSE")
    return "CLOSE acknowledged: the streamer's balance is released"


def pool_running_sagas(pool: Pool, kind: str, *, step: str | None = None) -> list[int]:
    """Ids of the pool's running sagas of ``kind`` (in ``step``, when given), oldest first."""
    running = Saga.objects.filter(pool=pool, kind=kind, status=Saga.Status.RUNNING)
    if step:
        running = running.filter(step=step)
    return list(running.order_by("pk").values_list("pk", flat=True))


def _retry(state: str, saga_id: int) -> str:
    saga = saga_retry_now(saga=Saga.objects.get(pk=saga_id))
    return f"{state} retried through saga #{saga.pk}: now {saga.status}, step {saga.step}"


def _send(pool: Pool, state: str) -> CallResult:
    """Send ``state`` through the pool's gateway; record an acknowledgement."""
    result = gateways.gateway_for(pool).game_pool(pool=pool, state=state)
    if not result.ok:
        return result
    if state == "OPEN":
        pools.pool_mark_locked(pool_id=pool.pk)
    elif pool.state == Pool.State.CLOSING:
        pools.pool_mark_closed(pool_id=pool.pk)
    else:
        pools.pool_mark_released(pool_id=pool.pk)
    return result
