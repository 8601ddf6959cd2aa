"""The streamer's performance fee on the play page, in headless Chromium at 1280 and 360 px:
the rate before joining, the fee in the leave's estimate, and on the closed position
"performance fee 2.00 USD, 20 % above your high-water mark" (the exact fee on hover), in
English and in Spanish. Screenshots land in ``artifacts/screenshots/play-fee-*.png``."""

import os
from decimal import Decimal

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from apps.sandbox.services import sandbox_play_bet  # noqa: E402
from apps.streamers.services import streamer_update  # noqa: E402
from apps.transactions.models import Receipt  # noqa: E402
from tests.browser.conftest import SCREENSHOTS  # noqa: E402
from tests.e2e.conftest import assert_ledgers_match  # noqa: E402
from tests.e2e.world import build_world, init_url, operator_call  # noqa: E402

TIMEOUT_MS = 20_000
WIDTHS = [pytest.param(1280, id="1280px"), pytest.param(360, id="360px")]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_server, settings):
    """s1 charges a 20 % performance fee, s2 none."""
    settings.PUBLIC_BASE_URL = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    world = build_world(live_server.url)
    streamer_update(streamer=world.streamers["s1"], performance_fee_percent=Decimal(20))
    yield world
    world.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"play-fee-{name}.png"), full_page=True)


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect()"
        ".right > window.innerWidth + 1).map(e => e.tagName + '#' + e.id + '.' + e.className"
        " + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 12)"
    )
    assert width <= page.viewport_size["width"], f"scrolls to {width} px: {wide}"


def _init_in(world, user_id: str, language: str) -> str:
    payload = {
        "operatorUserId": user_id,
        "userToken": world.tokens[user_id],
        "currency": "USD",
        "language": language,
        "username": f"Follower {user_id}",
    }
    response = operator_call(world, "init", payload)
    assert response.status_code == 200, response.text
    return response.json()["url"]


def _join_win_and_leave(page, world) -> None:
    """Join s1 with 100, s1 wins 10 % (the position is worth 110), leave it all."""
    from playwright.sync_api import expect

    page.locator(f'[data-streamer="{world.streamers["s1"].pk}"]').click()
    page.get_by_test_id("join-amount").fill("100")
    page.get_by_test_id("join-button").click()
    active = page.locator('#b-positions [data-testid="position"][data-status="active"]')
    expect(active).to_have_count(1)
    assert sandbox_play_bet(account=world.account("s1"), percent=Decimal("0.1"), wins=True)
    # the page learns the new balance when the pool is priced again: f2 joining reads it
    from tests.e2e.world import Player

    assert Player.init(world, "f2").join("s1", "1").status_code == 201
    expect(active.get_by_test_id("position-value")).not_to_have_text("100.00", timeout=15_000)
    active.get_by_test_id("leave-button").click()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_fee_is_shown_before_joining_when_leaving_and_on_the_closed_position(
    world, open_page, width
):
    from playwright.sync_api import expect

    page = open_page(width)
    page.goto(init_url(world, "f1"))
    # s2 charges nothing: no fee line
    page.locator(f'[data-streamer="{world.streamers["s2"].pk}"]').click()
    expect(page.get_by_test_id("join-fee")).to_be_hidden()
    page.locator('a.back[data-nav="lobby"]').click()
    # given: s1's broadcast says its rate before anyone joins
    page.locator(f'[data-streamer="{world.streamers["s1"].pk}"]').click()
    expect(page.get_by_test_id("join-fee")).to_contain_text(
        "20 % performance fee above your high-water mark"
    )
    page.locator('a.back[data-nav="lobby"]').click()
    # when: f1 joins with 100, s1 wins 10 %, f1 opens the leave dialog
    _join_win_and_leave(page, world)
    # then: the estimate is net of the fee on what the position gained above its mark
    estimate = page.locator("#dialog-estimate")
    expect(estimate).to_contain_text("after a performance fee of about")
    no_horizontal_scroll(page)
    shot(page, f"leave-dialog-{width}")
    page.get_by_test_id("leave-confirm").click()
    closed = page.locator('#b-positions [data-testid="position"][data-status="closed"]')
    expect(closed).to_have_count(1)
    # and the closed position says what the streamer kept, exact on hover
    receipt = Receipt.objects.get(kind="leave", position__follower__operator_user_id="f1")
    assert receipt.fee > 0
    fee = closed.get_by_test_id("position-fee")
    shown = f"{receipt.fee:.8f}"[:-6]
    expect(fee).to_have_text(f"performance fee {shown} USD, 20 % above your high-water mark")
    exact = f"{receipt.fee:.8f}".rstrip("0")
    assert fee.get_attribute("title") == (exact if len(exact.split(".")[1]) >= 2 else shown)
    expect(closed.get_by_test_id("position-payout")).to_have_text(f"{receipt.amount:.8f}"[:-6])
    no_horizontal_scroll(page)
    shot(page, f"closed-{width}")
    assert_ledgers_match(world, settled=False)


def test_a_spanish_session_reads_the_fee_in_spanish(world, open_page):
    from playwright.sync_api import expect

    page = open_page(360)
    page.goto(_init_in(world, "f1", "es"))
    page.locator(f'[data-streamer="{world.streamers["s1"].pk}"]').click()
    expect(page.get_by_test_id("join-fee")).to_contain_text(
        "Comisión de rendimiento del 20 % sobre tu marca de máximo"
    )
    page.locator('a.back[data-nav="lobby"]').click()
    _join_win_and_leave(page, world)
    expect(page.locator("#dialog-estimate")).to_contain_text("comisión de rendimiento")
    page.get_by_test_id("leave-confirm").click()
    closed = page.locator('#b-positions [data-testid="position"][data-status="closed"]')
    expect(closed).to_have_count(1)
    receipt = Receipt.objects.get(kind="leave", position__follower__operator_user_id="f1")
    expect(closed.get_by_test_id("position-fee")).to_have_text(
        f"comisión de rendimiento {receipt.fee:.2f} USD, 20 % sobre tu marca de máximo"
        if receipt.fee == receipt.fee.quantize(Decimal("0.01"))
        else f"comisión de rendimiento {f'{receipt.fee:.8f}'[:-6]} USD, 20 % sobre tu marca "
        "de máximo"
    )
    no_horizontal_scroll(page)
    shot(page, "spanish-360")
