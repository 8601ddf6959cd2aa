import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from apps.core.history import staff_history_user
from apps.core.money import amount_field_kwargs, percent_field_kwargs, unit_field_kwargs
from apps.followers.models import Follower, Position
from apps.operators.models import Operator
from apps.pools.models import Pool
from apps.streamers.models import Streamer


def new_external_id() -> str:
    return uuid.uuid4().hex


class JoinStep(models.TextChoices):
    """Steps of a join saga (the flow: apps.transactions.sagas.join)."""

    DEBIT = "debit", "BET (wallet withdraw)"
    OPEN_POOL = "open_pool", "game-pool OPEN"
    DEPOSIT = "deposit", "transfer DEPOSIT"
    ROLLBACK = "rollback", "Rollback of the BET"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class LeaveStep(models.TextChoices):
    """Steps of a leave saga (the flow: apps.transactions.sagas.leave)."""

    WITHDRAW = "withdraw", "transfer WITHDRAWAL"
    CREDIT = "credit", "WIN (wallet deposit)"
    DONE = "done", "Done"


class CloseStep(models.TextChoices):
    """Steps of a close-pool saga (the flow: apps.transactions.sagas.close)."""

    CLOSE = "close", "game-pool CLOSE"
    DONE = "done", "Done"


# The steps a saga of each kind may be in. The flows are declared on these enums, and the
# engine refuses to register a flow whose steps are not the ones listed here for its kind.
SAGA_STEPS: dict[str, type[models.TextChoices]] = {
    "join": JoinStep,
    # A top-up is a join's flow run again for an active position: the same steps.
    "top_up": JoinStep,
    "leave": LeaveStep,
    "close_pool": CloseStep,
}


def _step_of_its_kind() -> Q:
    """``kind = k AND step IN (the steps of k)``, for every kind: what the database accepts."""
    condition = Q()
    for kind, steps in SAGA_STEPS.items():
        condition |= Q(kind=kind, step__in=steps.values)
    return condition


class Saga(models.Model):
    """A persisted state machine for one money flow; resumable from what is stored here."""

    class Kind(models.TextChoices):
        JOIN = "join", "Join"
        TOP_UP = "top_up", "Top-up"
        LEAVE = "leave", "Leave"
        CLOSE_POOL = "close_pool", "Close pool"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True
    )
    step = models.CharField(max_length=32)
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="sagas")
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="sagas")
    position = models.ForeignKey(
        Position, null=True, blank=True, on_delete=models.PROTECT, related_name="sagas"
    )
    attempts = models.PositiveIntegerField(default=0)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    needs_review = models.BooleanField(default=False, db_index=True)
    review_reason = models.CharField(max_length=255, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Parked until the pool's pricing claim is released (apps.transactions.sagas.pricing):
    # the release wakes it; ``next_run_at`` is only the fallback.
    awaiting_claim = models.BooleanField(default=False)
    # A partial leave's units (a leave saga): null redeems every unit of the position and
    # closes it (a full leave); a value redeems at most that many and leaves the rest active.
    units = models.DecimalField(**unit_field_kwargs(), null=True, blank=True)
    # Why a top-up failed (an ``ErrorCode``): a join records it on its position, but a
    # top-up's position stays active and untouched when its money is refunded.
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_run_at"], condition=Q(status="running"), name="saga_runnable"
            ),
            models.Index(
                fields=["pool", "id"],
                condition=Q(status="running", awaiting_claim=True),
                name="saga_awaiting_claim",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["join", "top_up", "leave", "close_pool"]),
                name="saga_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(units__isnull=True) | Q(kind="leave", units__gt=0),
                name="saga_units_only_partial_leave",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["running", "done", "failed"]), name="saga_status_valid"
            ),
            models.CheckConstraint(condition=_step_of_its_kind(), name="saga_step_valid_for_kind"),
            # Behind close_saga_for's "get or create": a pool is closed by one saga at a time.
            models.UniqueConstraint(
                fields=["pool"],
                condition=Q(kind="close_pool", status="running"),
                name="saga_one_running_close_per_pool",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} saga #{self.pk} ({self.step})"


