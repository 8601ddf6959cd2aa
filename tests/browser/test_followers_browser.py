"""Blocking a follower in a real browser: an Operations user blocks with "pay out now" and
sees the position paid out and the action on record; a Read-only user has no Block button."""

from decimal import Decimal

import pytest

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import staff_user
from apps.followers.models import Follower, Position
from apps.transactions.services import position_join

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def member(fake, streamer, make_session) -> Position:
    """f1 with 100 in the streamer's pool; the streamer has won since (NAV 1.1)."""
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert position.status == "active"
    fake.streamer_balance["streamer-1"] = Decimal("1210")
    return position


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")  # admin_world.staff_user's password
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def test_operations_blocks_a_follower_and_pays_them_out(page, live_server, member, screenshot):
    staff_user("ops", "Operations")
    log_in(page, live_server, "ops")
    follower_url = f"{live_server.url}/admin/followers/follower/{member.follower_id}/change/"
    page.goto(follower_url)
    page.wait_for_selector("text=Positions (newest 50)")
    screenshot("followers-01-follower-page")
    # when: Block, through its confirmation page
    page.click("a.cp-action--danger:has-text('Block')")
    page.wait_for_selector("textarea[name=reason]")
    assert "1 active position(s) worth 100.00000000 USD" in page.locator(".cp-table").inner_text()
    assert page.locator("textarea[name=reason]").input_value() == ""
    page.fill("textarea[name=reason]", "Self-exclusion requested by the player")
    page.check("input[name=pay_out_now]")
    screenshot("followers-02-block-confirm")
    page.click("input[type=submit][value^='Yes']")
    page.wait_for_selector(".messagelist")
    # then: the message, the block on the page, the position paid out, the audit row
    assert "blocked; 1 position(s) paid out" in page.locator(".messagelist").inner_text()
    block = page.locator(".cp-summary-block").inner_text()
    assert "By\tops" in block or "By\nops" in block
    assert "Self-exclusion requested by the player" in block
    inline = page.locator(".cp-inline").first.inner_text()
    assert "Closed" in inline or "Leaving" in inline
    actions = page.locator(".field-staff_actions_taken").inner_text()
    assert "Block follower" in actions and "Self-exclusion requested by the player" in actions
    # Unblock at the top and in the block state, Block no more
    assert page.locator(".object-tools a.cp-action:has-text('Unblock')").count() == 1
    assert page.locator(".cp-summary-block a.cp-action:has-text('Unblock')").count() == 1
    assert page.locator("a.cp-action--danger").count() == 0
    screenshot("followers-03-blocked")
    # and in the database
    assert Follower.objects.get(pk=member.follower_id).is_blocked
    member.refresh_from_db()
    assert member.status in ("leaving", "closed")
    assert member.payout == Decimal("110.00000000")
    action = StaffAction.objects.get()
    assert (action.username, action.action, action.outcome) == ("ops", "follower_block", "done")


def test_read_only_sees_no_block_button(page, live_server, member, screenshot):
    staff_user("viewer", "Read-only")
    log_in(page, live_server, "viewer")
    page.goto(f"{live_server.url}/admin/followers/follower/{member.follower_id}/change/")
    page.wait_for_selector("text=Positions (newest 50)")
    # then: the page, but no action
    assert page.locator("a.cp-action").count() == 0
    assert "block" not in page.locator(".object-tools").inner_text().lower()
    screenshot("followers-04-read-only")
    # and the action's URL answers 403
    response = page.goto(
        f"{live_server.url}/admin/followers/follower/{member.follower_id}/act/follower_block/"
    )
    assert response is not None and response.status == 403
    assert not Follower.objects.get(pk=member.follower_id).is_blocked
