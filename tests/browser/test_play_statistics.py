"""The play page's statistics in headless Chromium at 360 px: the lobby cards' 7-day figures
(or "New"), the broadcast's track record with its window switch and NAV-index chart, and
the leaderboard's sorting, with new streamers unranked; no horizontal scroll anywhere.

Hand-made histories (``apps.pools.tests.histories``) are rolled up and recorded as the
statistics task does; the page reads them over the real player API. Screenshots land in
``artifacts/screenshots/play-stats-*.png``.
"""

import os
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from apps.pools.rollups import rollups_refresh  # noqa: E402
from apps.pools.tests.histories import pool_with_history  # noqa: E402
from apps.streamers.models import Streamer  # noqa: E402
from apps.transactions.statistics.records import records_refresh  # noqa: E402
from tests.browser.conftest import SCREENSHOTS  # noqa: E402
from tests.e2e.world import build_world, init_url  # noqa: E402

WIDTH = 360

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ago(days: int, hour: int) -> datetime:
    return (timezone.now() - timedelta(days=days)).replace(
        hour=hour, minute=5, second=0, microsecond=0
    )


@pytest.fixture
def world(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    world = build_world(live_server.url)
    s1, s2 = world.streamers["s1"], world.streamers["s2"]
    # s1 (live): pool A 20 days ago 1 -> 1.2 -> 0.9 -> 1.1, closed; pool B 3 days ago
    # 1 -> 1.5, open (150 pooled). 7 days: +50 %, no drawdown; 30 days: +65 %, 25 % drawdown.
    pool_with_history(
        s1,
        [(ago(20, 1), "1"), (ago(20, 5), "1.2"), (ago(19, 3), "0.9"), (ago(18, 2), "1.1")],
        closed_at=ago(18, 3),
    )
    pool_with_history(s1, [(ago(3, 1), "1"), (ago(3, 5), "1.5")])
    # s2 (live): a record of 2 days: new, not ranked.
    pool_with_history(s2, [(ago(2, 1), "1"), (ago(2, 2), "2")], closed_at=ago(2, 3))
    # Ana and Ben (not live): 7 days +10 % (nothing pooled now) and -20 % (80 pooled).
    ana, ben = (
        Streamer.objects.create(
            operator=world.operator,
            operator_user_id=name.lower(),
            display_name=name,
            currency=s1.currency,
        )
        for name in ("Ana", "Ben")
    )
    pool_with_history(ana, [(ago(30, 1), "1"), (ago(30, 2), "1")], closed_at=ago(30, 3))
    pool_with_history(ana, [(ago(5, 1), "1"), (ago(5, 2), "1.1")], closed_at=ago(5, 3))
    pool_with_history(ben, [(ago(10, 1), "1"), (ago(3, 1), "1"), (ago(3, 5), "0.8")])
    now = timezone.now()
    rollups_refresh(now=now)
    records_refresh(now=now)
    yield world
    world.close()


def no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"play-stats-{name}.png"), full_page=True)


