"""Hand-made pool histories for statistics tests: a real pool of a streamer with snapshots
at given times (the NAV with 100 units, so the balance is 100 x NAV unless given)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from apps.pools.models import Pool, PoolSnapshot
from apps.streamers.models import Streamer

UNITS = Decimal(100)


def pool_with_history(
    streamer: Streamer,
    readings: Sequence[tuple[datetime, str]],
    *,
    closed_at: datetime | None = None,
    members: int = 1,
    streamer_units: Decimal = Decimal(50),
) -> Pool:
    """A real pool opened at the first reading, with a snapshot per ``(time, nav)``; closed
    (paid out) at ``closed_at`` if given, else open at the last reading's NAV."""
    last_nav = Decimal(readings[-1][1])
    pool = Pool.objects.create(
        streamer=streamer,
        operator=streamer.operator,
        currency=streamer.currency,
        state=Pool.State.CLOSED if closed_at else Pool.State.OPEN,
        lock_state=Pool.LockState.RELEASED if closed_at else Pool.LockState.LOCKED,
        total_units=Decimal(0) if closed_at else UNITS,
        streamer_units=Decimal(0) if closed_at else streamer_units,
        balance=Decimal(0) if closed_at else UNITS * last_nav,
        closed_at=closed_at,
        is_bust=last_nav == 0,
    )
    Pool.objects.filter(pk=pool.pk).update(opened_at=readings[0][0])
    PoolSnapshot.objects.bulk_create(
        PoolSnapshot(
            pool=pool,
            balance=UNITS * Decimal(nav),
            total_units=UNITS,
            streamer_units=streamer_units,
            nav=Decimal(nav),
            members=members,
            taken_at=at,
        )
        for at, nav in readings
    )
    pool.refresh_from_db()
    return pool
