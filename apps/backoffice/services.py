"""Writes of the back office: the staff action log, and the pool actions staff take.

The pool actions (refresh a balance, re-send OPEN/CLOSE, force a lock's release) talk to the
operator through the saga engine's gateway, so that demo pools use play money and every call
is signed and logged like the engine's own; settling a pool is the engine's
``apps.transactions.services.pool_settle``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone

from apps.backoffice.models import StaffAction
from apps.core.errors import Conflict, ErrorCode, ValidationFailed
from apps.pools.models import Pool
from apps.pools.selectors import pool_exposure
from apps.pools.services import (
    pool_member_count,
    pool_record_reading,
)
from apps.streamers.models import Streamer
from apps.transactions import gateways, sagas
from apps.transactions.copy_limits import copy_limits_enforce
from apps.transactions.locks import pool_running_sagas
from apps.transactions.models import Saga

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

MAX_REASON_CHARS = 2000


def staff_action_record(
    *,
    user: User | AnonymousUser | None,
    action: str,
    target: models.Model,
    reason: str,
    outcome: str,
    message: str = "",
) -> StaffAction:
    """Write the audit row of one staff action (done, refused or failed alike)."""
    concrete_model = target._meta.concrete_model  # a proxy's row is its concrete model's row
    assert concrete_model is not None  # None only on abstract models, which have no rows
    opts = concrete_model._meta
    record = StaffAction(
        user=user if user is not None and user.is_authenticated else None,
        username=(user.get_username() if user is not None else "") or "(unknown)",
        action=action[:64],
        target_type=f"{opts.app_label}.{opts.model_name}"[:100],
        target_id=str(target.pk)[:64],
        target_repr=str(target)[:200],
        reason=(reason or "").strip()[:MAX_REASON_CHARS],
        outcome=outcome,
        message=message[:5000],
    )
    record.full_clean()
    record.save()
    return record


# --- pool staff actions ------------------------------------------------------------
# Called by the admin's confirmed actions; the admin records who asked and why.


def pool_refresh_balance(*, pool: Pool) -> Pool:
    """Ask the operator for the streamer's balance now, record it and take a snapshot.

    Display only: pricing always reads its own fresh balance under the pool's claim, and a
    reading never overwrites a balance a transfer wrote while it was in flight. Positions
    the recorded balance takes past a stop-loss or take-profit start leaving.
    """
    pool = Pool.objects.select_related("streamer", "operator").get(pk=pool.pk)
    if pool.state == Pool.State.CLOSED:
        raise Conflict(
            "The pool is closed: the streamer's balance is no longer the pool's",
            code=ErrorCode.POOL_CLOSED,
        )
    busy = Conflict(
        "A transfer is being priced on this pool; its answer will update the balance",
        code=ErrorCode.POOL_BUSY,
    )
    if pool.pricing_saga is not None:
        raise busy
    balance: Decimal | None
    if pool.is_demo:
        balance = Streamer.objects.values_list("demo_balance", flat=True).get(pk=pool.streamer_id)
    else:
        result = gateways.gateway_for(pool).balance(pool=pool)
        balance = result.amount("balance") if result.ok else None
        if balance is None:
            raise result.refusal("streamer-balance")
    if not pool_record_reading(pool_id=pool.pk, balance=balance, read_since=pool.balance_at):
        raise busy
    copy_limits_enforce(pool_id=pool.pk)
    pool.refresh_from_db()
    return pool


def pool_force_release(*, pool: Pool, reason: str, override: bool = False) -> Pool:
    """Release the streamer's withdrawal lock now: ``game-pool`` CLOSE, then record it.

    Refused while followers' money is in the pool (members, or a transfer priced or in
    doubt) unless ``override``: then the lock is released but the pool stays open with its
    members, and its next join locks it again. A pool without members is closed. Nothing is
    changed when the operator does not acknowledge the CLOSE.
    """
    if not (reason or "").strip():
        raise ValidationFailed(
            "A reason is required to force a release", code=ErrorCode.REASON_REQUIRED
        )
    pool = Pool.objects.select_related("streamer", "operator").get(pk=pool.pk)
    if pool.state == Pool.State.CLOSED and pool.lock_state == Pool.LockState.RELEASED:
        raise Conflict(
            "The pool is closed and its lock released already", code=ErrorCode.NOT_LOCKED
        )
    exposure = pool_exposure(pool=pool)
    if exposure.holds_money and not override:
        raise Conflict(
            f"Followers' money is in the pool ({exposure.describe()}); "
            "settle it first, or tick the override to release anyway",
            code=ErrorCode.POOL_HOLDS_MONEY,
        )
    result = gateways.gateway_for(pool).game_pool(pool=pool, state="CLOSE")
    if not result.ok:
        raise result.refusal("game-pool CLOSE")
    with transaction.atomic():
        pool = Pool.objects.select_for_update().get(pk=pool.pk)
        fields = ["lock_state", "updated_at"]
        pool.lock_state = Pool.LockState.RELEASED
        if pool.state != Pool.State.CLOSED and pool_member_count(pool=pool) == 0:
            pool.state = Pool.State.CLOSED
            pool.closed_at = timezone.now()
            pool.closing_balance = pool.balance
            fields += ["state", "closed_at", "closing_balance"]
        pool.save(update_fields=fields)
    # A close saga still waiting for its CLOSE sees the pool closed and finishes.
    if pool.state == Pool.State.CLOSED:
        for closing in pool_running_sagas(pool, Saga.Kind.CLOSE_POOL)[:1]:
            sagas.saga_advance(closing, budget=5.0)
    return pool
