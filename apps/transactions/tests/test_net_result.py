"""A follower's net result from their wallet movements (``follower_net_result``): what came
back (WINs, refunds) less what was debited (BETs), per currency; failed movements and the
streamer's transfers do not count, movements not settled are counted as in doubt."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.followers.models import Follower, Position
from apps.pools.models import Pool
from apps.transactions.models import Transaction
from apps.transactions.selectors import follower_net_result

pytestmark = pytest.mark.django_db

D = Decimal
Kind = Transaction.Kind
Status = Transaction.Status


def move(position, kind, status, amount, *, currency="USD", follower=None) -> Transaction:
    return Transaction.objects.create(
        operator=position.pool.operator,
        kind=kind,
        status=status,
        amount=D(amount),
        currency=currency,
        pool=position.pool,
        position=position,
        follower=follower or position.follower,
        streamer=position.pool.streamer,
    )


@pytest.fixture
def position(operator, streamer, make_session):
    session = make_session("f1")
    pool = Pool.objects.create(streamer=streamer, operator=operator, currency="USD")
    return Position.objects.create(
        pool=pool, follower=session.follower, session=session, contributed=D(100)
    )


def test_a_win_less_its_bet(position):
    move(position, Kind.FOLLOWER_DEBIT, Status.SUCCEEDED, "100")
    move(position, Kind.STREAMER_DEPOSIT, Status.SUCCEEDED, "100")  # the pool's, not theirs
    move(position, Kind.STREAMER_WITHDRAWAL, Status.SUCCEEDED, "110")
    move(position, Kind.FOLLOWER_CREDIT, Status.SUCCEEDED, "110")
    # when
    [result] = follower_net_result(follower=position.follower)
    # then
    assert (result.currency, result.debited, result.returned, result.net) == (
        "USD",
        D(100),
        D(110),
        D(10),
    )
    assert (result.in_doubt, result.in_doubt_amount) == (0, D(0))


def test_a_refunded_bet_nets_nothing_and_a_failed_one_moved_nothing(position):
    move(position, Kind.FOLLOWER_DEBIT, Status.ROLLED_BACK, "50")
    move(position, Kind.FOLLOWER_ROLLBACK, Status.SUCCEEDED, "50")
    move(position, Kind.FOLLOWER_DEBIT, Status.FAILED, "70")
    [result] = follower_net_result(follower=position.follower)
    assert (result.debited, result.returned, result.net) == (D(50), D(50), D(0))


def test_in_doubt_per_currency_and_nothing_of_another_follower(position):
    move(position, Kind.FOLLOWER_DEBIT, Status.UNKNOWN, "30")
    move(position, Kind.FOLLOWER_CREDIT, Status.PENDING, "5", currency="EUR")
    other = Follower.objects.create(operator=position.pool.operator, operator_user_id="other")
    move(position, Kind.FOLLOWER_DEBIT, Status.SUCCEEDED, "999", follower=other)
    # when
    results = follower_net_result(follower=position.follower)
    # then
    assert [(r.currency, r.net, r.in_doubt, r.in_doubt_amount) for r in results] == [
        ("EUR", D(0), 1, D(5)),
        ("USD", D(0), 1, D(30)),
    ]


def test_a_follower_without_movements_has_no_result(position):
    assert follower_net_result(follower=position.follower) == []


def test_one_query(position, django_assert_num_queries):
    for i in range(30):
        move(position, Kind.FOLLOWER_DEBIT, Status.SUCCEEDED, i + 1)
    with django_assert_num_queries(1):
        follower_net_result(follower=position.follower)


movements = st.lists(
    st.tuples(
        st.sampled_from(list(Kind.values)),
        st.sampled_from(list(Status.values)),
        st.decimals(min_value=D("0.00000001"), max_value=D("100000"), places=8),
        st.sampled_from(["USD", "EUR"]),
    ),
    max_size=25,
)


class Rollback(Exception):
    pass


WALLET = ("follower_debit", "follower_credit", "follower_rollback")


def oracle(rows) -> dict[str, tuple[Decimal, Decimal, int, Decimal]]:
    """(debited, returned, in doubt, amount in doubt) per currency with a wallet movement."""
    figures: dict[str, tuple[Decimal, Decimal, int, Decimal]] = {}
    for kind, status, amount, currency in rows:
        if kind not in WALLET:
            continue
        debited, returned, doubt, doubt_amount = figures.get(currency, (D(0), D(0), 0, D(0)))
        if kind == "follower_debit" and status in ("succeeded", "rolled_back"):
            debited += amount
        if kind != "follower_debit" and status == "succeeded":
            returned += amount
        if status in ("pending", "unknown"):
            doubt, doubt_amount = doubt + 1, doubt_amount + amount
        figures[currency] = (debited, returned, doubt, doubt_amount)
    return figures


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=movements)
def test_the_net_result_is_the_sum_of_the_wallet_movements(position, rows):
    """Whatever the movements: each currency's net is the settled WINs and refunds less the
    BETs the wallet took, and the in-doubt figures are the unsettled wallet movements."""
    try:
        with transaction.atomic():
            for kind, status, amount, currency in rows:
                move(position, kind, status, amount, currency=currency)
            results = follower_net_result(follower=position.follower)
            raise Rollback
    except Rollback:
        pass
    expected = oracle(rows)
    assert [r.currency for r in results] == sorted(expected)
    for result in results:
        debited, returned, doubt, doubt_amount = expected[result.currency]
        assert (result.debited, result.returned) == (debited, returned)
        assert result.net == returned - debited
        assert (result.in_doubt, result.in_doubt_amount) == (doubt, doubt_amount)
