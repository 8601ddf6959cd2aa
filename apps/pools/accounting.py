"""Unit (NAV) accounting of a pool, as a fund does it. Pure functions, no I/O.

A pool is the streamer's balance ``B`` on the operator's side, divided into ``U`` units.

* **Open.** The streamer's balance ``B0`` becomes the streamer's units at NAV 1:
  ``streamer_units = U = B0``. The same rebase applies whenever a pool with no units is
  priced, so money the streamer had before anyone joined stays the streamer's.
* **Join.** ``A`` deposited at balance ``B`` issues ``A * U / B`` units (``A`` when
  ``U == 0``), rounded *down* to 18 places: the joiner never gets more than was paid for,
  and the fraction left behind benefits the existing holders.
* **Leave.** ``u`` units at balance ``B`` pay ``u * B / U``, rounded *down* to 8 places: the
  pool never pays out more than it holds, and the dust stays with the streamer, whose units
  are never redeemed.
* **Bust.** ``B == 0`` with ``U > 0``: every unit is worth nothing, joins are refused.
* **Performance fee** (SPEC section 10). Each position carries a high-water mark ``M``: what it
  contributed, raised by every top-up. A leave of ``u`` of the position's ``P`` units carries
  the share ``m = M * u / P`` of it (all of ``M`` for a full leave; rounded down to 18
  places, the rest staying with the position), is worth ``V`` (the leave rule above), and is
  charged ``fee = rate * max(0, V - m)`` rounded down to 8 places, ``rate`` being the
  position's percent / 100. The follower is paid ``V - fee``. The fee never leaves the
  streamer's balance: the ``fee * U / B`` units it is worth (rounded down to 18) pass to the
  streamer's units instead of being redeemed, so no unit of anyone else changes value.

All intermediate products use an 80-digit context, so nothing is rounded except where these
rules say so.
"""

from dataclasses import dataclass
from decimal import Decimal, localcontext

from apps.core.money import (
    MATH_CONTEXT,
    ZERO,
    percent_of,
    round_amount_down,
    round_units_down,
)

NAV_ONE = Decimal(1)


class PoolBust(Exception):
    """The pool's balance is zero while units are outstanding: no join can be priced."""


def nav(*, balance: Decimal, total_units: Decimal) -> Decimal:
    """Value of one unit; 1 for a pool with no units yet."""
    if total_units <= 0:
        return NAV_ONE
    with localcontext(MATH_CONTEXT):
        return round_units_down(balance / total_units)


def opening_units(*, balance: Decimal) -> Decimal:
    """Units the streamer holds when a pool with no units is priced at ``balance``."""
    return round_units_down(balance)


def units_for_contribution(*, amount: Decimal, balance: Decimal, total_units: Decimal) -> Decimal:
    """Units issued for ``amount`` joining a pool of ``total_units`` worth ``balance``."""
    if amount <= 0:
        raise ValueError("a contribution must be positive")
    if total_units == 0:
        return round_units_down(amount)
    if balance <= 0:
        raise PoolBust("balance is zero while units are outstanding")
    with localcontext(MATH_CONTEXT):
        return round_units_down(amount * total_units / balance)


# Decimal columns on SQLite (development only) hold about 15 significant digits; anything
# larger than this between two unit totals is a real accounting error, never float dust.
UNIT_DUST = Decimal("1e-9")


def payout_for_units(*, units: Decimal, balance: Decimal, total_units: Decimal) -> Decimal:
    """What redeeming ``units`` pays at ``balance``: ``u * B / U`` rounded down to 8 places.

    A holding above the pool's total by no more than storage rounding (SQLite, the last
    holder of a pool whose streamer has no units) is the whole pool; beyond that it is an
    accounting error and refused.
    """
    if units > total_units and units - total_units <= UNIT_DUST:
        units = total_units
    if units < 0 or units > total_units:
        raise ValueError("cannot redeem more units than the pool has")
    if units == 0 or balance <= 0:
        return ZERO.quantize(Decimal("0.00000001"))
    with localcontext(MATH_CONTEXT):
        return round_amount_down(units * balance / total_units)


def value_of_units(*, units: Decimal, balance: Decimal, total_units: Decimal) -> Decimal:
    """Current value of a holding (what leaving now would pay)."""
    if total_units <= 0:
        return round_amount_down(units)
    return payout_for_units(units=min(units, total_units), balance=balance, total_units=total_units)


