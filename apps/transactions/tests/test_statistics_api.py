"""GET streamers/{id}/stats and GET leaderboard: the figures are track_record's, on a
hand-computed history; only the operator's streamers the player may see; bad queries are
400s; the ranking and its unranked new streamers; a fixed number of queries."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.tests.openapi import component_validator
from apps.followers.tokens import player_token_issue
from apps.operators.tests.factories import OperatorFactory
from apps.pools.models import PoolRollup, StreamerRecord
from apps.pools.rollups import rollups_refresh
from apps.pools.tests.histories import pool_with_history
from apps.streamers.models import Stream, Streamer, StreamerAccess
from apps.transactions.statistics.records import records_refresh, track_record

pytestmark = pytest.mark.django_db


def ago(days: int, hour: int) -> datetime:
    """``days`` days before today (UTC), at ``hour``:05: whole days, so never in the future."""
    return (timezone.now() - timedelta(days=days)).replace(
        hour=hour, minute=5, second=0, microsecond=0
    )


def ratio(value: str) -> str:
    return f"{Decimal(value):.12f}"


@pytest.fixture
def player(client, make_session):
    """GET as player f1 of the ``operator`` fixture; answers the response."""
    auth = {"HTTP_AUTHORIZATION": f"Bearer {player_token_issue(make_session('f1'))}"}

    def get(path: str, **params):
        return client.get(path, params, **auth)

    return get


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


@pytest.fixture
def reopened(streamer):
    """Pool A 40 days ago: 1 -> 1.2 -> 0.9 -> 1.1, closed; pool B 10 days ago: 1 -> 1.5, open."""
    pool_with_history(
        streamer,
        [(ago(40, 1), "1"), (ago(40, 5), "1.2"), (ago(39, 3), "0.9"), (ago(38, 2), "1.1")],
        closed_at=ago(38, 3),
    )
    pool_with_history(streamer, [(ago(10, 1), "1"), (ago(10, 8), "1.5")], members=3)
    rollups_refresh(now=timezone.now())
    return streamer


def make_streamer(operator, name: str, **fields) -> Streamer:
    return Streamer.objects.create(
        operator=operator,
        operator_user_id=f"user-{name}",
        display_name=name,
        currency="USD",
        **fields,
    )


def make_record(streamer: Streamer, window: str = "7d", **figures) -> StreamerRecord:
    values = {"computed_at": timezone.now(), "currency": "USD", "is_new": False, **figures}
    return StreamerRecord.objects.create(streamer=streamer, window=window, **values)


# --- GET streamers/{id}/stats -------------------------------------------------------------


def test_the_stats_are_the_track_record_and_the_hand_computed_figures(player, reopened, schema):
    # when
    response = player(f"/api/v1/streamers/{reopened.pk}/stats", window="all")
    # then: the hand-computed figures ...
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["roi"], body["maxDrawdown"]) == (ratio("0.65"), ratio("0.25"))  # 1.1 x 1.5
    assert (body["aum"], body["followersNow"]) == ("150.00000000", 0)  # no position in pool B
    assert body["streamerShare"] == ratio("0.5")  # 50 of the 100 units
    assert [p["index"] for p in body["series"]][-1] == ratio("1.65")
    # ... are exactly track_record's, computed at the same moment, field by field
    record = track_record(reopened, "all", now=parse_datetime(body["asOf"]))
    expected = {
        "streamerId": reopened.pk,
        "name": "S",
        "currency": "USD",
        "window": "all",
        "windowStart": None,
        "isNew": record.is_new,
        "roi": f"{record.roi:.12f}",
        "maxDrawdown": f"{record.max_drawdown:.12f}",
        "aum": f"{record.aum:.8f}",
        "aumPeak": f"{record.aum_peak:.8f}",
        "followersNow": record.followers_now,
        "followersDistinct": record.followers_distinct,
        "joined": f"{record.joined:.8f}",
        "paidOut": f"{record.paid_out:.8f}",
        "netResult": f"{record.net_result:.8f}",
        "streams": record.streams,
        "hoursLive": f"{record.hours_live:.2f}",
        "streamerShare": f"{record.streamer_share:.12f}",
    }
    assert {key: body[key] for key in expected} == expected
    assert parse_datetime(body["historyStart"]) == record.history_start == ago(40, 1)
    assert body["isNew"] is False
    assert [
        (parse_datetime(p["at"]), Decimal(p["index"]), Decimal(p["nav"]), p["members"])
        for p in body["series"]
    ] == [(p.at, p.index, p.nav, p.members) for p in record.series]
    component_validator(schema, "TrackRecord").validate(body)


def test_the_default_window_is_30_days(player, reopened):
    # when
    body = player(f"/api/v1/streamers/{reopened.pk}/stats").json()
    # then: the closed pool A is before the window: only B's 1 -> 1.5
    assert (body["window"], body["roi"], body["maxDrawdown"]) == ("30d", ratio("0.5"), ratio("0"))
    assert parse_datetime(body["windowStart"]) == (timezone.now() - timedelta(days=30)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert len(body["series"]) == 1  # one daily bucket: the day pool B had readings


def test_a_streamer_without_history_answers_empty_figures(player, streamer):
    body = player(f"/api/v1/streamers/{streamer.pk}/stats", window="24h").json()
    assert (body["roi"], body["maxDrawdown"], body["series"]) == (None, None, [])
    assert (body["isNew"], body["historyStart"], body["aum"]) == (True, None, "0.00000000")


def test_another_operators_or_a_private_streamer_is_not_found(player, operator, streamer):
    # given
    other = make_streamer(OperatorFactory(code="other"), "Elsewhere")
    private = make_streamer(operator, "Private", is_private=True)
    listed = make_streamer(operator, "Listed", is_private=True)
    StreamerAccess.objects.create(streamer=listed, operator_user_id="f1")
    # when
    answers = {
        name: player(f"/api/v1/streamers/{pk}/stats")
        for name, pk in [("other", other.pk), ("private", private.pk), ("missing", 999_999)]
    }
    # then
    for response in answers.values():
        assert response.status_code == 404
        assert response.json() == {
            "errorCode": "ERR_NOT_FOUND",
            "errorMessage": "Streamer not found",
        }
    assert player(f"/api/v1/streamers/{listed.pk}/stats").status_code == 200


def test_a_demo_player_sees_no_private_streamer(client, make_session, operator):
    # given: on the allowlist as a real player, but in a demo session
    listed = make_streamer(operator, "Listed", is_private=True)
    StreamerAccess.objects.create(streamer=listed, operator_user_id="f1")
    token = player_token_issue(make_session("f1", demo=True))
    # when
    response = client.get(
        f"/api/v1/streamers/{listed.pk}/stats", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    # then
    assert response.status_code == 404


@pytest.mark.parametrize("window", ["1y", "", "30D", "all "])
def test_a_bad_window_is_a_400_and_changes_nothing(player, reopened, window):
    # given
    rollups = PoolRollup.objects.count()
    # when
    response = player(f"/api/v1/streamers/{reopened.pk}/stats", window=window)
    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "ERR_INVALID_WINDOW",
        "errorMessage": "window: must be one of 24h, 7d, 30d, 90d, all",
    }
    assert (PoolRollup.objects.count(), StreamerRecord.objects.count()) == (rollups, 0)


def test_the_stats_read_a_fixed_number_of_queries(player, streamer, django_assert_max_num_queries):
    # given: a year of daily readings in 3 pools
    for start in (360, 240, 120):
        pool_with_history(
            streamer,
            [(ago(day, 2), str(1 + (day % 7) / 10)) for day in range(start, start - 110, -1)],
            closed_at=ago(start - 110, 3),
        )
    rollups_refresh(now=timezone.now())
    # when / then
    with django_assert_max_num_queries(12):
        response = player(f"/api/v1/streamers/{streamer.pk}/stats", window="all")
    assert response.status_code == 200
    assert len(response.json()["series"]) == 330


# --- GET leaderboard ------------------------------------------------------------------------


@pytest.fixture
def board(operator):
    """Five streamers' 7-day records, two of them new, one without a reading (roi null)."""
    rows = {
        "Ann": {"roi": Decimal("0.1"), "aum": Decimal("50"), "followers_now": 2},
        "Bob": {"roi": Decimal("0.3"), "aum": Decimal("10"), "followers_now": 9},
        "Cid": {"roi": Decimal("0.1"), "aum": Decimal("80"), "followers_now": 1},
        "Dee": {"roi": None, "aum": Decimal("500"), "followers_now": 0},
        "Eve": {"roi": Decimal("0.9"), "aum": Decimal("1"), "followers_now": 4, "is_new": True},
        "Fay": {"roi": None, "aum": Decimal("0"), "followers_now": 0, "is_new": True},
    }
    streamers = {}
    for name, figures in rows.items():
        streamers[name] = make_streamer(operator, name)
        make_record(streamers[name], max_drawdown=Decimal("0.05"), **figures)
        make_record(streamers[name], "30d", roi=Decimal("-0.5"))  # another window: ignored
    Stream.objects.create(
        streamer=streamers["Bob"], status=Stream.Status.LIVE, started_at=timezone.now()
    )
    return streamers