class Transaction(models.Model):
    """One money movement. ``external_id`` is sent to the operator and reused on every retry."""

    class Kind(models.TextChoices):
        FOLLOWER_DEBIT = "follower_debit", "Follower debit (BET, wallet withdraw)"
        STREAMER_DEPOSIT = "streamer_deposit", "Streamer deposit (transfer DEPOSIT)"
        STREAMER_WITHDRAWAL = "streamer_withdrawal", "Streamer withdrawal (transfer WITHDRAWAL)"
        FOLLOWER_CREDIT = "follower_credit", "Follower credit (WIN, wallet deposit)"
        FOLLOWER_ROLLBACK = "follower_rollback", "Follower rollback (wallet rollback)"
        # Never sent: the streamer's performance fee on a leave, kept in the streamer's
        # balance (its units pass to the streamer's units). Written succeeded when the
        # leave's WITHDRAWAL is applied.
        PERFORMANCE_FEE = "performance_fee", "Performance fee (kept by the streamer)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown"
        ROLLED_BACK = "rolled_back", "Rolled back"

    external_id = models.CharField(max_length=64, default=new_external_id)
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(**amount_field_kwargs())
    currency = models.CharField(max_length=8)
    saga = models.ForeignKey(
        Saga, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    pool = models.ForeignKey(
        Pool, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    position = models.ForeignKey(
        Position,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    follower = models.ForeignKey(
        Follower,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    streamer = models.ForeignKey(
        Streamer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    rolls_back = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rollback",
    )
    # Pricing of a transfer, fixed when it is first sent and reused by every retry.
    units = models.DecimalField(**unit_field_kwargs(), null=True, blank=True)
    priced_balance = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    priced_total_units = models.DecimalField(**unit_field_kwargs(), null=True, blank=True)
    # A leave's WITHDRAWAL, priced with its performance fee (apps.pools.accounting.leave_price):
    # ``amount`` is the value minus ``fee``; ``units`` the position's units the leave takes, of
    # which ``fee_units`` pass to the streamer; ``fee_mark`` the high-water mark they carried.
    fee = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    fee_units = models.DecimalField(**unit_field_kwargs(), null=True, blank=True)
    fee_mark = models.DecimalField(**unit_field_kwargs(), null=True, blank=True)
    # What the operator answered.
    operator_reference = models.CharField(max_length=128, blank=True)
    balance_before = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    balance_after = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error_code = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    needs_review = models.BooleanField(default=False, db_index=True)
    review_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(
        excluded_fields=["response", "updated_at"], get_user=staff_history_user
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "kind"], name="tx_status_kind"),
            models.Index(fields=["operator", "-created_at"], name="tx_operator_recent"),
            # Staff search the operator's own id (clientTxId) from support tickets.
            models.Index(
                fields=["operator_reference"],
                condition=~Q(operator_reference=""),
                name="tx_operator_reference",
            ),
            # The review queue's "failed after retries" branch (apps.backoffice.review).
            models.Index(
                fields=["attempts"],
                condition=Q(status="failed", attempts__gte=2),
                name="tx_failed_retried",
            ),
            # The review queue (apps.backoffice.review.IN_QUEUE, the same condition): its ids
            # in order and every column its filters, count and totals read, so a page reads
            # its own rows and the rest reads this small index, never the ledger.
            models.Index(
                fields=[
                    "id",
                    "status",
                    "attempts",
                    "needs_review",
                    "reviewed_at",
                    "is_demo",
                    "kind",
                    "operator",
                    "currency",
                    "amount",
                ],
                condition=Q(status="unknown")
                | Q(status="failed", attempts__gte=2)
                | Q(needs_review=True),
                name="tx_review_queue",
            ),
            # Play money's rows, newest first: the "demo" filter pages, counts and totals them
            # from this index instead of scanning the real ledger for the few demo rows.
            models.Index(
                fields=["-created_at", "-id"], condition=Q(is_demo=True), name="tx_demo_recent"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "external_id"], name="tx_unique_external_id_per_operator"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="tx_amount_non_negative"),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "follower_debit",
                        "streamer_deposit",
                        "streamer_withdrawal",
                        "follower_credit",
                        "follower_rollback",
                        "performance_fee",
                    ]
                ),
                name="tx_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["pending", "succeeded", "failed", "unknown", "rolled_back"]
                ),
                name="tx_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0) | Q(kind="follower_credit"),
                name="tx_amount_positive_unless_win",
            ),
            # A saga moves each of these once, reusing the row's id on every retry. WITHDRAWALs
            # repeat (a re-priced leave takes a new id); a rollback is one per BET already
            # (``rolls_back`` is one-to-one).
            models.UniqueConstraint(
                fields=["saga", "kind"],
                condition=Q(
                    saga__isnull=False,
                    kind__in=[
                        "follower_debit",
                        "streamer_deposit",
                        "follower_credit",
                        "performance_fee",
                    ],
                ),
                name="tx_one_bet_deposit_win_per_saga",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} ({self.status})"


