import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q

from apps.core.money import amount_field_kwargs
from apps.operators.models import Operator


class Streamer(models.Model):
    """An operator's user registered as a streamer: the only user a transfer may touch."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="streamers")
    operator_user_id = models.CharField(max_length=128)
    display_name = models.CharField(max_length=100)
    currency = models.CharField(max_length=8)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Play money behind demo pools (init-demo): demo flows never touch the operator.
    demo_balance = models.DecimalField(**amount_field_kwargs(), default=Decimal("1000"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "operator_user_id"], name="streamer_unique_user_per_operator"
            ),
            models.CheckConstraint(
                condition=Q(demo_balance__gte=0), name="streamer_demo_balance_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended"]), name="streamer_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class Stream(models.Model):
    """A broadcast: scheduled, live, ended. Joins are accepted only while one is live."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    streamer = models.ForeignKey(Streamer, on_delete=models.CASCADE, related_name="streams")
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True
    )
    scheduled_start = models.DateTimeField(null=True, blank=True)
    scheduled_end = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["streamer"], condition=Q(status="live"), name="stream_one_live_per_streamer"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "live", "ended"]), name="stream_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.streamer} stream"
