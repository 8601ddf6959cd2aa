from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.errors import Conflict, ErrorCode, StreamAlreadyLive
from apps.operators.tests.factories import OperatorFactory
from apps.streamers.models import Stream, Streamer
from apps.streamers.selectors import (
    stream_get_for_operator,
    stream_live_get,
    streamer_get,
    streamer_limits,
    streamer_live_list,
)
from apps.streamers.services import (
    stream_go_live,
    stream_schedule,
    stream_start,
    streamer_create,
    streamer_resume,
    streamer_suspend,
    streamer_update,
)
from apps.streamers.tests.factories import StreamerFactory, StreamFactory

pytestmark = pytest.mark.django_db
D = Decimal


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


# --- streamer_create with limits, streamer_update, suspend and resume ---------------------


def test_streamer_create_with_limits_and_private():
    # given
    operator = OperatorFactory(min_contribution=D("1"), max_contribution=D("10000"))
    # when
    streamer = streamer_create(
        operator=operator,
        operator_user_id="u-1",
        currency="USD",
        display_name="  Lucky  ",
        min_contribution=D("5"),
        max_contribution=D("500.5"),
        max_followers=20,
        max_pool_value=D("100000"),
        is_private=True,
    )
    # then
    streamer.refresh_from_db()
    assert streamer.display_name == "Lucky"
    assert (streamer.min_contribution, streamer.max_contribution) == (D("5"), D("500.5"))
    assert (streamer.max_followers, streamer.max_pool_value) == (20, D("100000"))
    assert streamer.is_private is True
    limits = streamer_limits(streamer)
    assert (limits.min_contribution, limits.max_contribution) == (D("5"), D("500.5"))


@pytest.mark.parametrize(
    ("limits", "fields"),
    [
        ({"min_contribution": D("0")}, {"min_contribution"}),
        ({"max_contribution": D("-1")}, {"max_contribution"}),
        ({"max_pool_value": D("1.123456789")}, {"max_pool_value"}),
        ({"max_followers": 0}, {"max_followers"}),
        ({"min_contribution": D("50"), "max_contribution": D("10")}, {"min_contribution"}),
        # above the operator's maximum (10000) while the streamer's own maximum is empty
        ({"min_contribution": D("20000")}, {"min_contribution"}),
        ({"min_contribution": D("0"), "max_followers": -3}, {"min_contribution", "max_followers"}),
    ],
)
def test_streamer_create_refuses_bad_limits_naming_each_field(limits, fields):
    # given
    operator = OperatorFactory(min_contribution=D("1"), max_contribution=D("10000"))
    # when
    with pytest.raises(ValidationError) as error:
        streamer_create(operator=operator, operator_user_id="u", currency="USD", **limits)
    # then
    assert set(error.value.message_dict) == fields
    assert Streamer.objects.count() == 0


def test_streamer_create_says_when_the_user_already_streams():
    # given
    operator = OperatorFactory(name="Acme")
    streamer_create(operator=operator, operator_user_id="u", currency="USD")
    # when
    with pytest.raises(ValidationError) as error:
        streamer_create(operator=operator, operator_user_id="u", currency="EUR")
    # then
    assert error.value.message_dict == {
        "operator_user_id": ["u already exists as a streamer of Acme"]
    }


def test_streamer_create_refuses_a_user_id_with_surrounding_spaces():
    with pytest.raises(ValidationError) as error:
        streamer_create(operator=OperatorFactory(), operator_user_id=" u", currency="USD")
    assert "operator_user_id" in error.value.message_dict
    assert Streamer.objects.count() == 0


def test_streamer_update_changes_name_limits_and_privacy():
    # given
    streamer = StreamerFactory(min_contribution=D("5"))
    # when
    updated = streamer_update(
        streamer=streamer,
        display_name="New name",
        min_contribution=None,
        max_contribution=D("250"),
        max_followers=3,
        is_private=True,
    )
    # then
    streamer.refresh_from_db()
    assert updated == streamer
    assert streamer.display_name == "New name"
    assert streamer.min_contribution is None  # back to the operator's
    assert (streamer.max_contribution, streamer.max_followers) == (D("250"), 3)
    assert streamer.is_private is True


