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
  and the leaves are driven at once (``sagas_drive``).

A position leaves once: ``leave_begin`` moves it from ``active`` with a conditional update,
so a second crossing, or a follower's own leave racing the trigger, starts nothing more. A
bust pool (balance zero with units outstanding) is left to the bust flow, which pays every
member out for reason ``bust``.
"""

from __future__ import annotations

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


def positions_crossing(
    pool: Pool, balance: Decimal, *, total_units: Decimal | None = None
) -> list[Crossing]:
    """The pool's active positions whose value at ``balance`` (their units at the NAV of
    ``balance`` over ``total_units``, by default the pool's as loaded) has reached a limit;
    none for a bust pool."""
    if total_units is None:
        total_units = pool.total_units
    if balance <= 0 and total_units > 0:
        return []
    crossings = []
    for position in Position.objects.filter(pool_id=pool.pk, status=Position.Status.ACTIVE).filter(
        HAS_LIMIT
    ):
        value = value_of_units(units=position.units, balance=balance, total_units=total_units)
        reason = limit_crossed(
            value=value,
            stop_loss=position_stop_loss(position),
            take_profit=position_take_profit(position),
        )
        if reason is not None:
            crossings.append(Crossing(position=position, value=value, reason=reason))
    return crossings


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
    pool = Pool.objects.get(pk=pool_id)
    if pool.state == Pool.State.CLOSED:
        return []
    started = copy_limits_start(pool=pool, balance=pool.balance)
    sagas_drive(started)
    return started
