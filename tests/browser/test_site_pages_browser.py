"""The start page and the lockout page in Chromium: links work, the icon loads, nothing is cut."""

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [360, 1280])
def test_the_start_page_leads_to_the_back_office(page, live_server, screenshot, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server.url}/")
    # then: every card is on screen, none wider than the page
    cards = page.locator(".card")
    assert cards.count() >= 3
    for index in range(cards.count()):
        box = cards.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    icon = page.evaluate(
        "fetch('/favicon.ico').then(r => [r.status, r.headers.get('content-type')])"
    )
    assert icon[0] == 200 and "svg" in icon[1]
    screenshot(f"site-start-page-{width}")
    # when: the back-office card is followed
    page.get_by_test_id("landing-admin").click()
    page.wait_for_url("**/admin/login/**")
    assert page.locator("#id_username").is_visible()


@override_settings(AXES_ENABLED=True)
def test_a_locked_out_sign_in_shows_how_long_to_wait(page, live_server, screenshot):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "right-password-1")
    for _ in range(5):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "boss")
        page.fill("#id_password", "wrong")
        page.click("input[type=submit]")
    notice = page.get_by_test_id("lockout")
    assert notice.is_visible()
    assert "Try again in" in page.get_by_test_id("lockout-wait").inner_text()
    screenshot("site-lockout-page")
