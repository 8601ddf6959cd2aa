"""Ending a stream: why it ended (on the stream and on every pool it pays out), a scheduled
stream cancelled instead, an ended one left as it is, and the pay-out handed to a worker."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.followers.models import Position
from apps.pools.models import Pool
from apps.streamers.models import Stream
from apps.transactions.services import position_join, streams_end

D = Decimal
pytestmark = pytest.mark.django_db


def live_stream(streamer) -> Stream:
    return Stream.objects.get(streamer=streamer, status=Stream.Status.LIVE)


def test_ending_a_live_stream_pays_out_and_says_why_on_the_stream_and_the_pool(
    fake, streamer, make_session
):
    # given
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    stream = live_stream(streamer)
    # when
    ended = streams_end(stream=stream, reason="stream ended by staff ops, technical fault")
    # then
    assert ended.pk == stream.pk
    assert (ended.status, ended.end_reason) == (
        "ended",
        "stream ended by staff ops, technical fault",
    )
    assert ended.ended_at is not None
    position.refresh_from_db()
    assert (position.status, position.payout) == ("closed", D(100))
    pool = Pool.objects.get(pk=position.pool_id)
    assert (pool.state, pool.close_reason) == (
        "closed",
        "stream ended by staff ops, technical fault",
    )


def test_ending_a_scheduled_stream_cancels_it(streamer):
    # given
    stream = Stream.objects.create(
        streamer=streamer,
        status=Stream.Status.SCHEDULED,
        scheduled_start=timezone.now() + timedelta(hours=1),
        scheduled_end=timezone.now() + timedelta(hours=2),
    )
    # when
    result = streams_end(stream=stream, reason="stream ended by the operator")
    # then: cancelled, and the live stream beside it is untouched
    assert (result.status, result.end_reason) == ("cancelled", "stream ended by the operator")
    assert result.started_at is None
    assert live_stream(streamer).end_reason == ""


def test_ending_an_ended_stream_changes_nothing_but_settles_a_pool_left_open(
    fake, streamer, make_session
):
    # given: the stream ended earlier, but its pool was never paid out
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    stream = live_stream(streamer)
    ended_at = timezone.now() - timedelta(minutes=5)
    Stream.objects.filter(pk=stream.pk).update(
        status=Stream.Status.ENDED, ended_at=ended_at, end_reason="stream ended on schedule"
    )
    # when
    again = streams_end(stream=stream, reason="stream ended by the operator")
    # then: the stream as it was; the pool is paid out, with the reason of this call
    assert (again.status, again.ended_at, again.end_reason) == (
        "ended",
        ended_at,
        "stream ended on schedule",
    )
    position.refresh_from_db()
    assert position.status == "closed"
    assert Pool.objects.get(pk=position.pool_id).close_reason == "stream ended by the operator"


def test_a_pool_is_not_settled_while_another_stream_of_the_streamer_is_live(
    fake, streamer, make_session
):
    # given: an ended stream of a streamer who is live again
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    old = Stream.objects.create(
        streamer=streamer, status=Stream.Status.ENDED, ended_at=timezone.now()
    )
    # when
    streams_end(stream=old, reason="again")
    # then
    position.refresh_from_db()
    assert position.status == "active"
    assert live_stream(streamer).status == "live"


def test_paying_out_in_a_worker_answers_ended_at_once_and_pays_out_on_commit(
    fake, streamer, make_session, django_capture_on_commit_callbacks
):
    # given
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    stream = live_stream(streamer)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ended = streams_end(
            stream=stream, reason="stream ended by the operator", pay_out_in_worker=True
        )
    # then: ended, nobody paid yet, one task waits for the commit
    assert ended.status == "ended" and ended.end_reason == "stream ended by the operator"
    assert Position.objects.get(pk=position.pk).status == "active"
    assert len(callbacks) == 1
    # when: the transaction commits (tasks run eagerly here)
    callbacks[0]()
    # then
    position.refresh_from_db()
    assert position.status == "closed" and position.payout == D(100)
    pool = Pool.objects.get(pk=position.pool_id)
    assert (pool.state, pool.close_reason) == ("closed", "stream ended by the operator")
