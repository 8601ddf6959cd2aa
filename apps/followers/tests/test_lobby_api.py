"""GET lobby: each entry's status, game, embed URL and limits; upcoming streams after the live
ones, in the same list, as its schema describes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.tests.openapi import component_validator
from apps.followers.tokens import player_token_issue
from apps.streamers.models import Stream, Streamer

pytestmark = pytest.mark.django_db


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture
def lobby(client, make_session):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {player_token_issue(make_session('f1'))}"}

    def get() -> list[dict]:
        response = client.get("/api/v1/lobby", **auth)
        assert response.status_code == 200, response.content
        return response.json()

    return get


def test_a_live_entry_has_its_game_embed_and_the_streamers_limits(streamer, lobby):
    # given: the streamer sets their own minimum and a capacity; the rest is the operator's
    Streamer.objects.filter(pk=streamer.pk).update(
        min_contribution=Decimal("2.5"), max_pool_value=Decimal("50000")
    )
    Stream.objects.filter(streamer=streamer).update(
        game="Crazy Time", embed_url="https://player.example/embed/1"
    )
    # when
    [entry] = lobby()
    # then
    assert entry["status"] == "live"
    assert (entry["game"], entry["embedUrl"]) == ("Crazy Time", "https://player.example/embed/1")
    assert entry["limits"] == {
        "minContribution": "2.50000000",
        "maxContribution": "1000.00000000",
        "maxFollowers": streamer.operator.max_followers_per_pool,
        "maxPoolValue": "50000.00000000",
    }


def test_upcoming_streams_follow_the_live_ones(client, streamer, operator, lobby):
    # given
    later = Streamer.objects.create(
        operator=operator, operator_user_id="s2", display_name="Later", currency="USD"
    )
    starts = timezone.now() + timedelta(hours=5)
    stream = Stream.objects.create(
        streamer=later,
        status=Stream.Status.SCHEDULED,
        title="Sunday slots",
        game="Book of Ra",
        scheduled_start=starts,
        scheduled_end=starts + timedelta(hours=2),
    )
    # when
    live, upcoming = lobby()
    # then
    assert (live["status"], live["streamerId"], live["embedUrl"]) == ("live", streamer.pk, None)
    assert upcoming == {
        "streamerId": later.pk,
        "name": "Later",
        "currency": "USD",
        "status": "upcoming",
        "streamId": str(stream.uid),
        "title": "Sunday slots",
        "game": "Book of Ra",
        "embedUrl": None,
        "scheduledStart": iso(starts),
        "scheduledEnd": iso(starts + timedelta(hours=2)),
        "nav": None,
        "pool": None,
        "limits": {
            "minContribution": "1.00000000",
            "maxContribution": "1000.00000000",
            "maxFollowers": operator.max_followers_per_pool,
            "maxPoolValue": None,
        },
        "performanceFeePercent": "0.0000",
        "record": None,
    }
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for entry in (live, upcoming):
        component_validator(schema, "LobbyEntry").validate(entry)


def test_the_lobby_counts_followers_not_positions(streamer, lobby, make_session):
    # given: two followers in the pool, one of them twice, and one who has left
    from apps.followers.models import Position
    from apps.pools.services import pool_get_or_open

    pool = pool_get_or_open(streamer=streamer)

    def position(user_id: str, status: str = "active") -> Position:
        session = make_session(user_id)
        return Position.objects.create(
            pool=pool,
            follower=session.follower,
            session=session,
            contributed=Decimal("5"),
            units=Decimal("5") if status == "active" else 0,
            status=status,
        )

    position("a")
    position("a")
    position("b")
    position("c", status="closed")
    # when
    [entry] = lobby()
    # then
    assert entry["pool"]["followers"] == 2
