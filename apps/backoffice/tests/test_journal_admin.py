"""The journal's admin pages (accounts, entries, trial balance, account statement) and the
finance exports of positions, fees and journal lines."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.backoffice.tests.admin_world import staff_user
from apps.followers.models import Position
from apps.transactions.finance.models import JournalAccount, JournalEntry, JournalLine
from apps.transactions.models import Receipt, Transaction
from apps.transactions.resources import FeeResource, JournalLineResource, PositionResource
from apps.transactions.services import position_join, position_leave

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)

JOURNAL_VIEW = ("view_journalaccount", "view_journalentry")


def journal_staff(username: str, group: str):
    """A member of ``group``, which may view the journal (the groups' definition gains these
    permissions with the invoices work; granted here when it has not yet)."""
    user = staff_user(username, group)
    Group.objects.get(name=group).permissions.add(
        *Permission.objects.filter(
            content_type__app_label="transactions", codename__in=JOURNAL_VIEW
        )
    )
    return user


@pytest.fixture
def history(fake, streamer, make_session):
    """f1 joins with 100, f2 with 50; the streamer doubles the pool; f1 leaves with 200."""
    first = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    second = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="50")
    fake.streamer_balance["streamer-1"] = D("2300")
    position_leave(session=first.session, position_id=first.pk)
    return first, second


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize("group", ["Finance", "Read-only", "Operations"])
def test_journal_pages_render_for_staff_who_may_view_them(client, history, group):
    first, _ = history
    client.force_login(journal_staff("someone", group))
    account = JournalAccount.objects.get(key=f"follower:{first.follower_id}:USD")
    entry = JournalEntry.objects.get(kind="follower_credit")
    # the accounts: balance with 2 decimals, exact on hover, totals under the list
    accounts = page(client, reverse("admin:transactions_journalaccount_changelist"))
    assert f"follower:{first.follower_id}:USD" in accounts
    assert 'title="100.00000000">100.00' in accounts
    assert "cp-journal-totals" in accounts and "cp-trial-balance-link" in accounts
    assert 'title="0E-8 USD"' not in accounts
    page(client, reverse("admin:transactions_journalaccount_change", args=[account.pk]))
    # the entries, and one entry with its two lines
    entries = page(client, reverse("admin:transactions_journalentry_changelist"))
    assert "6 entries" in entries and 'title="700.00000000">700.00' in entries
    detail = page(client, reverse("admin:transactions_journalentry_change", args=[entry.pk]))
    assert entry.transaction.external_id in detail
    assert detail.count('title="200.00000000"') >= 3  # the amount, a debit, a credit
    # the trial balance: per kind, and the grand total 0
    trial = page(client, reverse("admin:transactions_journalaccount_trial_balance"))
    assert 'data-balanced="yes"' in trial and "= 0, balanced" in trial
    assert 'data-agrees="yes"' in trial
    assert 'title="700.00000000">700.00' in trial
    # the statement of f1's wallet
    statement = page(
        client, reverse("admin:transactions_journalaccount_statement", args=[account.pk])
    )
    assert "2 lines" in statement
    assert 'title="-100.00000000">-100.00' in statement  # the running balance after the BET
    assert 'data-closing><span class="cp-money num" title="100.00000000">100.00' in statement


def test_nothing_on_the_journal_pages_adds_changes_or_deletes(client, history):
    client.force_login(journal_staff("finance", "Finance"))
    entry = JournalEntry.objects.first()
    account = JournalAccount.objects.first()
    lines = JournalLine.objects.count()
    for name, pk in (("journalentry", entry.pk), ("journalaccount", account.pk)):
        listing = page(client, reverse(f"admin:transactions_{name}_changelist"))
        assert "addlink" not in listing
        assert client.get(reverse(f"admin:transactions_{name}_add")).status_code == 403
        assert (
            client.post(reverse(f"admin:transactions_{name}_delete", args=[pk])).status_code == 403
        )
        change = reverse(f"admin:transactions_{name}_change", args=[pk])
        assert client.post(change, {"description": "edited", "name": "edited"}).status_code == 403
    entry.refresh_from_db()
    assert entry.description != "edited"
    assert JournalLine.objects.count() == lines


def test_staff_without_the_journal_permission_are_refused(client, history):
    client.force_login(staff_user("nobody"))
    for url in (
        reverse("admin:transactions_journalaccount_trial_balance"),
        reverse(
            "admin:transactions_journalaccount_statement",
            args=[JournalAccount.objects.first().pk],
        ),
    ):
        assert client.get(url).status_code == 403


def test_trial_balance_filters_and_agreement_panel_lists_a_missing_entry(client, history):
    client.force_login(journal_staff("finance", "Finance"))
    deposit = Transaction.objects.filter(kind="streamer_deposit").first()
    with transaction.atomic():
        JournalLine.objects.filter(entry__transaction=deposit).delete()
        JournalEntry.objects.filter(transaction=deposit).delete()
    url = reverse("admin:transactions_journalaccount_trial_balance")
    trial = page(client, url)
    assert 'data-agrees="no"' in trial
    assert deposit.external_id in trial and "moved money but has no journal entry" in trial
    # per account, one kind only
    per_account = page(client, f"{url}?by_account=on&kind=follower")
    pool = JournalAccount.objects.get(kind="pool")
    assert per_account.count("/statement/") == 2 and pool.key not in per_account
    # as of a day before anything: nothing
    yesterday = (timezone.localdate() - timezone.timedelta(days=2)).isoformat()
    assert "No journal lines for this filter." in page(client, f"{url}?as_of={yesterday}")


def test_statement_rejects_a_period_that_ends_before_it_starts(client, history):
    client.force_login(journal_staff("finance", "Finance"))
    account = JournalAccount.objects.filter(kind="pool").first()
    url = reverse("admin:transactions_journalaccount_statement", args=[account.pk])
    body = page(client, f"{url}?start=2026-12-02&end=2026-11-01")
    assert "The period ends before it starts." in body


# --- exports -------------------------------------------------------------------------


def export(client, admin_name: str, resource, index: int = 0, query: str = "", fmt: int = 0):
    url = reverse(f"admin:{admin_name}_export") + query
    prefix = resource.__name__.lower()
    fields = {f"{prefix}_{name}": "on" for name in resource().get_export_order()}
    return client.post(url, {"format": str(fmt), "resource": str(index)} | fields)


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_journal_export_is_one_row_per_line_with_filter_and_count(client, history):
    client.force_login(journal_staff("finance", "Finance"))
    # when: the WIN entries only
    response = export(
        client,
        "transactions_journalentry",
        JournalLineResource,
        query="?kind__exact=follower_credit",
    )
    # then
    assert response["X-Export-Rows"] == "2"
    assert response["X-Export-Filter"] == "kind__exact=follower_credit"
    rows = rows_of(response)
    win = Transaction.objects.get(kind="follower_credit")
    assert [(r["account_kind"], r["amount"]) for r in rows] == [
        ("follower", "200.00000000"),
        ("pool", "-200.00000000"),
    ]
    assert {r["transaction_external_id"] for r in rows} == {win.external_id}
    assert {r["kind"] for r in rows} == {"follower_credit"}
    assert rows[0]["posted_at"].endswith("+00:00")
    assert rows[0]["operator"] == "op" and rows[0]["currency"] == "USD"
    # everything: 6 entries, 12 lines
    assert len(rows_of(export(client, "transactions_journalentry", JournalLineResource))) == 12


def test_positions_export_carries_fees_and_the_last_receipt(client, history):
    first, second = history
    client.force_login(journal_staff("finance", "Finance"))
    response = export(client, "followers_position", PositionResource)
    rows = {r["id"]: r for r in rows_of(response)}
    assert response["X-Export-Rows"] == "2" and response["X-Export-Filter"] == "all rows"
    left = rows[str(first.pk)]
    last = Receipt.objects.filter(position=first).order_by("-priced_at", "-pk").first()
    assert (left["status"], left["contributed"], left["payout"]) == (
        "closed",
        "100.00000000",
        "200.00000000",
    )
    assert left["receipts_count"] == "2"
    assert (left["last_receipt_kind"], left["last_win_external_id"]) == (
        "leave",
        last.win_external_id,
    )
    assert left["fees_paid"] == "0.00000000"
    assert left["streamer_user_id"] == "streamer-1" and left["currency"] == "USD"
    assert rows[str(second.pk)]["receipts_count"] == "1"
    assert rows[str(second.pk)]["status"] == "active"


def test_fees_export_lists_performance_fees_with_their_receipt(client, history):
    first, _ = history
    client.force_login(journal_staff("finance", "Finance"))
    # given: a performance fee on f1's leave (as the fee flow writes it)
    receipt = Receipt.objects.filter(position=first, kind="leave").get()
    fee = Transaction.objects.create(
        operator=first.pool.operator,
        kind="performance_fee",
        status="succeeded",
        amount=D("12.5"),
        currency="USD",
        pool=first.pool,
        position=first,
        follower=first.follower,
        streamer=first.pool.streamer,
        completed_at=timezone.now(),
    )
    Receipt.objects.filter(pk=receipt.pk).update(
        fee_external_id=fee.external_id,
        gross_amount=D("212.5"),
        fee=D("12.5"),
        fee_percent=D("20"),
        high_water_mark=D("100"),
    )
    # when: the fee resource (the second of the transaction export)
    response = export(client, "transactions_transaction", FeeResource, index=1)
    # then: only the fee
    [row] = rows_of(response)
    assert response["X-Export-Rows"] == "1"
    assert (row["external_id"], row["fee"], row["receipt_id"]) == (
        fee.external_id,
        "12.50000000",
        str(receipt.pk),
    )
    assert Decimal(row["gross_amount"]) == D("212.5")
    assert Decimal(row["fee_percent"]) == D(20) and Decimal(row["high_water_mark"]) == D(100)
    assert Decimal(row["net_amount"]) == D(200)


def test_journal_export_needs_the_finance_permission(client, history):
    client.force_login(journal_staff("reader", "Read-only"))
    listing = page(client, reverse("admin:transactions_journalentry_changelist"))
    assert "export_link" not in listing
    assert client.get(reverse("admin:transactions_journalentry_export")).status_code == 403
    assert Position.objects.count() == 2


def test_entries_are_found_by_number_transaction_id_or_words(client, history):
    client.force_login(journal_staff("finance", "Finance"))
    win = Transaction.objects.get(kind="follower_credit")
    url = reverse("admin:transactions_journalentry_changelist")
    assert "1 entry" in page(client, f"{url}?q={win.external_id}")
    entry_pk = win.journal_entry.pk
    assert f"/journalentry/{entry_pk}/change/" in page(client, f"{url}?q={entry_pk}")
    assert "1 entry" in page(client, f"{url}?q=WIN")
    assert "3 entries" in page(client, f"{url}?q=deposit")  # two transfers, one wallet
    assert "cp-journal-totals" not in page(client, f"{url}?q=nothing-like-this")
