from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.errors import Conflict, StreamAlreadyLive
from apps.operators.tests.factories import OperatorFactory
from apps.streamers.models import Stream, Streamer
from apps.streamers.selectors import (
    stream_get_for_operator,
    stream_live_get,
    streamer_get,
    streamer_live_list,
)
from apps.streamers.services import (
    stream_schedule,
    stream_start,
    streamer_create,
)
from apps.streamers.tests.factories import StreamerFactory, StreamFactory

pytestmark = pytest.mark.django_db


def test_streamer_create_defaults_the_display_name_to_the_user_id():
    # given
    operator = OperatorFactory()
    # when
    streamer = streamer_create(operator=operator, operator_user_id="u-7", currency="EUR")
    # then
    assert streamer.display_name == "u-7"
    assert streamer.currency == "EUR"
    assert streamer.status == Streamer.Status.ACTIVE
    assert streamer_get(operator=operator, streamer_id=streamer.pk) == streamer


@pytest.mark.parametrize(
    ("user_id", "currency"), [("u", "usd"), ("u", "U$D"), ("u", ""), ("", "USD"), (" ", "USD")]
)
def test_streamer_create_refuses_bad_input(user_id, currency):
    with pytest.raises(ValidationError):
        streamer_create(operator=OperatorFactory(), operator_user_id=user_id, currency=currency)
    assert Streamer.objects.count() == 0


def test_same_user_id_may_stream_for_two_operators_but_not_twice_for_one():
    # given
    first, second = OperatorFactory(), OperatorFactory()
    streamer_create(operator=first, operator_user_id="u", currency="USD")
    # when
    streamer_create(operator=second, operator_user_id="u", currency="USD")
    # then
    with pytest.raises(ValidationError):
        streamer_create(operator=first, operator_user_id="u", currency="USD")
    assert Streamer.objects.count() == 2


def test_stream_start_goes_live_now():
    # given
    streamer = StreamerFactory()
    before = timezone.now()
    # when
    stream = stream_start(streamer=streamer, title="Friday slots")
    # then
    assert stream.status == Stream.Status.LIVE
    assert stream.title == "Friday slots"
    assert before <= stream.started_at <= timezone.now()
    assert stream_live_get(streamer=streamer) == stream


def test_stream_start_refuses_a_second_live_stream():
    # given
    streamer = StreamerFactory()
    stream_start(streamer=streamer)
    # when / then
    with pytest.raises(StreamAlreadyLive) as error:
        stream_start(streamer=streamer)
    assert error.value.code == "ERR_STREAM_ALREADY_LIVE"
    assert error.value.status == 409
    assert Stream.objects.filter(streamer=streamer).count() == 1


def test_stream_start_after_the_previous_stream_ended():
    # given
    streamer = StreamerFactory()
    StreamFactory(streamer=streamer, ended=True)
    # when
    stream = stream_start(streamer=streamer)
    # then
    assert stream_live_get(streamer=streamer) == stream


def test_suspended_streamer_cannot_go_live():
    # given
    streamer = StreamerFactory(status=Streamer.Status.SUSPENDED)
    # when / then
    with pytest.raises(Conflict) as error:
        stream_start(streamer=streamer)
    assert (error.value.code, error.value.status) == ("ERR_STREAMER_SUSPENDED", 409)
    assert Stream.objects.count() == 0


def test_stream_schedule_announces_a_future_stream():
    # given
    streamer = StreamerFactory()
    starts = timezone.now() + timedelta(hours=1)
    # when
    stream = stream_schedule(
        streamer=streamer, starts_at=starts, ends_at=starts + timedelta(hours=2), title="Later"
    )
    # then
    assert stream.status == Stream.Status.SCHEDULED
    assert stream.scheduled_start == starts
    assert stream_live_get(streamer=streamer) is None


@pytest.mark.parametrize(("start_offset", "end_offset"), [(2, 1), (1, 1), (-3, -1)])
def test_stream_schedule_refuses_an_impossible_window(start_offset, end_offset):
    # given
    now = timezone.now()
    # when / then
    with pytest.raises(ValidationError):
        stream_schedule(
            streamer=StreamerFactory(),
            starts_at=now + timedelta(hours=start_offset),
            ends_at=now + timedelta(hours=end_offset),
        )
    assert Stream.objects.count() == 0


def test_streamer_live_list_has_only_this_operators_live_active_streamers():
    # given
    operator = OperatorFactory()
    live = StreamFactory(streamer=StreamerFactory(operator=operator, display_name="B"))
    other_live = StreamFactory(streamer=StreamerFactory(operator=operator, display_name="A"))
    StreamFactory(streamer=StreamerFactory(operator=operator), ended=True)
    StreamFactory(streamer=StreamerFactory(operator=operator), scheduled=True)
    StreamFactory(streamer=StreamerFactory(operator=operator, status="suspended"))
    StreamFactory()  # another operator's
    # when
    streamers = list(streamer_live_list(operator=operator))
    # then
    assert streamers == [other_live.streamer, live.streamer]
    assert streamers[1].live_streams == [live]


def test_stream_get_for_operator_by_uid():
    # given
    stream = StreamFactory()
    operator = stream.streamer.operator
    # then
    assert stream_get_for_operator(operator=operator, uid=str(stream.uid)) == stream
    assert stream_get_for_operator(operator=operator, uid=stream.uid) == stream
    assert stream_get_for_operator(operator=OperatorFactory(), uid=stream.uid) is None
    assert stream_get_for_operator(operator=operator, uid="not-a-uuid") is None
