"""Run now, the review queue's rolled-back joins and the pool page's close cause, in Chromium:
what a new operations analyst and a finance user click through."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from apps.backoffice.groups import FINANCE, OPERATIONS
from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import staff_user
from apps.operators.models import Operator
from apps.pools.models import Pool
from apps.streamers.models import Stream
from apps.transactions.finance.invoices import utc_today
from apps.transactions.models import DailySettlement, ReconciliationRun, Transaction
from apps.transactions.services import position_join
from tests.broker.operator_server import FakeOperatorServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pw-12345"


@pytest.fixture
def server(operator):
    with FakeOperatorServer() as server:
        Operator.objects.filter(pk=operator.pk).update(
            callback_url=server.callback_url, wallet_url=server.wallet_url
        )
        yield server


def log_in(page, live_server, username, *groups):
    user = staff_user(username, *groups)
    user.set_password(PASSWORD)
    user.save()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content")
    return user


def test_operations_runs_a_reconciliation_now(
    page, live_server, server, streamer, make_session, screenshot
):
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    user = log_in(page, live_server, "ana", OPERATIONS)

    page.goto(f"{live_server.url}/admin/transactions/reconciliationrun/")
    page.get_by_test_id("run-now").click()
    page.wait_for_selector("[data-testid=run-now-form]")
    page.fill("textarea[name=reason]", "Operator asked for a balance check")
    screenshot("run-now-reconciliation-confirm")
    page.click("input[type=submit][value='Yes, run it now']")

    # then: the run's own page, with what it checked as a table
    page.wait_for_selector(".messagelist")
    run = ReconciliationRun.objects.get()
    assert page.url.endswith(f"/admin/transactions/reconciliationrun/{run.pk}/change/")
    assert run.trigger == ReconciliationRun.Trigger.MANUAL
    assert run.checked["balances_read"] == 1
    assert "Manual" in page.locator("#content").inner_text()
    screenshot("run-now-reconciliation-done")
    action = StaffAction.objects.get(action="reconciliation_run_now")
    assert (action.user, action.reason) == (user, "Operator asked for a balance check")


def test_finance_settles_a_day_now(page, live_server, server, streamer, make_session, screenshot):
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    log_in(page, live_server, "fin", FINANCE)
    page.goto(f"{live_server.url}/admin/transactions/dailysettlement/")
    assert not DailySettlement.objects.exists()

    page.get_by_test_id("run-now").click()
    page.wait_for_selector("[data-testid=run-now-form]")
    # a day in the future is refused, and nothing is computed
    page.fill("input[name=day]", (utc_today() + timedelta(days=1)).isoformat())
    page.fill("textarea[name=reason]", "Month-end check")
    page.click("input[type=submit][value='Yes, run it now']")
    expect(page.locator(".errorlist")).to_contain_text("The day is in the future")
    assert not DailySettlement.objects.exists()

    page.fill("input[name=day]", utc_today().isoformat())
    screenshot("run-now-settlement-confirm")
    page.click("input[type=submit][value='Yes, run it now']")
    page.wait_for_selector(".messagelist")
    assert "1 row(s) computed" in page.locator(".messagelist").inner_text()
    assert page.locator("#result_list tbody tr").count() == 1
    assert DailySettlement.objects.get().operator_id == streamer.operator_id
    screenshot("run-now-settlement-done")


def test_rolled_back_joins_and_why_a_pool_closed(
    page, live_server, fake, streamer, make_session, screenshot
):
    fake.fail("withdraw", "timeout_after")
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    joined = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="50")
    rolled_back = Transaction.objects.get(kind="follower_debit", status="rolled_back")
    log_in(page, live_server, "ops", OPERATIONS)

    page.goto(f"{live_server.url}/admin/backoffice/reviewitem/")
    page.get_by_role("link", name="Rolled-back joins").click()
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert rolled_back.external_id[:8] in rows.first.inner_text()
    assert "rolled back automatically" in rows.first.inner_text()
    screenshot("review-rolled-back-joins")

    # a pool the staff settled: its page says so, with who, and links streamer and stream
    pool = joined.pool
    Stream.objects.filter(streamer=streamer).update(
        title="Friday slots", started_at=pool.opened_at - timedelta(minutes=1)
    )
    Pool.objects.filter(pk=pool.pk).update(
        state="closed", close_reason="settled by staff ana, wrong currency"
    )
    page.goto(f"{live_server.url}/admin/pools/pool/{pool.pk}/change/")
    cause = page.locator(".field-close_cause .readonly")
    expect(cause).to_have_text("Settled by staff ana, wrong currency")
    page.get_by_role("link", name="Friday slots").click()
    page.wait_for_selector("#content")
    assert "/admin/streamers/stream/" in page.url
    page.go_back()
    screenshot("pool-why-it-closed")
    page.locator(".fieldBox.field-streamer_link a").click()
    expect(page.locator("#content h2, #content h1").first).to_be_visible()
    assert f"/admin/streamers/streamer/{streamer.pk}/change/" in page.url
