"""A position's copy limits (stop-loss, take-profit): the rule, as pure functions.

A limit is kept either as a value (``Position.stop_loss``, ``take_profit``) or as a percent
of what the position contributed (``*_percent``), never both. What it contributed means what
is still in it (``limit_basis``): a partial leave takes its share of the contribution with it
(as it takes its share of the high-water mark), and scales a limit kept as a value by the
units that stay, so the limits of the units that stay sit at the same NAV as before and a
partial leave never puts the rest past a limit. The notation is one for both
directions: a percent is always a positive distance from the contribution,

* stop-loss ``p``: the position leaves once it has lost ``p`` percent, i.e. at a value of
  ``contributed * (100 - p) / 100`` or less (``0 < p < 100``);
* take-profit ``p``: it leaves once it has gained ``p`` percent, at a value of
  ``contributed * (100 + p) / 100`` or more (``p > 0``).

An effective limit is rounded down to 8 places, like every amount. ``limit_crossed`` is the
one rule both the trigger (``apps.transactions.copy_limits``) and the validation of new
limits (``apps.followers.services.position_limits_set``: a limit crossed already is refused)
use.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from apps.core.money import MATH_CONTEXT, round_amount_down
from apps.followers.models import Position

HUNDRED = Decimal(100)


def percent_of_contribution(contributed: Decimal, percent: Decimal, *, gain: bool) -> Decimal:
    """The value ``percent`` above (``gain``) or below the contribution, rounded down."""
    with localcontext(MATH_CONTEXT):
        factor = (HUNDRED + percent) if gain else (HUNDRED - percent)
        return round_amount_down(contributed * factor / HUNDRED)


def effective_stop_loss(
    *, contributed: Decimal, value: Decimal | None, percent: Decimal | None
) -> Decimal | None:
    """The value at or below which the position leaves; None when no stop-loss is set."""
    if value is not None:
        return value
    if percent is not None:
        return percent_of_contribution(contributed, percent, gain=False)
    return None


def effective_take_profit(
    *, contributed: Decimal, value: Decimal | None, percent: Decimal | None
) -> Decimal | None:
    """The value at or above which the position leaves; None when no take-profit is set."""
    if value is not None:
        return value
    if percent is not None:
        return percent_of_contribution(contributed, percent, gain=True)
    return None


def limit_basis(position: Position) -> Decimal:
    """What a percent limit is a percent of: the contribution still in the position, which is
    its high-water mark (the join's and top-ups' DEPOSITs, less what each partial leave took
    with it); a position with no mark recorded (opened before marks were) uses what it
    contributed."""
    if position.high_water_mark > 0:
        return position.high_water_mark
    return position.contributed


def scaled_limit(
    limit: Decimal | None, *, units_after: Decimal, units_before: Decimal
) -> Decimal | None:
    """A limit kept as a value, for the ``units_after`` of ``units_before`` units that stay
    after a partial leave (the same NAV), rounded down to 8 places; None stays None."""
    if limit is None or units_before <= 0:
        return limit
    with localcontext(MATH_CONTEXT):
        return round_amount_down(limit * units_after / units_before)


def position_stop_loss(position: Position) -> Decimal | None:
    return effective_stop_loss(
        contributed=limit_basis(position),
        value=position.stop_loss,
        percent=position.stop_loss_percent,
    )


def position_take_profit(position: Position) -> Decimal | None:
    return effective_take_profit(
        contributed=limit_basis(position),
        value=position.take_profit,
        percent=position.take_profit_percent,
    )


def limit_crossed(
    *, value: Decimal, stop_loss: Decimal | None, take_profit: Decimal | None
) -> str | None:
    """Which limit ``value`` has reached, as the leave's reason: ``STOP_LOSS`` (value at or
    below it), ``TAKE_PROFIT`` (at or above it), or None. Should both be reached (a take-profit set
    at or below the stop-loss, which validation refuses), the stop-loss wins: the follower
    asked to be protected first."""
    if stop_loss is not None and value <= stop_loss:
        return Position.LeaveReason.STOP_LOSS
    if take_profit is not None and value >= take_profit:
        return Position.LeaveReason.TAKE_PROFIT
    return None
