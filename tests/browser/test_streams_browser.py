"""A stream from the schedule to the payout, in two real browsers: an Operations staff member in
the back office, a follower on the play page at 360 px wide (a phone).

Staff schedule the stream in the admin's add form; the follower's page lists it as upcoming,
at its start time in the follower's own time zone; staff start it now; the follower joins
(the join form checks the streamer's own limits first); staff end it and pay out; the
follower's page shows the position closed with its payout. The sagas talk to the in-memory
operator (``fake``). Screenshots: ``artifacts/screenshots/streams-*.png``.
"""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import staff_user
from apps.followers.models import Position
from apps.followers.services import player_session_open
from apps.followers.tokens import player_url
from apps.pools.models import Pool
from apps.streamers.models import Stream, Streamer
from tests.browser.conftest import SCREENSHOTS, csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw"  # admin_world.staff_user's
FOLLOWER_ZONE = "Europe/Berlin"
EMBED_URL = "https://player.invalid/embed/stella"
PHONE = {"width": 360, "height": 780}


@pytest.fixture
def stella(operator) -> Streamer:
    """A streamer who is not live, with limits of her own (the operator's are 1 to 1000)."""
    return Streamer.objects.create(
        operator=operator,
        operator_user_id="stella",
        display_name="Stella",
        currency="USD",
        min_contribution=Decimal("2"),
        max_contribution=Decimal("250"),
    )


