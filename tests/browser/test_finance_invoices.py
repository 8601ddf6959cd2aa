"""A finance user in a real browser: the invoice list, last month's invoice of the demo (its
history made over real HTTP against the sandbox operator, then backdated, as the demo does),
issuing it through the confirmation page, and downloading its PDF."""

import random
from decimal import Decimal

import httpx
import pytest

from apps.backoffice.tests.admin_world import staff_user
from apps.operators import clients
from apps.sandbox.demo import demo_last_month, demo_setup
from apps.transactions.models import DailySettlement, Invoice, JournalEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw"


@pytest.fixture
def demo_draft(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    world = demo_setup(base_url=live_server.url)
    draft = demo_last_month(world, rng=random.Random(7), issue=False)
    yield draft
    if clients._client is not None:
        clients._client.close()
        clients._client = None


def test_finance_issues_last_months_invoice_and_downloads_the_pdf(
    page, live_server, demo_draft, screenshot
):
    # given: last month's draft, tied to its settlements
    assert demo_draft is not None and demo_draft.state == "draft"
    days = list(
        DailySettlement.objects.filter(
            operator=demo_draft.operator,
            day__gte=demo_draft.period_start,
            day__lte=demo_draft.period_end,
        ).order_by("day")
    )
    assert len(days) >= 3 and sum(d.money_in for d in days) > 0
    lines = list(demo_draft.lines.filter(day__isnull=False))
    assert [line.amount for line in lines] == [d.fees for d in days]
    assert demo_draft.total == max(sum((d.fees for d in days), Decimal(0)), Decimal(100))
    user = staff_user("fin", "Finance")
    user.set_password(PASSWORD)
    user.save()
    # when: the finance user logs in and opens the invoice list
    page.goto(f"{live_server.url}/admin/login/?next=/admin/transactions/invoice/")
    page.fill("#id_username", "fin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")
    assert "Totals of this filter" in page.content()
    total = page.locator("#result_list .cp-money").first
    assert total.get_attribute("title") == f"{demo_draft.total:.8f}"  # exact, plain
    screenshot("finance-01-invoice-list")
    # the draft's page, its lines and the Issue button
    page.click(f"#result_list a:text('draft #{demo_draft.pk}')")
    page.wait_for_selector(".cp-table")
    assert "Monthly minimum" in page.content() or demo_draft.minimum_charge == 0
    screenshot("finance-02-draft")
    page.click("a.cp-action:text('Issue')")
    # the confirmation page says what will happen; nothing happened yet
    page.wait_for_selector("text=Issue: are you sure?")
    assert Invoice.objects.get(pk=demo_draft.pk).state == "draft"
    page.fill("textarea[name=reason]", "Monthly invoice, checked against the settlements")
    screenshot("finance-03-confirm")
    page.click("input[type=submit][value='Yes, issue']")
    page.wait_for_selector(".messagelist")
    issued = Invoice.objects.get(pk=demo_draft.pk)
    year = demo_draft.period_start.year
    assert (issued.state, issued.number) == ("issued", f"INV-{year}-000001")
    assert JournalEntry.objects.get(invoice=issued, kind="invoice").amount == issued.total
    assert issued.number in page.content()
    screenshot("finance-04-issued")
    # then: the PDF downloads
    pdf_link = page.locator("a:text('PDF')").first
    href = pdf_link.get_attribute("href")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    response = httpx.get(f"{live_server.url}{href}", cookies=cookies, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    with page.expect_download() as download:
        pdf_link.click()
    assert download.value.suggested_filename == f"{issued.number}.pdf"
    # and the document as printed, to look at
    page.goto(f"{live_server.url}{href.replace('document.pdf', 'document.html')}")
    page.wait_for_selector("table")
    assert issued.number in page.content()
    screenshot("finance-05-document")
