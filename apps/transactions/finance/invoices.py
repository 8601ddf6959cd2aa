"""Monthly invoices to operators, credit notes, and the fee schedules they bill by.

The figures are ``apps.transactions.finance.fees``' rules; this module keeps the states:

* ``draft`` -> ``issued`` -> ``paid``; ``draft`` -> ``void``; ``issued`` -> ``void``.
  A voided draft was never numbered and posts nothing, so the ``INV`` series counts issued
  invoices only and stays gapless; a voided issued invoice keeps its number.
  A draft is regenerated from the month's settlements as often as needed; issuing numbers it
  (``INV-<year of period_start>-000123``) and posts its journal entry; voiding an issued one
  posts the reversal (``INVOICE_VOID``). Paid is final: only a credit note corrects it.
* Nothing issued, paid or void is ever edited: every service refuses with
  ``ErrorCode.INVOICE_STATE`` (409) and changes nothing.
* A credit note: against an issued or paid invoice, for an amount above 0 and at most what
  the invoice still has uncredited, with a reason. It is created issued, numbered
  ``CN-<year of issue>-000001``, with one line and a negative total, and posts
  ``CREDIT_NOTE``. An invoice with credit notes is not voided (its credit notes would stand
  against nothing): credit the rest instead.

Numbers come from ``InvoiceSequence`` under the series row's lock (``select_for_update``), in
the database transaction that issues: a rolled-back issue gives its number back, so numbers
run without gaps or repeats whatever the concurrency.

Fee schedules are history: a schedule whose ``effective_from`` is today or earlier is in
force (or was) and is never changed or deleted; a new one starts today or later
(``ErrorCode.FEE_SCHEDULE_IN_FORCE`` otherwise).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core.errors import Conflict, ErrorCode, ValidationFailed
from apps.core.money import ZERO, AmountError, parse_amount
from apps.operators.models import Operator
from apps.transactions.finance.fees import (
    MONTHLY_MINIMUM_LINE,
    month_totals,
    percent_valid,
    schedule_in_force,
)
from apps.transactions.finance.journal import journal_post_invoice
from apps.transactions.finance.models import (
    FeeSchedule,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    JournalEntry,
)
from apps.transactions.models import DailySettlement

State = Invoice.State
User = AbstractBaseUser | AnonymousUser
INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


def utc_today() -> date:
    return timezone.now().astimezone(UTC).date()


def month_bounds(month: date) -> tuple[date, date]:
    """First and last day of ``month``'s month (any day of it)."""
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _refuse(invoice: Invoice, action: str) -> Conflict:
    return Conflict(
        f"{invoice} is {invoice.get_state_display().lower()}: it cannot be {action}.",
        code=ErrorCode.INVOICE_STATE,
    )


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


def _user_id(user: User | None) -> int | None:
    return user.pk if user is not None and user.is_authenticated else None


# --- numbering ---------------------------------------------------------------------------


@transaction.atomic
def number_next(series: str) -> str:
    """The next number of ``series`` (``INV-2026`` gives ``INV-2026-000001``, ...), under the
    series row's lock: call it inside the transaction that uses the number."""
    sequence = InvoiceSequence.objects.select_for_update().filter(series=series).first()
    if sequence is None:
        try:
            with transaction.atomic():
                InvoiceSequence.objects.create(series=series)
        except IntegrityError:  # created meanwhile by another issuer
            pass
        sequence = InvoiceSequence.objects.select_for_update().get(series=series)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{series}-{sequence.last_number:06d}"


# --- drafts ------------------------------------------------------------------------------


def _fill(invoice: Invoice) -> Invoice:
    """(Re)write a draft's lines and totals from its month's settlements."""
    settlements = list(
        DailySettlement.objects.filter(
            operator_id=invoice.operator_id,
            currency=invoice.currency,
            day__gte=invoice.period_start,
            day__lte=invoice.period_end,
        ).order_by("day")
    )
    schedules = list(
        FeeSchedule.objects.filter(
            operator_id=invoice.operator_id,
            currency=invoice.currency,
            effective_from__lte=invoice.period_end,
        )
    )
    schedule = schedule_in_force(schedules, invoice.period_end)
    totals = month_totals(
        line_amounts=[row.fees for row in settlements],
        minimum=schedule.monthly_minimum if schedule else ZERO,
    )
    invoice.lines.all().delete()
    lines = [
        InvoiceLine(
            invoice=invoice,
            position=index,
            day=row.day,
            description=f"Fees of {row.day.isoformat()}",
            settlement=row,
            money_in=row.money_in,
            money_out=row.money_out,
            turnover_fee=row.turnover_fee,
            ggr_fee=row.ggr_fee,
            amount=row.fees,
        )
        for index, row in enumerate(settlements, start=1)
    ]
    if totals.minimum_charge > 0:
        lines.append(
            InvoiceLine(
                invoice=invoice,
                position=len(lines) + 1,
                description=MONTHLY_MINIMUM_LINE,
                amount=totals.minimum_charge,
            )
        )
    InvoiceLine.objects.bulk_create(lines)
    invoice.fee_schedule = schedule
    invoice.subtotal = totals.subtotal
    invoice.minimum_charge = totals.minimum_charge
    invoice.total = totals.total
    invoice.save(
        update_fields=["fee_schedule", "subtotal", "minimum_charge", "total", "updated_at"]
    )
    return invoice