@pytest.fixture
def follower(chromium, live_server, settings, operator):
    """The follower's phone: a 360 px page in Berlin's time zone, on the URL ``init`` gives.
    A script error or anything the Content-Security-Policy blocks fails the test."""
    settings.PUBLIC_BASE_URL = live_server.url
    session = player_session_open(
        operator=operator, operator_user_id="f1", user_token="wallet-token", currency="USD"
    )
    context = chromium.new_context(viewport=PHONE, timezone_id=FOLLOWER_ZONE, locale="en-GB")
    # The stream's video player, served here instead of the (unreachable) player's site.
    context.route(
        "https://player.invalid/**",
        lambda route: route.fulfill(
            content_type="text/html; charset=utf-8",
            body="<!doctype html><body style='margin:0;background:#111;color:#ddd;"
            "font:16px sans-serif;display:grid;place-items:center;height:100vh'>"
            "▶ Stella's video</body>",
        ),
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    blocked = csp_violations(page)
    page.goto(player_url(session))
    yield page
    context.close()
    assert not errors, errors
    assert not blocked, blocked


def shot(page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"streams-{name}.png"), full_page=full_page)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_stream_from_the_schedule_to_the_payout(page, live_server, fake, stella, follower):
    from playwright.sync_api import expect

    staff = page
    staff_user("ops", "Operations")
    # --- staff log in and schedule the stream -------------------------------------------
    staff.goto(f"{live_server.url}/admin/login/?next=/admin/streamers/stream/add/")
    staff.fill("#id_username", "ops")
    staff.fill("#id_password", PASSWORD)
    staff.click("input[type=submit]")
    staff.wait_for_selector("#stream_form")
    starts = (timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    staff.click("#stream_form .select2-selection")  # the streamer, by autocomplete
    staff.fill(".select2-search__field", "Stel")
    staff.click(".select2-results__option:has-text('Stella')")
    staff.fill("#id_title", "Friday night slots")
    staff.fill("#id_game", "Sweet Bonanza")
    staff.fill("#id_scheduled_start_0", f"{starts:%Y-%m-%d}")
    staff.fill("#id_scheduled_start_1", f"{starts:%H:%M:%S}")
    ends = starts + timedelta(hours=3)
    staff.fill("#id_scheduled_end_0", f"{ends:%Y-%m-%d}")
    staff.fill("#id_scheduled_end_1", f"{ends:%H:%M:%S}")
    staff.fill("#id_embed_url", EMBED_URL)
    shot(staff, "01-admin-schedule")
    staff.click("input[name=_save]")
    staff.wait_for_selector(".messagelist")
    shot(staff, "02-admin-schedule-list")
    stream = Stream.objects.get(streamer=stella)
    assert (stream.status, stream.scheduled_start, stream.embed_url) == (
        "scheduled",
        starts,
        EMBED_URL,
    )

    # --- the follower's page lists it as upcoming, at the follower's local time ---------
    upcoming = follower.get_by_test_id("upcoming-stream")
    expect(upcoming).to_have_count(1)
    expect(upcoming).to_contain_text("Stella")
    expect(upcoming).to_contain_text("Friday night slots · Sweet Bonanza")
    berlin = starts.astimezone(ZoneInfo(FOLLOWER_ZONE))
    expect(upcoming.get_by_test_id("upcoming-when")).to_contain_text(f"{berlin:%H:%M}")
    expect(follower.get_by_test_id("streamer-card")).to_have_count(0)
    assert fits_the_screen(follower)
    shot(follower, "03-play-upcoming-360")

    # --- staff start it now, confirming with a reason ----------------------------------
    staff.goto(f"{live_server.url}/admin/streamers/stream/{stream.pk}/change/")
    staff.click("text=Start now")
    staff.wait_for_selector("textarea[name=reason]")
    assert staff.input_value("textarea[name=reason]") == ""
    staff.fill("textarea[name=reason]", "Stella is ready early")
    staff.click("input[type=submit][value^='Yes']")
    staff.wait_for_selector(".messagelist")
    assert "live since" in staff.locator(".messagelist").inner_text()

    # --- the follower joins on the page -----------------------------------------------
    card = follower.locator(f'[data-streamer="{stella.pk}"]')
    expect(card).to_be_visible()  # the page's next refresh
    expect(follower.get_by_test_id("upcoming")).to_be_hidden()
    card.click()
    broadcast = follower.get_by_test_id("broadcast")
    expect(broadcast).to_be_visible()
    expect(follower.get_by_test_id("embed")).to_have_attribute("src", EMBED_URL)
    expect(follower.frame_locator("#b-embed").locator("body")).to_contain_text("Stella's video")
    expect(follower.get_by_test_id("join-limits")).to_have_text("From 2.00 to 250.00 USD per join.")
    # the streamer's own maximum, checked before anything is sent
    follower.get_by_test_id("join-amount").fill("300")
    follower.get_by_test_id("join-button").click()
    expect(follower.locator("#alert")).to_contain_text("between 2.00 and 250.00")
    assert not Position.objects.exists()
    follower.get_by_test_id("join-amount").fill("10")
    follower.get_by_test_id("join-button").click()
    active = broadcast.locator('[data-testid="position"][data-status="active"]')
    expect(active).to_have_count(1)
    expect(active.get_by_test_id("position-value")).to_have_text("10.00")
    assert fake.wallet["f1"] == Decimal(490)
    assert fits_the_screen(follower)
    shot(follower, "04-play-joined-360")
    shot(follower, "04-play-joined-360-screen", full_page=False)

    # --- staff end it and pay out -------------------------------------------------------
    staff.goto(f"{live_server.url}/admin/streamers/stream/{stream.pk}/change/")
    staff.click("text=End stream and pay out")
    staff.wait_for_selector("textarea[name=reason]")
    pool = Pool.objects.get(streamer=stella)
    assert f"pool #{pool.pk}: 1 member(s) who contributed 10.00000000" in staff.content()
    staff.fill("textarea[name=reason]", "Show is over")
    shot(staff, "05-admin-end-confirm")
    staff.click("input[type=submit][value^='Yes']")
    staff.wait_for_selector(".messagelist")
    assert f"pool #{pool.pk} is now closed" in staff.locator(".messagelist").inner_text()
    assert "stream ended by staff ops, Show is over" in staff.content()
    shot(staff, "06-admin-ended")

    # --- the follower's page shows the position closed, with its payout ----------------
    closed = broadcast.locator('[data-testid="position"][data-status="closed"]')
    expect(closed).to_have_count(1)
    expect(closed.get_by_test_id("position-payout")).to_have_text("10.00")
    expect(follower.locator("#b-title")).to_have_text("This broadcast has ended")
    assert fake.wallet["f1"] == Decimal(500)
    assert fits_the_screen(follower)
    shot(follower, "07-play-paid-out-360")
    stream.refresh_from_db()
    pool.refresh_from_db()
    assert (stream.status, pool.state) == ("ended", "closed")
    assert pool.close_reason == stream.end_reason == "stream ended by staff ops, Show is over"
    assert list(StaffAction.objects.order_by("pk").values_list("action", "outcome")) == [
        ("stream_start_now", "done"),
        ("stream_end", "done"),
    ]
