"""Property tests of the join limit rule: what it admits, what it refuses first, and that the
room it announces is exactly the room there is."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from apps.core.errors import ErrorCode
from apps.pools.limits import PoolLoad, amount_text, join_limit_breach
from apps.streamers.selectors import StreamerLimits

D = Decimal
money = st.decimals(min_value=D("0.00000001"), max_value=D("100000"), places=8)
balances = st.decimals(min_value=D("0"), max_value=D("100000"), places=8)


@st.composite
def limit_sets(draw) -> StreamerLimits:
    low = draw(money)
    high = draw(st.decimals(min_value=low, max_value=D("200000"), places=8))
    return StreamerLimits(
        min_contribution=low,
        max_contribution=high,
        max_followers=draw(st.integers(min_value=1, max_value=50)),
        max_pool_value=draw(st.none() | money),
    )


loads = st.builds(
    PoolLoad,
    followers=st.integers(min_value=0, max_value=60),
    balance=balances,
    pending=balances,
    is_member=st.booleans(),
)


def expected_code(limits: StreamerLimits, amount: Decimal, load: PoolLoad) -> ErrorCode | None:
    """The rule written out once more, as the docstring states it."""
    if not limits.min_contribution <= amount <= limits.max_contribution:
        return ErrorCode.CONTRIBUTION_LIMIT
    if not load.is_member and load.followers >= limits.max_followers:
        return ErrorCode.FOLLOWER_LIMIT
    if limits.max_pool_value is not None and load.balance + load.pending + amount > (
        limits.max_pool_value
    ):
        return ErrorCode.POOL_CAPACITY
    return None


@given(limits=limit_sets(), amount=money, load=loads)
def test_the_first_broken_limit_answers(limits, amount, load):
    breach = join_limit_breach(limits=limits, amount=amount, load=load, currency="USD")
    assert (breach.code if breach else None) == expected_code(limits, amount, load)


@st.composite
def joins_within_contribution(draw) -> tuple[StreamerLimits, Decimal, PoolLoad]:
    """A join that keeps the contribution and follower limits and lands near the capacity:
    only the capacity decides it."""
    limits = draw(limit_sets())
    amount = draw(
        st.decimals(min_value=limits.min_contribution, max_value=limits.max_contribution, places=8)
    )
    capacity = draw(st.decimals(min_value=D("0.00000001"), max_value=D("300000"), places=8))
    value = draw(st.decimals(min_value=D("0"), max_value=capacity * 2, places=8))
    pending = draw(st.decimals(min_value=D("0"), max_value=value, places=8))
    is_member = draw(st.booleans())
    followers = draw(
        st.integers(min_value=0, max_value=60 if is_member else limits.max_followers - 1)
    )
    limits = StreamerLimits(
        min_contribution=limits.min_contribution,
        max_contribution=limits.max_contribution,
        max_followers=limits.max_followers,
        max_pool_value=capacity,
    )
    load = PoolLoad(
        followers=followers, balance=value - pending, pending=pending, is_member=is_member
    )
    return limits, amount, load


@given(join=joins_within_contribution())
def test_an_admitted_join_keeps_every_limit(join):
    limits, amount, load = join
    breach = join_limit_breach(limits=limits, amount=amount, load=load, currency="USD")
    if breach is None:
        assert limits.min_contribution <= amount <= limits.max_contribution
        assert load.is_member or load.followers + 1 <= limits.max_followers
        assert load.value + amount <= limits.max_pool_value
    else:
        assert breach.code == ErrorCode.POOL_CAPACITY
        assert load.value + amount > limits.max_pool_value


@given(join=joins_within_contribution())
def test_the_room_announced_is_exactly_the_room_left(join):
    limits, amount, load = join
    breach = join_limit_breach(limits=limits, amount=amount, load=load, currency="USD")
    if breach is None:
        return
    room = limits.max_pool_value - load.value
    if room <= 0:
        assert breach.message == (
            f"The pool is at its capacity of {amount_text(limits.max_pool_value, 'USD')}"
        )
        return
    assert breach.message.startswith(f"The pool can take at most {amount_text(room, 'USD')} more")
    # then: joining exactly the room (when the contribution limits allow it) is admitted,
    # and a hundred-millionth more is not
    if limits.min_contribution <= room <= limits.max_contribution:
        assert join_limit_breach(limits=limits, amount=room, load=load, currency="USD") is None
    above = room + D("0.00000001")
    if limits.min_contribution <= above <= limits.max_contribution:
        again = join_limit_breach(limits=limits, amount=above, load=load, currency="USD")
        assert again is not None and again.code == ErrorCode.POOL_CAPACITY


@given(limits=limit_sets(), load=loads)
def test_the_contribution_refusal_names_the_bound_it_broke(limits, load):
    low = limits.min_contribution - D("0.00000001")
    high = limits.max_contribution + D("0.00000001")
    if low > 0:
        below = join_limit_breach(limits=limits, amount=low, load=load, currency="EUR")
        assert below is not None and below.message == (
            f"The minimum contribution to this pool is {amount_text(limits.min_contribution, 'EUR')}"
        )
    above = join_limit_breach(limits=limits, amount=high, load=load, currency="EUR")
    assert above is not None and above.message == (
        f"The maximum contribution to this pool is {amount_text(limits.max_contribution, 'EUR')}"
    )


@given(amount=money)
def test_amount_text_is_the_amount_with_at_least_two_places(amount):
    text, currency = amount_text(amount, "USD").split(" ")
    assert currency == "USD"
    assert D(text) == amount
    assert len(text.split(".")[1]) >= 2


def test_amount_text_examples():
    assert amount_text(D("5.00000000"), "USD") == "5.00 USD"
    assert amount_text(D("1000"), "USD") == "1000.00 USD"
    assert amount_text(D("0.12345"), "DEMO") == "0.12345 DEMO"
    assert amount_text(D("2.5"), "EUR") == "2.50 EUR"
