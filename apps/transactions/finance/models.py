"""Finance records: fee schedules, invoices and credit notes, the double-entry journal.

Imported by ``apps.transactions.models`` (their app is ``transactions``). The rules that fill
them live beside them: ``journal`` (posting), and the services of the fee, invoice and ledger
modules of this package.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.money import amount_field_kwargs, percent_field_kwargs
from apps.followers.models import Follower
from apps.operators.models import Operator
from apps.pools.models import Pool
from apps.streamers.models import Streamer


class FeeSchedule(models.Model):
    """CopyStake's fees to one operator in one currency, in force from ``effective_from``.

    A day's fees use the schedule with the latest ``effective_from`` on or before it. A
    schedule is never changed once it is in force: a new rate is a new row from a later day,
    so the history of what was charged when stays (``apps.transactions.finance.fees``).
    """

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="fee_schedules")
    currency = models.CharField(max_length=8)
    effective_from = models.DateField()
    turnover_percent = models.DecimalField(
        **percent_field_kwargs(),
        default=0,
        help_text="Percent of pool turnover: the followers' contributions (money in).",
    )
    ggr_percent = models.DecimalField(
        **percent_field_kwargs(),
        default=0,
        help_text="Percent of pooled GGR: what the followers lost net (money in - money out).",
    )
    monthly_minimum = models.DecimalField(
        **amount_field_kwargs(),
        default=0,
        help_text="The least a month's invoice comes to in this currency.",
    )
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "transactions"
        ordering = ["operator_id", "currency", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "currency", "effective_from"],
                name="fee_schedule_one_per_day",
            ),
            models.CheckConstraint(
                condition=Q(turnover_percent__gte=0) & Q(turnover_percent__lte=100),
                name="fee_schedule_turnover_in_range",
            ),
            models.CheckConstraint(
                condition=Q(ggr_percent__gte=0) & Q(ggr_percent__lte=100),
                name="fee_schedule_ggr_in_range",
            ),
            models.CheckConstraint(
                condition=Q(monthly_minimum__gte=0), name="fee_schedule_minimum_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.currency} from {self.effective_from}"


class InvoiceSequence(models.Model):
    """The last number given in one numbering series (e.g. invoices of 2026): numbers are
    handed out under this row's lock, so they run without gaps or repeats."""

    series = models.CharField(max_length=32, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "transactions"

    def __str__(self) -> str:
        return f"{self.series}: {self.last_number}"


class Invoice(models.Model):
    """One operator's bill for one currency and month, or a credit note against one.

    Drafts are computed from the month's daily settlements and may be recomputed; issuing
    gives the next number of its series and freezes it. An issued invoice is never edited: a
    mistake is corrected by a credit note (``kind`` credit note, ``credits`` the invoice, a
    negative ``total``), or it is voided before it is paid.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="invoices")
    currency = models.CharField(max_length=8)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.DRAFT, db_index=True
    )
    number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    period_start = models.DateField(help_text="First day billed.")
    period_end = models.DateField(help_text="Last day billed (inclusive).")
    credits = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        help_text="The invoice a credit note corrects.",
    )
    subtotal = models.DecimalField(**amount_field_kwargs(), default=0)
    minimum_charge = models.DecimalField(
        **amount_field_kwargs(),
        default=0,
        help_text="What the monthly minimum adds to the subtotal.",
    )
    total = models.DecimalField(**amount_field_kwargs(), default=0)
    reason = models.TextField(blank=True, help_text="Why a credit note was issued.")
    fee_schedule = models.ForeignKey(
        FeeSchedule, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_reference = models.CharField(max_length=128, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "transactions"
        ordering = ["-period_start", "operator_id", "currency", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "currency", "period_start"],
                condition=Q(kind="invoice") & ~Q(state="void"),
                name="invoice_one_per_month",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["invoice", "credit_note"]), name="invoice_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["draft", "issued", "paid", "void"]),
                name="invoice_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credits__isnull=True)
                | Q(kind="credit_note", credits__isnull=False),
                name="invoice_credit_note_credits_one",
            ),
            # A draft has no number yet, and a draft voided never had one; everything issued
            # keeps its number, voided after issue included.
            models.CheckConstraint(
                condition=Q(state__in=["draft", "void"]) | Q(number__isnull=False),
                name="invoice_numbered_once_issued",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="invoice_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        label = self.number or f"draft #{self.pk}"
        return f"{self.get_kind_display()} {label} ({self.operator}, {self.currency})"


class InvoiceLine(models.Model):
    """One line of an invoice: a day's settlement and its fees, or the monthly minimum."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    day = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=255)
    settlement = models.ForeignKey(
        "transactions.DailySettlement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
    )
    money_in = models.DecimalField(**amount_field_kwargs(), default=0)
    money_out = models.DecimalField(**amount_field_kwargs(), default=0)
    turnover_fee = models.DecimalField(**amount_field_kwargs(), default=0)
    ggr_fee = models.DecimalField(**amount_field_kwargs(), default=0)
    amount = models.DecimalField(**amount_field_kwargs())

    class Meta:
        app_label = "transactions"
        ordering = ["invoice_id", "position", "pk"]

    def __str__(self) -> str:
        return self.description


class JournalAccount(models.Model):
    """An account of the double-entry journal, in one currency.

    ``key`` names it uniquely, e.g. ``follower:12:USD`` (``apps.transactions.finance.journal``
    says which movement posts where).
    """

    class Kind(models.TextChoices):
        FOLLOWER = "follower", "Follower wallet"
        POOL = "pool", "Pool (money in transit)"
        STREAMER = "streamer", "Streamer balance (followers' money)"
        STREAMER_FEES = "streamer_fees", "Streamer performance fees"
        OPERATOR_RECEIVABLE = "operator_receivable", "Operator fees receivable"
        PLATFORM_REVENUE = "platform_revenue", "CopyStake fee revenue"

    key = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=24, choices=Kind.choices, db_index=True)
    currency = models.CharField(max_length=8)
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    follower = models.ForeignKey(
        Follower, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pool = models.ForeignKey(
        Pool, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    streamer = models.ForeignKey(
        Streamer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "transactions"
        ordering = ["kind", "key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "follower",
                        "pool",
                        "streamer",
                        "streamer_fees",
                        "operator_receivable",
                        "platform_revenue",
                    ]
                ),
                name="journal_account_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class JournalEntry(models.Model):
    """One balanced posting: its lines' amounts add up to zero (the database refuses any
    other on PostgreSQL, ``journal_entry_balanced``). At most one per transaction."""

    class Kind(models.TextChoices):
        FOLLOWER_DEBIT = "follower_debit", "BET"
        STREAMER_DEPOSIT = "streamer_deposit", "transfer DEPOSIT"
        STREAMER_WITHDRAWAL = "streamer_withdrawal", "transfer WITHDRAWAL"
        FOLLOWER_CREDIT = "follower_credit", "WIN"
        FOLLOWER_ROLLBACK = "follower_rollback", "Rollback"
        PERFORMANCE_FEE = "performance_fee", "Performance fee"
        INVOICE = "invoice", "Invoice issued"
        CREDIT_NOTE = "credit_note", "Credit note issued"
        INVOICE_VOID = "invoice_void", "Invoice voided"

    kind = models.CharField(max_length=24, choices=Kind.choices, db_index=True)
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=8)
    amount = models.DecimalField(**amount_field_kwargs(), help_text="The amount moved.")
    transaction = models.OneToOneField(
        "transactions.Transaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entry",
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="journal_entries"
    )
    description = models.CharField(max_length=255)
    posted_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "transactions"
        ordering = ["-posted_at", "-id"]
        verbose_name_plural = "journal entries"
        indexes = [models.Index(fields=["operator", "currency", "kind"], name="journal_by_kind")]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "kind"],
                condition=Q(invoice__isnull=False),
                name="journal_one_entry_per_invoice_event",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="journal_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"


class JournalLine(models.Model):
    """One side of an entry: ``amount`` into the account (positive, a debit) or out of it
    (negative, a credit)."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(JournalAccount, on_delete=models.PROTECT, related_name="lines")
    amount = models.DecimalField(**amount_field_kwargs())

    class Meta:
        app_label = "transactions"
        ordering = ["entry_id", "pk"]
        indexes = [models.Index(fields=["account", "entry"], name="journal_line_account")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="journal_line_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount}"
