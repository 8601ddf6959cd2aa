"""GET positions: each names its streamer (``streamerName``), also once their stream has
ended, in a fixed number of queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.followers.models import Position
from apps.followers.tokens import player_token_issue
from apps.pools.models import Pool
from apps.streamers.models import Stream, Streamer

pytestmark = pytest.mark.django_db


def _position(session, streamer, status=Position.Status.CLOSED):
    pool = Pool.objects.create(streamer=streamer, operator=streamer.operator, currency="USD")
    return Position.objects.create(
        pool=pool,
        follower=session.follower,
        session=session,
        status=status,
        contributed=Decimal(10),
        payout=Decimal(12),
        leave_reason=Position.LeaveReason.STREAM_END,
    )


def test_a_closed_position_names_its_streamer_after_the_stream_ended(
    client, streamer, make_session
):
    # given: a position paid out at the stream's end, the stream over
    session = make_session("f1")
    Streamer.objects.filter(pk=streamer.pk).update(display_name="Lucky Luna")
    _position(session, streamer)
    Stream.objects.filter(streamer=streamer).update(status=Stream.Status.ENDED)
    # when
    response = client.get(
        "/api/v1/positions", HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}"
    )
    # then
    [position] = response.json()
    assert (position["streamerName"], position["leaveReason"]) == ("Lucky Luna", "stream_end")


def test_the_names_cost_no_query_per_position(client, operator, make_session):
    session = make_session("f1")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {player_token_issue(session)}"}

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/positions", **auth).status_code == 200
        return len(captured)

    first = Streamer.objects.create(
        operator=operator, operator_user_id="a", display_name="A", currency="USD"
    )
    _position(session, first)
    one = queries()
    for n in range(3):
        other = Streamer.objects.create(
            operator=operator, operator_user_id=f"s{n}", display_name=f"S{n}", currency="USD"
        )
        _position(session, other)
    assert queries() == one