@transaction.atomic
def invoice_generate(*, operator: Operator, currency: str, month: date) -> Invoice:
    """The invoice of ``operator``, ``currency`` and ``month`` (any day of it) as a draft
    computed from its settlements; idempotent: an existing draft is recomputed, an issued or
    paid one is returned as it is."""
    period_start, period_end = month_bounds(month)
    existing = (
        Invoice.objects.select_for_update()
        .filter(
            operator=operator,
            currency=currency,
            kind=Invoice.Kind.INVOICE,
            period_start=period_start,
        )
        .exclude(state=State.VOID)
        .first()
    )
    if existing is not None:
        return _fill(existing) if existing.state == State.DRAFT else existing
    invoice = Invoice(
        operator=operator,
        currency=currency,
        kind=Invoice.Kind.INVOICE,
        period_start=period_start,
        period_end=period_end,
    )
    invoice.full_clean(exclude=["fee_schedule"], validate_constraints=False)
    invoice.save()
    return _fill(invoice)


def invoices_generate_monthly(*, today: date | None = None) -> list[Invoice]:
    """The drafts of the month before ``today`` (UTC today by default): one per operator and
    currency with settlement rows that month and a fee schedule in force by its end (without
    a schedule nothing is billed, so no invoice is made)."""
    period_start, period_end = month_bounds(previous_month(today or utc_today()))
    with_schedule = set(
        FeeSchedule.objects.filter(effective_from__lte=period_end).values_list(
            "operator_id", "currency"
        )
    )
    keys = sorted(
        set(
            DailySettlement.objects.filter(day__gte=period_start, day__lte=period_end)
            .values_list("operator_id", "currency")
            .distinct()
        )
        & with_schedule
    )
    operators = Operator.objects.in_bulk([operator_id for operator_id, _ in keys])
    return [
        invoice_generate(operator=operators[operator_id], currency=currency, month=period_start)
        for operator_id, currency in keys
    ]


# --- state changes -----------------------------------------------------------------------


@transaction.atomic
def invoice_issue(*, invoice: Invoice, user: User | None) -> Invoice:
    """Number a draft invoice, freeze it and post its journal entry."""
    invoice = _locked(invoice)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.state != State.DRAFT:
        raise _refuse(invoice, "issued")
    invoice.number = number_next(f"{INVOICE_SERIES}-{invoice.period_start.year}")
    invoice.state = State.ISSUED
    invoice.issued_at = timezone.now()
    invoice.issued_by_id = _user_id(user)
    invoice.save(update_fields=["number", "state", "issued_at", "issued_by", "updated_at"])
    journal_post_invoice(invoice, kind=JournalEntry.Kind.INVOICE)
    return invoice


@transaction.atomic
def invoice_mark_paid(*, invoice: Invoice, user: User | None, reference: str) -> Invoice:
    """Record that an issued invoice was paid, with the payment's ``reference``."""
    reference = (reference or "").strip()
    invoice = _locked(invoice)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.state != State.ISSUED:
        raise _refuse(invoice, "marked paid")
    if not reference:
        raise ValidationFailed("Give the payment's reference.")
    if len(reference) > Invoice._meta.get_field("payment_reference").max_length:  # type: ignore[operator]
        raise ValidationFailed("The payment reference is too long.")
    invoice.state = State.PAID
    invoice.paid_at = timezone.now()
    invoice.paid_by_id = _user_id(user)
    invoice.payment_reference = reference
    invoice.save(update_fields=["state", "paid_at", "paid_by", "payment_reference", "updated_at"])
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, user: User | None, reason: str) -> Invoice:
    """Void a draft, or an issued invoice without credit notes (posting the reversal)."""
    reason = (reason or "").strip()
    invoice = _locked(invoice)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.state not in (State.DRAFT, State.ISSUED):
        raise _refuse(invoice, "voided")
    if invoice.credit_notes.exists():
        raise Conflict(
            f"{invoice} has credit notes: credit the rest instead of voiding it.",
            code=ErrorCode.INVOICE_STATE,
        )
    if not reason:
        raise ValidationFailed("Give the reason for voiding the invoice.")
    was_issued = invoice.state == State.ISSUED
    invoice.state = State.VOID
    invoice.voided_at = timezone.now()
    invoice.voided_by_id = _user_id(user)
    invoice.void_reason = reason
    invoice.save(update_fields=["state", "voided_at", "voided_by", "void_reason", "updated_at"])
    if was_issued:
        journal_post_invoice(invoice, kind=JournalEntry.Kind.INVOICE_VOID)
    return invoice