def test_lobby_broadcast_and_leaderboard_show_the_track_records(world, open_page):
    from playwright.sync_api import expect

    page = open_page(WIDTH)
    s1, s2 = world.streamers["s1"], world.streamers["s2"]
    # when: the player opens CopyStake
    page.goto(init_url(world, "f1"))
    # then: s1's card has its 7-day ROI (green), drawdown and followers; s2's says "New"
    card = page.locator(f'[data-testid="streamer-card"][data-streamer="{s1.pk}"]')
    expect(card.get_by_test_id("card-roi")).to_have_text("+50.00%")
    expect(card.get_by_test_id("card-roi")).to_have_class("v up")
    expect(card.get_by_test_id("card-drawdown")).to_have_text("0.00%")
    expect(card.get_by_test_id("card-followers")).to_have_text("0")
    young = page.locator(f'[data-testid="streamer-card"][data-streamer="{s2.pk}"]')
    expect(young.get_by_test_id("card-new")).to_have_text("New")
    expect(young.get_by_test_id("card-roi")).to_have_count(0)
    no_horizontal_scroll(page)
    shot(page, "lobby-360")

    # when: the player opens s1's broadcast
    card.click()
    record = page.get_by_test_id("track-record")
    # then: the 30-day record (the default): both pools chained, the drawdown of pool A
    expect(record.get_by_test_id("record-roi")).to_have_text("+65.00%")
    expect(record.get_by_test_id("record-drawdown")).to_have_text("25.00%")
    expect(record.get_by_test_id("record-aum")).to_have_text("150.00 USD")
    expect(record.get_by_test_id("record-aum")).to_have_attribute("title", "150.00")
    expect(record.get_by_test_id("record-share")).to_have_text("50.00%")
    expect(record.get_by_test_id("record-new")).to_be_hidden()
    expect(record.get_by_test_id("record-chart-svg")).to_be_visible()
    expect(record.locator('[data-window="30d"]')).to_have_class("chip on")
    no_horizontal_scroll(page)
    shot(page, "broadcast-30d-360")
    # when: the player switches to 7 days
    record.locator('[data-window="7d"]').click()
    # then: only pool B counts
    expect(record.get_by_test_id("record-roi")).to_have_text("+50.00%")
    expect(record.get_by_test_id("record-drawdown")).to_have_text("0.00%")
    expect(record.locator('[data-window="7d"]')).to_have_class("chip on")

    # when: the player goes back to the lobby and opens the leaderboard from there
    page.locator('[data-testid="broadcast"] .back').click()
    page.locator('[data-testid="lobby"] [data-testid="leaderboard-tab"]').click()
    board = page.get_by_test_id("leaderboard")
    names = board.get_by_test_id("board-name")
    # then: by 7-day ROI, s2 (new) after the ranked ones, unranked
    expect(names).to_have_text(["Streamer s1", "Ana", "Ben", "Streamer s2"])
    expect(board.get_by_test_id("board-rank")).to_have_text(["1", "2", "3", "–"])
    expect(board.get_by_test_id("board-roi")).to_have_text(
        ["+50.00%", "+10.00%", "−20.00%", "+100.00%"]
    )
    expect(board.get_by_test_id("board-new")).to_have_count(1)
    expect(
        board.locator('[data-testid="board-row"]').last.get_by_test_id("board-new")
    ).to_have_text("New")
    expect(board.get_by_test_id("board-total")).to_have_text("230.00")
    no_horizontal_scroll(page)
    shot(page, "leaderboard-roi-360")
    # when: sorted by pooled value
    board.get_by_test_id("sort-aum").click()
    # then
    expect(names).to_have_text(["Streamer s1", "Ben", "Ana", "Streamer s2"])
    expect(board.get_by_test_id("board-aum")).to_have_text(["150.00", "80.00", "0.00", "0.00"])
    expect(board.get_by_test_id("sort-aum")).to_have_class("chip on")
    shot(page, "leaderboard-aum-360")
    # when: sorted by followers (nobody has any: ROI decides)
    board.get_by_test_id("sort-followers").click()
    expect(board.get_by_test_id("sort-followers")).to_have_class("chip on")
    expect(names).to_have_text(["Streamer s1", "Ana", "Ben", "Streamer s2"])
    # when: over 30 days, Ana's first pool counts (flat) and s1's pool A too
    board.locator('[data-window="30d"]').click()
    board.get_by_test_id("sort-roi").click()
    expect(board.get_by_test_id("board-roi")).to_have_text(
        ["+65.00%", "+10.00%", "−20.00%", "+100.00%"]
    )
    no_horizontal_scroll(page)

    # when: the player opens a streamer who is not live from the leaderboard
    board.locator('[data-testid="board-row"]').nth(2).click()
    # then: the broadcast says so and shows Ben's record
    expect(page.locator("#b-name")).to_have_text("Ben")
    expect(page.locator("#b-title")).to_have_text("Not live right now")
    expect(page.get_by_test_id("record-roi")).to_have_text("−20.00%")
    expect(page.get_by_test_id("record-roi")).to_have_class("down")
    no_horizontal_scroll(page)
    shot(page, "broadcast-not-live-360")


def test_the_leaderboard_and_track_record_at_desktop_width(world, open_page):
    from playwright.sync_api import expect

    page = open_page(1280)
    # when: the player opens the leaderboard straight away, sorted by pooled value
    page.goto(init_url(world, "f1"))
    page.get_by_test_id("leaderboard-tab").first.click()
    board = page.get_by_test_id("leaderboard")
    board.get_by_test_id("sort-aum").click()
    # then
    expect(board.get_by_test_id("board-name")).to_have_text(
        ["Streamer s1", "Ben", "Ana", "Streamer s2"]
    )
    expect(board.locator('[data-testid="board-aum"]').first).to_have_attribute("title", "150.00")
    shot(page, "leaderboard-1280")
    # when: the player opens s2, whose record is new
    board.locator(f'[data-streamer="{world.streamers["s2"].pk}"]').click()
    record = page.get_by_test_id("track-record")
    # then: shown, and said to be new
    expect(record.get_by_test_id("record-new")).to_be_visible()
    expect(record.get_by_test_id("record-roi")).to_have_text("+100.00%")
    shot(page, "broadcast-new-1280")
