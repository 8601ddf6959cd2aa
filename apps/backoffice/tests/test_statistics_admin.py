"""The staff side of track records: the streamer page's panel (every window, every figure of
``track_records``), the change list's 7-day columns, the dashboard's best and worst of the
week and its followers-in-pools chart, on hand-made histories."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape as html_unescape
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from apps.backoffice import statistics
from apps.backoffice.statistics import followers_in_pools_series, week_leaders
from apps.backoffice.statistics_view import FIGURES
from apps.backoffice.tests.admin_world import staff_user, superuser
from apps.pools.models import Pool, PoolSnapshot, StreamerRecord
from apps.pools.rollups import rollups_refresh
from apps.pools.tests.histories import pool_with_history
from apps.streamers.models import Stream, Streamer
from apps.transactions.statistics.figures import WINDOWS
from apps.transactions.statistics.records import records_refresh, track_records

D = Decimal
NOW = datetime(2026, 6, 15, 12, 30, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def at(days_ago: float, hour: int = 0, minute: int = 5) -> datetime:
    return (NOW - timedelta(days=days_ago)).replace(hour=hour, minute=minute, second=0)


@pytest.fixture
def pinned(monkeypatch):
    """The streamer page computes its records at NOW."""
    monkeypatch.setattr(statistics, "timezone", SimpleNamespace(now=lambda: NOW))


@pytest.fixture
def root_client(client, db):
    client.force_login(superuser())
    return client


@pytest.fixture
def reopened(streamer):
    """Pool A 40 days ago: 1 -> 1.2 -> 0.9 -> 1.1, closed; pool B 10 days ago: 1 -> 1.5 (the
    history of ``test_statistics_figures``: ROI all time 65 %, 30 days 50 %)."""
    first = pool_with_history(
        streamer,
        [(at(40, 1), "1"), (at(40, 5), "1.2"), (at(39, 3), "0.9"), (at(38, 2), "1.1")],
        closed_at=at(38, 3),
    )
    Pool.objects.filter(pk=first.pk).update(close_reason="stream ended")
    second = pool_with_history(streamer, [(at(10, 1), "1"), (at(10, 8), "1.5")])
    rollups_refresh(now=NOW)
    return SimpleNamespace(streamer=streamer, pools=[first, second])


def change_url(streamer: Streamer, window: str | None = None) -> str:
    url = reverse("admin:streamers_streamer_change", args=[streamer.pk])
    return f"{url}?window={window}" if window else url


def record_table(html: str) -> dict[str, list[str]]:
    """The track-record table as {figure label: [cell HTML per window]}."""
    table = re.search(r'<table class="cp-table cp-record-table".*?</table>', html, re.S)
    assert table, "no track-record table"
    rows = {}
    for row in re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", table.group(0), re.S):
        label = html_unescape(strip_tags(row.split("</th>")[0].split("<br>")[0])).strip()
        rows[label] = [c.strip() for c in re.findall(r'<td class="cp-num">(.*?)</td>', row, re.S)]
    return rows


# --- the streamer page -------------------------------------------------------------------


def test_the_streamer_page_shows_every_figure_of_every_window(root_client, reopened, pinned):
    # when
    response = root_client.get(change_url(reopened.streamer))
    # then: one column per window, each cell as ``track_records`` computes it
    assert response.status_code == 200
    html = response.content.decode()
    table = record_table(html)
    expected = track_records(streamer_ids=[reopened.streamer.pk], now=NOW)
    assert [r.window for r in expected] == list(WINDOWS)
    assert list(table) == [f.label for f in FIGURES]
    for figure in FIGURES:
        assert table[figure.label] == [str(figure.cell(r)) for r in expected], figure.label
    # and the hand-computed figures, as shown: 2 decimals, the exact value on hover
    roi = dict(zip(WINDOWS, table["ROI"], strict=True))
    assert strip_tags(roi["all"]) == "+65.00 %" and 'title="0.650000000000"' in roi["all"]
    assert strip_tags(roi["30d"]) == "+50.00 %"
    assert strip_tags(roi["24h"]) == "—"  # no reading in the last day
    drawdown = dict(zip(WINDOWS, table["Maximum drawdown"], strict=True))
    assert strip_tags(drawdown["all"]) == "25.00 %"
    aum = table["Pooled value now"][0]
    assert strip_tags(aum) == "150.00USD" and 'title="150.00000000"' in aum
    assert strip_tags(table["Streamer's own share"][0]) == "50.00 %"
    assert "New" not in strip_tags(html.split('data-testid="record-table"')[1].split("</thead>")[0])


def test_the_streamer_page_lists_streams_and_pools_with_links(root_client, reopened, pinned):
    # given: an ended stream besides the fixture's live one
    ended = Stream.objects.create(
        streamer=reopened.streamer,
        title="Friday slots",
        status=Stream.Status.ENDED,
        started_at=at(38, 1),
        ended_at=at(38, 3),
    )
    # when
    html = root_client.get(change_url(reopened.streamer)).content.decode()
    # then
    for pool in reopened.pools:
        assert f'href="{reverse("admin:pools_pool_change", args=[pool.pk])}"' in html
    assert f'href="{reverse("admin:streamers_stream_change", args=[ended.pk])}"' in html
    assert ">Friday slots</a>" in html
    assert "stream ended" in html  # the first pool's close reason
    pools = re.search(r'data-testid="record-pools".*?</table>', html, re.S).group(0)
    assert pools.count("<tr>") == 3  # the header and two pools
    assert "Closed" in pools and "Open" in pools
    # and the "all pools" link lists this streamer's pools only
    all_pools = re.search(r'<a href="([^"]+)">all pools</a>', html).group(1)
    listed = root_client.get(all_pools.replace("&amp;", "&"))
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 2
    all_streams = re.search(r'<a href="([^"]+)">all streams</a>', html).group(1)
    assert root_client.get(all_streams).context["cl"].result_count == 2


def test_the_window_switch_charts_the_window_asked(root_client, reopened, pinned):
    html = root_client.get(change_url(reopened.streamer, "all")).content.decode()
    assert "Chained NAV index, All time" in html
    record = track_records(
        streamer_ids=[reopened.streamer.pk], windows=["all"], now=NOW, with_series=True
    )[0]
    nav = html.split('class="cp-chart-title">Chained NAV index, All time')[1].split("</svg>")[0]
    assert nav.count("<circle") == len(record.series) > 0
    assert "1.65000000" in nav  # the chained index at the last bucket, on hover
    # an unknown window falls back to the default (30 days)
    html = root_client.get(change_url(reopened.streamer, "1y")).content.decode()
    assert "Chained NAV index, 30 days" in html
    assert '<strong aria-current="true" data-window="30d">' in html


def test_a_young_record_is_marked_new(root_client, streamer, pinned):
    pool_with_history(streamer, [(at(2, 1), "1"), (at(1, 1), "1.1")])
    rollups_refresh(now=NOW)
    html = root_client.get(change_url(streamer)).content.decode()
    assert 'data-testid="new-badge"' in html


def test_the_streamer_page_reads_a_fixed_number_of_queries(root_client, reopened, pinned):
    root_client.get(change_url(reopened.streamer))
    with CaptureQueriesContext(connection) as few:
        root_client.get(change_url(reopened.streamer))
    for i in range(6):
        pool_with_history(
            reopened.streamer,
            [(at(9 - i, 2), "1"), (at(9 - i, 3), "1.1")],
            closed_at=at(9 - i, 4),
        )
    rollups_refresh(now=NOW)
    with CaptureQueriesContext(connection) as more:
        root_client.get(change_url(reopened.streamer))
    assert len(more.captured_queries) == len(few.captured_queries)


# --- the change list ------------------------------------------------------------------------


def streamers_with_week(operator, rois: list[str], *, prefix: str = "s") -> list[Streamer]:
    """Streamers whose pool ran from 20 days ago, each at NAV 1 three days ago and at 1 + roi a
    day ago (7-day ROI = roi), then ``records_refresh`` at NOW."""
    made = []
    for i, roi in enumerate(rois):
        streamer = Streamer.objects.create(
            operator=operator,
            operator_user_id=f"{prefix}-{i}",
            display_name=f"Streamer {prefix}{i}",
            currency="USD",
        )
        nav = str(D(1) + D(roi))
        pool_with_history(
            streamer, [(at(20, 1), "1"), (at(3, 1), "1"), (at(1, 1), nav)], members=i + 1
        )
        made.append(streamer)
    rollups_refresh(now=NOW)
    records_refresh(now=NOW)
    return made


def test_the_change_list_shows_the_7_day_figures_in_one_join(root_client, operator):
    # given
    streamers = streamers_with_week(operator, ["0.1", "-0.2", "0.05"])
    url = reverse("admin:streamers_streamer_changelist")
    root_client.get(url)
    with CaptureQueriesContext(connection) as few:
        response = root_client.get(url)
    # then: each row's 7-day ROI, pooled value and followers
    html = response.content.decode()
    assert "+10.00 %" in html and "-20.00 %" in html and "+5.00 %" in html
    assert 'title="80.00000000">80.00' in html  # 100 units at NAV 0.8
    # and sorting by ROI (the ROI column: the 8th, with the checkbox first)
    ordered = root_client.get(url + "?o=8").context["cl"].result_list
    assert [s.pk for s in ordered] == [streamers[1].pk, streamers[2].pk, streamers[0].pk]
    # and more streamers cost no more queries
    streamers_with_week(operator, ["0.3"] * 10, prefix="more")
    with CaptureQueriesContext(connection) as more:
        root_client.get(url)
    assert len(more.captured_queries) == len(few.captured_queries)


# --- the dashboard ------------------------------------------------------------------------


def record(streamer: Streamer, roi: str | None, *, window: str = "7d", is_new: bool = False):
    return StreamerRecord.objects.create(
        streamer=streamer,
        window=window,
        computed_at=NOW,
        is_new=is_new,
        currency="USD",
        roi=None if roi is None else D(roi),
        max_drawdown=D("0.1"),
        aum=D("1234.56789"),
        followers_now=3,
    )


def test_the_week_leaders_are_ranked_by_roi_without_new_ones(operator):
    # given: 12 ranked streamers, and three that are not ranked this week
    people = [
        Streamer.objects.create(operator=operator, operator_user_id=f"p{i}", currency="USD")
        for i in range(15)
    ]
    for i, streamer in enumerate(people[:12]):
        record(streamer, str(D(i) / 100 - D("0.05")))  # -5 % .. +6 %
    record(people[12], "9", is_new=True)
    record(people[13], None)
    record(people[14], "-0.99", window="30d")
    # when
    leaders = week_leaders()
    # then
    assert [r.streamer_id for r in leaders.top] == [p.pk for p in people[11:6:-1]]
    assert [r.streamer_id for r in leaders.bottom] == [p.pk for p in people[:5]]


def test_the_bottom_never_repeats_the_top(operator):
    people = [
        Streamer.objects.create(operator=operator, operator_user_id=f"p{i}", currency="USD")
        for i in range(7)
    ]
    for i, streamer in enumerate(people):
        record(streamer, str(i))
    leaders = week_leaders()
    assert [r.streamer_id for r in leaders.top] == [p.pk for p in people[6:1:-1]]
    assert [r.streamer_id for r in leaders.bottom] == [people[0].pk, people[1].pk]


def test_the_dashboard_shows_the_best_and_worst_of_the_week(root_client, operator):
    # given: records refreshed from real histories, one of them too young to rank
    streamers = streamers_with_week(operator, ["0.1", "-0.2", "0.05"])
    young = Streamer.objects.create(operator=operator, operator_user_id="young", currency="USD")
    pool_with_history(young, [(at(2, 1), "1"), (at(1, 1), "3")])
    rollups_refresh(now=NOW)
    records_refresh(now=NOW)
    # when
    html = root_client.get(reverse("admin:index")).content.decode()
    # then: best first, links to the streamer pages, the young one nowhere
    top = html.split('data-testid="leaders-top"')[1].split("</table>")[0]
    links = re.findall(r'<a href="/admin/streamers/streamer/(\d+)/change/">', top)
    assert [int(pk) for pk in links] == [streamers[0].pk, streamers[2].pk, streamers[1].pk]
    assert "+10.00 %" in top and "-20.00 %" in top
    assert f"/streamer/{young.pk}/" not in html
    assert "No other ranked streamer." in html  # three ranked: all in the top five
    assert 'data-testid="followers-chart"' in html


def test_leaders_need_the_streamer_view_permission(client, operator):
    streamers_with_week(operator, ["0.1"])
    client.force_login(staff_user("nobody"))
    html = client.get(reverse("admin:index")).content.decode()
    assert 'data-testid="leaders-top"' not in html
    assert 'data-testid="followers-chart"' not in html
    client.force_login(staff_user("reader", "Read-only"))
    html = client.get(reverse("admin:index")).content.decode()
    assert 'data-testid="leaders-top"' in html and 'data-testid="followers-chart"' in html


# --- followers in pools over time -----------------------------------------------------------


def set_members(pool: Pool, members: dict[datetime, int]) -> None:
    for moment, count in members.items():
        PoolSnapshot.objects.filter(pool=pool, taken_at=moment).update(members=count)


@pytest.fixture
def two_pools(streamer, operator):
    """Pool A: 3 then 5 members in hour 10 of 5 days ago, 4 in hour 11; pool B: 2 in hour 10,
    and a demo pool with 100 members in every hour (never counted)."""
    other = Streamer.objects.create(operator=operator, operator_user_id="s2", currency="USD")
    a = pool_with_history(streamer, [(at(5, 10, 5), "1"), (at(5, 10, 50), "1"), (at(5, 11), "1")])
    set_members(a, {at(5, 10, 5): 3, at(5, 10, 50): 5, at(5, 11): 4})
    b = pool_with_history(other, [(at(5, 10, 20), "1")], members=2)
    player = Streamer.objects.create(operator=operator, operator_user_id="s3", currency="USD")
    demo = pool_with_history(player, [(at(5, 10, 30), "1"), (at(5, 11, 30), "1")], members=100)
    Pool.objects.filter(pk=demo.pk).update(is_demo=True, state=Pool.State.CLOSED)
    return a, b


def test_followers_per_bucket_are_each_pools_latest_reading_summed(two_pools):
    # given: the snapshots rolled up (hours and days read the rollups)
    rollups_refresh(now=NOW)
    # then
    hours = followers_in_pools_series(days=7, kind="hour", now=NOW)
    assert hours == [(at(5, 10, 0), 5 + 2), (at(5, 11, 0), 4)]
    days = followers_in_pools_series(days=7, kind="day", now=NOW)
    assert days == [(at(5, 0, 0), 4 + 2)]


def test_minutes_read_the_snapshots(two_pools):
    minutes = followers_in_pools_series(days=7, kind="minute", now=NOW)
    assert minutes == [
        (at(5, 10, 5), 3),
        (at(5, 10, 20), 2),
        (at(5, 10, 50), 5),
        (at(5, 11, 5), 4),
    ]
    # and an hour of the snapshots' sum is the rollups' figure
    rollups_refresh(now=NOW)
    assert statistics._followers_from_snapshots(since=at(6), kind="hour") == (
        followers_in_pools_series(days=7, kind="hour", now=NOW)
    )


def test_followers_beyond_the_retention_read_the_rollups(two_pools, settings):
    # given: the snapshots rolled up, then the raw ones gone
    rollups_refresh(now=NOW)
    PoolSnapshot.objects.all().delete()
    settings.COPYPOOL_SNAPSHOT_RETENTION_DAYS = 3
    # then: the same figures, from the hourly and daily rows, minutes becoming hours
    assert followers_in_pools_series(days=7, kind="hour", now=NOW) == [
        (at(5, 10, 0), 7),
        (at(5, 11, 0), 4),
    ]
    assert followers_in_pools_series(days=7, kind="day", now=NOW) == [(at(5, 0, 0), 6)]
    assert followers_in_pools_series(days=7, kind="minute", now=NOW)[0] == (at(5, 10, 0), 7)