def uncredited(invoice: Invoice) -> Decimal:
    """What of ``invoice``'s total no credit note has taken back yet."""
    credited = invoice.credit_notes.exclude(state=State.VOID).aggregate(total=Sum("total"))
    return invoice.total + (credited["total"] or ZERO)


@transaction.atomic
def credit_note_create(
    *, invoice: Invoice, user: User | None, amount: Decimal | str, reason: str
) -> Invoice:
    """Issue a credit note of ``amount`` against an issued or paid invoice."""
    reason = (reason or "").strip()
    invoice = _locked(invoice)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.state not in (State.ISSUED, State.PAID):
        raise _refuse(invoice, "credited")
    try:
        value = parse_amount(amount)
    except AmountError as error:
        raise ValidationFailed(str(error), code=ErrorCode.INVALID_AMOUNT) from error
    left = uncredited(invoice)
    if value > left:
        raise ValidationFailed(
            f"{invoice} has {left} {invoice.currency} left to credit.",
            code=ErrorCode.INVALID_AMOUNT,
        )
    if not reason:
        raise ValidationFailed("Give the reason for the credit note.")
    now = timezone.now()
    note = Invoice.objects.create(
        operator_id=invoice.operator_id,
        currency=invoice.currency,
        kind=Invoice.Kind.CREDIT_NOTE,
        state=State.ISSUED,
        number=number_next(f"{CREDIT_NOTE_SERIES}-{now.astimezone(UTC).year}"),
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        credits=invoice,
        subtotal=-value,
        total=-value,
        reason=reason,
        issued_at=now,
        issued_by_id=_user_id(user),
    )
    InvoiceLine.objects.create(
        invoice=note,
        position=1,
        description=f"Credit against {invoice.number}: {reason}"[:255],
        amount=-value,
    )
    journal_post_invoice(note, kind=JournalEntry.Kind.CREDIT_NOTE)
    return note


# --- fee schedules -----------------------------------------------------------------------


def _percent(value: Decimal | str | int, name: str) -> Decimal:
    try:
        percent = Decimal(str(value))
    except ArithmeticError as error:
        raise ValidationFailed(f"{name} must be a number.", code=ErrorCode.INVALID_FEE) from error
    if not percent_valid(percent):
        raise ValidationFailed(
            f"{name} must be 0 to 100 %, at most 4 decimal places.", code=ErrorCode.INVALID_FEE
        )
    return percent


@transaction.atomic
def fee_schedule_create(
    *,
    operator: Operator,
    currency: str,
    effective_from: date,
    turnover_percent: Decimal | str | int,
    ggr_percent: Decimal | str | int,
    monthly_minimum: Decimal | str | int,
    note: str = "",
    user: User | None = None,
) -> FeeSchedule:
    """A new fee schedule from ``effective_from`` (today or later, UTC)."""
    turnover = _percent(turnover_percent, "The turnover fee")
    ggr = _percent(ggr_percent, "The GGR fee")
    try:
        minimum = parse_amount(
            monthly_minimum if isinstance(monthly_minimum, Decimal) else str(monthly_minimum),
            allow_zero=True,
        )
    except AmountError as error:
        raise ValidationFailed(
            f"The monthly minimum: {error}.", code=ErrorCode.INVALID_FEE
        ) from error
    currency = (currency or "").strip().upper()
    if not currency:
        raise ValidationFailed("Give the currency.")
    today = utc_today()
    if effective_from < today:
        raise Conflict(
            f"A schedule cannot start in the past ({effective_from}): days up to today are "
            "billed by the schedules that were in force.",
            code=ErrorCode.FEE_SCHEDULE_IN_FORCE,
        )
    if FeeSchedule.objects.filter(
        operator=operator, currency=currency, effective_from=effective_from
    ).exists():
        raise Conflict(
            f"{operator} {currency} already has a schedule from {effective_from}.",
            code=ErrorCode.FEE_SCHEDULE_IN_FORCE,
        )
    schedule = FeeSchedule(
        operator=operator,
        currency=currency,
        effective_from=effective_from,
        turnover_percent=turnover,
        ggr_percent=ggr,
        monthly_minimum=minimum,
        note=note,
        created_by_id=_user_id(user),
    )
    schedule.full_clean()
    schedule.save()
    return schedule


def fee_schedule_in_force(schedule: FeeSchedule, *, today: date | None = None) -> bool:
    """Whether ``schedule`` is (or was) in force, so never to be changed."""
    return schedule.effective_from <= (today or utc_today())
