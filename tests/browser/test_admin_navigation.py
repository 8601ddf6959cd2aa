"""The back office's top bar in a real browser: the sections by job at 1280 and 1440 px, a
section's menu, the global search box and its results, and an entry leading to its page."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps.backoffice.tests.admin_world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pw-12345"
SECTIONS = ["Operations", "Finance", "Integrations", "Administration", "Sandbox"]


@pytest.fixture
def world(db):
    world = build_world(pools=3, transactions=30)
    get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)
    return world


def log_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector(".cp-cards")


@pytest.mark.parametrize("width", [1280, 1440])
def test_the_top_bar_fits_and_marks_the_dashboard(open_page, live_server, world, width):
    page = open_page(width)
    log_in(page, live_server)
    nav = page.get_by_test_id("cp-nav")
    # then: the sections in order, one row under the header, the search box on the same row
    tops = nav.locator("a.cp-nav-top")
    assert [text.strip() for text in tops.all_inner_texts()][: len(SECTIONS)] == SECTIONS
    boxes = [tops.nth(i).bounding_box() for i in range(tops.count())]
    assert len({round(box["y"]) for box in boxes}) == 1, "the sections wrapped"
    search = nav.locator("input[name=q]").bounding_box()
    assert abs(search["y"] + search["height"] / 2 - (boxes[0]["y"] + boxes[0]["height"] / 2)) < 4
    assert search["x"] + search["width"] <= width
    header = page.locator("#header").bounding_box()
    assert boxes[0]["y"] >= header["y"] + header["height"] - 1
    # the dashboard is the current page: Operations is marked, and the entry in its menu
    assert nav.locator(".cp-nav-section.is-active").get_attribute("data-section") == "operations"
    nav.locator("[data-section=operations] > a.cp-nav-top").hover()
    current = nav.locator("[data-section=operations] a[aria-current=page]")
    expect(current).to_have_text("Dashboard")
    page.screenshot(path=str(_shot(f"nav-menu-{width}")), full_page=False)
    page.mouse.move(width // 2, 700)
    expect(nav.locator("[data-section=operations] .cp-nav-menu")).to_be_hidden()
    page.screenshot(path=str(_shot(f"nav-{width}")), full_page=True)


def test_a_section_menu_search_and_an_entry(open_page, live_server, world):
    page = open_page(1440)
    log_in(page, live_server)
    nav = page.get_by_test_id("cp-nav")
    # when: Finance's menu opens on hover
    finance = nav.locator("[data-section=finance]")
    menu = finance.locator(".cp-nav-menu")
    expect(menu).to_be_hidden()
    finance.locator("a.cp-nav-top").hover()
    expect(menu).to_be_visible()
    assert "Invoices" in menu.inner_text() and "Exports" in menu.inner_text()
    page.screenshot(path=str(_shot("nav-menu-finance")), full_page=False)
    # and: it opens from the keyboard too (focus inside the section)
    page.mouse.move(5, 600)
    expect(menu).to_be_hidden()
    finance.locator("a.cp-nav-top").focus()
    expect(menu).to_be_visible()
    # when: the search box is used with a streamer's operator user id prefix
    streamer = world.pools[0].streamer
    box = nav.locator("input[name=q]")
    box.fill(streamer.operator_user_id[:-1])
    box.press("Enter")
    page.wait_for_selector(".cp-search")
    # then: the results, grouped by kind, the query kept in the box
    assert nav.locator("input[name=q]").input_value() == streamer.operator_user_id[:-1]
    streamers = page.locator(".cp-search-group[data-kind=streamer]")
    expect(streamers).to_contain_text(streamer.display_name)
    assert page.locator(".cp-search-group[data-kind=pool]").count() == 1
    page.screenshot(path=str(_shot("search-results")), full_page=True)
    # when: a result is opened, then an entry of a menu
    streamers.get_by_role("link", name=streamer.display_name, exact=False).first.click()
    page.wait_for_url(f"**/admin/streamers/streamer/{streamer.pk}/change/")
    assert nav.locator(".cp-nav-section.is-active").get_attribute("data-section") == "operations"
    nav.locator("[data-section=integrations] a.cp-nav-top").hover()
    nav.locator("[data-section=integrations] a[data-entry='operators.calllog']").click()
    page.wait_for_url("**/admin/operators/calllog/")
    # then: the call log's page, Integrations marked, the entry current
    assert nav.locator(".cp-nav-section.is-active").get_attribute("data-section") == "integrations"
    assert nav.locator("a[aria-current=page]").get_attribute("data-entry") == "operators.calllog"
    page.screenshot(path=str(_shot("nav-changelist")), full_page=False)
    # and in the dark theme, the bar and its menu keep their contrast
    page.emulate_media(color_scheme="dark")
    nav.locator("[data-section=operations] a.cp-nav-top").hover()
    expect(nav.locator("[data-section=operations] .cp-nav-menu")).to_be_visible()
    page.screenshot(path=str(_shot("nav-dark")), full_page=False)


def test_no_result_and_the_exports_page(open_page, live_server, world):
    page = open_page(1280)
    log_in(page, live_server)
    box = page.get_by_test_id("cp-nav").locator("input[name=q]")
    box.fill("no-such-id-anywhere")
    box.press("Enter")
    expect(page.get_by_test_id("search-message")).to_contain_text("Nothing matches")
    page.goto(f"{live_server.url}/admin/exports/")
    rows = page.locator(".cp-exports-table tbody tr")
    assert rows.count() == 5
    page.screenshot(path=str(_shot("exports")), full_page=True)
    page.locator("tr[data-export=transactions] a", has_text="Filter the list").click()
    page.wait_for_url("**/admin/transactions/transaction/")
    assert page.locator("a.export_link").count() == 1


def _shot(name: str):
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