def test_streamer_update_accepts_the_fixed_fields_unchanged():
    streamer = StreamerFactory(currency="EUR")
    updated = streamer_update(
        streamer=streamer,
        operator=streamer.operator,
        operator_user_id=streamer.operator_user_id,
        currency="EUR",
        max_followers=7,
    )
    assert updated.max_followers == 7


@pytest.mark.parametrize("field", ["operator", "operator_user_id", "currency"])
def test_streamer_update_refuses_to_change_a_fixed_field(field):
    # given
    streamer = StreamerFactory(currency="EUR", operator_user_id="u-1")
    other = {"operator": OperatorFactory(), "operator_user_id": "u-2", "currency": "USD"}
    # when
    with pytest.raises(ValidationError) as error:
        streamer_update(streamer=streamer, display_name="Changed", **{field: other[field]})
    # then: nothing changed, not even the name
    assert list(error.value.message_dict) == [field]
    assert "fixed" in error.value.message_dict[field][0]
    fresh = Streamer.objects.get(pk=streamer.pk)
    assert (fresh.operator_id, fresh.operator_user_id, fresh.currency) == (
        streamer.operator_id,
        "u-1",
        "EUR",
    )
    assert fresh.display_name == streamer.display_name


def test_streamer_update_refuses_bad_limits_and_changes_nothing():
    # given
    streamer = StreamerFactory(max_contribution=D("100"))
    # when
    with pytest.raises(ValidationError) as error:
        streamer_update(streamer=streamer, min_contribution=D("200"), display_name="X")
    # then
    assert list(error.value.message_dict) == ["min_contribution"]
    fresh = Streamer.objects.get(pk=streamer.pk)
    assert fresh.min_contribution is None
    assert fresh.display_name == streamer.display_name


def test_streamer_update_refuses_unknown_fields_and_a_blank_name():
    streamer = StreamerFactory()
    with pytest.raises(ValidationError, match="Unknown streamer fields: status"):
        streamer_update(streamer=streamer, status="suspended")
    with pytest.raises(ValidationError) as error:
        streamer_update(streamer=streamer, display_name="   ")
    assert list(error.value.message_dict) == ["display_name"]
    assert Streamer.objects.get(pk=streamer.pk).status == Streamer.Status.ACTIVE


def test_suspend_and_resume_are_idempotent():
    # given
    streamer = StreamerFactory()
    # when
    first = streamer_suspend(streamer=streamer)
    again = streamer_suspend(streamer=streamer)
    # then
    assert first.status == again.status == Streamer.Status.SUSPENDED
    assert Streamer.objects.get(pk=streamer.pk).status == Streamer.Status.SUSPENDED
    # when
    streamer_resume(streamer=streamer)
    resumed = streamer_resume(streamer=streamer)
    # then
    assert resumed.status == Streamer.Status.ACTIVE
    assert Streamer.objects.get(pk=streamer.pk).status == Streamer.Status.ACTIVE


def test_a_suspended_streamer_cannot_go_live_until_resumed():
    # given
    streamer = streamer_suspend(streamer=StreamerFactory())
    # when / then
    with pytest.raises(Conflict) as refused:
        stream_start(streamer=streamer)
    assert refused.value.code == ErrorCode.STREAMER_SUSPENDED
    assert Stream.objects.count() == 0
    streamer_resume(streamer=streamer)
    assert stream_start(streamer=streamer).status == Stream.Status.LIVE


def test_a_suspended_streamers_scheduled_stream_does_not_go_live():
    stream = StreamFactory(scheduled=True)
    streamer_suspend(streamer=stream.streamer)
    assert stream_go_live(stream_id=stream.pk) is False
    assert Stream.objects.get(pk=stream.pk).status == Stream.Status.SCHEDULED
