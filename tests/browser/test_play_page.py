"""The player page in headless Chromium: open the ``init`` URL, join and leave a pool.

Drives Debian's Chromium (``/usr/bin/chromium``) through Playwright against the live server,
with the page calling the player API and the sagas calling the sandbox operator over HTTP.
Screenshots land in ``artifacts/screenshots/``.
"""

import os
import re
from decimal import Decimal

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from apps.followers.models import Position  # noqa: E402
from tests.browser.conftest import SCREENSHOTS, csp_violations  # noqa: E402
from tests.e2e.conftest import assert_ledgers_match  # noqa: E402
from tests.e2e.world import build_world, init_url, operator_call  # noqa: E402

TIMEOUT_MS = 20_000

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def play_page(chromium):
    """A fresh page; any script error or anything the Content-Security-Policy blocks on it
    fails the test."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    blocked = csp_violations(page)
    yield page
    context.close()
    assert not errors, errors
    assert not blocked, blocked


@pytest.fixture
def world(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    world = build_world(live_server.url)
    yield world
    world.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"play-{name}.png"), full_page=True)


def test_follower_joins_and_leaves_a_pool_from_the_init_url(world, play_page):
    from playwright.sync_api import expect

    page = play_page
    # given: the URL that the operator's init returned
    page.goto(init_url(world, "f1"))
    # then: the lobby lists both live streamers
    expect(page.get_by_test_id("lobby")).to_be_visible()
    cards = page.get_by_test_id("streamer-card")
    expect(cards).to_have_count(2)
    expect(page.get_by_test_id("demo-banner")).to_be_hidden()
    # and: the token was exchanged for the page's cookie; no URL of the page carries it
    assert "token=" not in page.url
    [cookie] = page.context.cookies()
    assert (cookie["name"], cookie["httpOnly"], cookie["path"]) == ("copypool_play", True, "/play/")
    _shot(page, "lobby")

    # when: the follower opens s1's broadcast and joins with 10
    streamer = world.streamers["s1"]
    page.locator(f'[data-streamer="{streamer.pk}"]').click()
    broadcast = page.get_by_test_id("broadcast")
    expect(broadcast).to_be_visible()
    page.get_by_test_id("join-amount").fill("10")
    page.get_by_test_id("join-button").click()
    # then: the position is active, worth its 10, and the share is shown
    active = broadcast.locator('[data-testid="position"][data-status="active"]')
    expect(active).to_have_count(1)
    expect(active.get_by_test_id("position-value")).to_have_text("10.00")
    expect(page.get_by_test_id("share")).to_have_text(re.compile(r"^(\d+\.\d\d|<0\.01)%$"))
    expect(page.get_by_test_id("share-value")).to_have_text("10.00")
    expect(page.get_by_test_id("pool-value")).to_have_text("1,010.00 USD")
    assert world.balance("f1") == Decimal("490")
    _shot(page, "joined")

    # when: the follower leaves, and confirms it in the dialog
    active.get_by_test_id("leave-button").click()
    expect(page.get_by_test_id("leave-dialog")).to_be_visible()
    page.get_by_test_id("leave-confirm").click()
    # then: the position is closed with its payout, and the money is back in the wallet
    closed = broadcast.locator('[data-testid="position"][data-status="closed"]')
    expect(closed).to_have_count(1)
    expect(closed.get_by_test_id("position-payout")).to_have_text("10.00")
    expect(page.locator("#toast")).to_contain_text("paid out 10.00")
    assert world.balance("f1") == Decimal("500")
    assert Position.objects.get().status == Position.Status.CLOSED
    _shot(page, "left")
    assert_ledgers_match(world)


def test_page_renders_inside_an_iframe(world, play_page):
    from playwright.sync_api import expect

    # given: an operator's page that embeds CopyStake, opened straight on a broadcast
    url = init_url(world, "f2", stream=world.streams["s2"])
    play_page.set_content(
        "<!doctype html><title>Casino</title><h1>Acme Casino</h1>"
        f'<iframe id="copystake" src="{url}" width="1100" height="760"></iframe>'
    )
    frame = play_page.frame_locator("#copystake")
    # then: the broadcast of s2 renders inside the frame and the API answers
    expect(frame.get_by_test_id("broadcast")).to_be_visible()
    expect(frame.locator("#b-name")).to_have_text("Streamer s2")
    expect(frame.get_by_test_id("pool-value")).to_have_text("—")
    # and: the framed page swapped its ?token= for its cookie, and kept the stream
    [framed] = [f for f in play_page.frames if f != play_page.main_frame]
    assert "token=" not in framed.url
    assert framed.url.split("#")[0].endswith(f"/play/?stream={world.streams['s2'].uid}")
    frame.get_by_test_id("join-amount").fill("5")
    frame.get_by_test_id("join-button").click()
    expect(frame.locator('[data-testid="position"][data-status="active"]')).to_have_count(1)
    _shot(play_page, "iframe")


def test_init_demo_page_shows_the_demo_banner(world, play_page):
    from playwright.sync_api import expect

    response = operator_call(world, "init-demo", {"language": "en"})
    assert response.status_code == 200, response.text
    play_page.goto(response.json()["url"])
    expect(play_page.get_by_test_id("demo-banner")).to_be_visible()
    expect(play_page.get_by_test_id("demo-banner")).to_have_text("DEMO — play money")
    expect(play_page.get_by_test_id("streamer-card")).to_have_count(2)
    _shot(play_page, "demo")


def test_a_bad_link_says_so(world, play_page):
    from playwright.sync_api import expect

    play_page.goto(f"{world.base}/play/?token=not-a-token")
    expect(play_page.get_by_test_id("fatal")).to_contain_text("ERR_UNAUTHORIZED")
