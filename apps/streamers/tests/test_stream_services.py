"""The streaming schedule: schedule, edit, cancel, start now, and the operator's idempotent start."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.streamers.models import Stream, Streamer
from apps.streamers.services import (
    stream_cancel,
    stream_go_live,
    stream_schedule,
    stream_start,
    stream_start_for_operator,
    stream_start_scheduled,
    stream_update,
)
from apps.streamers.tests.factories import StreamerFactory, StreamFactory

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def code_of(raised: pytest.ExceptionInfo) -> tuple[str, int]:
    return (raised.value.code, raised.value.status)


def scheduled(streamer=None, *, start_in=HOUR, length=2 * HOUR, **extra) -> Stream:
    starts = timezone.now() + start_in
    owner: Streamer = streamer or StreamerFactory.create()
    return stream_schedule(
        streamer=owner,
        starts_at=starts,
        ends_at=starts + length,
        title=extra.pop("title", "Friday slots"),
        **extra,
    )


# --- schedule -------------------------------------------------------------------------------


def test_stream_schedule_keeps_game_and_embed_url():
    # when
    stream = scheduled(game="Sweet Bonanza", embed_url="https://player.example/embed/42")
    # then
    stream.refresh_from_db()
    assert (stream.status, stream.game, stream.embed_url) == (
        "scheduled",
        "Sweet Bonanza",
        "https://player.example/embed/42",
    )
    assert stream.started_at is None


@pytest.mark.parametrize(
    "embed_url",
    ["http://player.example/embed", "https://user:pw@player.example/embed", "javascript:x"],
)
def test_stream_schedule_refuses_an_embed_url_that_is_not_plain_https(embed_url):
    with pytest.raises(ValidationError) as error:
        scheduled(embed_url=embed_url)
    assert "embed_url" in error.value.message_dict
    assert Stream.objects.count() == 0


def test_stream_schedule_says_which_time_is_wrong():
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        stream_schedule(streamer=StreamerFactory(), starts_at=now + HOUR, ends_at=now)
    assert error.value.message_dict == {"scheduled_end": ["A stream must end after it starts."]}


# --- update ---------------------------------------------------------------------------------


def test_stream_update_changes_everything_of_a_scheduled_stream():
    # given
    stream = scheduled()
    starts = timezone.now() + 3 * HOUR
    # when
    updated = stream_update(
        stream=stream,
        title="Saturday slots",
        game="Gates of Olympus",
        embed_url="https://player.example/embed/7",
        scheduled_start=starts,
        scheduled_end=starts + HOUR,
    )
    # then
    stream.refresh_from_db()
    assert updated == stream
    assert (stream.title, stream.game, stream.embed_url) == (
        "Saturday slots",
        "Gates of Olympus",
        "https://player.example/embed/7",
    )
    assert (stream.scheduled_start, stream.scheduled_end) == (starts, starts + HOUR)


def test_stream_update_of_a_live_stream_changes_title_game_and_embed_but_not_times():
    # given
    stream = scheduled()
    stream = stream_start_scheduled(stream=stream)
    end = stream.scheduled_end
    # when: the same times are no change
    stream_update(stream=stream, title="Still live", game="Book of Dead", scheduled_end=end)
    # then
    stream.refresh_from_db()
    assert (stream.title, stream.game, stream.status) == ("Still live", "Book of Dead", "live")
    # when: a new end
    with pytest.raises(ApplicationError) as error:
        stream_update(stream=stream, title="Other", scheduled_end=end + HOUR)
    # then: refused whole
    assert code_of(error) == ("ERR_STREAM_NOT_SCHEDULED", 409)
    stream.refresh_from_db()
    assert (stream.title, stream.scheduled_end) == ("Still live", end)


@pytest.mark.parametrize("status", ["ended", "cancelled"])
def test_stream_update_of_an_ended_or_cancelled_stream_is_refused(status):
    stream = StreamFactory(ended=True, status=status, title="Old")
    with pytest.raises(ApplicationError) as error:
        stream_update(stream=stream, title="New")
    assert code_of(error) == ("ERR_STREAM_ENDED", 409)
    assert Stream.objects.get(pk=stream.pk).title == "Old"


def test_stream_update_refuses_a_bad_window_and_unknown_fields():
    stream = scheduled()
    with pytest.raises(ValidationError) as error:
        stream_update(stream=stream, scheduled_end=stream.scheduled_start - HOUR)
    assert "scheduled_end" in error.value.message_dict
    with pytest.raises(ApplicationError) as refused:
        stream_update(stream=stream, status="live")
    assert refused.value.code == "ERR_VALIDATION"
    fresh = Stream.objects.get(pk=stream.pk)
    assert (fresh.status, fresh.scheduled_end) == ("scheduled", stream.scheduled_end)


# --- cancel ---------------------------------------------------------------------------------


def test_stream_cancel_calls_off_a_scheduled_stream_which_never_starts():
    # given: a stream whose start has come
    stream = scheduled(start_in=-HOUR, length=3 * HOUR)
    # when
    stream_cancel(stream=stream, reason="streamer is ill")
    # then
    stream.refresh_from_db()
    assert (stream.status, stream.end_reason) == ("cancelled", "streamer is ill")
    assert stream.ended_at is not None and stream.started_at is None
    assert stream_go_live(stream_id=stream.pk) is False
    assert Stream.objects.get(pk=stream.pk).status == "cancelled"


def test_stream_cancel_needs_a_scheduled_stream_and_a_reason():
    live = StreamFactory()
    with pytest.raises(ApplicationError) as error:
        stream_cancel(stream=live, reason="no")
    assert code_of(error) == ("ERR_STREAM_NOT_SCHEDULED", 409)
    with pytest.raises(ApplicationError) as blank:
        stream_cancel(stream=scheduled(), reason="  ")
    assert blank.value.code == "ERR_REASON_REQUIRED"
    assert set(Stream.objects.values_list("status", flat=True)) == {"live", "scheduled"}


# --- start now --------------------------------------------------------------------------------


def test_stream_start_scheduled_goes_live_now():
    stream = scheduled(start_in=5 * HOUR)
    before = timezone.now()
    # when
    live = stream_start_scheduled(stream=stream)
    # then
    assert live.pk == stream.pk and live.status == "live"
    assert before <= live.started_at <= timezone.now()


def test_stream_start_scheduled_refusals():
    # a suspended streamer
    suspended = scheduled(StreamerFactory(status=Streamer.Status.SUSPENDED))
    with pytest.raises(ApplicationError) as error:
        stream_start_scheduled(stream=suspended)
    assert code_of(error) == ("ERR_STREAMER_SUSPENDED", 409)
    # another stream of the streamer is live
    busy = StreamFactory().streamer
    second = scheduled(busy)
    with pytest.raises(ApplicationError) as error:
        stream_start_scheduled(stream=second)
    assert code_of(error) == ("ERR_STREAM_ALREADY_LIVE", 409)
    # cancelled
    cancelled = stream_cancel(stream=scheduled(), reason="off")
    with pytest.raises(ApplicationError) as error:
        stream_start_scheduled(stream=cancelled)
    assert code_of(error) == ("ERR_STREAM_ENDED", 409)
    # its scheduled end has passed already
    past = StreamFactory(
        scheduled=True,
        scheduled_start=timezone.now() - 2 * HOUR,
        scheduled_end=timezone.now() - HOUR,
    )
    with pytest.raises(ApplicationError) as error:
        stream_start_scheduled(stream=past)
    assert code_of(error) == ("ERR_STREAM_ENDED", 409)
    # nothing started
    assert Stream.objects.filter(status="live").count() == 1


# --- the operator's start ---------------------------------------------------------------------


def start(streamer: Streamer, **kwargs) -> Stream:
    return stream_start_for_operator(
        operator=streamer.operator, operator_user_id=streamer.operator_user_id, **kwargs
    )


def test_operator_start_creates_a_live_stream_and_a_retry_answers_it():
    streamer = StreamerFactory()
    first = start(streamer, title="Live now")
    again = start(streamer)
    assert first.status == "live" and first.title == "Live now"
    assert again.pk == first.pk and Stream.objects.count() == 1


def test_operator_start_with_a_new_uuid_creates_the_stream_with_that_id():
    streamer = StreamerFactory()
    uid = uuid.uuid4()
    # when: twice, as a retry
    first = start(streamer, stream_uid=uid)
    again = start(streamer, stream_uid=uid)
    # then
    assert first.uid == uid and again.pk == first.pk and Stream.objects.count() == 1
    # and a different id while it is live is refused
    with pytest.raises(ApplicationError) as error:
        start(streamer, stream_uid=uuid.uuid4())
    assert code_of(error) == ("ERR_STREAM_ALREADY_LIVE", 409)
    assert Stream.objects.count() == 1


def test_operator_start_starts_the_due_scheduled_stream_rather_than_a_new_one():
    streamer = StreamerFactory()
    later = scheduled(streamer, start_in=5 * HOUR)
    due = scheduled(streamer, start_in=timedelta(minutes=30))
    # when
    stream = start(streamer, title="Renamed")
    # then
    assert stream.pk == due.pk and stream.status == "live" and stream.title == "Renamed"
    assert Stream.objects.get(pk=later.pk).status == "scheduled"
    assert Stream.objects.count() == 2


def test_operator_start_of_a_stream_id_of_the_streamer_starts_that_scheduled_stream():
    streamer = StreamerFactory()
    later = scheduled(streamer, start_in=5 * HOUR, title="Later")
    stream = start(streamer, stream_uid=later.uid)
    assert stream.pk == later.pk and stream.status == "live" and stream.title == "Later"


def test_operator_start_refusals_change_nothing():
    streamer = StreamerFactory()
    other = scheduled()
    ended = StreamFactory(streamer=streamer, ended=True)
    with pytest.raises(ApplicationError) as error:
        start(streamer, stream_uid=other.uid)
    assert code_of(error) == ("ERR_STREAM_ID_TAKEN", 409)
    with pytest.raises(ApplicationError) as error:
        start(streamer, stream_uid=ended.uid)
    assert code_of(error) == ("ERR_STREAM_ENDED", 409)
    with pytest.raises(ApplicationError) as error:
        stream_start_for_operator(operator=streamer.operator, operator_user_id="nobody")
    assert code_of(error) == ("ERR_STREAMER_NOT_FOUND", 404)
    Streamer.objects.filter(pk=streamer.pk).update(status=Streamer.Status.SUSPENDED)
    with pytest.raises(ApplicationError) as error:
        start(streamer)
    assert code_of(error) == ("ERR_STREAMER_SUSPENDED", 409)
    assert not Stream.objects.filter(status="live").exists()


def test_stream_start_with_a_taken_uid_is_refused():
    taken = StreamFactory(ended=True)
    with pytest.raises(ApplicationError) as error:
        stream_start(streamer=StreamerFactory(), uid=taken.uid)
    assert code_of(error) == ("ERR_STREAM_ID_TAKEN", 409)
    assert Stream.objects.count() == 1
