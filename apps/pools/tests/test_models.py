"""The database itself refuses rows that break the money invariants."""

from decimal import Decimal

import pytest

from apps.core.tests.db import db_refuses
from apps.pools.models import Pool
from apps.streamers.tests.factories import StreamerFactory

pytestmark = pytest.mark.django_db


def test_database_refuses_a_second_open_pool_for_one_streamer():
    # given
    streamer = StreamerFactory()
    Pool.objects.create(streamer=streamer, operator=streamer.operator, currency="USD")

    def second_open():
        Pool.objects.create(streamer=streamer, operator=streamer.operator, currency="USD")

    # then
    assert db_refuses(second_open)
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


def test_database_refuses_a_negative_pool_balance():
    # given
    streamer = StreamerFactory()
    # then
    assert db_refuses(
        lambda: Pool.objects.create(
            streamer=streamer, operator=streamer.operator, currency="USD", balance=Decimal("-1")
        )
    )
