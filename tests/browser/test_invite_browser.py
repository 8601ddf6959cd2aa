"""A private streamer's invite link in Chromium, at 360 px: a follower who opens it from
their casino session is put on the allowlist and lands on the streamer's broadcast; one who
opens it first without a session has it kept, and accepted when they next arrive signed in.

The lobby shows the private streamer to neither before the invite, and to both after it.
Screenshots: ``artifacts/screenshots/invite-*.png``.
"""

from datetime import timedelta

import pytest

from apps.followers.services import player_session_open
from apps.followers.tokens import invite_url, player_url
from apps.streamers.access import invite_create
from apps.streamers.models import StreamerAccess, StreamerInvite
from apps.streamers.services import stream_start, streamer_create
from tests.browser.conftest import SCREENSHOTS, csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}


@pytest.fixture
def world(live_server, settings, operator):
    settings.PUBLIC_BASE_URL = live_server.url
    public = streamer_create(
        operator=operator, operator_user_id="pat", currency="USD", display_name="Pat"
    )
    private = streamer_create(
        operator=operator,
        operator_user_id="vera",
        currency="USD",
        display_name="Vera",
        is_private=True,
    )
    for streamer in (public, private):
        stream_start(streamer=streamer, title="live now")
    invite = invite_create(streamer=private, valid_for=timedelta(days=1), created_by="ops")
    return {"operator": operator, "public": public, "private": private, "invite": invite}


@pytest.fixture
def phone(chromium):
    """A new browser profile at 360 px per call; script errors or CSP refusals fail the test."""
    opened = []

    def open_phone():
        context = chromium.new_context(viewport=PHONE)
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        opened.append((context, errors, csp_violations(page)))
        return page

    yield open_phone
    for context, errors, blocked in opened:
        context.close()
        assert not errors, errors
        assert not blocked, blocked


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"invite-{name}.png"), full_page=True)


def session_url(operator, user_id: str) -> str:
    session = player_session_open(
        operator=operator, operator_user_id=user_id, user_token=f"t-{user_id}", currency="USD"
    )
    return player_url(session)


def test_an_invite_link_opens_a_private_pool_to_the_follower(world, phone):
    from playwright.sync_api import expect

    private, invite = world["private"], world["invite"]
    page = phone()
    page.goto(session_url(world["operator"], "f1"))
    cards = page.get_by_test_id("streamer-card")
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Pat")
    shot(page, "01-lobby-before")

    page.goto(invite_url(invite.code))  # the page's cookie signs the player in
    broadcast = page.get_by_test_id("broadcast")
    expect(broadcast).to_be_visible()
    expect(page.locator("#b-name")).to_have_text("Vera")
    assert "invite=" not in page.url  # the code is dropped from the address bar
    shot(page, "02-broadcast-after-invite")
    assert StreamerAccess.objects.filter(
        streamer=private, operator_user_id="f1", source="invite", invite=invite
    ).exists()
    page.goto(page.url.split("#")[0] + "#lobby")
    expect(page.get_by_test_id("streamer-card")).to_have_count(2)


def test_an_invite_opened_before_signing_in_is_accepted_on_arrival(world, phone):
    from playwright.sync_api import expect

    private, invite = world["private"], world["invite"]
    page = phone()
    page.goto(invite_url(invite.code))
    expect(page.get_by_test_id("nosession")).to_be_visible()
    expect(page.get_by_test_id("nosession-invite")).to_be_visible()
    shot(page, "03-no-session-invite-kept")
    assert not StreamerAccess.objects.filter(streamer=private).exists()

    page.goto(session_url(world["operator"], "f2"))  # later, from the casino
    expect(page.get_by_test_id("broadcast")).to_be_visible()
    expect(page.locator("#b-name")).to_have_text("Vera")
    assert StreamerAccess.objects.filter(streamer=private, operator_user_id="f2").exists()
    assert StreamerInvite.objects.get(pk=invite.pk).uses == 1


def test_an_expired_invite_says_so_and_lists_nothing(world, phone):
    from playwright.sync_api import expect

    invite = world["invite"]
    StreamerInvite.objects.filter(pk=invite.pk).update(expires_at=invite.created_at)
    page = phone()
    page.goto(session_url(world["operator"], "f3"))
    expect(page.get_by_test_id("streamer-card")).to_have_count(1)
    page.goto(invite_url(invite.code))
    expect(page.locator("#alert")).to_contain_text("expired")
    shot(page, "04-expired-invite")
    expect(page.get_by_test_id("streamer-card")).to_have_count(1)
    assert not StreamerAccess.objects.filter(streamer=world["private"]).exists()
