"""GET lobby: each entry carries the streamer's 7-day record, in one query for the lobby."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.tests.openapi import component_validator
from apps.followers.tokens import player_token_issue
from apps.pools.models import StreamerRecord
from apps.streamers.models import Stream, Streamer

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby(client, make_session):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {player_token_issue(make_session('f1'))}"}

    def get() -> list[dict]:
        response = client.get("/api/v1/lobby", **auth)
        assert response.status_code == 200, response.content
        return response.json()

    return get


def record(streamer: Streamer, window: str = "7d", **figures) -> StreamerRecord:
    values = {"computed_at": timezone.now(), "currency": "USD", "is_new": False, **figures}
    return StreamerRecord.objects.create(streamer=streamer, window=window, **values)


def live_streamer(operator, name: str) -> Streamer:
    streamer = Streamer.objects.create(
        operator=operator, operator_user_id=name, display_name=name, currency="USD"
    )
    Stream.objects.create(streamer=streamer, status=Stream.Status.LIVE, started_at=timezone.now())
    return streamer


def test_an_entry_has_the_7_day_record_or_null(lobby, operator, streamer, client):
    # given: S has a 7-day record (and a 30-day one, not shown); T none yet
    record(
        streamer,
        roi=Decimal("-0.125"),
        max_drawdown=Decimal("0.2"),
        followers_now=4,
    )
    record(streamer, "30d", roi=Decimal("9"))
    live_streamer(operator, "T")
    # when
    entries = {entry["name"]: entry for entry in lobby()}
    # then
    assert entries["S"]["record"] == {
        "roi": "-0.125000000000",
        "maxDrawdown": "0.200000000000",
        "followers": 4,
        "isNew": False,
    }
    assert entries["T"]["record"] is None
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for entry in entries.values():
        component_validator(schema, "LobbyEntry").validate(entry)


def test_a_new_record_says_so(lobby, streamer):
    record(streamer, roi=None, max_drawdown=None, is_new=True)
    (entry,) = lobby()
    assert entry["record"] == {"roi": None, "maxDrawdown": None, "followers": 0, "isNew": True}


def test_the_records_are_one_query_for_the_whole_lobby(lobby, operator, streamer):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            lobby()
        return len(captured)

    # given
    record(streamer, roi=Decimal("0.1"))
    few = queries()
    for n in range(20):
        record(live_streamer(operator, f"L{n:02}"), roi=Decimal(n))
    # when / then
    assert queries() == few
    assert {entry["record"]["roi"] for entry in lobby()} >= {"0.100000000000", "19.000000000000"}