def units_after_redeem(
    *, total_units: Decimal, redeemed: Decimal, streamer_units: Decimal
) -> Decimal:
    """Total units once ``redeemed`` left; never below the streamer's own units.

    The streamer's units are never redeemed, so the result below ``streamer_units`` can only be
    storage rounding (SQLite): clamp that, refuse anything larger.
    """
    with localcontext(MATH_CONTEXT):
        remaining = total_units - redeemed
    if remaining < streamer_units:
        if streamer_units - remaining > UNIT_DUST:
            raise ValueError(
                f"redeeming {redeemed} of {total_units} units would eat the streamer's {streamer_units}"
            )
        return streamer_units
    return remaining


def units_after_issue(*, total_units: Decimal, issued: Decimal) -> Decimal:
    with localcontext(MATH_CONTEXT):
        return total_units + issued


# The highest performance fee a streamer may charge, in percent of the profit above the mark.
MAX_PERFORMANCE_FEE_PERCENT = Decimal(50)


@dataclass(frozen=True)
class LeavePrice:
    """A leave of ``units`` priced at ``balance`` of a pool of ``total_units``, with its fee.

    ``value`` is what the units are worth (``payout_for_units``); ``mark`` the share of the
    position's high-water mark they carry; ``fee`` what the streamer keeps of it; ``payout``
    what the follower is paid (the WITHDRAWAL and the WIN); ``fee_units`` the units the fee
    is worth, which pass to the streamer; ``redeemed`` the units that leave the pool.
    """

    units: Decimal
    value: Decimal
    mark: Decimal
    fee_percent: Decimal
    fee: Decimal
    fee_units: Decimal

    @property
    def payout(self) -> Decimal:
        return self.value - self.fee

    @property
    def redeemed(self) -> Decimal:
        with localcontext(MATH_CONTEXT):
            return self.units - self.fee_units


def mark_share(*, mark: Decimal, units: Decimal, position_units: Decimal) -> Decimal:
    """The part of a position's high-water mark that ``units`` of its ``position_units`` carry:
    all of it for every unit, else ``mark * units / position_units`` rounded down to 18."""
    if units >= position_units or position_units <= 0:
        return mark
    with localcontext(MATH_CONTEXT):
        return round_units_down(mark * units / position_units)


def performance_fee(*, percent: Decimal, value: Decimal, mark: Decimal) -> Decimal:
    """``percent`` % of the profit above the mark, ``max(0, value - mark)``, rounded down to 8."""
    if percent < 0 or percent > MAX_PERFORMANCE_FEE_PERCENT:
        raise ValueError(f"a performance fee is between 0 and {MAX_PERFORMANCE_FEE_PERCENT} %")
    with localcontext(MATH_CONTEXT):
        profit = value - mark
    if profit <= 0 or percent == 0:
        return ZERO.quantize(Decimal("0.00000001"))
    return round_amount_down(percent_of(profit, percent))


def units_for_fee(*, fee: Decimal, balance: Decimal, total_units: Decimal) -> Decimal:
    """The units ``fee`` is worth at ``balance``: ``fee * U / B`` rounded down to 18 places, so
    the streamer never gets more units than the fee pays for."""
    if fee <= 0 or balance <= 0:
        return ZERO
    with localcontext(MATH_CONTEXT):
        return round_units_down(fee * total_units / balance)


def leave_price(
    *,
    units: Decimal,
    position_units: Decimal,
    mark: Decimal,
    fee_percent: Decimal,
    balance: Decimal,
    total_units: Decimal,
) -> LeavePrice:
    """Price a leave of ``units`` of a position holding ``position_units`` with high-water mark
    ``mark`` and fee ``fee_percent``, at ``balance`` of a pool of ``total_units`` (module doc)."""
    value = payout_for_units(units=units, balance=balance, total_units=total_units)
    share = mark_share(mark=mark, units=units, position_units=position_units)
    fee = performance_fee(percent=fee_percent, value=value, mark=share)
    fee_units = min(units_for_fee(fee=fee, balance=balance, total_units=total_units), units)
    return LeavePrice(
        units=units, value=value, mark=share, fee_percent=fee_percent, fee=fee, fee_units=fee_units
    )
