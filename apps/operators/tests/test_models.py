"""The database itself refuses rows that break the money invariants."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.followers.models import Follower
from apps.operators.models import Operator
from apps.operators.tests.factories import OperatorFactory, make_operator
from apps.pools.models import Pool
from apps.streamers.models import Stream
from apps.streamers.tests.factories import StreamerFactory, StreamFactory
from apps.transactions.models import Transaction

pytestmark = pytest.mark.django_db


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_database_refuses_a_second_open_pool_for_one_streamer():
    # given
    streamer = StreamerFactory()
    Pool.objects.create(streamer=streamer, operator=streamer.operator, currency="USD")

    def second_open():
        Pool.objects.create(streamer=streamer, operator=streamer.operator, currency="USD")

    # then
    assert refused(second_open)
    assert Pool.objects.filter(streamer=streamer).count() == 1


def test_database_allows_a_new_pool_once_the_previous_one_closed():
    # given
    streamer = StreamerFactory()
    Pool.objects.create(
        streamer=streamer, operator=streamer.operator, currency="USD", state=Pool.State.CLOSED
    )
    # when
    Pool.objects.create(streamer=streamer, operator=streamer.operator, currency="USD")
    # then
    assert Pool.objects.filter(streamer=streamer).count() == 2


@pytest.mark.parametrize("amount", [Decimal("-0.00000001"), Decimal("-5")])
def test_database_refuses_a_negative_transaction_amount(amount):
    # given
    operator = OperatorFactory()

    def negative():
        Transaction.objects.create(
            operator=operator, kind="follower_credit", amount=amount, currency="USD"
        )

    # then
    assert refused(negative)
    assert Transaction.objects.count() == 0


def test_database_refuses_a_zero_amount_except_for_a_win():
    # given
    operator = OperatorFactory()

    def zero_bet():
        Transaction.objects.create(
            operator=operator, kind="follower_debit", amount=Decimal("0"), currency="USD"
        )

    # when
    win = Transaction.objects.create(
        operator=operator, kind="follower_credit", amount=Decimal("0"), currency="USD"
    )
    # then
    assert refused(zero_bet)
    assert list(Transaction.objects.all()) == [win]


def test_database_refuses_a_reused_external_id_for_one_operator_only():
    # given
    operator, other = OperatorFactory(), OperatorFactory()
    values = {"kind": "follower_debit", "amount": Decimal("1"), "currency": "USD"}
    Transaction.objects.create(operator=operator, external_id="tx-1", **values)
    # when
    Transaction.objects.create(operator=other, external_id="tx-1", **values)
    # then
    assert refused(
        lambda: Transaction.objects.create(operator=operator, external_id="tx-1", **values)
    )


def test_database_refuses_a_negative_pool_balance():
    # given
    streamer = StreamerFactory()
    # then
    assert refused(
        lambda: Pool.objects.create(
            streamer=streamer, operator=streamer.operator, currency="USD", balance=Decimal("-1")
        )
    )


def test_database_refuses_a_second_live_stream_for_one_streamer():
    # given
    stream = StreamFactory()
    # then
    assert refused(lambda: StreamFactory(streamer=stream.streamer))
    assert Stream.objects.filter(streamer=stream.streamer, status="live").count() == 1


def test_database_refuses_one_user_twice_as_follower_of_one_operator():
    # given
    operator = OperatorFactory()
    Follower.objects.create(operator=operator, operator_user_id="u-1")
    # then
    assert refused(lambda: Follower.objects.create(operator=operator, operator_user_id="u-1"))


def test_database_refuses_contribution_limits_out_of_order():
    # then
    assert refused(lambda: OperatorFactory(min_contribution=Decimal("0")))
    assert refused(
        lambda: OperatorFactory(min_contribution=Decimal("10"), max_contribution=Decimal("5"))
    )
    assert Operator.objects.count() == 0


def test_operator_factory_exposes_the_plain_api_key_and_stores_only_its_digest():
    # when
    operator, credentials = make_operator(api_key="plain-key-1234")
    # then
    assert credentials["api_key"] == "plain-key-1234"
    assert operator.api_key_hint == "1234"
    assert operator.masked_api_key == "••••••1234"
    assert "plain-key-1234" not in operator.api_key_digest
