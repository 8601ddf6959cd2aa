"""The play page's position controls in headless Chromium, at 1280 px and at 360 px: the
wallet balance, the leave confirmation (25/50/100%), top-up and limits forms, the payout
notice after a stream end, the page's languages, and no horizontal scroll at 360 px.

The page talks to the live server's player API, whose joins and leaves call the sandbox
operator over HTTP. Top-up, limits and a partial leave are other endpoints of the player
API: where this branch does not serve them yet, a test that needs the real one is skipped
(saying so), and the page's side of the contract is checked against Playwright routes that
answer as the contract says (``contract`` fixture). Screenshots land in
``artifacts/screenshots/play-controls-*.png``.
"""

import json
import os
import re
from decimal import Decimal

import pytest
from django.urls import Resolver404, resolve

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from apps.followers import views  # noqa: E402
from apps.followers.models import Position  # noqa: E402
from apps.pools.models import Pool  # noqa: E402
from apps.pools.services import pool_snapshot  # noqa: E402
from apps.transactions.services import streams_end  # noqa: E402
from tests.browser.conftest import SCREENSHOTS  # noqa: E402
from tests.e2e.world import build_world, init_url, operator_call, settle  # noqa: E402

TIMEOUT_MS = 20_000
WIDTHS = [pytest.param(1280, id="1280px"), pytest.param(360, id="360px")]
PROBE = "00000000-0000-0000-0000-000000000000"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def served(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def needs(path: str, what: str):
    return pytest.mark.skipif(
        not served(path), reason=f"{what} ({path}) is not on this branch yet: run after merging"
    )


@pytest.fixture
def world(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    world = build_world(live_server.url)
    yield world
    world.close()


@pytest.fixture
def every_control(monkeypatch):
    """The page shows every control, as it will once the endpoints are merged."""
    features = {name: True for name in views.page_features()}
    monkeypatch.setattr(views, "page_features", lambda: features)
    return features


@pytest.fixture
def contract():
    """``contract(page)``: answer top-up, limits and leave as the contract says, recording
    every request (method, path, body, headers); real endpoints are not reached."""

    def install(page):
        sent: list[dict] = []

        def answer(route, request):
            body = json.loads(request.post_data) if request.post_data else None
            sent.append(
                {
                    "method": request.method,
                    "path": re.sub(r"^https?://[^/]+", "", request.url),
                    "body": body,
                    "headers": request.headers,
                }
            )
            position = {"id": request.url.split("/")[-2], "status": "active", "payout": None}
            if request.url.endswith("/limits"):
                position.update(stopLoss="80.50000000", takeProfit=None)
            status = 201 if request.url.endswith("/top-up") else 200
            route.fulfill(status=status, content_type="application/json", body=json.dumps(position))

        page.route(re.compile(r".*/api/v1/positions/[^/]+/(top-up|limits|leave)$"), answer)
        return sent

    return install


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"play-controls-{name}.png"), full_page=True)


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"scrolls to {width} px"


def join(page, world, streamer: str = "s1", amount: str = "10"):
    from playwright.sync_api import expect

    page.locator(f'[data-streamer="{world.streamers[streamer].pk}"]').click()
    page.get_by_test_id("join-amount").fill(amount)
    page.get_by_test_id("join-button").click()
    active = page.locator('#b-positions [data-testid="position"][data-status="active"]')
    expect(active).to_have_count(1)
    return active


