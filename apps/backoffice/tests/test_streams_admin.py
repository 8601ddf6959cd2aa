"""The streaming schedule in the back office: the list, scheduling and editing through the
services, the confirmed actions (start now, end and pay out, cancel) and who may do what."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import staff_user, superuser
from apps.followers.models import Position
from apps.operators.tests.factories import OperatorFactory
from apps.pools.models import Pool
from apps.streamers.models import Stream, Streamer
from apps.streamers.tests.factories import StreamerFactory, StreamFactory
from apps.transactions.services import position_join

D = Decimal
HOUR = timedelta(hours=1)
pytestmark = pytest.mark.django_db

ADD = reverse("admin:streamers_stream_add")
LIST = reverse("admin:streamers_stream_changelist")


def change_url(stream: Stream) -> str:
    return reverse("admin:streamers_stream_change", args=[stream.pk])


def act_url(stream: Stream, action: str) -> str:
    return reverse("admin:streamers_stream_act", args=[stream.pk, action])


def act(client, stream: Stream, action: str, **data):
    return client.post(act_url(stream, action), {"confirm": "yes", **data})


def when(value) -> dict[str, str]:
    """A date-time as the admin's split widget posts it (the server's time zone, UTC)."""
    local = timezone.localtime(value)
    return {"0": f"{local:%Y-%m-%d}", "1": f"{local:%H:%M:%S}"}


def form_data(**values) -> dict[str, str]:
    data: dict[str, str] = {}
    for name, value in values.items():
        if name in ("scheduled_start", "scheduled_end"):
            data.update({f"{name}_{part}": text for part, text in when(value).items()})
        else:
            data[name] = str(value)
    return data


def schedule(streamer: Streamer, *, start_in=HOUR, length=2 * HOUR, **extra) -> Stream:
    now = timezone.now().replace(microsecond=0)
    values = {"status": Stream.Status.SCHEDULED, **extra}
    return Stream.objects.create(
        streamer=streamer,
        scheduled_start=now + start_in,
        scheduled_end=now + start_in + length,
        **values,
    )


@pytest.fixture
def ops(client):
    user = staff_user("ops", "Operations")
    client.force_login(user)
    return client


@pytest.fixture
def offline(operator) -> Streamer:
    return Streamer.objects.create(
        operator=operator, operator_user_id="s2", display_name="Offline", currency="USD"
    )


# --- the list -------------------------------------------------------------------------------


def test_the_list_is_a_schedule_live_then_upcoming_soonest_first_then_past(client):
    client.force_login(superuser())
    # given
    past = StreamFactory(ended=True, title="Past")
    later = schedule(StreamerFactory(), start_in=5 * HOUR, title="Later", game="Plinko")
    live = StreamFactory(title="Live")
    soon = schedule(StreamerFactory(), start_in=HOUR, title="Soon")
    cancelled = schedule(StreamerFactory(), title="Off", status=Stream.Status.CANCELLED)
    # when
    response = client.get(LIST)
    # then
    listed = list(response.context["cl"].result_list)
    assert listed[:3] == [live, soon, later]
    assert set(listed[3:]) == {past, cancelled}
    page = response.content.decode()
    assert "Plinko" in page and "cp-badge" in page and "Scheduled" in page


def test_the_list_filters_by_status_and_operator(client):
    client.force_login(superuser())
    mine = OperatorFactory()
    live = StreamFactory(streamer=StreamerFactory(operator=mine))
    upcoming = schedule(StreamerFactory(operator=mine))
    other = schedule(StreamerFactory())  # another operator's
    by_status = client.get(LIST, {"status__exact": "scheduled"}).context["cl"].result_list
    by_operator = client.get(LIST, {"streamer__operator__id__exact": mine.pk}).context["cl"]
    assert {s.pk for s in by_status} == {upcoming.pk, other.pk}
    assert {s.pk for s in by_operator.result_list} == {live.pk, upcoming.pk}


# --- schedule and edit ----------------------------------------------------------------------


def test_operations_schedules_a_stream_through_the_service(ops, offline):
    starts = timezone.now().replace(microsecond=0) + 2 * HOUR
    # when
    response = ops.post(
        ADD,
        form_data(
            streamer=offline.pk,
            title="Friday slots",
            game="Sweet Bonanza",
            scheduled_start=starts,
            scheduled_end=starts + 2 * HOUR,
            embed_url="https://player.example/embed/9",
        ),
    )
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    stream = Stream.objects.get(streamer=offline)
    assert (stream.status, stream.title, stream.game, stream.embed_url) == (
        "scheduled",
        "Friday slots",
        "Sweet Bonanza",
        "https://player.example/embed/9",
    )
    assert (stream.scheduled_start, stream.scheduled_end) == (starts, starts + 2 * HOUR)


@pytest.mark.parametrize(
    ("start_in", "length", "embed_url", "field", "message"),
    [
        (2 * HOUR, -HOUR, "", "scheduled_end", "A stream must end after it starts."),
        (-3 * HOUR, HOUR, "", "scheduled_end", "A scheduled stream must end in the future."),
        (HOUR, HOUR, "http://player.example/embed", "embed_url", "Enter an https:// URL."),
    ],
)
def test_the_add_form_shows_what_the_service_refuses_and_writes_nothing(
    ops, offline, start_in, length, embed_url, field, message
):
    starts = timezone.now().replace(microsecond=0) + start_in
    response = ops.post(
        ADD,
        form_data(
            streamer=offline.pk,
            title="Bad",
            scheduled_start=starts,
            scheduled_end=starts + length,
            embed_url=embed_url,
        ),
    )
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field]
    assert message in response.content.decode()
    assert not Stream.objects.filter(streamer=offline).exists()


def test_the_add_form_needs_both_times(ops, offline):
    response = ops.post(ADD, {"streamer": offline.pk, "title": "No times"})
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"scheduled_start", "scheduled_end"}
    assert not Stream.objects.filter(streamer=offline).exists()


def test_operations_edits_a_scheduled_stream(ops, offline):
    stream = schedule(offline, title="Old")
    starts = stream.scheduled_start + HOUR
    response = ops.post(
        change_url(stream),
        form_data(
            title="New",
            game="Roulette",
            scheduled_start=starts,
            scheduled_end=starts + HOUR,
            embed_url="",
        ),
    )
    assert response.status_code == 302
    stream.refresh_from_db()
    assert (stream.title, stream.game, stream.scheduled_start, stream.scheduled_end) == (
        "New",
        "Roulette",
        starts,
        starts + HOUR,
    )


def test_a_live_streams_times_are_read_only_its_title_is_not(ops, streamer):
    stream = Stream.objects.get(streamer=streamer)
    page = ops.get(change_url(stream))
    form = page.context["adminform"].form
    assert "title" in form.fields and "scheduled_end" not in form.fields
    response = ops.post(change_url(stream), {"title": "Renamed live", "game": "", "embed_url": ""})
    assert response.status_code == 302
    stream.refresh_from_db()
    assert (stream.title, stream.status) == ("Renamed live", "live")


def test_an_ended_stream_is_read_only(ops):
    stream = StreamFactory(ended=True, title="Done")
    page = ops.get(change_url(stream))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert ops.post(change_url(stream), {"title": "Changed"}).status_code == 403
    assert Stream.objects.get(pk=stream.pk).title == "Done"


def test_streams_are_never_deleted(client):
    client.force_login(superuser())
    stream = StreamFactory()
    url = reverse("admin:streamers_stream_delete", args=[stream.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Stream.objects.filter(pk=stream.pk).exists()


# --- actions --------------------------------------------------------------------------------


def test_start_now_asks_for_a_reason_then_goes_live_and_is_audited(ops, offline):
    stream = schedule(offline, start_in=5 * HOUR)
    # when: the confirmation page
    confirm = ops.get(act_url(stream, "stream_start_now"))
    # then: no reason offered
    assert confirm.status_code == 200
    assert confirm.context["form"]["reason"].value() in (None, "")
    assert "Start now: are you sure?" in confirm.content.decode()
    # when
    response = act(ops, stream, "stream_start_now", reason="Streamer is ready early")
    # then
    assert response.status_code == 302
    stream.refresh_from_db()
    assert stream.status == "live" and stream.started_at is not None
    record = StaffAction.objects.get()
    assert (record.username, record.action, record.outcome, record.reason) == (
        "ops",
        "stream_start_now",
        "done",
        "Streamer is ready early",
    )
    assert record.message.startswith("live since ")


def test_start_now_beside_a_live_stream_is_refused_and_recorded(ops, streamer):
    stream = schedule(streamer)
    act(ops, stream, "stream_start_now", reason="try")
    assert Stream.objects.get(pk=stream.pk).status == "scheduled"
    record = StaffAction.objects.get()
    assert record.outcome == "refused" and "ERR_STREAM_ALREADY_LIVE" in record.message


def test_end_and_pay_out_previews_the_exposure_then_pays_everyone(
    ops, fake, streamer, make_session
):
    # given: two followers in the live streamer's pool
    for user in ("f1", "f2"):
        position_join(session=make_session(user), streamer_id=streamer.pk, amount="100")
    stream = Stream.objects.get(streamer=streamer)
    pool = Pool.objects.get(streamer=streamer)
    # when: the confirmation page
    confirm = ops.get(act_url(stream, "stream_end")).content.decode()
    # then
    assert f"pool #{pool.pk}: 2 member(s) who contributed 200.00000000" in confirm
    # when
    act(ops, stream, "stream_end", reason="Broadcast crashed")
    # then: ended, paid out, why is on the stream and on the pool
    stream.refresh_from_db()
    reason = "stream ended by staff ops, Broadcast crashed"
    assert (stream.status, stream.end_reason) == ("ended", reason)
    pool.refresh_from_db()
    assert (pool.state, pool.close_reason) == ("closed", reason)
    assert set(Position.objects.values_list("status", flat=True)) == {"closed"}
    assert fake.wallet["f1"] == fake.wallet["f2"] == D(500)
    record = StaffAction.objects.get()
    assert record.outcome == "done"
    assert record.message == f"ended; pool #{pool.pk} is now closed"
    # and: the stream's page shows the pool and why it closed
    page = ops.get(change_url(stream)).content.decode()
    assert 'data-testid="stream-pools"' in page and reason in page


def test_end_of_a_stream_that_is_not_live_is_refused(ops, offline):
    stream = schedule(offline)
    act(ops, stream, "stream_end", reason="x")
    assert Stream.objects.get(pk=stream.pk).status == "scheduled"
    assert StaffAction.objects.get().outcome == "refused"


def test_cancel_keeps_why_and_the_stream_never_starts(ops, offline):
    stream = schedule(offline)
    act(ops, stream, "stream_cancel", reason="Streamer is ill")
    stream.refresh_from_db()
    assert (stream.status, stream.end_reason) == (
        "cancelled",
        "cancelled by staff ops, Streamer is ill",
    )
    assert StaffAction.objects.get().message == "cancelled: it will not start"


def test_cancel_of_a_live_stream_is_refused(ops, streamer):
    stream = Stream.objects.get(streamer=streamer)
    act(ops, stream, "stream_cancel", reason="no")
    assert Stream.objects.get(pk=stream.pk).status == "live"
    record = StaffAction.objects.get()
    assert record.outcome == "refused" and "ERR_STREAM_NOT_SCHEDULED" in record.message


def test_the_buttons_fit_the_streams_status(ops, streamer, offline):
    live = ops.get(change_url(Stream.objects.get(streamer=streamer))).content.decode()
    upcoming = ops.get(change_url(schedule(offline))).content.decode()
    assert "End stream and pay out" in live and "Start now" not in live
    assert "Start now" in upcoming and ">Cancel<" in upcoming
    assert "End stream and pay out" not in upcoming


# --- who may do what ------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["Finance", "Read-only"])
def test_finance_and_read_only_see_the_schedule_and_change_nothing(
    client, fake, streamer, offline, group
):
    client.force_login(staff_user("viewer", group))
    live = Stream.objects.get(streamer=streamer)
    upcoming = schedule(offline, title="Kept")
    # then: they see the list and the pages, without buttons
    assert client.get(LIST).status_code == 200
    page = client.get(change_url(live))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    text = page.content.decode()
    assert "End stream and pay out" not in text and "Start now" not in text
    # and: every write is refused
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {"streamer": offline.pk, "title": "x"}).status_code == 403
    assert client.post(change_url(upcoming), {"title": "Changed"}).status_code == 403
    assert act(client, live, "stream_end", reason="x").status_code == 403
    assert act(client, upcoming, "stream_start_now", reason="x").status_code == 403
    assert act(client, upcoming, "stream_cancel", reason="x").status_code == 403
    assert Stream.objects.get(pk=live.pk).status == "live"
    upcoming.refresh_from_db()
    assert (upcoming.status, upcoming.title) == ("scheduled", "Kept")
    assert Stream.objects.filter(streamer=offline).count() == 1
    assert not StaffAction.objects.exists()


def test_operations_sees_the_add_form_and_the_buttons(ops, streamer):
    assert ops.get(ADD).status_code == 200
    page = ops.get(change_url(Stream.objects.get(streamer=streamer)))
    assert page.context["has_change_permission"] is True
    assert "End stream and pay out" in page.content.decode()
