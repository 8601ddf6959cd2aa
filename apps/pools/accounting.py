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

All intermediate products use an 80-digit context, so nothing is rounded except where these
rules say so.
"""

from decimal import Decimal, localcontext

from apps.core.money import MATH_CONTEXT, ZERO, round_amount_down, round_units_down

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
