"""The lobby selector: live streamers with their pool, then the upcoming streams (next 7 days,
soonest first, at most 50), private streamers only to their allowlist, in a fixed number of
queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.operators.tests.factories import OperatorFactory
from apps.pools.selectors import UPCOMING_LIMIT, lobby_list, lobby_upcoming
from apps.streamers.models import Stream, StreamerAccess
from apps.streamers.tests.factories import StreamerFactory, StreamFactory

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def upcoming(streamer, *, start_in: timedelta, length: timedelta = 2 * HOUR, **extra) -> Stream:
    now = timezone.now()
    return StreamFactory.create(
        streamer=streamer,
        scheduled=True,
        scheduled_start=now + start_in,
        scheduled_end=now + start_in + length,
        **extra,
    )


def test_the_lobby_lists_live_streamers_then_upcoming_streams_soonest_first():
    # given
    operator = OperatorFactory()
    live = StreamFactory(streamer=StreamerFactory(operator=operator, display_name="Zed"))
    later = upcoming(StreamerFactory(operator=operator), start_in=3 * 24 * HOUR)
    soon = upcoming(StreamerFactory(operator=operator), start_in=HOUR, game="Plinko")
    due = upcoming(live.streamer, start_in=-HOUR)  # its start passed, the beat has not run
    # when
    entries = lobby_list(operator=operator, operator_user_id="p1")
    # then
    assert [(e.stream, e.status) for e in entries] == [
        (live, "live"),
        (due, "upcoming"),
        (soon, "upcoming"),
        (later, "upcoming"),
    ]
    assert [e.pool for e in entries[1:]] == [None, None, None]
    assert [e.nav for e in entries[1:]] == [None, None, None]
    assert entries[2].stream.game == "Plinko"


def test_upcoming_leaves_out_what_will_not_start_soon_or_is_not_this_players():
    # given
    operator = OperatorFactory()
    streamer = StreamerFactory(operator=operator)
    listed = upcoming(streamer, start_in=6 * 24 * HOUR)
    upcoming(streamer, start_in=8 * 24 * HOUR)  # beyond 7 days
    upcoming(streamer, start_in=-3 * HOUR, length=HOUR)  # its end has passed
    upcoming(streamer, start_in=HOUR, status=Stream.Status.CANCELLED)
    upcoming(StreamerFactory(operator=operator, status="suspended"), start_in=HOUR)
    upcoming(StreamerFactory(), start_in=HOUR)  # another operator's
    private = StreamerFactory(operator=operator, is_private=True)
    hidden = upcoming(private, start_in=2 * HOUR)
    StreamerAccess.objects.create(streamer=private, operator_user_id="insider")
    # then
    assert [e.stream for e in lobby_upcoming(operator=operator, operator_user_id="p1")] == [listed]
    assert [e.stream for e in lobby_upcoming(operator=operator, operator_user_id="insider")] == [
        hidden,
        listed,
    ]
    demo = lobby_upcoming(operator=operator, operator_user_id="insider", is_demo=True)
    assert [e.stream for e in demo] == [listed]


def test_upcoming_lists_at_most_fifty():
    operator = OperatorFactory()
    streamer = StreamerFactory(operator=operator)
    streams = [upcoming(streamer, start_in=(n + 1) * HOUR) for n in range(UPCOMING_LIMIT + 3)]
    entries = lobby_upcoming(operator=operator)
    assert [e.stream for e in entries] == streams[:UPCOMING_LIMIT]


def test_each_entry_carries_the_streamers_own_limits_else_the_operators():
    operator = OperatorFactory(
        min_contribution=Decimal("1"), max_contribution=Decimal("500"), max_followers_per_pool=40
    )
    own = StreamerFactory(
        operator=operator,
        min_contribution=Decimal("5"),
        max_pool_value=Decimal("20000"),
        display_name="A",
    )
    StreamFactory(streamer=own)
    upcoming(StreamerFactory(operator=operator), start_in=HOUR)
    # when
    live, soon = lobby_list(operator=operator)
    # then
    assert (
        live.limits.min_contribution,
        live.limits.max_contribution,
        live.limits.max_followers,
        live.limits.max_pool_value,
    ) == (Decimal("5"), Decimal("500"), 40, Decimal("20000"))
    assert (soon.limits.min_contribution, soon.limits.max_pool_value) == (Decimal("1"), None)


@pytest.mark.parametrize("count", [2, 20])
def test_the_lobby_takes_the_same_queries_whatever_its_size(count, django_assert_num_queries):
    operator = OperatorFactory()
    for n in range(count):
        StreamFactory(streamer=StreamerFactory(operator=operator))
        upcoming(StreamerFactory(operator=operator), start_in=(n + 1) * HOUR)
    with django_assert_num_queries(5):  # streamers, live streams, pools, upcoming, records
        entries = lobby_list(operator=operator, operator_user_id="p1")
        assert len(entries) == 2 * count
        assert all(e.limits.max_followers > 0 and e.streamer.operator for e in entries)