def ranking(response) -> list[tuple[int | None, str]]:
    assert response.status_code == 200, response.content
    return [(row["rank"], row["name"]) for row in response.json()]


def test_the_leaderboard_ranks_by_roi_then_aum_then_followers_and_new_ones_last(
    player, board, schema
):
    # when
    response = player("/api/v1/leaderboard")
    # then: ROI desc (null last), ties by AUM; the new ones after, unranked
    assert ranking(response) == [
        (1, "Bob"),
        (2, "Cid"),
        (3, "Ann"),
        (4, "Dee"),
        (None, "Eve"),
        (None, "Fay"),
    ]
    bob = response.json()[0]
    assert bob == {
        "rank": 1,
        "streamerId": board["Bob"].pk,
        "name": "Bob",
        "currency": "USD",
        "isNew": False,
        "live": True,
        "roi": ratio("0.3"),
        "maxDrawdown": ratio("0.05"),
        "aum": "10.00000000",
        "followersNow": 9,
        "asOf": bob["asOf"],
    }
    assert [row["isNew"] for row in response.json()] == [False] * 4 + [True] * 2
    assert [row["live"] for row in response.json()] == [True] + [False] * 5
    for row in response.json():
        component_validator(schema, "LeaderboardRow").validate(row)


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("aum", ["Dee", "Cid", "Ann", "Bob", "Eve", "Fay"]),
        ("followers", ["Bob", "Ann", "Cid", "Dee", "Eve", "Fay"]),
    ],
)
def test_the_leaderboard_sorts_by_aum_or_followers(player, board, sort, order):
    assert [name for _, name in ranking(player("/api/v1/leaderboard", sort=sort))] == order