@pytest.mark.parametrize("width", WIDTHS)
def test_the_wallet_balance_is_in_the_header_and_follows_a_join(world, open_page, width):
    from playwright.sync_api import expect

    page = open_page(width)
    page.goto(init_url(world, "f1"))
    balance = page.get_by_test_id("wallet-balance")
    expect(balance).to_have_text("500.00 USD")
    assert balance.get_attribute("title") == "500.00"
    no_horizontal_scroll(page)
    shot(page, f"wallet-lobby-{width}")
    # when
    active = join(page, world)
    # then: refreshed after the join; the position shows its result in money and percent
    expect(balance).to_have_text("490.00 USD")
    expect(active.get_by_test_id("position-result")).to_have_text("0.00 (0.00%)")
    expect(page.get_by_test_id("broadcast-totals")).to_contain_text("0.00 (0.00%)")
    no_horizontal_scroll(page)
    shot(page, f"wallet-broadcast-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_leaving_asks_first_and_a_part_is_sent_as_a_fraction(
    world, open_page, every_control, contract, width
):
    from playwright.sync_api import expect

    page = open_page(width)
    sent = contract(page)
    page.goto(init_url(world, "f1"))
    active = join(page, world)
    # when: Leave, then Cancel: nothing is sent
    active.get_by_test_id("leave-button").click()
    dialog = page.get_by_test_id("leave-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("leave-estimate")).to_contain_text("10.00 USD")
    page.get_by_test_id("leave-cancel").click()
    expect(dialog).to_be_hidden()
    assert sent == []
    # when: Leave, 50%, confirm
    active.get_by_test_id("leave-button").click()
    page.get_by_test_id("leave-50").click()
    expect(page.get_by_test_id("leave-estimate")).to_contain_text("5.00 USD")
    expect(page.get_by_test_id("leave-confirm")).to_have_text("Leave 50%")
    no_horizontal_scroll(page)
    shot(page, f"leave-dialog-{width}")
    page.get_by_test_id("leave-confirm").click()
    # then: one leave, of half the position
    expect(dialog).to_be_hidden()
    page.wait_for_function("document.querySelector('#toast').textContent.length > 0")
    [leave] = sent
    assert (leave["method"], leave["body"]) == ("POST", {"fraction": "0.50"})
    assert leave["path"].endswith(f"/positions/{active.get_attribute('data-id')}/leave")


def test_a_whole_leave_sends_no_body_as_the_leave_on_main_takes_it(world, open_page):
    from playwright.sync_api import expect

    page = open_page()
    page.goto(init_url(world, "f1"))
    active = join(page, world)
    # the partial presets are offered only by a leave endpoint that reads a part
    active.get_by_test_id("leave-button").click()
    if not views.page_features()["partialLeave"]:
        expect(page.get_by_test_id("leave-50")).to_be_hidden()
    page.get_by_test_id("leave-confirm").click()
    closed = page.locator('#b-positions [data-testid="position"][data-status="closed"]')
    expect(closed).to_have_count(1)
    expect(page.get_by_test_id("wallet-balance")).to_have_text("500.00 USD")


@pytest.mark.parametrize("width", WIDTHS)
def test_top_up_and_limits_send_what_the_contract_says(
    world, open_page, every_control, contract, width
):
    from playwright.sync_api import expect

    page = open_page(width)
    sent = contract(page)
    page.goto(init_url(world, "f1"))
    active = join(page, world)
    position_id = active.get_attribute("data-id")
    # when: a top-up of 5
    active.get_by_test_id("top-up-button").click()
    page.get_by_test_id("top-up-amount").fill("5")
    no_horizontal_scroll(page)
    shot(page, f"top-up-{width}")
    page.get_by_test_id("top-up-submit").click()
    expect(page.locator("#toast")).to_contain_text("You added 5.00 USD")
    # when: limits, a bad one first (a clear message, nothing sent), then good ones
    active.get_by_test_id("limits-button").click()
    page.get_by_test_id("stop-loss").fill("eighty")
    page.get_by_test_id("limits-submit").click()
    expect(page.get_by_test_id("alert-message")).to_contain_text("such as 80.50")
    page.get_by_test_id("stop-loss").fill("80.5")
    page.get_by_test_id("take-profit").fill("20 %")
    no_horizontal_scroll(page)
    shot(page, f"limits-{width}")
    page.get_by_test_id("limits-submit").click()
    expect(page.locator("#toast")).to_contain_text("Your limits are saved.")
    # then
    top_up, limits = sent
    assert (top_up["method"], top_up["body"]) == ("POST", {"amount": "5"})
    assert top_up["path"].endswith(f"/positions/{position_id}/top-up")
    assert re.fullmatch(r"[0-9a-f]{32}", top_up["headers"]["idempotency-key"])
    assert (limits["method"], limits["body"]) == ("PUT", {"stopLoss": "80.5", "takeProfit": "20%"})
    assert limits["path"].endswith(f"/positions/{position_id}/limits")


@needs(f"/api/v1/positions/{PROBE}/top-up", "The top-up endpoint")
def test_a_real_top_up_takes_the_money_from_the_wallet(world, open_page):
    from playwright.sync_api import expect

    page = open_page(360)
    page.goto(init_url(world, "f1"))
    active = join(page, world)
    active.get_by_test_id("top-up-button").click()
    page.get_by_test_id("top-up-amount").fill("5")
    page.get_by_test_id("top-up-submit").click()
    expect(page.get_by_test_id("wallet-balance")).to_have_text("485.00 USD")
    assert world.balance("f1") == Decimal("485")


@needs(f"/api/v1/positions/{PROBE}/limits", "The limits endpoint")
def test_real_limits_are_kept_on_the_position(world, open_page):
    from playwright.sync_api import expect

    page = open_page()
    page.goto(init_url(world, "f1"))
    active = join(page, world)
    active.get_by_test_id("limits-button").click()
    page.get_by_test_id("stop-loss").fill("8")
    page.get_by_test_id("limits-submit").click()
    expect(page.locator("#toast")).to_contain_text("Your limits are saved.")
    assert Position.objects.get().stop_loss == Decimal("8")


def test_a_real_partial_leave_pays_half(world, open_page):
    if not views.page_features()["partialLeave"]:
        pytest.skip("The leave endpoint takes no part on this branch yet: run after merging")
    from playwright.sync_api import expect

    page = open_page(360)
    page.goto(init_url(world, "f1"))
    active = join(page, world)
    active.get_by_test_id("leave-button").click()
    page.get_by_test_id("leave-50").click()
    page.get_by_test_id("leave-confirm").click()
    expect(page.get_by_test_id("wallet-balance")).to_have_text("495.00 USD")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_stream_end_payout_is_noticed_with_the_amount(world, open_page, width):
    from playwright.sync_api import expect

    page = open_page(width)
    page.goto(init_url(world, "f1"))
    join(page, world, "s2", "20")
    # when: the stream ends while the follower watches
    streams_end(stream=world.streams["s2"], reason="browser: the broadcast is over")
    settle()
    # then: a notice says who paid out, and how much; the broadcast is no longer LIVE
    notice = page.get_by_test_id("payout-notice")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("The stream ended")
    expect(notice).to_contain_text("Streamer s2")
    expect(notice).to_contain_text("20.00 USD")
    assert notice.get_attribute("data-reason") == "stream_end"
    expect(page.get_by_test_id("live-badge")).to_be_hidden()
    expect(page.locator("#b-title")).to_have_text("This broadcast has ended")
    expect(page.get_by_test_id("wallet-balance")).to_have_text("500.00 USD")
    # and the closed position keeps the streamer's name in the lobby
    page.get_by_text("All live streamers").click()
    closed = page.locator('#all-positions [data-testid="position"][data-status="closed"]')
    expect(closed.get_by_test_id("position-streamer")).to_have_text("Streamer s2")
    no_horizontal_scroll(page)
    shot(page, f"stream-end-notice-{width}")


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


@pytest.mark.parametrize("width", WIDTHS)
def test_a_spanish_session_reads_spanish(world, open_page, width):
    from playwright.sync_api import expect

    page = open_page(width)
    page.goto(_init_in(world, "f1", "es"))
    # the template's strings and the script's (the catalogue) are Spanish
    expect(page.locator("#lobby h1")).to_have_text("En directo")
    expect(page.get_by_test_id("streamer-card").first).to_contain_text("Ver y copiar")
    expect(page.get_by_test_id("wallet")).to_contain_text("Saldo")
    assert page.evaluate("document.documentElement.lang") == "es"
    join(page, world)
    expect(page.get_by_test_id("join-button")).to_have_text("Unirme al pool")
    expect(page.locator("#toast")).to_contain_text("Te uniste a Streamer s1")
    no_horizontal_scroll(page)
    shot(page, f"spanish-{width}")


def test_an_operator_allowing_only_english_shows_english_for_portuguese(world, open_page):
    from playwright.sync_api import expect

    world.operator.languages = "en"
    world.operator.save(update_fields=["languages"])
    page = open_page(360)
    page.goto(_init_in(world, "f1", "pt"))
    expect(page.locator("#lobby h1")).to_have_text("Live now")
    expect(page.get_by_test_id("streamer-card").first).to_contain_text("Watch & copy")
    assert page.evaluate("document.documentElement.lang") == "en"


def test_a_refused_join_reads_as_a_sentence_and_is_folded_away(world, open_page):
    from playwright.sync_api import expect

    page = open_page(360)
    page.goto(init_url(world, "f1"))
    page.locator(f'[data-streamer="{world.streamers["s1"].pk}"]').click()
    # when: more than the wallet holds
    page.get_by_test_id("join-amount").fill("600")
    page.get_by_test_id("join-button").click()
    # then: a sentence, never the bare code; the failed attempt folded under one line
    message = page.get_by_test_id("alert-message")
    expect(message).to_have_text("Not enough money in your casino balance.")
    assert "ERR_" not in message.inner_text()
    folded = page.locator("#b-positions").get_by_test_id("failed-attempts")
    expect(folded).to_contain_text("1 failed attempt")
    expect(folded.get_by_test_id("position")).to_be_hidden()
    folded.locator("summary").click()
    expect(folded.get_by_test_id("position")).to_be_visible()
    no_horizontal_scroll(page)
    shot(page, "refused-join-360")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_broadcast_charts_the_pools_nav(world, open_page, width):
    from playwright.sync_api import expect

    # given: s1's pool with two readings (the page adds the NAV now)
    page = open_page(width)
    page.goto(init_url(world, "f1"))
    join(page, world)
    pool = Pool.objects.get(streamer=world.streamers["s1"])
    pool_snapshot(pool=pool)
    pool_snapshot(pool=pool)
    # when: the broadcast is opened afresh
    page.reload()
    # then: an inline SVG line, no chart library
    chart = page.get_by_test_id("nav-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline")).to_have_count(1)
    points = chart.locator("polyline").get_attribute("points")
    assert len(points.split()) == 3
    no_horizontal_scroll(page)
    shot(page, f"nav-chart-{width}")
