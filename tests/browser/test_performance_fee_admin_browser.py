"""The performance fee in the admin, in a real browser as an Operations user: a streamer's
rate refused above 50 % (nothing changed), then set and audited; the position page shows
the rate, the mark and the fees paid."""

from decimal import Decimal

import pytest

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import staff_user
from apps.streamers.models import Streamer
from apps.streamers.services import stream_start
from apps.transactions.models import Receipt
from apps.transactions.services import position_join, position_leave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ops_page(page, live_server, operator):
    staff_user("ops", "Operations")  # password "pw"
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector(".cp-cards")
    return page


def test_staff_set_a_streamers_fee_and_see_it_charged_on_the_position(
    ops_page, live_server, operator, streamer, fake, make_session, screenshot
):
    page = ops_page
    url = f"{live_server.url}/admin/streamers/streamer/{streamer.pk}/change/"
    # when: 60 %
    page.goto(url)
    page.fill("#id_performance_fee_percent", "60")
    page.fill("#id_change_reason", "Asked for more")
    page.click("input[name=_continue]")
    # then: refused on the field, nothing changed
    page.wait_for_selector(".errorlist")
    assert "50" in page.locator(".form-row.field-performance_fee_percent .errorlist").inner_text()
    screenshot("fee-admin-01-refused")
    assert Streamer.objects.get(pk=streamer.pk).performance_fee_percent is None
    # when: 20 %
    page.fill("#id_performance_fee_percent", "20")
    page.fill("#id_change_reason", "Agreed for the season")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")
    # then: saved and audited, the fee in force on the page
    assert Streamer.objects.get(pk=streamer.pk).performance_fee_percent == Decimal(20)
    assert "20 % (its own)" in page.locator(".fieldBox.field-fee_in_force").inner_text()
    action = StaffAction.objects.get(action="streamer_update")
    assert (action.username, action.reason) == ("ops", "Agreed for the season")
    screenshot("fee-admin-02-set")
    # given: a follower joins, the streamer doubles the balance, the follower leaves
    session = make_session("f1")
    position = position_join(session=session, streamer_id=streamer.pk, amount="100")
    fake.streamer_balance[streamer.operator_user_id] *= 2
    position_leave(session=session, position_id=position.pk)
    receipt = Receipt.objects.get(kind="leave")
    # when: staff open the position
    page.goto(f"{live_server.url}/admin/followers/position/{position.pk}/change/")
    screenshot("fee-admin-03-position")
    # then: the rate, the mark (0 once left), the fees paid (the receipts' gross and fee are
    # on the page for users who may view receipts: test_performance_fee_admin)
    assert (
        "20 %"
        in page.locator(".form-row.field-fee_rate, .fieldBox.field-fee_rate").first.inner_text()
    )
    fees = page.locator(".field-money_fees_paid .cp-money").first
    assert fees.get_attribute("title") == f"{receipt.fee:.8f}"  # exact on hover
    assert f"{receipt.fee:,.2f}" in fees.inner_text()  # 2 decimals shown
    mark = page.locator(".field-money_mark .cp-money").first
    assert mark.get_attribute("title") == "0.00000000" and "0.00" in mark.inner_text()


@pytest.fixture(autouse=True)
def _live(streamer):
    if not streamer.streams.filter(status="live").exists():
        stream_start(streamer=streamer)
