"""An operator admin in a real browser: signing in to the portal with a password and a
one-time code, the dashboard at 1280 px and on a tablet, a CSV export of their transactions,
and rotating their API key and secret. The data is the demo's: a month of play over real
HTTP against the sandbox operator, and last month's invoice."""

from __future__ import annotations

import csv
import io
import random
import time

import pytest

from apps.operators import clients
from apps.portal.tests.portal_world import PASSWORD, current_code, member, totp_device
from apps.sandbox.demo import demo_last_month, demo_setup
from apps.transactions.models import Transaction
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = (820, 1180)


@pytest.fixture
def demo(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    world = demo_setup(base_url=live_server.url)
    demo_last_month(world, rng=random.Random(7), issue=True)
    yield world
    if clients._client is not None:
        clients._client.close()
        clients._client = None


def _sign_in(page, base: str, username: str, device) -> None:
    page.goto(f"{base}/portal/")
    page.wait_for_selector("#login-form")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", current_code(device))
    page.click("input[type=submit]")
    try:
        page.wait_for_selector("[data-testid=portal-dashboard]")
    except Exception:
        _shot(page, "portal-debug")
        print(page.content()[:5000])
        raise


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_an_operator_admin_signs_in_with_a_code_and_sees_their_dashboard(
    open_page, live_server, demo
):
    admin = member(demo.operator, username="casino-admin")
    device = totp_device(admin.user)
    page = open_page(1280)
    page.goto(f"{live_server.url}/portal/")
    page.wait_for_selector("#login-form")
    # a wrong code is refused, with the form again
    page.fill("#id_username", "casino-admin")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", "000000" if current_code(device) != "000000" else "111111")
    page.click("input[type=submit]")
    page.wait_for_selector(".errornote")
    assert page.locator("[data-testid=portal-dashboard]").count() == 0
    _shot(page, "portal-01-sign-in-refused")
    time.sleep(1.5)  # django-otp makes the device wait a second after a wrong code
    _sign_in(page, live_server.url, "casino-admin", device)
    bar = page.locator("[data-testid=portal-bar]").inner_text()
    assert demo.operator.name in bar and "Operator admin" in bar
    assert _fits(page)
    _shot(page, "portal-02-dashboard-1280")
    # the same page on a tablet
    page.set_viewport_size({"width": TABLET[0], "height": TABLET[1]})
    page.reload()
    page.wait_for_selector("[data-testid=portal-dashboard]")
    assert _fits(page)
    _shot(page, "portal-03-dashboard-tablet")


def test_an_operator_admin_exports_their_transactions_as_csv(open_page, live_server, demo):
    admin = member(demo.operator, username="casino-admin")
    device = totp_device(admin.user)
    page = open_page(1280)
    _sign_in(page, live_server.url, "casino-admin", device)
    page.hover("#cp-nav [data-section=money] > a")
    page.click("#cp-nav a[data-entry='transactions.transaction']")
    page.wait_for_selector("#result_list")
    assert _fits(page)
    _shot(page, "portal-04-transactions")
    page.click("a.export_link")
    page.wait_for_selector("select[name=format]")
    page.select_option("select[name=format]", label="csv")
    with page.expect_download() as download:
        page.click("#content input[type=submit]")
    assert download.value.suggested_filename.endswith(".csv")
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    ours = Transaction.objects.filter(operator=demo.operator).count()
    assert ours > 0 and len(rows) == ours


def test_an_operator_admin_rotates_the_key_and_secret(open_page, live_server, demo):
    admin = member(demo.operator, username="casino-admin")
    device = totp_device(admin.user)
    page = open_page(1280)
    _sign_in(page, live_server.url, "casino-admin", device)
    page.goto(f"{live_server.url}/portal/keys/")
    page.wait_for_selector("[data-testid=portal-keys]")
    assert "None in progress" in page.inner_text("[data-testid=rotation-state]")
    page.select_option("select[name=overlap_hours]", "24")
    page.fill("textarea[name=reason]", "Yearly rotation")
    _shot(page, "portal-05-keys")
    page.click("[data-testid=rotate]")
    page.wait_for_selector("[data-testid=keys-revealed]")
    new_key = page.inner_text("[data-testid=new-api-key]")
    assert len(new_key) >= 20
    _shot(page, "portal-06-keys-shown-once")
    page.click("a.button:text('Done')")
    page.wait_for_selector("[data-testid=rotation-finish]")
    assert new_key not in page.content()
    assert "In progress" in page.inner_text("[data-testid=rotation-state]")
    page.click("[data-testid=rotation-finish]")
    page.wait_for_selector(".messagelist")
    assert "None in progress" in page.inner_text("[data-testid=rotation-state]")
    _shot(page, "portal-07-keys-finished")
    demo.operator.refresh_from_db()
    assert not demo.operator.rotation_in_overlap()


def test_staff_view_the_portal_as_an_operator_read_only_and_audited(open_page, live_server, demo):
    from apps.backoffice.models import StaffAction
    from apps.backoffice.tests.admin_world import staff_user

    user = staff_user("ops", "Operations")
    user.set_password(PASSWORD)
    user.save()
    page = open_page(1280)
    page.goto(f"{live_server.url}/admin/login/?next=/portal/view-as/{demo.operator.pk}/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("[data-testid=portal-view-as]")
    page.fill("textarea[name=reason]", "Ticket 1234: the operator asks about a payout")
    page.click("[data-testid=view-as-start]")
    page.wait_for_selector("[data-testid=portal-dashboard]")
    assert "nothing can be changed here" in page.inner_text("[data-testid=portal-bar]")
    assert _fits(page)
    _shot(page, "portal-08-staff-view-as")
    audit = StaffAction.objects.get(action="portal_view_as")
    assert (audit.username, audit.target_id) == ("ops", str(demo.operator.pk))
    assert audit.reason == "Ticket 1234: the operator asks about a payout"
    # read-only: the configuration shows, without a save button
    page.goto(f"{live_server.url}/portal/configuration/")
    page.wait_for_selector("[data-testid=portal-configuration]")
    assert page.locator("[data-testid=configuration-save]").count() == 0
    # the lists and a pool's page on a tablet
    page.set_viewport_size({"width": TABLET[0], "height": TABLET[1]})
    page.goto(f"{live_server.url}/portal/transactions/transaction/")
    page.wait_for_selector("#result_list")
    _shot(page, "portal-09-transactions-tablet")
    assert _fits(page)
    page.goto(f"{live_server.url}/portal/pools/pool/")
    page.wait_for_selector("#result_list")
    page.click("#result_list tbody tr:first-child th a, #result_list tbody tr:first-child td a")
    page.wait_for_selector("#content-main")
    _shot(page, "portal-10-pool-tablet")
    assert _fits(page)
    page.click("[data-testid=view-as-stop]")
    page.wait_for_url(f"{live_server.url}/admin/")
