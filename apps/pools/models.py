from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from apps.core.history import staff_history_user
from apps.core.money import ZERO, amount_field_kwargs, unit_field_kwargs
from apps.operators.models import Operator
from apps.streamers.models import Streamer


class Pool(models.Model):
    """A streamer's balance shared with followers, accounted in units (NAV accounting).

    ``state`` is the pool's life (open -> closing -> closed); ``lock_state`` is what the
    operator acknowledged through ``game-pool``: the withdrawal lock on the streamer's balance.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSING = "closing", "Closing"
        CLOSED = "closed", "Closed"

    class LockState(models.TextChoices):
        PENDING = "pending", "OPEN not yet acknowledged"
        LOCKED = "locked", "Locked (OPEN acknowledged)"
        RELEASED = "released", "Released (CLOSE acknowledged)"

    streamer = models.ForeignKey(Streamer, on_delete=models.PROTECT, related_name="pools")
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="pools")
    currency = models.CharField(max_length=8)
    is_demo = models.BooleanField(default=False)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.OPEN, db_index=True
    )
    lock_state = models.CharField(
        max_length=10, choices=LockState.choices, default=LockState.PENDING
    )

    total_units = models.DecimalField(**unit_field_kwargs(), default=ZERO)
    streamer_units = models.DecimalField(**unit_field_kwargs(), default=ZERO)
    opening_balance = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    balance = models.DecimalField(
        **amount_field_kwargs(), default=ZERO, help_text="Last known streamer balance."
    )
    balance_at = models.DateTimeField(null=True, blank=True)
    closing_balance = models.DecimalField(**amount_field_kwargs(), null=True, blank=True)
    is_bust = models.BooleanField(default=False)
    # Why the pool was paid out and closed, when someone or something decided it: "closed:
    # stream ended by staff <who>, <reason>", "streamer suspended by staff ...".
    close_reason = models.CharField(max_length=300, blank=True)

    # The saga whose transfer is pricing this pool right now (see apps.pools.services,
    # "Serialisation"): set from the balance read until that transfer's answer is definite.
    pricing_saga = models.PositiveBigIntegerField(null=True, blank=True)
    pricing_since = models.DateTimeField(null=True, blank=True)
    open_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When game-pool OPEN was first sent."
    )

    opened_at = models.DateTimeField(auto_now_add=True, db_index=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(
        excluded_fields=["pricing_saga", "pricing_since", "updated_at"], get_user=staff_history_user
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["streamer", "is_demo"],
                condition=~Q(state="closed"),
                name="pool_one_open_per_streamer",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "closing", "closed"]), name="pool_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(lock_state__in=["pending", "locked", "released"]),
                name="pool_lock_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(total_units__gte=0), name="pool_total_units_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(streamer_units__gte=0), name="pool_streamer_units_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(streamer_units__lte=F("total_units")),
                name="pool_streamer_units_within_total",
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="pool_balance_non_negative"),
        ]

    def __str__(self) -> str:
        return f"Pool #{self.pk} {self.streamer}"

    @property
    def nav(self) -> Decimal:
        from apps.pools.accounting import nav

        return nav(balance=self.balance, total_units=self.total_units)


class PoolSnapshot(models.Model):
    """A periodic reading of a pool's balance and NAV: the history behind the charts."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="snapshots")
    balance = models.DecimalField(**amount_field_kwargs())
    total_units = models.DecimalField(**unit_field_kwargs())
    nav = models.DecimalField(**unit_field_kwargs())
    members = models.PositiveIntegerField(default=0)
    taken_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["pool", "taken_at"], name="snapshot_pool_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="snapshot_balance_non_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pool} at {self.taken_at:%Y-%m-%d %H:%M}"
