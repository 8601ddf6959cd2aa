"""An operator admin's first day in the portal, in Chromium: the invitation link, a username
and password, the two-factor enrolment page (QR code and key; no way past it without a
device), the dashboard, signing out, and signing in again with password and one-time code.

Screenshots: ``artifacts/screenshots/portal-*.png``.
"""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.portal import services
from apps.portal.roles import Role
from apps.portal.tests.portal_world import current_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long portal password 42"


def test_invited_admin_enrols_then_signs_in_with_a_code(
    live_server, settings, operator, page, screenshot
):
    settings.PUBLIC_BASE_URL = live_server.url
    invitation = services.invite_create(
        operator=operator, email="ada@example.com", role=Role.ADMIN, invited_by=None
    )
    # the invitation
    page.goto(invitation.url)
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("[data-testid=invite-accept]")
    # enrolment, and nothing else until it is done
    page.wait_for_selector("[data-testid=totp-qr]")
    assert page.locator("[data-testid=two-factor-required]").is_visible()
    assert page.locator("[data-testid=two-factor-skip]").count() == 0
    screenshot("portal-two-factor-enrol")
    page.goto(f"{live_server.url}/portal/")
    page.wait_for_selector("[data-testid=totp-qr]")
    device = TOTPDevice.objects.get(user__username="ada", confirmed=False)
    page.fill("input[name=token]", current_code(device))
    page.click("[data-testid=totp-confirm]")
    # the dashboard
    page.wait_for_selector("[data-testid=portal-bar]")
    assert page.locator("[data-testid=portal-operator]").inner_text() == operator.name
    screenshot("portal-dashboard-after-enrol")
    # sign out (a POST), then in again with the code
    page.locator("#logout-form button").click()
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", PASSWORD)
    # django-otp refuses a code already used (a replay); the enrolment used this window's
    # one, so the test forgets it rather than waiting up to 30 s for the next
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    code = current_code(device)
    page.fill("input[name=otp_token]", code)
    screenshot("portal-sign-in")
    page.click("#login-form input[type=submit]")
    page.wait_for_selector("[data-testid=portal-bar]")
