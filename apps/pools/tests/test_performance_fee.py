"""The performance fee rule (apps.pools.accounting.leave_price): examples worked by hand, and
properties that hold for any position, mark, rate and balance."""

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.money import MATH_CONTEXT
from apps.pools.accounting import (
    leave_price,
    mark_share,
    payout_for_units,
    performance_fee,
    units_for_contribution,
)

CENT = Decimal("0.00000001")
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=8)
percents = st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=4)
growth = st.decimals(min_value=Decimal("0"), max_value=Decimal("5"), places=6)
fractions = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1"), places=4)


def test_the_issue_example_twenty_percent_above_the_mark():
    # given: 100 in at NAV 1 beside the streamer's 1000, and the balance grows by 10 %
    price = leave_price(
        units=Decimal(100),
        position_units=Decimal(100),
        mark=Decimal(100),
        fee_percent=Decimal(20),
        balance=Decimal(1210),
        total_units=Decimal(1100),
    )
    # then: the position is worth 110, 10 above its mark; the fee is 20 % of 10
    assert price.value == Decimal("110.00000000")
    assert price.fee == Decimal("2.00000000")
    assert price.payout == Decimal("108.00000000")
    # and the 2 stays with the streamer as the units it is worth at NAV 1.1
    assert price.fee_units == Decimal("1.818181818181818181")
    assert price.redeemed == Decimal(100) - price.fee_units


def test_no_fee_at_a_loss_or_at_the_mark():
    assert performance_fee(percent=Decimal(50), value=Decimal("99.99"), mark=Decimal(100)) == 0
    assert performance_fee(percent=Decimal(50), value=Decimal(100), mark=Decimal(100)) == 0
    assert performance_fee(percent=Decimal(0), value=Decimal(500), mark=Decimal(100)) == 0


def test_the_fee_rounds_down_to_eight_places():
    fee = performance_fee(percent=Decimal(20), value=Decimal("100.00000007"), mark=Decimal(100))
    # 20 % of 0.00000007 is 0.000000014: the follower keeps the fraction
    assert fee == Decimal("0.00000001")


def test_a_partial_leave_carries_its_share_of_the_mark():
    assert mark_share(mark=Decimal(300), units=Decimal(1), position_units=Decimal(3)) == Decimal(
        100
    )
    assert mark_share(mark=Decimal(300), units=Decimal(3), position_units=Decimal(3)) == Decimal(
        300
    )


@pytest.mark.parametrize("percent", [Decimal("-0.0001"), Decimal("50.0001")])
def test_a_rate_outside_zero_to_fifty_is_refused(percent):
    with pytest.raises(ValueError):
        performance_fee(percent=percent, value=Decimal(2), mark=Decimal(1))


@settings(max_examples=300, deadline=None)
@given(
    streamer=amounts,
    contribution=amounts,
    percent=percents,
    move=growth,
    fraction=fractions,
)
def test_a_leave_never_charges_without_profit_and_never_dilutes_the_others(
    streamer, contribution, percent, move, fraction
):
    # given: a pool of the streamer's money and one position, and a balance move
    units = units_for_contribution(amount=contribution, balance=streamer, total_units=streamer)
    total = streamer + units
    with localcontext(MATH_CONTEXT):
        balance = ((streamer + contribution) * move).quantize(CENT)
        leaving = (units * fraction).quantize(Decimal("1e-18"))
    if balance <= 0 or leaving <= 0:
        return
    # when: part of the position leaves
    price = leave_price(
        units=leaving,
        position_units=units,
        mark=contribution,
        fee_percent=percent,
        balance=balance,
        total_units=total,
    )
    # then: the fee is a share of the profit above the mark carried, never more
    with localcontext(MATH_CONTEXT):
        profit = price.value - price.mark
        exact = max(profit, Decimal(0)) * percent / 100
    assert price.value == payout_for_units(units=leaving, balance=balance, total_units=total)
    assert Decimal(0) <= price.fee <= exact
    assert exact - price.fee < CENT
    if profit <= 0:
        assert price.fee == 0 and price.fee_units == 0
    # and the follower is paid the value less the fee, never less than half of it
    assert price.payout == price.value - price.fee
    assert price.payout * 2 >= price.value
    # and the fee's units are worth no more than the fee
    assert payout_for_units(units=price.fee_units, balance=balance, total_units=total) <= price.fee
    # and whoever stays in the pool is not diluted: NAV after >= NAV before
    with localcontext(MATH_CONTEXT):
        remaining_units = total - price.redeemed
        remaining_balance = balance - price.payout
        assert remaining_units > 0
        assert remaining_balance * total >= balance * remaining_units


@settings(max_examples=200, deadline=None)
@given(mark=amounts, position=amounts, fraction=fractions)
def test_the_mark_shares_add_up(mark, position, fraction):
    with localcontext(MATH_CONTEXT):
        leaving = (position * fraction).quantize(Decimal("1e-18"))
    share = mark_share(mark=mark, units=leaving, position_units=position)
    assert Decimal(0) <= share <= mark
    with localcontext(MATH_CONTEXT):
        rest = mark - share
    # the rest carries what the remaining units would carry, to the 18th place
    assert rest >= 0
