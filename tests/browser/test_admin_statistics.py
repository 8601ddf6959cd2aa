"""Track records in the admin, in a real browser at 1280 px, as a Read-only staff user: a
streamer's page (the table of every window, the charts, a window switch, streams and pools)
and the dashboard (best and worst of the week, followers in pools). Screenshots:
``artifacts/screenshots/statistics-*.png``."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.backoffice.tests.admin_world import staff_user
from apps.pools.models import Pool, PoolSnapshot
from apps.pools.rollups import rollups_refresh
from apps.pools.tests.histories import pool_with_history
from apps.streamers.models import Stream, Streamer
from apps.transactions.statistics.records import records_refresh, track_records
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def history(start, hours: int, *, step: int, drift: float, swing: float):
    """A NAV reading every ``step`` hours from ``start``: a drift with a wave on it."""
    readings = []
    for i in range(0, hours, step):
        nav = Decimal(1 + drift * i / hours + swing * ((i // step) % 7 - 3) / 30)
        readings.append((start + timedelta(hours=i), str(nav.quantize(Decimal("0.0001")))))
    return readings


@pytest.fixture
def world(operator):
    now = timezone.now()
    star = Streamer.objects.create(
        operator=operator, operator_user_id="lucky-1", display_name="Lucky Luke", currency="USD"
    )
    # an earlier pool that closed, then the open one of the last 25 days
    closed = pool_with_history(
        star,
        history(now - timedelta(days=60), 30 * 24, step=2, drift=0.3, swing=0.4),
        closed_at=now - timedelta(days=30),
    )
    Pool.objects.filter(pk=closed.pk).update(close_reason="stream ended by the operator")
    current = pool_with_history(
        star, history(now - timedelta(days=25), 25 * 24, step=2, drift=0.2, swing=0.3)
    )
    for i, snapshot in enumerate(PoolSnapshot.objects.filter(pool=current).order_by("taken_at")):
        PoolSnapshot.objects.filter(pk=snapshot.pk).update(members=3 + (i // 12) % 9)
    Stream.objects.create(
        streamer=star,
        title="Sunday roulette",
        status=Stream.Status.ENDED,
        started_at=now - timedelta(days=2, hours=3),
        ended_at=now - timedelta(days=2),
    )
    others = []
    for i, drift in enumerate([0.25, -0.3, 0.12, -0.05, 0.4, -0.15, 0.02, 0.3, -0.45, 0.08, 0.18]):
        streamer = Streamer.objects.create(
            operator=operator,
            operator_user_id=f"s-{i}",
            display_name=f"Streamer {chr(65 + i)}",
            currency="USD",
        )
        pool_with_history(
            streamer,
            history(now - timedelta(days=12), 12 * 24, step=2, drift=drift, swing=0.1),
            members=2 + i,
        )
        others.append(streamer)
    rollups_refresh(now=now)
    records_refresh(now=now)
    return star


@pytest.fixture
def reader(open_page, live_server):
    staff_user("reader", "Read-only")  # password "pw"
    page = open_page(1280)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "reader")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector(".cp-cards")
    return page


def test_the_streamer_page_and_the_dashboard_show_track_records(reader, live_server, world):
    page = reader
    # when: the streamer's page
    page.goto(f"{live_server.url}/admin/streamers/streamer/{world.pk}/change/")
    panel = page.locator("[data-testid=track-record]")
    panel.wait_for()
    # then: one column per window, the figures as track_records has them
    headers = panel.locator("[data-testid=record-table] thead th[data-window]")
    windows = [headers.nth(i).get_attribute("data-window") for i in range(headers.count())]
    assert windows == ["24h", "7d", "30d", "90d", "all"]
    record = {r.window: r for r in track_records(streamer_ids=[world.pk])}
    roi = panel.locator("[data-testid=record-table] tbody tr").first.locator("td")
    assert roi.nth(4).inner_text() == f"{record['all'].roi * 100:+,.2f} %"
    assert roi.nth(4).locator("span").get_attribute("title") == f"{record['all'].roi:f}"
    assert panel.locator("svg.cp-chart").count() == 3
    assert "Sunday roulette" in panel.locator("[data-testid=record-streams]").inner_text()
    pools = panel.locator("[data-testid=record-pools]").inner_text()
    assert "stream ended by the operator" in pools
    # the table fits the page: nothing scrolls sideways at 1280 px
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    take(page, "statistics-01-streamer-page")
    # when: the 90-day window
    panel.locator("a[data-window='90d']").click()
    page.wait_for_selector("strong[data-window='90d']")
    assert "Chained NAV index, 90 days" in page.locator("[data-testid=track-record]").inner_text()
    take(page, "statistics-02-streamer-90d", full_page=False)

    # when: the dashboard
    page.goto(f"{live_server.url}/admin/")
    top = page.locator("[data-testid=leaders-top] [data-testid=leader-row]")
    bottom = page.locator("[data-testid=leaders-bottom] [data-testid=leader-row]")
    assert top.count() == 5 and bottom.count() == 5
    shown = [float(t.replace(" %", "")) for t in top.locator("td:nth-child(3)").all_inner_texts()]
    assert shown == sorted(shown, reverse=True)
    worst = [
        float(t.replace(" %", "")) for t in bottom.locator("td:nth-child(3)").all_inner_texts()
    ]
    assert worst == sorted(worst) and max(worst) < min(shown)
    assert page.locator("[data-testid=followers-chart] svg circle").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    take(page, "statistics-03-dashboard")
    # the streamer links lead to the streamer's page
    top.first.locator("a").click()
    page.wait_for_selector("[data-testid=track-record]")
    # and the followers chart over 90 days (beyond the snapshots' retention: the rollups)
    page.goto(f"{live_server.url}/admin/?followers_days=90")
    assert "last 90 days (daily)" in page.locator("[data-testid=followers-chart]").inner_text()


def take(page, name: str, *, full_page: bool = True) -> None:
    """A screenshot of a 1280 px page (the ``screenshot`` fixture shoots the 1440 px one)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
