"""Property tests of the unit math: conservation under any interleaving of events."""

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.money import MATH_CONTEXT
from apps.pools.accounting import (
    PoolBust,
    nav,
    payout_for_units,
    units_for_contribution,
    value_of_units,
)

CENT = Decimal("0.00000001")
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=8)
balances = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000"), places=8)


def test_examples_from_the_specification():
    # given: a pool opened at 1000 (streamer holds 1000 units at NAV 1)
    units = units_for_contribution(
        amount=Decimal("100"), balance=Decimal("1000"), total_units=Decimal("1000")
    )
    # then: a join of 100 at NAV 1 gets 100 units
    assert units == Decimal("100")
    # and after the balance doubles, those 100 units pay 200
    assert payout_for_units(
        units=units, balance=Decimal("2200"), total_units=Decimal("1100")
    ) == Decimal("200.00000000")


def test_join_into_pool_without_units_is_at_nav_one():
    assert units_for_contribution(
        amount=Decimal("5"), balance=Decimal("0"), total_units=Decimal("0")
    ) == Decimal(5)
    assert nav(balance=Decimal("0"), total_units=Decimal("0")) == Decimal(1)


def test_bust_pool_refuses_joins_and_pays_zero():
    with pytest.raises(PoolBust):
        units_for_contribution(amount=Decimal("5"), balance=Decimal("0"), total_units=Decimal("10"))
    assert payout_for_units(
        units=Decimal("3"), balance=Decimal("0"), total_units=Decimal("10")
    ) == Decimal("0")


def test_payout_rounds_down_to_eight_places():
    # 1 unit of 3 in a pool of 1: exactly 0.333333333..., paid 0.33333333
    assert payout_for_units(
        units=Decimal(1), balance=Decimal(1), total_units=Decimal(3)
    ) == Decimal("0.33333333")


def test_cannot_redeem_more_than_outstanding():
    with pytest.raises(ValueError):
        payout_for_units(units=Decimal(11), balance=Decimal(100), total_units=Decimal(10))


@given(
    amount=amounts,
    balance=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=8),
    total_units=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=8),
)
def test_joiner_never_gets_more_value_than_paid(amount, balance, total_units):
    issued = units_for_contribution(amount=amount, balance=balance, total_units=total_units)
    value_after = payout_for_units(
        units=issued, balance=balance + amount, total_units=total_units + issued
    )
    assert value_after <= amount
    # and loses at most rounding dust
    assert amount - value_after <= CENT * 2 + amount * Decimal("1e-15")


@given(
    holdings=st.lists(
        st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=12),
        min_size=1,
        max_size=20,
    ),
    balance=balances,
)
def test_value_of_all_units_never_exceeds_balance(holdings, balance):
    total = sum(holdings, Decimal(0))
    if total == 0:
        return
    paid = sum(
        (payout_for_units(units=h, balance=balance, total_units=total) for h in holdings),
        Decimal(0),
    )
    assert paid <= balance
    # the dust left behind is at most one 8-place step per holder
    assert balance - paid <= CENT * len(holdings)


# One event of the pool's life: ("join", follower, amount), ("leave", follower), ("move", delta).
events = st.lists(
    st.one_of(
        st.tuples(st.just("join"), st.integers(0, 4), amounts),
        st.tuples(st.just("leave"), st.integers(0, 4)),
        st.tuples(
            st.just("move"),
            st.decimals(min_value=Decimal("-5000"), max_value=Decimal("5000"), places=8),
        ),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(opening=balances, events=events)
def test_any_interleaving_conserves_money(opening, events):
    """Joins, leaves and balance moves in any order: nobody is paid money the pool lacks,
    the operator-side balance always equals opening + in - out + play, and at the end
    the followers' payouts plus the streamer's remainder equal the balance exactly.

    Sums run in the exact context, as numeric(40, 18) columns add in the database."""
    with localcontext(MATH_CONTEXT):
        _simulate(opening, events)


def _simulate(opening, events):
    balance, play = opening, Decimal(0)
    total_units = streamer_units = opening  # open: B0 becomes the streamer's units at NAV 1
    held: dict[int, Decimal] = {}
    money_in = money_out = Decimal(0)
    for event in events:
        if event[0] == "join":
            _, who, amount = event
            if total_units > 0 and balance == 0:
                continue  # bust: refused
            if total_units == 0:
                streamer_units = total_units = balance  # rebase at NAV 1
            issued = units_for_contribution(amount=amount, balance=balance, total_units=total_units)
            held[who] = held.get(who, Decimal(0)) + issued
            total_units += issued
            balance += amount
            money_in += amount
        elif event[0] == "leave":
            _, who = event
            units = held.pop(who, Decimal(0))
            if units == 0:
                continue
            payout = payout_for_units(units=units, balance=balance, total_units=total_units)
            assert payout <= balance
            total_units -= units
            balance -= payout
            money_out += payout
        else:
            delta = max(event[1], -balance)  # the streamer cannot lose more than the balance
            balance += delta
            play += delta
        assert balance >= 0
        assert balance == opening + money_in - money_out + play
        assert total_units == streamer_units + sum(held.values(), Decimal(0))
    # everyone leaves: payouts never exceed the balance, the streamer keeps the remainder
    for units in held.values():
        payout = payout_for_units(units=units, balance=balance, total_units=total_units)
        total_units -= units
        balance -= payout
        assert balance >= 0
    assert total_units == streamer_units
    if streamer_units:
        assert (
            value_of_units(units=streamer_units, balance=balance, total_units=total_units)
            == balance
        )


def test_a_holding_above_the_total_by_storage_dust_is_the_whole_pool():
    # given the last holder's units stored a hair above the pool's total (SQLite floats)
    total = Decimal("100.000000000000000000")
    units = total + Decimal("1e-12")
    # then they are paid the whole balance, and a real excess is still refused
    assert payout_for_units(units=units, balance=Decimal("50"), total_units=total) == Decimal(50)
    with pytest.raises(ValueError, match="more units than the pool has"):
        payout_for_units(units=total + Decimal("0.001"), balance=Decimal("50"), total_units=total)