def test_ties_are_broken_by_name(player, operator):
    for name in ("Zed", "Amy", "Max"):
        make_record(make_streamer(operator, name), roi=Decimal("0.2"), aum=Decimal("5"))
    assert ranking(player("/api/v1/leaderboard")) == [(1, "Amy"), (2, "Max"), (3, "Zed")]


def test_the_leaderboard_takes_a_window_and_a_limit(player, board):
    assert ranking(player("/api/v1/leaderboard", window="30d", limit=2)) == [(1, "Ann"), (2, "Bob")]


def test_the_leaderboard_lists_only_what_the_player_may_see(player, operator, board):
    # given
    make_record(make_streamer(OperatorFactory(code="other"), "Elsewhere"), roi=Decimal("5"))
    make_record(make_streamer(operator, "Hidden", is_private=True), roi=Decimal("5"))
    listed = make_streamer(operator, "Listed", is_private=True)
    StreamerAccess.objects.create(streamer=listed, operator_user_id="f1")
    make_record(listed, roi=Decimal("5"))
    suspended = make_streamer(operator, "Suspended", status=Streamer.Status.SUSPENDED)
    make_record(suspended, roi=Decimal("5"))
    # when
    names = [name for _, name in ranking(player("/api/v1/leaderboard"))]
    # then
    assert names == ["Listed", "Bob", "Cid", "Ann", "Dee", "Eve", "Fay"]


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"window": "1y"}, "ERR_INVALID_WINDOW", "window: must be one of 24h, 7d, 30d, 90d, all"),
        ({"sort": "name"}, "ERR_INVALID_SORT", "sort: must be one of roi, aum, followers"),
        ({"sort": ""}, "ERR_INVALID_SORT", "sort: must be one of roi, aum, followers"),
        ({"limit": "0"}, "ERR_VALIDATION", None),
        ({"limit": "1001"}, "ERR_VALIDATION", None),
        ({"limit": "ten"}, "ERR_VALIDATION", None),
    ],
)
def test_a_bad_leaderboard_query_is_a_400_and_changes_nothing(player, board, params, code, message):
    # given
    before = list(StreamerRecord.objects.order_by("pk").values())
    # when
    response = player("/api/v1/leaderboard", **params)
    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == code
    assert response.json()["errorMessage"].startswith(message or "limit: ")
    assert list(StreamerRecord.objects.order_by("pk").values()) == before


def test_the_leaderboard_reads_a_fixed_number_of_queries(player, operator, board):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert player("/api/v1/leaderboard").status_code == 200
        return len(captured)

    # given
    few = queries()
    for n in range(40):
        streamer = make_streamer(operator, f"More {n:02}")
        make_record(streamer, roi=Decimal(n) / 100)
        Stream.objects.create(streamer=streamer, status=Stream.Status.LIVE, started_at=ago(1, 1))
    # when / then
    assert queries() == few


def test_the_leaderboard_query_count_is_bounded(player, board, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert player("/api/v1/leaderboard", limit=1000).status_code == 200


def test_a_record_younger_than_the_minimum_history_is_new_and_unranked(player, operator, reopened):
    # given: a streamer whose first reading is 2 days old, with a better week than S
    young = make_streamer(operator, "Young")
    pool_with_history(young, [(ago(2, 1), "1"), (ago(2, 3), "3")])
    rollups_refresh(now=timezone.now())
    records_refresh(now=timezone.now())
    # when
    rows = player("/api/v1/leaderboard", window="all").json()
    # then
    assert [(row["rank"], row["name"], row["isNew"]) for row in rows] == [
        (1, "S", False),
        (None, "Young", True),
    ]
    assert (rows[0]["roi"], rows[1]["roi"]) == (ratio("0.65"), ratio("2"))