class Receipt(models.Model):
    """The proof of one price: what a join, top-up or leave of a position was priced on and
    what it issued or redeemed, with the external ids of the money movements behind it.

    Written by the saga when its transfer is applied (the price is then final); the WIN's id
    is added when the leave's credit is sent. ``units`` issued = ``amount`` / ``nav`` rounded
    down (a join or top-up); redeemed for ``amount`` = ``units`` * ``nav`` rounded down (a
    leave): SPEC section 4's unit rule, checkable from the fields alone.
    """

    class Kind(models.TextChoices):
        JOIN = "join", "Join"
        TOP_UP = "top_up", "Top-up"
        LEAVE = "leave", "Leave"

    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="receipts")
    saga = models.OneToOneField(
        "Saga", null=True, blank=True, on_delete=models.PROTECT, related_name="receipt"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Money in (join, top-up: the contribution) or out (leave: the payout).
    amount = models.DecimalField(**amount_field_kwargs())
    currency = models.CharField(max_length=8)
    balance = models.DecimalField(
        **amount_field_kwargs(), help_text="The streamer balance the price was read on."
    )
    total_units_before = models.DecimalField(**unit_field_kwargs())
    total_units_after = models.DecimalField(**unit_field_kwargs())
    nav = models.DecimalField(**unit_field_kwargs())
    units = models.DecimalField(**unit_field_kwargs(), help_text="Units issued or redeemed.")
    # A leave's performance fee (apps.pools.accounting.leave_price): ``gross_amount`` is what
    # the units were worth, ``amount`` that minus ``fee``; ``high_water_mark`` the mark the
    # units carried; ``fee_units`` the units worth the fee, passed to the streamer.
    gross_amount = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    fee_percent = models.DecimalField(**percent_field_kwargs(), default=0)
    high_water_mark = models.DecimalField(**unit_field_kwargs(), null=True, blank=True)
    fee = models.DecimalField(**amount_field_kwargs(), default=0)
    fee_units = models.DecimalField(**unit_field_kwargs(), default=0)
    fee_external_id = models.CharField(max_length=64, blank=True)
    bet_external_id = models.CharField(max_length=64, blank=True)
    deposit_external_id = models.CharField(max_length=64, blank=True)
    withdrawal_external_id = models.CharField(max_length=64, blank=True)
    win_external_id = models.CharField(max_length=64, blank=True)
    priced_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["priced_at", "pk"]
        indexes = [models.Index(fields=["position", "priced_at"], name="receipt_position_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["join", "top_up", "leave"]), name="receipt_kind_valid"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="receipt_amount_non_negative"),
            models.CheckConstraint(condition=Q(units__gte=0), name="receipt_units_non_negative"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="receipt_fee_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} receipt of {self.position_id}"


class IdempotencyRecord(models.Model):
    """The first answer to a player request carrying an ``Idempotency-Key``."""

    follower = models.ForeignKey(
        Follower, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["follower", "key"], name="idempotency_unique_key_per_follower"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.response_status})"


class ReconciliationRun(models.Model):
    """One reconciliation pass: when, what it checked, what it found, how long it took."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Command"
        MANUAL = "manual", "Manual"

    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    checked = models.JSONField(
        default=dict, blank=True, help_text="What the run looked at, e.g. pools read, skipped."
    )
    findings = models.PositiveIntegerField(default=0, help_text="Findings seen by this run.")
    found = models.JSONField(
        default=dict, blank=True, help_text="Findings by kind: {kind: {new, seen}}."
    )
    auto_resolved = models.PositiveIntegerField(
        default=0, help_text="Open findings this run no longer saw and resolved."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator"],
                condition=Q(status="running"),
                name="reconciliation_one_running_per_operator",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["running", "finished", "failed"]),
                name="reconciliation_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Reconciliation #{self.pk} {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class Discrepancy(models.Model):
    """A difference between our ledger and the operator's, with who resolved it and why."""

    class Kind(models.TextChoices):
        STUCK_UNKNOWN = "stuck_unknown", "Transaction stuck unknown"
        POOL_OVERVALUED = "pool_overvalued", "Units worth more than the streamer balance"
        LOCK_UNACKNOWLEDGED = "lock_unacknowledged", "OPEN/CLOSE not acknowledged"
        EMPTY_OPEN_POOL = "empty_open_pool", "Open pool with no members"
        BALANCE_MOVED_OFFLINE = (
            "balance_moved_offline",
            "Streamer balance moved with no live stream",
        )
        ORPHAN_DEBIT = "orphan_debit", "Follower debit with neither deposit nor rollback"
        WIN_OVERDUE = "win_overdue", "WIN unpaid for too long"
        BALANCE_MISMATCH = "balance_mismatch", "Balance differs from the operator's"
        JOURNAL_MISMATCH = "journal_mismatch", "Journal differs from the transaction log"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    run = models.ForeignKey(
        ReconciliationRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="discrepancies",
    )
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="discrepancies")
    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    subject = models.CharField(max_length=128, help_text="What the finding is about, e.g. pool:12.")
    pool = models.ForeignKey(
        Pool, null=True, blank=True, on_delete=models.SET_NULL, related_name="discrepancies"
    )
    transaction = models.ForeignKey(
        Transaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="discrepancies"
    )
    expected = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    actual = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    action_taken = models.CharField(max_length=255, blank=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.OPEN, db_index=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    times_seen = models.PositiveIntegerField(
        default=1, help_text="How many runs or readings saw it while open."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "discrepancies"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=Q(state="open"),
                name="discrepancy_one_open_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "resolved"]), name="discrepancy_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"


class DailySettlement(models.Model):
    """Money in and out per operator, currency and day: what finance exports."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="settlements")
    currency = models.CharField(max_length=8)
    day = models.DateField(db_index=True)
    money_in = models.DecimalField(**amount_field_kwargs(), default=0)
    money_out = models.DecimalField(**amount_field_kwargs(), default=0)
    rollbacks = models.DecimalField(**amount_field_kwargs(), default=0)
    # CopyStake's fees to the operator (apps.transactions.settlement, the fee schedule in
    # force that day): ``fees`` = ``turnover_fee`` + ``ggr_fee`` (negative on a day the
    # followers won net). ``performance_fees``: the streamers' fees, for information.
    turnover_fee = models.DecimalField(**amount_field_kwargs(), default=0)
    ggr_fee = models.DecimalField(**amount_field_kwargs(), default=0)
    fees = models.DecimalField(**amount_field_kwargs(), default=0)
    performance_fees = models.DecimalField(**amount_field_kwargs(), default=0)
    fee_schedule = models.ForeignKey(
        "FeeSchedule", null=True, blank=True, on_delete=models.PROTECT, related_name="settlements"
    )
    open_exposure = models.DecimalField(**amount_field_kwargs(), default=0)
    transactions_count = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "operator_id", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "currency", "day"], name="settlement_unique_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.currency} {self.day}"


# CopyStake's fees, invoices and the double-entry journal (apps.transactions.finance).
from apps.transactions.finance.models import (  # noqa: E402
    FeeSchedule as FeeSchedule,
)
from apps.transactions.finance.models import (  # noqa: E402
    Invoice as Invoice,
)
from apps.transactions.finance.models import (  # noqa: E402
    InvoiceLine as InvoiceLine,
)
from apps.transactions.finance.models import (  # noqa: E402
    InvoiceSequence as InvoiceSequence,
)
from apps.transactions.finance.models import (  # noqa: E402
    JournalAccount as JournalAccount,
)
from apps.transactions.finance.models import (  # noqa: E402
    JournalEntry as JournalEntry,
)
from apps.transactions.finance.models import (  # noqa: E402
    JournalLine as JournalLine,
)
