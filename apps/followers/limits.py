"""A position's copy limits (stop-loss, take-profit): the rule, as pure functions.

A limit is kept either as a value (``Position.stop_loss``, ``take_profit``) or as a percent
of what the position contributed (``*_percent``), never both. The notation is one for both
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


def position_stop_loss(position: Position) -> Decimal | None:
    return effective_stop_loss(
        contributed=position.contributed,
        value=position.stop_loss,
        percent=position.stop_loss_percent,
    )


def position_take_profit(position: Position) -> Decimal | None:
    return effective_take_profit(
        contributed=position.contributed,
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
