"""The back office in a real browser: log in, the dashboard, a pool with its chart, a
confirmed action, the review queue and a CSV export."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import build_world
from apps.pools.models import Pool, PoolSnapshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pw-12345"


@pytest.fixture
def world(db):
    world = build_world(pools=3, transactions=30)
    get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)
    return world


@pytest.fixture
def logged_in(page, live_server, world):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector(".cp-cards")
    return page


def test_dashboard_shows_the_figures_and_the_chart(logged_in, live_server, world, screenshot):
    page = logged_in
    # then: every figure of the brief is on the first page, with the pooled-value chart
    cards = page.locator(".cp-card")
    assert cards.count() == 7
    assert page.locator("[data-card=open-pools] .cp-card-value").inner_text() == "3"
    assert page.locator("[data-card=locks] .cp-card-value").inner_text() == "3"
    assert "1 stale lock" in page.locator("[data-card=locks]").inner_text()
    assert "never" not in page.locator("[data-card=reconciliation]").inner_text()
    assert page.locator("svg.cp-chart polyline").count() == 1
    # money on the tiles: 2 decimals, the exact value on hover
    money = page.locator("[data-card=open-pools] .cp-card-money").first
    assert money.inner_text().split()[0].split(".")[1].__len__() == 2
    assert len(money.get_attribute("title").split()[0].split(".")[1]) == 8
    screenshot("01-dashboard")


def test_dashboard_tiles_refresh_on_their_own(logged_in, live_server, world, screenshot):
    page = logged_in
    assert page.locator("[data-card=open-pools] .cp-card-value").inner_text() == "3"
    # when: a pool closes behind the page's back and the refresh comes round
    Pool.objects.filter(pk=world.pools[0].pk).update(state=Pool.State.CLOSED)
    page.evaluate("window.copypoolDashboardRefresh()")
    # then: the tile shows it without a reload, and says when it was updated
    from playwright.sync_api import expect

    expect(page.locator("[data-card=open-pools] .cp-card-value")).to_have_text("2")
    assert page.get_by_test_id("refresh-status").inner_text().startswith("Updated")
    screenshot("01b-dashboard-refreshed")


def test_pool_page_chart_and_refresh_action(logged_in, live_server, world, fake, screenshot):
    page = logged_in
    pool = world.pools[0]
    fake.streamer_balance[pool.streamer.operator_user_id] = Decimal("1234.56789012")
    page.goto(f"{live_server.url}/admin/pools/pool/")
    page.wait_for_selector("#result_list")
    screenshot("02-pools-list")
    page.goto(f"{live_server.url}/admin/pools/pool/{pool.pk}/change/")
    # then: both charts are drawn from the snapshots
    charts = page.locator(".cp-charts svg.cp-chart")
    assert charts.count() == 2
    assert page.locator(".cp-charts svg polyline").count() == 2
    screenshot("03-pool-detail")
    # when: refresh balance now, through its confirmation page
    page.click("text=Refresh balance now")
    page.wait_for_selector("textarea[name=reason]")
    page.fill("textarea[name=reason]", "Operator asked us to re-check the balance")
    screenshot("04-pool-action-confirm")
    page.click("input[type=submit][value^='Yes']")
    page.wait_for_selector(".messagelist")
    # then: the balance moved, a snapshot was taken and the action is on record
    assert "balance 1,234.56789012 USD" in page.locator(".messagelist").inner_text()
    screenshot("05-pool-action-done")
    assert Pool.objects.get(pk=pool.pk).balance == Decimal("1234.56789012")
    assert PoolSnapshot.objects.filter(pool=pool).count() == 7
    action = StaffAction.objects.get(action="pool_refresh_balance")
    assert (action.username, action.outcome) == ("ops", "done")
    assert action.reason == "Operator asked us to re-check the balance"


def test_review_queue_locks_and_operator_pages(logged_in, live_server, world, screenshot):
    page = logged_in
    page.goto(f"{live_server.url}/admin/backoffice/reviewitem/")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() > 0
    screenshot("06-review-queue")
    first = page.locator("#result_list tbody tr th a").first
    first.click()
    page.wait_for_selector("text=Calls for this transaction")
    screenshot("07-review-item")
    page.goto(f"{live_server.url}/admin/backoffice/withdrawallock/")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list .cp-stale").count() == 1
    screenshot("08-withdrawal-locks")
    page.goto(f"{live_server.url}/admin/operators/operator/{world.operator.pk}/change/")
    assert "NEVER-SHOWN" not in page.content()
    screenshot("09-operator")
    page.goto(f"{live_server.url}/admin/operators/calllog/")
    screenshot("10-call-log")


def test_transactions_export_csv(logged_in, live_server, world, screenshot):
    page = logged_in
    page.goto(f"{live_server.url}/admin/transactions/transaction/?status__exact=succeeded")
    page.wait_for_selector("#result_list")
    screenshot("11-transactions")
    page.click("a.export_link")
    page.wait_for_selector("select[name=format]")
    page.select_option("select[name=format]", label="csv")
    screenshot("12-export-form")
    with page.expect_download() as download_info:
        page.click("input[type=submit]")
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    # then: the filtered rows, all the resource's columns, amounts with 8 places
    assert rows[0][:3] == ["id", "external_id", "created_at"]
    expected = [t for t in world.transactions if t.status == "succeeded"]
    assert len(rows) - 1 == len(expected)
    amount_at = rows[0].index("amount")
    assert all(len(row[amount_at].split(".")[1]) == 8 for row in rows[1:])
    assert download.suggested_filename.endswith(".csv")


def test_pages_with_scripts_of_their_own_work_under_the_csp(logged_in, live_server, screenshot):
    """Swagger UI, Redoc and the periodic-task form run scripts the policy must let through
    (the ``page`` fixture fails on anything it blocks)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    page = logged_in
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "CopyPool API" in page.locator(".swagger-ui .info .title").inner_text()
    screenshot("13-api-docs")
    page.goto(f"{live_server.url}/api/redoc/")
    page.wait_for_selector("h1:has-text('CopyPool API')")
    # Redoc's footer logo comes from its CDN: refused, as everything from outside is.
    page.csp_blocked[:] = [text for text in page.csp_blocked if "cdn.redoc.ly" not in text]
    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
    task = PeriodicTask.objects.create(name="csp-check", task="csp.check", interval=every)
    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/{task.pk}/change/")
    page.wait_for_selector("#id_crontab")
    assert page.evaluate("typeof readableCrontabs") == "object"
