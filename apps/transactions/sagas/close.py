"""The close-pool flow: ``game-pool`` CLOSE once a pool has no members left.

State machine (``CloseStep``)::

    close ──CLOSE acknowledged, or the pool is closed already──▶ done
      │
      └─ no answer, or refused: stay, retry with backoff (a refusal flags it for review)

``close_begin`` moves an open pool without members to ``closing`` and creates its saga in
one database transaction, so a closing pool always has a saga to finish it. Joins and
leaves call ``close_spawn_if_empty`` when a member is gone (a failed join, a WITHDRAWAL
paid).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from apps.pools import services as pools
from apps.pools.models import Pool
from apps.transactions.models import CloseStep, Saga
from apps.transactions.sagas.engine import (
    Flow,
    StepContext,
    Transition,
    backoff,
    finish,
    flow_register,
    wait,
)

__all__ = [
    "CLOSE_FLOW",
    "CLOSE_TRANSITIONS",
    "CloseStep",
    "close_begin",
    "close_saga_for",
    "close_send",
    "close_spawn_if_empty",
]


def close_saga_for(pool: Pool) -> Saga:
    """The pool's running close-pool saga, created if there is none.

    The database holds one running close per pool (``saga_one_running_close_per_pool``):
    of two callers creating it at once, the second gets the first one's.
    """
    running = Saga.objects.filter(pool=pool, kind=Saga.Kind.CLOSE_POOL, status=Saga.Status.RUNNING)
    existing = running.first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Saga.objects.create(
                kind=Saga.Kind.CLOSE_POOL,
                step=CloseStep.CLOSE,
                operator_id=pool.operator_id,
                pool=pool,
                is_demo=pool.is_demo,
            )
    except IntegrityError:
        return running.get()


def close_begin(*, pool_id: int) -> Saga | None:
    """If the pool is open with no members, move it to closing *and* create its close saga in
    one transaction (a crash can never leave a closing pool without a saga to finish it)."""
    with transaction.atomic():
        pool = pools.pool_begin_close_if_empty(pool_id=pool_id)
        return close_saga_for(pool) if pool is not None else None


def close_spawn_if_empty(saga: Saga, ctx: StepContext) -> None:
    """Begin closing the saga's pool when it has no members left (the close runs after)."""
    close = close_begin(pool_id=saga.pool_id)
    if close is not None:
        ctx.spawned.append(close.pk)


def close_send(saga: Saga, ctx: StepContext) -> None:
    """game-pool CLOSE: releases the streamer's withdrawal lock."""
    pool = Pool.objects.select_related("streamer", "operator").get(pk=saga.pool_id)
    if pool.state == Pool.State.CLOSED:
        return finish(saga, Saga.Status.DONE)
    result = ctx.gateway.game_pool(pool=pool, state="CLOSE")
    if result.ok:
        with transaction.atomic():
            pools.pool_mark_closed(pool_id=pool.pk)
            finish(saga, Saga.Status.DONE)
        return None
    review = f"CLOSE refused: {result.error_code}" if result.refused else ""
    return wait(
        saga,
        backoff(saga.attempts, cap=600),
        f"game-pool CLOSE: {result.error_code}",
        review=review,
    )


CLOSE_TRANSITIONS: dict[str, Transition] = {
    CloseStep.CLOSE: Transition(close_send, goes_to=(CloseStep.DONE,)),
}

CLOSE_FLOW = flow_register(
    Flow(kind=Saga.Kind.CLOSE_POOL, steps=CloseStep, transitions=CLOSE_TRANSITIONS)
)
