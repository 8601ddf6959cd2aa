"""CopyStake's fees and invoices in the admin: who may see and act, the confirmed and audited
actions, the PDF and CSV, the list's totals and export, fee schedules added never edited."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import secret_operator, staff_user, superuser
from apps.transactions.finance.invoices import invoice_generate, invoice_issue, utc_today
from apps.transactions.finance.resources import InvoiceResource
from apps.transactions.models import DailySettlement, FeeSchedule, Invoice, JournalEntry

D = Decimal
pytestmark = pytest.mark.django_db
OCTOBER = date(2026, 10, 1)


@pytest.fixture
def draft():
    operator = secret_operator("acme")
    FeeSchedule.objects.create(
        operator=operator,
        currency="USD",
        effective_from=date(2026, 1, 1),
        turnover_percent=D("0.5"),
        ggr_percent=D("10"),
        monthly_minimum=D("100"),
    )
    for day, money_in, fees in ((1, "1000", "25.12345"), (2, "2000", "50")):
        DailySettlement.objects.create(
            operator=operator,
            currency="USD",
            day=date(2026, 10, day),
            money_in=D(money_in),
            turnover_fee=D(fees),
            fees=D(fees),
        )
    return invoice_generate(operator=operator, currency="USD", month=OCTOBER)


def act(client, invoice, action, **data):
    url = reverse("admin:transactions_invoice_act", args=[invoice.pk, action])
    return client.post(url, {"confirm": "yes", **data})


def document(client, invoice, extension):
    return client.get(reverse("admin:transactions_invoice_document", args=[invoice.pk, extension]))


@pytest.fixture
def finance(client):
    client.force_login(staff_user("fin", "Finance"))
    return client


def test_finance_issues_through_a_confirmation_and_it_is_audited(finance, draft):
    # given: the confirmation page first
    url = reverse("admin:transactions_invoice_act", args=[draft.pk, "invoice_issue"])
    page = finance.get(url)
    assert page.status_code == 200 and "Yes, issue" in page.content.decode()
    assert Invoice.objects.get(pk=draft.pk).state == "draft"
    # when: confirmed without a reason: refused, nothing done
    finance.post(url, {"confirm": "yes"})
    assert Invoice.objects.get(pk=draft.pk).state == "draft"
    # when: confirmed with one
    act(finance, draft, "invoice_issue", reason="October's bill")
    # then
    draft.refresh_from_db()
    assert (draft.state, draft.number) == ("issued", "INV-2026-000001")
    record = StaffAction.objects.get(action="invoice_issue")
    assert (record.username, record.reason, record.outcome) == ("fin", "October's bill", "done")
    assert JournalEntry.objects.filter(invoice=draft, kind="invoice").count() == 1


def test_mark_paid_void_and_credit_through_the_admin(finance, draft):
    act(finance, draft, "invoice_issue", reason="bill")
    act(finance, draft, "invoice_credit_note", reason="late rollback on the 2nd", amount="10.5")
    note = Invoice.objects.get(kind="credit_note")
    assert (note.total, note.credits_id, note.reason) == (
        D("-10.5"),
        draft.pk,
        "late rollback on the 2nd",
    )
    act(finance, draft, "invoice_mark_paid", reason="received", reference="WIRE-1")
    draft.refresh_from_db()
    assert (draft.state, draft.payment_reference) == ("paid", "WIRE-1")
    # a paid invoice is not voided: refused, recorded, nothing changed
    act(finance, draft, "invoice_void", reason="oops")
    draft.refresh_from_db()
    assert draft.state == "paid"
    refused = StaffAction.objects.get(action="invoice_void")
    assert refused.outcome == "refused" and "ERR_INVOICE_STATE" in refused.message


def test_a_credit_above_what_is_left_is_refused(finance, draft):
    act(finance, draft, "invoice_issue", reason="bill")
    act(finance, draft, "invoice_credit_note", reason="too much", amount="1000")
    assert not Invoice.objects.filter(kind="credit_note").exists()
    assert StaffAction.objects.get(action="invoice_credit_note").outcome == "refused"


@pytest.mark.parametrize("group", ["Operations", "Read-only"])
def test_others_see_invoices_but_cannot_act(client, draft, group):
    client.force_login(staff_user("someone", group))
    assert client.get(reverse("admin:transactions_invoice_changelist")).status_code == 200
    page = client.get(reverse("admin:transactions_invoice_change", args=[draft.pk]))
    assert page.status_code == 200 and ">Issue<" not in page.content.decode()
    assert act(client, draft, "invoice_issue", reason="x").status_code == 403
    assert client.get(reverse("admin:transactions_invoice_generate")).status_code == 403
    assert document(client, draft, "pdf").status_code == 200
    assert Invoice.objects.get(pk=draft.pk).state == "draft"
    assert not StaffAction.objects.exists()


def test_someone_without_view_permission_gets_no_document(client, draft):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("plain", password="pw", is_staff=True)
    client.force_login(user)
    assert document(client, draft, "pdf").status_code == 403


def test_pdf_and_csv_downloads(finance, draft):
    invoice_issue(invoice=draft, user=None)
    pdf = document(finance, draft, "pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert 'filename="INV-2026-000001.pdf"' in pdf["Content-Disposition"]
    html = document(finance, draft, "html").content.decode()
    assert "INV-2026-000001" in html and "100.00" in html and "CopyStake" in html
    assert "0.5 % of turnover" in html and "10 % of GGR" in html
    assert "DRAFT" not in html.split("<body>")[1].split("</header>")[0]
    rows = list(csv.reader(io.StringIO(document(finance, draft, "csv").content.decode())))
    assert rows[0][:6] == ["invoice", "state", "operator", "currency", "position", "day"]
    assert rows[1] == [
        "INV-2026-000001",
        "issued",
        "acme",
        "USD",
        "1",
        "2026-10-01",
        "Fees of 2026-10-01",
        "1000.00000000",
        "0.00000000",
        "25.12345000",
        "0.00000000",
        "25.12345000",
    ]
    assert rows[-1][6:] == ["total", "", "", "", "", "100.00000000"]
    assert document(finance, draft, "exe").status_code == 404


def test_a_draft_pdf_is_watermarked(finance, draft):
    html = document(finance, draft, "html").content.decode()
    assert '<div class="watermark">DRAFT</div>' in html
    assert "Invoice DRAFT" in html


def test_the_list_shows_two_decimals_exact_on_hover_and_per_currency_totals(finance, draft):
    page = finance.get(reverse("admin:transactions_invoice_changelist")).content.decode()
    assert 'title="100.00000000">100.00<span class="cp-ccy">USD' in page
    assert "Totals of this filter" in page
    assert "Generate drafts for last month" in page


def test_generate_drafts_for_last_month(finance, draft):
    operator = draft.operator
    last = utc_today().replace(day=1) - timedelta(days=1)
    DailySettlement.objects.create(
        operator=operator, currency="USD", day=last, money_in=D(10), fees=D("7.5")
    )
    url = reverse("admin:transactions_invoice_generate")
    assert "Generate the drafts" in finance.get(url).content.decode()
    finance.post(url, {"confirm": "yes", "reason": "monthly run"})
    made = Invoice.objects.get(period_start=last.replace(day=1))
    assert (made.state, made.subtotal) == ("draft", D("7.5"))
    assert StaffAction.objects.get(action="invoice_generate").target_id == str(made.pk)


def test_invoice_list_export_streams_exact_decimals(finance, draft):
    fields = {f"invoiceresource_{name}": "on" for name in InvoiceResource.Meta.fields}
    response = finance.post(
        reverse("admin:transactions_invoice_export"), {"format": "0", "resource": "0", **fields}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["operator"], r["total"], r["state"]) for r in rows] == [
        ("acme", "100.00000000", "draft")
    ]


def test_fee_schedules_are_added_by_finance_and_never_edited(finance, draft):
    operator = draft.operator
    add = reverse("admin:transactions_feeschedule_add")
    data = {
        "operator": operator.pk,
        "currency": "USD",
        "effective_from": (utc_today() + timedelta(days=1)).isoformat(),
        "turnover_percent": "0.75",
        "ggr_percent": "12",
        "monthly_minimum": "150",
        "note": "new rates",
    }
    # a rate out of range: the form says why, nothing saved
    page = finance.post(add, {**data, "ggr_percent": "101"})
    assert page.status_code == 200 and FeeSchedule.objects.count() == 1
    # a start in the past: refused
    past = finance.post(add, {**data, "effective_from": "2026-02-01"})
    assert "ERR_FEE_SCHEDULE_IN_FORCE" in past.content.decode()
    # a good one
    assert finance.post(add, data).status_code == 302
    made = FeeSchedule.objects.get(note="new rates")
    assert (made.ggr_percent, made.created_by.username) == (D(12), "fin")
    change = reverse("admin:transactions_feeschedule_change", args=[made.pk])
    assert finance.post(change, {**data, "ggr_percent": "1"}).status_code == 403
    made.refresh_from_db()
    assert made.ggr_percent == D(12)


def test_settlement_list_shows_the_fee_columns(client, draft):
    client.force_login(superuser())
    DailySettlement.objects.filter(day=date(2026, 10, 1)).update(
        ggr_fee=D("3.5"), fee_schedule=draft.fee_schedule
    )
    page = client.get(reverse("admin:transactions_dailysettlement_changelist")).content.decode()
    assert "CopyStake fees (turnover + GGR)" in page
    assert 'title="3.50000000">3.50' in page  # the GGR part, exact on hover
    assert "0.5 % + 10 % GGR" in page
