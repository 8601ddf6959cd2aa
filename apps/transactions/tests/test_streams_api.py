"""The operator API's streams/start and streams/end over signed HTTP: every answer, the
idempotency, the call log, and ending paying the pools out after the answer."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.tests.openapi import component_validator
from apps.followers.models import Position
from apps.operators.models import CallLog
from apps.operators.tests.factories import encode, post_signed
from apps.pools.models import Pool
from apps.streamers.models import Stream, Streamer
from apps.transactions.services import position_join

pytestmark = pytest.mark.django_db

START = "/api/v1/copystake/streams/start"
END = "/api/v1/copystake/streams/end"
CREDENTIALS = {"api_key": "k", "secret_key": "s"}  # the ``operator`` fixture's


def iso(value) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def call(client, path: str, payload: dict):
    return post_signed(client, CREDENTIALS, path, encode(payload))


def refused(response) -> tuple[int, str]:
    return (response.status_code, response.json()["errorCode"])


@pytest.fixture
def offline(operator) -> Streamer:
    """A streamer of the operator who is not live."""
    return Streamer.objects.create(
        operator=operator, operator_user_id="s2", display_name="Offline", currency="USD"
    )


def schedule(streamer, *, start_in: timedelta, length=timedelta(hours=2), **extra) -> Stream:
    starts = timezone.now() + start_in
    return Stream.objects.create(
        streamer=streamer,
        status=Stream.Status.SCHEDULED,
        scheduled_start=starts,
        scheduled_end=starts + length,
        **extra,
    )


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


# --- start -----------------------------------------------------------------------------------


def test_start_answers_the_new_live_stream(client, offline, schema):
    # when
    response = call(client, START, {"operatorUserId": "s2", "title": "Evening slots"})
    # then
    assert response.status_code == 200, response.content
    stream = Stream.objects.get(streamer=offline)
    assert stream.status == "live"
    assert response.json() == {
        "streamId": str(stream.uid),
        "streamerId": offline.pk,
        "operatorUserId": "s2",
        "status": "live",
        "title": "Evening slots",
        "game": "",
        "scheduledStart": None,
        "scheduledEnd": None,
        "startedAt": iso(stream.started_at),
        "endedAt": None,
    }
    component_validator(schema, "CopyStakeStream").validate(response.json())


def test_start_again_answers_the_live_stream_as_it_is(client, offline):
    first = call(client, START, {"operatorUserId": "s2", "title": "One"}).json()
    # when: a retry, without and with the stream's id
    again = call(client, START, {"operatorUserId": "s2", "title": "Two"})
    by_id = call(client, START, {"operatorUserId": "s2", "streamId": first["streamId"]})
    # then
    assert again.status_code == by_id.status_code == 200
    assert again.json() == by_id.json() == first
    assert Stream.objects.filter(streamer=offline).count() == 1


def test_start_with_a_new_stream_id_creates_the_stream_with_it_and_a_retry_is_harmless(
    client, offline
):
    stream_id = str(uuid.uuid4())
    # when: the operator sends it twice
    first = call(client, START, {"operatorUserId": "s2", "streamId": stream_id})
    retry = call(client, START, {"operatorUserId": "s2", "streamId": stream_id.upper()})
    # then
    assert first.status_code == retry.status_code == 200
    assert first.json()["streamId"] == retry.json()["streamId"] == stream_id
    assert list(Stream.objects.filter(streamer=offline).values_list("uid", flat=True)) == [
        uuid.UUID(stream_id)
    ]
    # when: another id while that stream is live
    other = call(client, START, {"operatorUserId": "s2", "streamId": str(uuid.uuid4())})
    # then
    assert refused(other) == (409, "ERR_STREAM_ALREADY_LIVE")
    assert Stream.objects.filter(streamer=offline).count() == 1


def test_start_with_the_id_of_the_streamers_scheduled_stream_starts_it(client, offline):
    stream = schedule(offline, start_in=timedelta(days=2), title="Planned", game="Roulette")
    # when
    response = call(client, START, {"operatorUserId": "s2", "streamId": str(stream.uid)})
    # then
    assert response.status_code == 200
    body = response.json()
    stream.refresh_from_db()
    assert (body["status"], body["title"], body["game"]) == ("live", "Planned", "Roulette")
    assert body["scheduledStart"] == iso(stream.scheduled_start)
    assert stream.status == "live" and body["startedAt"] == iso(stream.started_at)


def test_start_without_an_id_starts_the_due_scheduled_stream(client, offline):
    due = schedule(offline, start_in=timedelta(minutes=40))
    later = schedule(offline, start_in=timedelta(hours=3))
    # when
    response = call(client, START, {"operatorUserId": "s2"})
    # then
    assert response.json()["streamId"] == str(due.uid)
    assert Stream.objects.get(pk=due.pk).status == "live"
    assert Stream.objects.get(pk=later.pk).status == "scheduled"
    assert Stream.objects.filter(streamer=offline).count() == 2


def test_start_without_an_id_does_not_start_a_stream_that_is_not_due(client, offline):
    later = schedule(offline, start_in=timedelta(hours=2))
    response = call(client, START, {"operatorUserId": "s2"})
    assert response.json()["streamId"] != str(later.uid)
    assert Stream.objects.get(pk=later.pk).status == "scheduled"
    assert Stream.objects.filter(streamer=offline, status="live").count() == 1


def test_start_refusals(client, streamer, offline):
    ended = Stream.objects.create(streamer=offline, status="ended", ended_at=timezone.now())
    cancelled = schedule(offline, start_in=timedelta(hours=1))
    Stream.objects.filter(pk=cancelled.pk).update(status="cancelled")
    others = Stream.objects.get(streamer=streamer)
    cases = [
        ({"operatorUserId": "s2", "streamId": str(others.uid)}, (409, "ERR_STREAM_ID_TAKEN")),
        ({"operatorUserId": "s2", "streamId": str(ended.uid)}, (409, "ERR_STREAM_ENDED")),
        ({"operatorUserId": "s2", "streamId": str(cancelled.uid)}, (409, "ERR_STREAM_ENDED")),
        ({"operatorUserId": "s2", "streamId": "not-a-uuid"}, (400, "ERR_VALIDATION")),
        ({"operatorUserId": "s2", "streamId": uuid.uuid4().hex}, (400, "ERR_VALIDATION")),
        ({"operatorUserId": "nobody"}, (404, "ERR_STREAMER_NOT_FOUND")),
        ({"title": "no user"}, (400, "ERR_VALIDATION")),
    ]
    for payload, expected in cases:
        assert refused(call(client, START, payload)) == expected, payload
    # then: nothing started
    assert not Stream.objects.filter(streamer=offline, status="live").exists()


def test_a_suspended_streamer_cannot_start(client, offline):
    Streamer.objects.filter(pk=offline.pk).update(status=Streamer.Status.SUSPENDED)
    assert refused(call(client, START, {"operatorUserId": "s2"})) == (
        409,
        "ERR_STREAMER_SUSPENDED",
    )
    assert not Stream.objects.filter(streamer=offline).exists()


def test_a_bad_signature_is_401_and_starts_nothing(client, offline):
    body = encode({"operatorUserId": "s2"})
    response = post_signed(client, {"api_key": "k", "secret_key": "wrong"}, START, body)
    assert refused(response) == (401, "ERR_UNAUTHORIZED")
    assert not Stream.objects.filter(streamer=offline).exists()
    row = CallLog.objects.get()
    assert (row.endpoint, row.response_status, row.signature_valid) == ("streams-start", 401, False)


def test_every_call_is_logged(client, operator, offline):
    call(client, START, {"operatorUserId": "s2"})
    call(client, END, {"operatorUserId": "s2"})
    rows = list(CallLog.objects.order_by("id"))
    assert [(r.endpoint, r.direction, r.response_status, r.outcome) for r in rows] == [
        ("streams-start", "in", 200, "success"),
        ("streams-end", "in", 200, "success"),
    ]
    assert all(r.operator_id == operator.pk and r.signature_valid for r in rows)
    assert '"operatorUserId": "s2"' in rows[0].request_body


# --- end -------------------------------------------------------------------------------------


def test_end_answers_ended_at_once_and_pays_out_after(
    client, fake, streamer, make_session, django_capture_on_commit_callbacks
):
    # given: a follower in the live streamer's pool
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    stream = Stream.objects.get(streamer=streamer)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = call(client, END, {"operatorUserId": "streamer-1"})
    # then: ended, said so at once, nobody paid yet
    assert response.status_code == 200
    stream.refresh_from_db()
    assert response.json()["status"] == "ended" and response.json()["endedAt"] == iso(
        stream.ended_at
    )
    assert (stream.status, stream.end_reason) == ("ended", "stream ended by the operator")
    assert Position.objects.get(pk=position.pk).status == "active"
    # when: the pay-out runs (a worker's task; eager here)
    for callback in callbacks:
        callback()
    # then
    position.refresh_from_db()
    assert (position.status, position.payout) == ("closed", Decimal(100))
    pool = Pool.objects.get(pk=position.pool_id)
    assert (pool.state, pool.close_reason) == ("closed", "stream ended by the operator")
    assert fake.wallet["f1"] == Decimal(500)


def test_end_by_stream_id_and_by_both(client, streamer, offline):
    stream = Stream.objects.get(streamer=streamer)
    # when: both, naming different streamers
    mismatch = call(client, END, {"operatorUserId": "s2", "streamId": str(stream.uid)})
    # then
    assert refused(mismatch) == (400, "ERR_VALIDATION")
    assert Stream.objects.get(pk=stream.pk).status == "live"
    # when: both, agreeing
    both = call(client, END, {"operatorUserId": "streamer-1", "streamId": str(stream.uid)})
    # then
    assert both.status_code == 200 and both.json()["status"] == "ended"
    # when: the same stream by its id alone, again
    again = call(client, END, {"streamId": str(stream.uid)})
    # then: as it is
    assert again.status_code == 200 and again.json() == both.json()


def test_end_of_a_streamer_who_is_not_live_answers_their_latest_ended_stream(
    client, streamer, offline
):
    old = Stream.objects.create(
        streamer=offline, status="ended", ended_at=timezone.now() - timedelta(days=2)
    )
    latest = Stream.objects.create(
        streamer=offline,
        status="ended",
        ended_at=timezone.now() - timedelta(days=1),
        end_reason="stream ended on schedule",
    )
    # when
    response = call(client, END, {"operatorUserId": "s2"})
    # then
    assert response.status_code == 200
    assert response.json()["streamId"] == str(latest.uid) != str(old.uid)
    assert Stream.objects.get(pk=latest.pk).end_reason == "stream ended on schedule"


def test_end_of_a_scheduled_stream_cancels_it(client, offline):
    stream = schedule(offline, start_in=timedelta(hours=1))
    response = call(client, END, {"streamId": str(stream.uid)})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["startedAt"] is None


def test_end_refusals(client, streamer, offline):
    schedule(offline, start_in=timedelta(hours=1))  # scheduled only: never streamed
    cases = [
        ({"operatorUserId": "s2"}, (404, "ERR_STREAM_NOT_FOUND")),
        ({"operatorUserId": "nobody"}, (404, "ERR_STREAMER_NOT_FOUND")),
        ({"streamId": str(uuid.uuid4())}, (404, "ERR_STREAM_NOT_FOUND")),
        ({"streamId": "nope"}, (400, "ERR_VALIDATION")),
        ({}, (400, "ERR_VALIDATION")),
        ({"streamId": None}, (400, "ERR_VALIDATION")),
    ]
    for payload, expected in cases:
        assert refused(call(client, END, payload)) == expected, payload
    no_body = post_signed(client, CREDENTIALS, END, b"")
    assert refused(no_body) == (400, "ERR_VALIDATION")
    assert Stream.objects.get(streamer=streamer).status == "live"
    assert Stream.objects.get(streamer=offline).status == "scheduled"


def test_end_of_another_operators_stream_is_not_found(client, streamer):
    from apps.streamers.tests.factories import StreamFactory

    foreign = StreamFactory()
    response = call(client, END, {"streamId": str(foreign.uid)})
    assert refused(response) == (404, "ERR_STREAM_NOT_FOUND")
    assert Stream.objects.get(pk=foreign.pk).status == "live"
