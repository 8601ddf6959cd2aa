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
    # The streamer's own units when read (null on snapshots from before it was recorded).
    streamer_units = models.DecimalField(**unit_field_kwargs(), null=True, blank=True)
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


def ratio_field_kwargs() -> dict:
    """A ratio (ROI, a drawdown, a share) as a fraction to 12 places: -1 up to large gains."""
    return {"max_digits": 24, "decimal_places": 12}


class PoolRollup(models.Model):
    """A pool's snapshots of one UTC hour or day, summarised (``apps.pools.rollups``): the open,
    high, low and close of the NAV, the balance and the members, and the largest fall of the
    NAV inside the bucket (``nav_drawdown``, a fraction of its peak). Statistics read these
    rows, so what they read is bounded by the window, not by the age of the data; raw
    snapshots are pruned after a while, these are kept."""

    class Period(models.TextChoices):
        HOUR = "hour", "Hour"
        DAY = "day", "Day"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="rollups")
    period = models.CharField(max_length=4, choices=Period.choices)
    start = models.DateTimeField()
    samples = models.PositiveIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    nav_open = models.DecimalField(**unit_field_kwargs())
    nav_high = models.DecimalField(**unit_field_kwargs())
    nav_low = models.DecimalField(**unit_field_kwargs())
    nav_close = models.DecimalField(**unit_field_kwargs())
    nav_drawdown = models.DecimalField(**ratio_field_kwargs(), default=ZERO)
    balance_open = models.DecimalField(**amount_field_kwargs())
    balance_high = models.DecimalField(**amount_field_kwargs())
    balance_low = models.DecimalField(**amount_field_kwargs())
    balance_close = models.DecimalField(**amount_field_kwargs())
    members_open = models.PositiveIntegerField(default=0)
    members_high = models.PositiveIntegerField(default=0)
    members_low = models.PositiveIntegerField(default=0)
    members_close = models.PositiveIntegerField(default=0)
    total_units_close = models.DecimalField(**unit_field_kwargs())
    # The streamer's own units at the bucket's close, when the snapshots knew them.
    streamer_units_close = models.DecimalField(**unit_field_kwargs(), null=True, blank=True)

    class Meta:
        ordering = ["pool", "period", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "period", "start"], name="rollup_one_per_pool_bucket"
            ),
            models.CheckConstraint(
                condition=Q(period__in=["hour", "day"]), name="rollup_period_valid"
            ),
        ]
        indexes = [models.Index(fields=["period", "start"], name="rollup_period_start")]

    def __str__(self) -> str:
        return f"{self.pool} {self.period} {self.start:%Y-%m-%d %H:%M}"


class StreamerRecord(models.Model):
    """A streamer's track record over one window, as last computed
    (``apps.transactions.statistics``): what the leaderboard ranks and the lobby shows. The
    figures are defined in ``apps.transactions.statistics.figures``; this row only keeps them."""

    class Window(models.TextChoices):
        DAY = "24h", "24 hours"
        WEEK = "7d", "7 days"
        MONTH = "30d", "30 days"
        QUARTER = "90d", "90 days"
        ALL = "all", "All time"

    streamer = models.ForeignKey(Streamer, on_delete=models.CASCADE, related_name="records")
    window = models.CharField(max_length=4, choices=Window.choices)
    computed_at = models.DateTimeField()
    window_start = models.DateTimeField(null=True, blank=True)
    history_start = models.DateTimeField(null=True, blank=True)
    is_new = models.BooleanField(default=True)
    currency = models.CharField(max_length=8)
    roi = models.DecimalField(**ratio_field_kwargs(), null=True, blank=True)
    max_drawdown = models.DecimalField(**ratio_field_kwargs(), null=True, blank=True)
    aum = models.DecimalField(**amount_field_kwargs(), default=ZERO)
    aum_peak = models.DecimalField(**amount_field_kwargs(), default=ZERO)
    followers_now = models.PositiveIntegerField(default=0)
    followers_distinct = models.PositiveIntegerField(default=0)
    joined = models.DecimalField(**amount_field_kwargs(), default=ZERO)
    paid_out = models.DecimalField(**amount_field_kwargs(), default=ZERO)
    net_result = models.DecimalField(**amount_field_kwargs(), default=ZERO)
    streams = models.PositiveIntegerField(default=0)
    hours_live = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    streamer_share = models.DecimalField(**ratio_field_kwargs(), null=True, blank=True)

    class Meta:
        ordering = ["streamer", "window"]
        constraints = [
            models.UniqueConstraint(fields=["streamer", "window"], name="record_one_per_window"),
            models.CheckConstraint(
                condition=Q(window__in=["24h", "7d", "30d", "90d", "all"]),
                name="record_window_valid",
            ),
        ]
        indexes = [models.Index(fields=["window", "-roi"], name="record_window_roi")]

    def __str__(self) -> str:
        return f"{self.streamer} {self.window}"
