"""CopyStake's fees to an operator: the rules, defined once.

Figures per operator O, currency C and UTC day D (a ``DailySettlement`` row,
``apps.transactions.settlement`` says how money in and out are summed):

The schedule of a day
    The ``FeeSchedule`` of O and C with the latest ``effective_from`` on or before D. None:
    no fees that day (every fee 0) and the row's ``fee_schedule`` stays null.
``turnover_fee``
    ``round_down_8(turnover_percent % x money_in)``: a percent of the followers'
    contributions (BETs that succeeded; rolled-back BETs are not in money in already).
``ggr_fee``
    ``ggr = money_in - money_out`` (what the followers lost net that day), then
    ``round_down_8(ggr_percent % x ggr)``, rounded toward zero: negative on a day the
    followers won net (CopyStake shares the loss as it shares the gain).
``fees``
    ``turnover_fee + ggr_fee``.
``performance_fees``
    The sum of the day's succeeded ``PERFORMANCE_FEE`` transactions: what the streamers kept,
    shown for information (it is not CopyStake's and is not invoiced).

A month's invoice (O, C, month M) sums these:

* one line per day of M that has a settlement row, in day order (money in, money out,
  turnover fee, GGR fee, amount = fees);
* ``subtotal`` = the sum of the lines' amounts (below 0 when the followers won the month);
* ``minimum`` = the ``monthly_minimum`` of the schedule in force on M's last day (0 without
  one);
* ``total = max(subtotal, minimum, 0)``: a month never comes to less than its minimum, nor to
  less than 0 (CopyStake never owes the operator through an invoice);
* ``minimum_charge = total - subtotal``: whatever brings the subtotal up to the total. It is
  ``max(0, minimum - subtotal)`` when the subtotal is not negative; on a negative-subtotal
  month it also absorbs the negative part (e.g. subtotal -30, minimum 0: minimum charge 30,
  total 0; subtotal -30, minimum 100: minimum charge 130, total 100). The invoice shows it as
  a line "Monthly minimum" whenever it is above 0.

Rates: each percent 0 to 100 (``ErrorCode.INVALID_FEE`` otherwise), the monthly minimum 0 or
more, all with the places of their columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from apps.core.money import PERCENT_PLACES, ZERO, percent_of, round_amount_down
from apps.transactions.finance.models import FeeSchedule

MAX_PERCENT = Decimal(100)
MONTHLY_MINIMUM_LINE = "Monthly minimum"


@dataclass(frozen=True)
class DayFees:
    turnover_fee: Decimal = ZERO
    ggr_fee: Decimal = ZERO

    @property
    def fees(self) -> Decimal:
        return self.turnover_fee + self.ggr_fee


def day_fees(*, schedule: FeeSchedule | None, money_in: Decimal, money_out: Decimal) -> DayFees:
    """The turnover and GGR fees of a day's money in and out under ``schedule``."""
    if schedule is None:
        return DayFees()
    ggr = money_in - money_out
    # round_amount_down rounds toward zero: a negative GGR fee is rounded up to 8 places.
    return DayFees(
        turnover_fee=round_amount_down(percent_of(money_in, schedule.turnover_percent)),
        ggr_fee=round_amount_down(percent_of(ggr, schedule.ggr_percent)),
    )


@dataclass(frozen=True)
class MonthTotals:
    subtotal: Decimal
    minimum: Decimal
    minimum_charge: Decimal
    total: Decimal


def month_totals(*, line_amounts: list[Decimal], minimum: Decimal) -> MonthTotals:
    """Subtotal, minimum charge and total of a month's lines (the module docstring's rule)."""
    subtotal = sum(line_amounts, ZERO)
    total = max(subtotal, minimum, ZERO)
    return MonthTotals(
        subtotal=subtotal, minimum=minimum, minimum_charge=total - subtotal, total=total
    )


def schedule_in_force(schedules: list[FeeSchedule], day: date) -> FeeSchedule | None:
    """Of one operator's and currency's ``schedules``, the one in force on ``day``."""
    best: FeeSchedule | None = None
    for schedule in schedules:
        if schedule.effective_from <= day and (
            best is None or schedule.effective_from > best.effective_from
        ):
            best = schedule
    return best


def schedules_by_key(*, until: date) -> dict[tuple[int, str], list[FeeSchedule]]:
    """Every schedule effective on or before ``until``, by (operator id, currency): one query."""
    grouped: dict[tuple[int, str], list[FeeSchedule]] = {}
    for schedule in FeeSchedule.objects.filter(effective_from__lte=until):
        grouped.setdefault((schedule.operator_id, schedule.currency), []).append(schedule)
    return grouped


def percent_valid(value: Decimal) -> bool:
    """A CopyStake rate: 0 to 100 %, at most the column's places."""
    return (
        isinstance(value, Decimal)
        and value.is_finite()
        and ZERO <= value <= MAX_PERCENT
        and -value.as_tuple().exponent <= PERCENT_PLACES  # type: ignore[operator]
    )
