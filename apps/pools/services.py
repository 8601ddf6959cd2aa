"""Writes on pools: opening, the pricing claim, membership, closing, snapshots.

Serialisation
-------------
Pricing a pool (reading the streamer's balance, then sending the transfer priced on it)
must never interleave with another pricing of the same pool, or two joins or leaves would
price on the same balance. The mechanism is a *claim row*: ``Pool.pricing_saga`` holds the
id of the one saga pricing the pool, taken with a conditional ``UPDATE ... WHERE
pricing_saga IS NULL`` (atomic on PostgreSQL and SQLite alike) and released only when that
saga's transfer has a definite answer.

Why a claim owned by the saga and not a lock owned by a process: an unknown transfer (a
timeout) may or may not have moved the streamer's balance, so nobody may price the pool until
it is resolved, however long that takes and whichever worker resumes it after a crash. A
database lock would either be held across slow HTTP calls or vanish with the process; a
lease with a time-out would let a second pricing in while the first transfer is in doubt.
The claim costs one indexed UPDATE, different pools never touch each other's row, and there
is no global lock. A saga that cannot claim simply waits and retries (202 to the player).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.errors import Conflict, ErrorCode
from apps.core.money import DEMO_CURRENCY
from apps.pools.accounting import nav
from apps.pools.models import Pool, PoolSnapshot
from apps.streamers.models import Streamer

MEMBER_FILTER = Q(status__in=["joining", "active"]) | Q(status="leaving", units__gt=0)


def pool_current(*, streamer: Streamer, is_demo: bool = False) -> Pool | None:
    """The streamer's pool that is not closed (open or closing), if there is one."""
    return (
        Pool.objects.filter(streamer=streamer, is_demo=is_demo)
        .exclude(state=Pool.State.CLOSED)
        .first()
    )


def pool_get_or_open(*, streamer: Streamer, is_demo: bool = False) -> Pool:
    """The streamer's current pool, opening a new one if there is none.

    The partial unique constraint (one non-closed pool per streamer) makes concurrent first
    joins converge on the same row.
    """
    for _ in range(3):
        pool = pool_current(streamer=streamer, is_demo=is_demo)
        if pool is not None:
            return pool
        try:
            with transaction.atomic():
                return Pool.objects.create(
                    streamer=streamer,
                    operator_id=streamer.operator_id,
                    currency=DEMO_CURRENCY if is_demo else streamer.currency,
                    is_demo=is_demo,
                    balance=streamer.demo_balance if is_demo else Decimal(0),
                )
        except IntegrityError:
            continue
    raise Conflict("The pool is changing state, try again", code=ErrorCode.POOL_BUSY)


def pool_pricing_claim(*, pool_id: int, saga_id: int) -> bool:
    """Take (or confirm) the pool's pricing claim for ``saga_id``; False when another holds it."""
    return bool(
        Pool.objects.filter(pk=pool_id)
        .filter(Q(pricing_saga__isnull=True) | Q(pricing_saga=saga_id))
        .update(pricing_saga=saga_id, pricing_since=timezone.now())
    )


def pool_pricing_release(*, pool_id: int, saga_id: int) -> None:
    Pool.objects.filter(pk=pool_id, pricing_saga=saga_id).update(
        pricing_saga=None, pricing_since=None
    )


def pool_member_count(*, pool: Pool) -> int:
    return pool.positions.filter(MEMBER_FILTER).count()


def pool_observe_balance(*, pool_id: int, balance: Decimal) -> None:
    """Record the streamer balance the operator just told us (last known, for display)."""
    Pool.objects.filter(pk=pool_id).update(balance=balance, balance_at=timezone.now())


def pool_mark_locked(*, pool_id: int) -> None:
    Pool.objects.filter(pk=pool_id).exclude(lock_state=Pool.LockState.LOCKED).update(
        lock_state=Pool.LockState.LOCKED, locked_at=timezone.now()
    )


def pool_mark_released(*, pool_id: int) -> None:
    """The operator acknowledged CLOSE for a pool that stays open (a forced release)."""
    Pool.objects.filter(pk=pool_id).update(lock_state=Pool.LockState.RELEASED)


def pool_mark_bust(*, pool_id: int) -> bool:
    """Flag a pool bust (balance zero with units out). True the first time."""
    return bool(
        Pool.objects.filter(pk=pool_id, is_bust=False).update(
            is_bust=True, balance=0, balance_at=timezone.now()
        )
    )


@transaction.atomic
def pool_begin_close_if_empty(*, pool_id: int) -> Pool | None:
    """Move an open pool with no members to ``closing``; returns it when the caller must
    now tell the operator CLOSE (None when nothing is to be done).

    A pool whose OPEN was never sent closes at once: the operator never locked anything.
    The row lock serialises this with a join creating a position in the same pool.
    """
    pool = Pool.objects.select_for_update().get(pk=pool_id)
    if pool.state != Pool.State.OPEN or pool_member_count(pool=pool) > 0:
        return None
    if pool.open_sent_at is None:
        pool.state = Pool.State.CLOSED
        pool.closed_at = timezone.now()
        pool.closing_balance = pool.balance
        pool.save(update_fields=["state", "closed_at", "closing_balance", "updated_at"])
        return None
    pool.state = Pool.State.CLOSING
    pool.save(update_fields=["state", "updated_at"])
    return pool


def pool_mark_closed(*, pool_id: int) -> None:
    Pool.objects.filter(pk=pool_id, state=Pool.State.CLOSING).update(
        state=Pool.State.CLOSED,
        lock_state=Pool.LockState.RELEASED,
        closed_at=timezone.now(),
        closing_balance=F("balance"),
    )


def pool_snapshot(*, pool: Pool, taken_at: datetime | None = None) -> PoolSnapshot:
    return PoolSnapshot.objects.create(
        pool=pool,
        balance=pool.balance,
        total_units=pool.total_units,
        nav=nav(balance=pool.balance, total_units=pool.total_units),
        members=pool_member_count(pool=pool),
        taken_at=taken_at or timezone.now(),
    )


def pool_record_reading(*, pool_id: int, balance: Decimal, read_since: datetime | None) -> bool:
    """Record a balance read outside pricing, only if nothing fresher landed meanwhile.

    ``read_since`` is the pool's ``balance_at`` when the read was started. Under the row lock,
    a held pricing claim or a moved ``balance_at`` (a transfer's answer) means this reading
    may be stale: it is dropped. Returns whether it was recorded (and snapshotted).
    """
    with transaction.atomic():
        pool = Pool.objects.select_for_update().get(pk=pool_id)
        if (
            pool.pricing_saga is not None
            or pool.balance_at != read_since
            or pool.state == Pool.State.CLOSED
        ):
            return False
        pool.balance = balance
        pool.balance_at = timezone.now()
        pool.save(update_fields=["balance", "balance_at", "updated_at"])
        pool_snapshot(pool=pool, taken_at=pool.balance_at)
    return True
