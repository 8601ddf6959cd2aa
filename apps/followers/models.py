import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q

from apps.core.fields import EncryptedTextField
from apps.core.money import amount_field_kwargs, percent_field_kwargs, unit_field_kwargs
from apps.operators.models import Operator
from apps.pools.models import Pool


class Follower(models.Model):
    """An operator's player who copies streamers through pools."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="followers")
    operator_user_id = models.CharField(max_length=128)
    username = models.CharField(max_length=150, blank=True)
    is_blocked = models.BooleanField(default=False, help_text="Blacklisted: may not join pools.")
    blocked_reason = models.CharField(max_length=300, blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)
    # Play money of a demo follower: the demo "wallet".
    demo_balance = models.DecimalField(**amount_field_kwargs(), default=Decimal("1000"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["operator_user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "operator_user_id", "is_demo"],
                name="follower_unique_user_per_operator",
            ),
            models.CheckConstraint(
                condition=Q(demo_balance__gte=0), name="follower_demo_balance_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.username or self.operator_user_id


class PlayerSession(models.Model):
    """What ``init`` opened: the operator's user token (for the wallet) and its expiry."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    follower = models.ForeignKey(Follower, on_delete=models.CASCADE, related_name="sessions")
    user_token = EncryptedTextField(blank=True)
    currency = models.CharField(max_length=8)
    language = models.CharField(max_length=10, blank=True)
    stream_uid = models.UUIDField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Session {self.uid}"


class Position(models.Model):
    """A follower's units in one pool, from the BET to the WIN."""

    class Status(models.TextChoices):
        JOINING = "joining", "Joining"
        ACTIVE = "active", "Active"
        LEAVING = "leaving", "Leaving"
        CLOSED = "closed", "Closed"
        FAILED = "failed", "Failed"

    class LeaveReason(models.TextChoices):
        """Who or what paid the position out (its last leave; empty while it has not left)."""

        FOLLOWER = "follower", "The follower left"
        STOP_LOSS = "stop_loss", "Stop-loss"
        TAKE_PROFIT = "take_profit", "Take-profit"
        STREAM_END = "stream_end", "The stream ended"
        BUST = "bust", "The pool went bust"
        STAFF = "staff", "Staff"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="positions")
    follower = models.ForeignKey(Follower, on_delete=models.PROTECT, related_name="positions")
    session = models.ForeignKey(PlayerSession, on_delete=models.PROTECT, related_name="positions")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.JOINING, db_index=True
    )
    units = models.DecimalField(**unit_field_kwargs(), default=0)
    contributed = models.DecimalField(**amount_field_kwargs())
    payout = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    leave_reason = models.CharField(max_length=12, choices=LeaveReason.choices, blank=True)
    # The follower's copy limits: leave on its own when the value falls to ``stop_loss`` or
    # rises to ``take_profit``. Each is set either as a value or as a percent of what the
    # position contributed (``*_percent``: the value follows later top-ups), never both.
    stop_loss = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    stop_loss_percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    take_profit = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    take_profit_percent = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    # The streamer's performance fee (SPEC section 10; apps.pools.accounting): the percent
    # fixed when the position opened, and the high-water mark above which it is charged
    # (what it contributed, raised by top-ups, scaled down by partial leaves).
    performance_fee_percent = models.DecimalField(**percent_field_kwargs(), default=0)
    high_water_mark = models.DecimalField(**unit_field_kwargs(), default=0)
    fees_paid = models.DecimalField(**amount_field_kwargs(), default=0)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["pool", "status"], name="position_pool_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["joining", "active", "leaving", "closed", "failed"]),
                name="position_status_valid",
            ),
            models.CheckConstraint(condition=Q(units__gte=0), name="position_units_non_negative"),
            models.CheckConstraint(
                condition=Q(contributed__gt=0), name="position_contributed_positive"
            ),
            models.CheckConstraint(
                condition=Q(payout__isnull=True) | Q(payout__gte=0),
                name="position_payout_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    leave_reason__in=[
                        "",
                        "follower",
                        "stop_loss",
                        "take_profit",
                        "stream_end",
                        "bust",
                        "staff",
                    ]
                ),
                name="position_leave_reason_valid",
            ),
            models.CheckConstraint(
                condition=Q(stop_loss__isnull=True) | Q(stop_loss_percent__isnull=True),
                name="position_stop_loss_one_form",
            ),
            models.CheckConstraint(
                condition=Q(take_profit__isnull=True) | Q(take_profit_percent__isnull=True),
                name="position_take_profit_one_form",
            ),
            models.CheckConstraint(
                condition=Q(performance_fee_percent__gte=0) & Q(performance_fee_percent__lte=50),
                name="position_performance_fee_in_range",
            ),
            models.CheckConstraint(
                condition=Q(high_water_mark__gte=0), name="position_mark_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(fees_paid__gte=0), name="position_fees_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Position {self.id} ({self.status})"

    @property
    def result(self):
        return None if self.payout is None else self.payout - self.contributed
