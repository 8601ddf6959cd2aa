"""The follower's page support start a ticket from, in a real browser at 1280 px as an
Operations user: who the player is, blocked by whom and why (with the Unblock button), the net
result, open and closed positions, the latest transactions with their sagas and operator
calls, sessions and the "see all" links; and the staff action log read by labels.
Screenshots: ``artifacts/screenshots/follower-page-1280.png``, ``staff-actions-labels.png``."""

from decimal import Decimal

import pytest

from apps.backoffice.followers import follower_block_by_staff
from apps.backoffice.services import staff_action_record
from apps.backoffice.tests.admin_world import staff_user
from apps.followers.models import Position
from apps.operators.models import CallLog
from apps.transactions.models import Transaction
from apps.transactions.services import position_join, position_leave
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def follower(fake, streamer, make_session):
    """f1: a position that closed with a gain, one open, one failed join; blocked by ops."""
    first = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    fake.streamer_balance["streamer-1"] = Decimal("1210")  # NAV 1.1
    position_leave(session=first.session, position_id=first.pk)
    open_one = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="50")
    assert open_one.status == "active"
    fake.wallet["f1"] = Decimal(1)
    failed = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="20")
    assert failed.status == "failed"
    ops = staff_user("ops", "Operations")
    follower = first.follower
    follower_block_by_staff(
        follower=follower, pay_out_now=False, who="ops", reason="Chargebacks on three deposits"
    )
    staff_action_record(
        user=ops,
        action="follower_block",
        target=follower,
        reason="Chargebacks on three deposits",
        outcome="done",
        message="blocked; 1 open position(s) stay",
    )
    # The in-memory operator logs no call: the call log the real gateway writes, one a movement.
    for tx in Transaction.objects.filter(follower=follower).exclude(status="failed"):
        CallLog.objects.create(
            operator=tx.operator,
            direction="out",
            endpoint="transfer" if "streamer" in tx.kind else "wallet/withdraw",
            url="http://operator.invalid/cb",
            response_status=200,
            outcome="success",
            latency_ms=40,
            external_id=tx.external_id,
        )
    return follower


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_follower_page_and_the_staff_action_labels(open_page, live_server, follower):
    page = open_page(1280)
    log_in(page, live_server, "ops")
    # when
    page.goto(f"{live_server.url}/admin/followers/follower/{follower.pk}/change/")
    summary = page.locator(".cp-summary")
    summary.wait_for()
    # then: who, the block with who and why, and the Unblock button in the header
    assert "f1" in summary.locator(".cp-summary-who").inner_text()
    block = summary.locator(".cp-summary-block").inner_text()
    assert "blocked" in block and "ops" in block and "Chargebacks on three deposits" in block
    assert summary.locator("a.cp-action:has-text('Unblock')").count() == 1
    # the positions: 1 open, 1 closed, 1 failed join
    positions = summary.locator(".cp-summary-positions").inner_text()
    assert "Open\n1" in positions and "Closed\n1" in positions
    # the net result: 150 debited (the failed BET took nothing), 110 back: -40 so far, and
    # the open position is worth 50
    net = summary.locator(".cp-net-result tbody tr").first.locator("td")
    figures = [net.nth(i).inner_text().replace(",", "") for i in range(5)]
    assert figures[0] == "USD"
    assert [figure.split(".")[0] for figure in figures[1:]] == ["150", "110", "-40", "50"]
    # the latest transactions, each with its saga and its operator calls
    rows = page.locator(".cp-latest-transactions tbody tr")
    assert rows.count() == Transaction.objects.filter(follower=follower).count()
    assert rows.first.locator("a[href*='/transactions/saga/']").count() == 1
    see_all = page.locator(".cp-see-all")
    for name in ("positions", "transactions", "sessions", "operator calls", "staff actions"):
        assert see_all.locator(f"a:text-is('{name}')").count() == 1
    shoot(page, "follower-page-1280")
    # nothing scrolls sideways at 1280 px
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # when: a transaction's calls
    page.locator(".cp-latest-transactions a:has-text('call')").first.click()
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() >= 1
    # when: all the follower's calls
    page.goto(f"{live_server.url}/admin/followers/follower/{follower.pk}/change/")
    page.locator(".cp-see-all a:text-is('operator calls')").click()
    page.wait_for_selector("#result_list")
    wallet_calls = page.locator("#result_list tbody tr").count()
    assert wallet_calls >= Position.objects.filter(follower=follower).count()

    # when: the staff action log
    page.goto(f"{live_server.url}/admin/backoffice/staffaction/")
    page.wait_for_selector("#result_list")
    # then: the action by its label, and the filter by labels
    assert page.locator("#result_list td.field-action_name").first.inner_text() == (
        "Block follower"
    )
    assert "follower_block" not in page.locator("#result_list").inner_text()
    assert page.locator("#changelist-filter a:text-is('Block follower')").count() == 1
    shoot(page, "staff-actions-labels")
