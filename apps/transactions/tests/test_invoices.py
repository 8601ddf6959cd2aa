"""Monthly invoices and credit notes (apps.transactions.finance.invoices): totals tie to the
settlements, numbering, the state machine's refusals, and the journal entries they post."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from apps.core.errors import Conflict, ErrorCode, ValidationFailed
from apps.operators.tests.factories import OperatorFactory
from apps.transactions.finance.invoices import (
    credit_note_create,
    fee_schedule_create,
    invoice_generate,
    invoice_issue,
    invoice_mark_paid,
    invoice_void,
    invoices_generate_monthly,
    number_next,
    utc_today,
)
from apps.transactions.models import (
    DailySettlement,
    FeeSchedule,
    Invoice,
    InvoiceSequence,
    JournalEntry,
)

D = Decimal
pytestmark = pytest.mark.django_db
OCTOBER = date(2026, 10, 1)


@pytest.fixture
def user():
    return get_user_model().objects.create_user("finance", password="x")


def settle(operator, day, money_in, money_out, turnover, ggr, currency="USD"):
    turnover, ggr = D(turnover), D(ggr)
    return DailySettlement.objects.create(
        operator=operator,
        currency=currency,
        day=day,
        money_in=D(money_in),
        money_out=D(money_out),
        turnover_fee=turnover,
        ggr_fee=ggr,
        fees=turnover + ggr,
    )


def plan(operator, minimum="100", start=date(2026, 1, 1), currency="USD"):
    return FeeSchedule.objects.create(
        operator=operator,
        currency=currency,
        effective_from=start,
        turnover_percent=D("0.5"),
        ggr_percent=D("10"),
        monthly_minimum=D(minimum),
    )


@pytest.fixture
def october(operator):
    schedule = plan(operator)
    settle(operator, date(2026, 10, 3), "1000", "800", "5", "20")
    settle(operator, date(2026, 10, 1), "400", "500", "2", "-10")
    settle(operator, date(2026, 11, 1), "999", "0", "9", "99")  # next month: not in it
    settle(operator, date(2026, 10, 2), "9", "0", "1", "1", currency="EUR")  # other currency
    return schedule


def snapshot(invoice):
    invoice.refresh_from_db()
    fields = [f.attname for f in Invoice._meta.concrete_fields]
    return (
        {f: getattr(invoice, f) for f in fields},
        list(invoice.lines.values_list("amount", "description")),
        JournalEntry.objects.count(),
        list(InvoiceSequence.objects.values_list("series", "last_number")),
    )


def test_lines_tie_to_the_settlements_with_the_minimum(operator, october):
    # when
    invoice = invoice_generate(operator=operator, currency="USD", month=date(2026, 10, 20))
    # then: two days in day order, subtotal 25 + (-8) = 17, the minimum of 100 brings 83
    lines = list(invoice.lines.all())
    assert [(line.day, line.amount) for line in lines] == [
        (date(2026, 10, 1), D(-8)),
        (date(2026, 10, 3), D(25)),
        (None, D(83)),
    ]
    assert lines[0].settlement.day == date(2026, 10, 1)
    assert (lines[1].money_in, lines[1].money_out, lines[1].turnover_fee, lines[1].ggr_fee) == (
        D(1000),
        D(800),
        D(5),
        D(20),
    )
    assert lines[2].description == "Monthly minimum"
    assert (invoice.period_start, invoice.period_end) == (OCTOBER, date(2026, 10, 31))
    assert (invoice.subtotal, invoice.minimum_charge, invoice.total) == (D(17), D(83), D(100))
    assert (invoice.state, invoice.number, invoice.fee_schedule) == ("draft", None, october)


def test_above_the_minimum_no_minimum_line_and_a_redraft_follows_the_settlements(operator, october):
    invoice = invoice_generate(operator=operator, currency="USD", month=OCTOBER)
    # when: a late answer raises the 3rd's fees, and the draft is generated again
    DailySettlement.objects.filter(day=date(2026, 10, 3), currency="USD").update(fees=D(208))
    again = invoice_generate(operator=operator, currency="USD", month=OCTOBER)
    # then: the same draft, recomputed
    assert again.pk == invoice.pk
    assert list(again.lines.values_list("amount", flat=True)) == [D(-8), D(208)]
    assert (again.subtotal, again.minimum_charge, again.total) == (D(200), D(0), D(200))


def test_a_month_the_followers_won_comes_to_zero_without_a_minimum(operator):
    plan(operator, minimum="0")
    settle(operator, date(2026, 10, 5), "100", "400", "0.5", "-30")
    invoice = invoice_generate(operator=operator, currency="USD", month=OCTOBER)
    assert (invoice.subtotal, invoice.minimum_charge, invoice.total) == (
        D("-29.5"),
        D("29.5"),
        D(0),
    )


def test_an_issued_invoice_is_left_alone_by_generation(operator, october, user):
    invoice = invoice_issue(
        invoice=invoice_generate(operator=operator, currency="USD", month=OCTOBER), user=user
    )
    before = snapshot(invoice)
    DailySettlement.objects.filter(day=date(2026, 10, 3)).update(fees=D(500))
    again = invoice_generate(operator=operator, currency="USD", month=OCTOBER)
    assert again.pk == invoice.pk
    assert snapshot(again) == before


def test_monthly_generation_makes_last_months_drafts_where_a_schedule_is(operator, october):
    other = OperatorFactory(name="Other", code="other")
    settle(other, date(2026, 10, 9), "10", "0", "0", "0")  # no schedule: nothing billed
    drafts = invoices_generate_monthly(today=date(2026, 11, 1))
    assert [(i.operator, i.currency, i.period_start) for i in drafts] == [
        (operator, "USD", OCTOBER)
    ]
    assert invoices_generate_monthly(today=date(2026, 11, 1))[0].pk == drafts[0].pk


def test_issue_numbers_in_sequence_and_posts_the_invoice_entry(operator, october, user):
    plan(operator, currency="EUR")
    first = invoice_issue(
        invoice=invoice_generate(operator=operator, currency="USD", month=OCTOBER), user=user
    )
    second = invoice_issue(
        invoice=invoice_generate(operator=operator, currency="EUR", month=OCTOBER), user=user
    )
    assert (first.number, second.number) == ("INV-2026-000001", "INV-2026-000002")
    assert (first.state, first.issued_by, first.issued_at is not None) == ("issued", user, True)
    entry = JournalEntry.objects.get(invoice=first)
    assert (entry.kind, entry.amount) == ("invoice", D(100))
    assert sorted(
        (line.account.kind, line.amount) for line in entry.lines.select_related("account")
    ) == [("operator_receivable", D(100)), ("platform_revenue", D(-100))]


def test_numbers_of_a_new_year_start_again():
    assert number_next("INV-2027") == "INV-2027-000001"
    assert number_next("INV-2027") == "INV-2027-000002"
    assert number_next("INV-2028") == "INV-2028-000001"


def test_paid_and_void_transitions(operator, october, user):
    invoice = invoice_issue(
        invoice=invoice_generate(operator=operator, currency="USD", month=OCTOBER), user=user
    )
    paid = invoice_mark_paid(invoice=invoice, user=user, reference=" WIRE-778 ")
    assert (paid.state, paid.payment_reference, paid.paid_by) == ("paid", "WIRE-778", user)


def test_voiding_an_issued_invoice_posts_the_reversal_and_frees_the_month(operator, october, user):
    invoice = invoice_issue(
        invoice=invoice_generate(operator=operator, currency="USD", month=OCTOBER), user=user
    )
    void = invoice_void(invoice=invoice, user=user, reason="wrong schedule")
    assert (void.state, void.void_reason, void.voided_by) == ("void", "wrong schedule", user)
    entry = JournalEntry.objects.get(invoice=invoice, kind="invoice_void")
    assert entry.amount == D(100)
    assert {(line.account.kind, line.amount) for line in entry.lines.select_related("account")} == {
        ("platform_revenue", D(100)),
        ("operator_receivable", D(-100)),
    }
    # a new draft may be made for the month
    fresh = invoice_generate(operator=operator, currency="USD", month=OCTOBER)
    assert fresh.pk != invoice.pk and fresh.state == "draft"


def test_voiding_a_draft_posts_nothing(operator, october, user):
    draft = invoice_generate(operator=operator, currency="USD", month=OCTOBER)
    void = invoice_void(invoice=draft, user=user, reason="not needed")
    # a draft was never numbered: the INV series counts issued invoices only
    assert (void.state, void.number) == ("void", None)
    assert not JournalEntry.objects.filter(invoice=draft).exists()


@pytest.mark.parametrize(
    ("state", "attempt"),
    [
        ("draft", lambda i, u: invoice_mark_paid(invoice=i, user=u, reference="R")),
        ("draft", lambda i, u: credit_note_create(invoice=i, user=u, amount="1", reason="r")),
        ("issued", lambda i, u: invoice_issue(invoice=i, user=u)),
        ("paid", lambda i, u: invoice_issue(invoice=i, user=u)),
        ("paid", lambda i, u: invoice_mark_paid(invoice=i, user=u, reference="R")),
        ("paid", lambda i, u: invoice_void(invoice=i, user=u, reason="r")),
        ("void", lambda i, u: invoice_issue(invoice=i, user=u)),
        ("void", lambda i, u: invoice_void(invoice=i, user=u, reason="r")),
        ("void", lambda i, u: invoice_mark_paid(invoice=i, user=u, reference="R")),
        ("void", lambda i, u: credit_note_create(invoice=i, user=u, amount="1", reason="r")),
    ],
)
def test_refused_transitions_change_nothing(operator, october, user, state, attempt):
    # given: an invoice in ``state``
    invoice = invoice_generate(operator=operator, currency="USD", month=OCTOBER)
    if state in ("issued", "paid"):
        invoice = invoice_issue(invoice=invoice, user=user)
    if state == "paid":
        invoice = invoice_mark_paid(invoice=invoice, user=user, reference="R1")
    if state == "void":
        invoice = invoice_void(
            invoice=invoice_issue(invoice=invoice, user=user), user=user, reason="x"
        )
    before = snapshot(invoice)
    # when / then
    with pytest.raises(Conflict) as refused:
        attempt(invoice, user)
    assert refused.value.code == ErrorCode.INVOICE_STATE
    assert snapshot(invoice) == before


def test_bad_input_is_refused_and_changes_nothing(operator, october, user):
    invoice = invoice_issue(
        invoice=invoice_generate(operator=operator, currency="USD", month=OCTOBER), user=user
    )
    before = snapshot(invoice)
    for attempt in (
        lambda: invoice_mark_paid(invoice=invoice, user=user, reference="  "),
        lambda: invoice_void(invoice=invoice, user=user, reason=""),
        lambda: credit_note_create(invoice=invoice, user=user, amount="0", reason="r"),
        lambda: credit_note_create(invoice=invoice, user=user, amount="-1", reason="r"),
        lambda: credit_note_create(invoice=invoice, user=user, amount="1.000000001", reason="r"),
        lambda: credit_note_create(invoice=invoice, user=user, amount="100.01", reason="r"),
        lambda: credit_note_create(invoice=invoice, user=user, amount="5", reason=" "),
    ):
        with pytest.raises(ValidationFailed):
            attempt()
        assert snapshot(invoice) == before


def test_credit_notes_take_back_at_most_the_total(operator, october, user):
    # given: an issued invoice of 100
    invoice = invoice_issue(
        invoice=invoice_generate(operator=operator, currency="USD", month=OCTOBER), user=user
    )
    # when: 30 credited, then the remaining 70 after payment
    note = credit_note_create(invoice=invoice, user=user, amount="30", reason="late rollback")
    invoice_mark_paid(invoice=invoice, user=user, reference="W1")
    rest = credit_note_create(invoice=invoice, user=user, amount=D(70), reason="goodwill")
    # then
    year = utc_today().year
    assert (note.number, rest.number) == (f"CN-{year}-000001", f"CN-{year}-000002")
    assert (note.kind, note.state, note.total, note.credits) == (
        "credit_note",
        "issued",
        D(-30),
        invoice,
    )
    [line] = note.lines.all()
    assert line.amount == D(-30) and "late rollback" in line.description
    entry = JournalEntry.objects.get(invoice=note)
    assert (entry.kind, entry.amount) == ("credit_note", D(30))
    assert {(line.account.kind, line.amount) for line in entry.lines.select_related("account")} == {
        ("platform_revenue", D(30)),
        ("operator_receivable", D(-30)),
    }
    with pytest.raises(ValidationFailed):
        credit_note_create(invoice=invoice, user=user, amount="0.00000001", reason="more")
    # a credited invoice is not voided, nor is a credit note
    with pytest.raises(Conflict):
        invoice_void(invoice=note, user=user, reason="x")


def test_fee_schedule_rules(operator, user):
    today = utc_today()
    made = fee_schedule_create(
        operator=operator,
        currency="usd",
        effective_from=today,
        turnover_percent="0.5",
        ggr_percent=D("10"),
        monthly_minimum="100",
        user=user,
    )
    assert (made.currency, made.turnover_percent, made.created_by) == ("USD", D("0.5"), user)
    cases = [
        ({"effective_from": today - timedelta(days=1)}, ErrorCode.FEE_SCHEDULE_IN_FORCE),
        ({"effective_from": today}, ErrorCode.FEE_SCHEDULE_IN_FORCE),
        ({"turnover_percent": "100.01"}, ErrorCode.INVALID_FEE),
        ({"ggr_percent": "-1"}, ErrorCode.INVALID_FEE),
        ({"ggr_percent": "1.00001"}, ErrorCode.INVALID_FEE),
        ({"turnover_percent": "abc"}, ErrorCode.INVALID_FEE),
        ({"monthly_minimum": "-5"}, ErrorCode.INVALID_FEE),
    ]
    for change, code in cases:
        arguments = {
            "operator": operator,
            "currency": "USD",
            "effective_from": today + timedelta(days=3),
            "turnover_percent": "1",
            "ggr_percent": "1",
            "monthly_minimum": "0",
            **change,
        }
        with pytest.raises((Conflict, ValidationFailed)) as refused:
            fee_schedule_create(**arguments)
        assert refused.value.code == code, change
    assert FeeSchedule.objects.count() == 1


def test_the_monthly_beat_entry_settles_the_last_day_and_makes_the_drafts(operator, streamer):
    from datetime import UTC, datetime

    from django_celery_beat.models import PeriodicTask

    from apps.transactions.finance.invoices import month_bounds, previous_month
    from apps.transactions.models import Transaction
    from apps.transactions.schedules import schedules_install
    from apps.transactions.tasks import invoices_monthly_task

    # the schedule: the 1st of each month at 02:00 UTC
    schedules_install()
    beat = PeriodicTask.objects.get(task="apps.transactions.tasks.invoices_monthly_task")
    crontab = beat.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.timezone.key) == (
        "0",
        "2",
        "1",
        "UTC",
    )
    # given: a BET late on last month's last day, never settled yet
    plan(operator, minimum="0")
    last_day = month_bounds(previous_month(utc_today()))[1]
    bet = Transaction.objects.create(
        operator=operator, kind="follower_debit", status="succeeded", amount=D(200), currency="USD"
    )
    Transaction.objects.filter(pk=bet.pk).update(
        completed_at=datetime.combine(last_day, datetime.max.time(), tzinfo=UTC)
    )
    # when
    [invoice_id] = invoices_monthly_task()
    # then: 0.5 % of 200 + 10 % of 200 = 21
    invoice = Invoice.objects.get(pk=invoice_id)
    assert (invoice.period_end, invoice.state, invoice.total) == (last_day, "draft", D(21))
    assert DailySettlement.objects.get(day=last_day).fees == D(21)
