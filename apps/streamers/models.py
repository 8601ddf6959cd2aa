import secrets
import uuid
from decimal import Decimal
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import F, Q

from apps.core.money import amount_field_kwargs, percent_field_kwargs
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
    # Limits of this streamer's pools; empty falls back to the operator's (selectors.
    # streamer_limits resolves them).
    min_contribution = models.DecimalField(
        **amount_field_kwargs(),
        null=True,
        blank=True,
        help_text="Smallest join; empty: the operator's minimum.",
    )
    max_contribution = models.DecimalField(
        **amount_field_kwargs(),
        null=True,
        blank=True,
        help_text="Largest join; empty: the operator's maximum.",
    )
    max_followers = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Distinct followers in the pool at once; empty: the operator's maximum.",
    )
    max_pool_value = models.DecimalField(
        **amount_field_kwargs(),
        null=True,
        blank=True,
        help_text="Capacity: joins may not take the pool's value above this; empty: the "
        "operator's, if it sets one.",
    )
    is_private = models.BooleanField(
        default=False,
        help_text="Invite-only: only followers on the allowlist (added by staff or through an "
        "invite link) see the pool in the lobby and may join it.",
    )
    performance_fee_percent = models.DecimalField(
        **percent_field_kwargs(),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(50))],
        help_text="Percent (0 to 50) of a follower's profit above their high-water mark that "
        "the streamer keeps on every leave; empty: the operator's default. A change applies "
        "to new positions only.",
    )
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
            models.CheckConstraint(
                condition=Q(min_contribution__isnull=True) | Q(min_contribution__gt=0),
                name="streamer_min_contribution_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_contribution__isnull=True) | Q(max_contribution__gt=0),
                name="streamer_max_contribution_positive",
            ),
            models.CheckConstraint(
                condition=Q(min_contribution__isnull=True)
                | Q(max_contribution__isnull=True)
                | Q(max_contribution__gte=F("min_contribution")),
                name="streamer_max_contribution_gte_min",
            ),
            models.CheckConstraint(
                condition=Q(max_followers__isnull=True) | Q(max_followers__gt=0),
                name="streamer_max_followers_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_pool_value__isnull=True) | Q(max_pool_value__gt=0),
                name="streamer_max_pool_value_positive",
            ),
            models.CheckConstraint(
                condition=Q(performance_fee_percent__isnull=True)
                | (Q(performance_fee_percent__gte=0) & Q(performance_fee_percent__lte=50)),
                name="streamer_performance_fee_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


def validate_embed_url(value: str) -> None:
    """An embed URL is framed in the player's browser (never fetched by CopyPool): https
    only, and no credentials in it."""
    URLValidator(schemes=["https"], message="Enter an https:// URL.")(value)
    if "@" in (urlsplit(value).netloc or ""):
        raise ValidationError("An embed URL must not carry credentials (user:password@).")


class Stream(models.Model):
    """A broadcast: scheduled, live, ended (or cancelled before it started). Joins are
    accepted only while one is live."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    streamer = models.ForeignKey(Streamer, on_delete=models.CASCADE, related_name="streams")
    title = models.CharField(max_length=200, blank=True)
    game = models.CharField(max_length=100, blank=True, help_text="What the streamer plays.")
    embed_url = models.URLField(
        max_length=500,
        blank=True,
        validators=[validate_embed_url],
        help_text="Optional video player URL (https) shown on the broadcast page.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True
    )
    scheduled_start = models.DateTimeField(null=True, blank=True)
    scheduled_end = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Why it ended or was cancelled, when not on schedule: "stream ended by staff <who>, ...".
    end_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "scheduled_start"], name="stream_status_start"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["streamer"], condition=Q(status="live"), name="stream_one_live_per_streamer"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "live", "ended", "cancelled"]),
                name="stream_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(scheduled_start__isnull=True)
                | Q(scheduled_end__isnull=True)
                | Q(scheduled_end__gt=F("scheduled_start")),
                name="stream_scheduled_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.streamer} stream"


class StreamerAccess(models.Model):
    """One player on a private streamer's allowlist, by the operator's user id (a player may
    be listed before they ever open CopyStake)."""

    class Source(models.TextChoices):
        STAFF = "staff", "Added by staff"
        INVITE = "invite", "Invite link"

    streamer = models.ForeignKey(Streamer, on_delete=models.CASCADE, related_name="allowlist")
    operator_user_id = models.CharField(max_length=128)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STAFF)
    invite = models.ForeignKey(
        "StreamerInvite", null=True, blank=True, on_delete=models.SET_NULL, related_name="grants"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["operator_user_id"]
        verbose_name = "allowlisted player"
        verbose_name_plural = "allowlist"
        constraints = [
            models.UniqueConstraint(
                fields=["streamer", "operator_user_id"], name="streamer_access_unique_player"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator_user_id} on {self.streamer}"


def invite_code() -> str:
    return secrets.token_urlsafe(18)


class StreamerInvite(models.Model):
    """An invite link to a private streamer's pool: whoever opens it before it expires (and
    while uses remain) is put on the allowlist."""

    streamer = models.ForeignKey(Streamer, on_delete=models.CASCADE, related_name="invites")
    code = models.CharField(max_length=40, unique=True, default=invite_code, editable=False)
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: any number of players until it expires."
    )
    uses = models.PositiveIntegerField(default=0, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.CharField(max_length=150, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=F("max_uses")),
                name="streamer_invite_uses_within_max",
            ),
        ]

    def __str__(self) -> str:
        return f"Invite {self.code[:6]}… to {self.streamer}"
