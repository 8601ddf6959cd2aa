"""Copy stop-loss and take-profit: a position leaves on its own when an observed balance puts
its value past one of its limits (the rule: ``apps.followers.limits.limit_crossed``).

Observed balances are the readings of a join's or a leave's pricing
(``apps.transactions.sagas.pricing.pool_price``) and the balance its transfer was answered
with (``pool_apply_transfer``), the snapshot pass
(``apps.transactions.reconciliation.readings.observe``) and a staff refresh
(``apps.backoffice.services.pool_refresh_balance``). Each calls one function here:

* ``copy_limits_start(pool=, balance=)`` from inside a saga step: it only starts the leaves
  (rows: the position moves to ``leaving``, a leave saga is created) and returns their ids
  for the step to hand on (``ctx.spawned``; after a transfer, inside its database
  transaction, they are left to the resume pass, due at once); the leaves then wait for the
  pool's pricing claim like any other, so nothing here waits for the claim the step holds;
* ``copy_limits_enforce(pool_id=)`` elsewhere: the same at the pool's last recorded balance,
  and the leaves are driven at once (``sagas_drive``); ``copy_limits_enforce_many`` does it
  for a pass's pools with one query for all of them.

A position leaves once: ``leave_begin`` moves it from ``active`` with a conditional update,
so a second crossing, or a follower's own leave racing the trigger, starts nothing more. A
bust pool (balance zero with units outstanding) is left to the bust flow, which pays every
member out for reason ``bust``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from apps.followers.limits import limit_crossed, position_stop_loss, position_take_profit
from apps.followers.models import Position
from apps.pools.accounting import value_of_units
from apps.pools.models import Pool
from apps.transactions.tasks import sagas_drive


@dataclass(frozen=True)
class Crossing:
    position: Position
    value: Decimal
    reason: str  # a Position.LeaveReason: stop_loss or take_profit


HAS_LIMIT = (
    Q(stop_loss__isnull=False)
    | Q(stop_loss_percent__isnull=False)
    | Q(take_profit__isnull=False)
    | Q(take_profit_percent__isnull=False)
)


def _crossing(position: Position, balance: Decimal, total_units: Decimal) -> Crossing | None:
    value = value_of_units(units=position.units, balance=balance, total_units=total_units)
    reason = limit_crossed(
        value=value,
        stop_loss=position_stop_loss(position),
        take_profit=position_take_profit(position),
    )
    return None if reason is None else Crossing(position=position, value=value, reason=reason)


def _is_bust(balance: Decimal, total_units: Decimal) -> bool:
    return balance <= 0 and total_units > 0


def positions_crossing(
    pool: Pool, balance: Decimal, *, total_units: Decimal | None = None
) -> list[Crossing]:
    """The pool's active positions whose value at ``balance`` (their units at the NAV of
    ``balance`` over ``total_units``, by default the pool's as loaded) has reached a limit;
    none for a bust pool."""
    if total_units is None:
        total_units = pool.total_units
    if _is_bust(balance, total_units):
        return []
    positions = Position.objects.filter(pool_id=pool.pk, status=Position.Status.ACTIVE)
    crossings = (_crossing(p, balance, total_units) for p in positions.filter(HAS_LIMIT))
    return [crossing for crossing in crossings if crossing is not None]


def copy_limits_start(
    *, pool: Pool, balance: Decimal | None, total_units: Decimal | None = None
) -> list[int]:
    """Start the leave of every position of ``pool`` that ``balance`` (over ``total_units``,
    by default the pool's as loaded) takes past a limit; the ids of the leave sagas started
    (a position leaving already starts none)."""
    # Imported here: the sagas' pricing module calls this one.
    from apps.transactions.sagas.leave import leave_begin

    if balance is None:
        return []
    started = []
    for crossing in positions_crossing(pool, balance, total_units=total_units):
        crossing.position.pool = pool
        saga = leave_begin(position=crossing.position, reason=crossing.reason)
        if saga is not None:
            started.append(saga.pk)
    return started


def copy_limits_enforce(*, pool_id: int) -> list[int]:
    """Start and drive the leaves the pool's last recorded balance calls for."""
    return copy_limits_enforce_many(pool_ids=[pool_id])


# Pools whose positions are read per query (a bound on the query's parameters).
ENFORCE_CHUNK = 2000


def copy_limits_enforce_many(*, pool_ids: Sequence[int]) -> list[int]:
    """``copy_limits_enforce`` for many pools: the limited active positions of all of them
    (with their pool, for its last recorded balance) read in one query per
    ``ENFORCE_CHUNK`` pools instead of two per pool, the crossings decided as
    ``positions_crossing`` decides them, the leaves started, then driven together."""
    from apps.transactions.sagas.leave import leave_begin

    ids = sorted(set(pool_ids))
    started: list[int] = []
    for start in range(0, len(ids), ENFORCE_CHUNK):
        positions = (
            Position.objects.filter(
                pool_id__in=ids[start : start + ENFORCE_CHUNK], status=Position.Status.ACTIVE
            )
            .filter(HAS_LIMIT)
            .exclude(pool__state=Pool.State.CLOSED)
            .select_related("pool")
            .order_by("pool_id", "pk")
        )
        for position in positions:
            pool = position.pool
            if _is_bust(pool.balance, pool.total_units):
                continue
            crossing = _crossing(position, pool.balance, pool.total_units)
            if crossing is None:
                continue
            saga = leave_begin(position=position, reason=crossing.reason)
            if saga is not None:
                started.append(saga.pk)
    sagas_drive(started)
    return started
