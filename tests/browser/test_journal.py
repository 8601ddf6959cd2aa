"""The journal's pages in a real browser, as a Finance user: the trial balance (grand total 0,
agreement with the transaction log) and an account statement over a chosen period."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.backoffice.tests.test_journal_admin import journal_staff
from apps.transactions.finance.models import JournalAccount
from apps.transactions.services import position_join, position_leave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(fake, streamer, make_session):
    first = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="50.12345678")
    fake.streamer_balance["streamer-1"] = Decimal("2300.24691356")  # NAV 2
    position_leave(session=first.session, position_id=first.pk)
    return first


@pytest.fixture
def finance(page, live_server, history):
    journal_staff("finance", "Finance")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "finance")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#content")
    return page


def test_trial_balance_shows_each_currency_balanced_and_agreeing(finance, live_server, screenshot):
    page = finance
    # given: from the journal entries' list, the link to the trial balance
    page.goto(f"{live_server.url}/admin/transactions/journalentry/")
    page.wait_for_selector("#result_list")
    assert "entries" in page.locator(".cp-journal-totals").inner_text()
    screenshot("journal-01-entries")
    page.click("a.cp-trial-balance-link")
    page.wait_for_selector(".cp-trial-table")
    # then: per kind, with 2 decimals and the exact value on hover; the total is 0
    table = page.locator(".cp-trial-table[data-currency=USD]")
    text = table.inner_text()
    assert "Follower wallet" in text and "Pool (money in transit)" in text
    assert "= 0, balanced" in table.locator("tfoot").inner_text()
    debits = table.locator("tfoot .cp-money").nth(0)
    assert debits.inner_text().startswith("700.25")
    assert debits.get_attribute("title") == "700.24691356"
    assert page.locator(".cp-agreement").get_attribute("data-agrees") == "yes"
    assert "agrees" in page.locator(".cp-agreement-table").inner_text()
    screenshot("journal-02-trial-balance")
    # when: per account
    page.check("#id_by_account")
    page.click("input[value=Show]")
    page.wait_for_selector(".cp-trial-table")
    assert page.locator(".cp-trial-table a[href*='/statement/']").count() == 4
    screenshot("journal-03-trial-balance-per-account")


def test_account_statement_over_a_period(finance, live_server, history, screenshot):
    page = finance
    account = JournalAccount.objects.get(key=f"follower:{history.follower_id}:USD")
    # given: the account list, searched by key, and its statement link
    page.goto(f"{live_server.url}/admin/transactions/journalaccount/?q={account.key}")
    page.wait_for_selector("#result_list")
    screenshot("journal-04-accounts")
    page.click("#result_list a:has-text('statement')")
    page.wait_for_selector(".cp-statement-table")
    # when: the period is today only
    today = timezone.localdate().isoformat()
    page.fill("#id_start", today)
    page.fill("#id_end", today)
    page.click("input[value=Show]")
    page.wait_for_selector(".cp-statement-table")
    # then: the BET out, the WIN in, the running balance, opening 0 and closing +100
    rows = page.locator(".cp-statement-table tbody tr")
    assert rows.count() == 3  # opening + 2 lines
    assert rows.nth(1).locator("td").nth(5).inner_text().strip() == "100.00"
    assert rows.nth(1).locator("td").nth(6).inner_text().strip() == "-100.00"
    assert rows.nth(2).locator("td").nth(4).inner_text().strip() == "200.00"
    assert page.locator("[data-opening]").inner_text().startswith("0.00")
    closing = page.locator("[data-closing] .cp-money")
    assert closing.inner_text().startswith("100.00")
    assert closing.get_attribute("title") == "100.00000000"
    screenshot("journal-05-statement")
