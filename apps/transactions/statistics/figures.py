"""Every figure of a streamer's track record, defined once (no database here).

A window is read as whole rollup buckets (``apps.pools.rollups``): ``24h`` and ``7d`` in
UTC hours, from the hour that began 24 hours (7 days) before the current hour; ``30d`` and
``90d`` in UTC days, from the day that began 30 (90) days before today; ``all`` from the
first. Each window ends with the current, partial, bucket. Demo pools never count.

A **segment** is one pool's buckets inside the window, in time order. Its reference NAV (the
NAV when the window began) is the close of the pool's bucket just before the window, when
there is one; else the open of its first bucket in the window (a pool that opened inside
the window starts at its first reading).

- **ROI**: the NAV's growth, chained across segments in time order (a pool closing and a new
  one opening does not reset the record): ``prod(close / reference) - 1``. A segment whose
  reference NAV is 0 (a bust already in the past) holds nothing and is skipped. A bust in
  the window makes it -1. ``None`` without a segment.
- **Maximum drawdown**: the largest fall of the chained NAV index from a peak to a later
  trough, as a fraction of the peak (0 to 1; 1 is a bust), exact from the buckets' high,
  low and inside-the-bucket fall. ``None`` without a segment.
- **NAV series**: the chained index (1 at the window's start) at each bucket's close, with
  the pooled value and members then: what 1 copied at the window's start became.
- **Pooled value (AUM)**: now, the open pool's balance (0 when none); at its peak, the
  highest balance a bucket saw in the window, or now if higher.
- **Followers**: now, the open pool's members; distinct, the followers whose position was
  in a pool of the streamer at any time in the window.
- **Money joined**: followers' debits that succeeded in the window (joins and top-ups), less
  rollbacks of those debits; **paid out**: followers' credits (WINs) that succeeded.
- **Followers' net result**: what followers gained (positive) or lost: their holdings'
  value at the window's end, less at its start, plus paid out, less joined. A holding is the
  followers' units at the NAV: ``balance x (1 - streamer units / total units)``; a pool
  closed by the window's end holds nothing, one opened inside the window held nothing.
- **Streams** that started in the window, and **hours live** of all streams inside it.
- **The streamer's own share**: the streamer's units over the open pool's units, now.
- **New**: a record (first reading of a real pool) younger than ``COPYPOOL_STATS_NEW_DAYS``
  days: shown, never ranked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from apps.core.money import AMOUNT_QUANTUM, MATH_CONTEXT, ZERO
from apps.pools.rollups import DAY, HOUR, fall, floor_day, floor_hour

ONE = Decimal(1)
RATIO_QUANTUM = Decimal(1).scaleb(-12)
HOURS_QUANTUM = Decimal("0.01")

WINDOWS = ("24h", "7d", "30d", "90d", "all")
DEFAULT_WINDOW = "30d"
# Per window: the bucket it is read in, and how far back it reaches (None: all).
WINDOW_SPANS: dict[str, tuple[str, timedelta | None]] = {
    "24h": ("hour", timedelta(hours=24)),
    "7d": ("hour", timedelta(days=7)),
    "30d": ("day", timedelta(days=30)),
    "90d": ("day", timedelta(days=90)),
    "all": ("day", None),
}


@dataclass(frozen=True)
class Window:
    name: str
    period: str  # "hour" | "day"
    start: datetime | None  # the first bucket's start; None: all time
    end: datetime  # now

    @property
    def step(self) -> timedelta:
        return HOUR if self.period == "hour" else DAY


def window_for(name: str, now: datetime) -> Window:
    """The window ``name`` (one of ``WINDOWS``) ending ``now``; ``ValueError`` otherwise."""
    if name not in WINDOW_SPANS:
        raise ValueError(f"window must be one of {', '.join(WINDOWS)}")
    period, span = WINDOW_SPANS[name]
    if span is None:
        return Window(name=name, period=period, start=None, end=now)
    floor = floor_hour(now) if period == "hour" else floor_day(now)
    return Window(name=name, period=period, start=floor - span, end=now)


@dataclass(frozen=True)
class Bucket:
    """One rollup row of one pool, as the figures need it."""

    start: datetime
    nav_open: Decimal
    nav_high: Decimal
    nav_low: Decimal
    nav_close: Decimal
    nav_drawdown: Decimal
    balance_open: Decimal
    balance_high: Decimal
    balance_close: Decimal
    members_close: int
    total_units_close: Decimal
    streamer_units_close: Decimal | None

    @property
    def followers_fraction(self) -> Decimal:
        """The followers' part of the pool's units at the close (all of it if unknown)."""
        if self.total_units_close <= 0:
            return ZERO
        streamer = self.streamer_units_close or ZERO
        return MATH_CONTEXT.divide(self.total_units_close - streamer, self.total_units_close)

    @property
    def followers_value_close(self) -> Decimal:
        return MATH_CONTEXT.multiply(self.balance_close, self.followers_fraction)

    @property
    def followers_value_open(self) -> Decimal:
        return MATH_CONTEXT.multiply(self.balance_open, self.followers_fraction)


@dataclass(frozen=True)
class Segment:
    """One pool's buckets inside a window (time order, at least one), and what came before."""

    pool_id: int
    buckets: Sequence[Bucket]
    before: Bucket | None  # the pool's bucket just before the window, if any
    opened_before_window: bool
    closed_by_end: bool

    @property
    def reference_nav(self) -> Decimal:
        return self.before.nav_close if self.before else self.buckets[0].nav_open

    @property
    def growth(self) -> Decimal:
        """close / reference (1 when the reference is 0: nothing was at stake)."""
        reference = self.reference_nav
        if reference <= 0:
            return ONE
        return MATH_CONTEXT.divide(self.buckets[-1].nav_close, reference)

    @property
    def followers_value_start(self) -> Decimal:
        if self.before is not None:
            return self.before.followers_value_close
        if self.opened_before_window:
            return self.buckets[0].followers_value_open
        return ZERO

    @property
    def followers_value_end(self) -> Decimal:
        return ZERO if self.closed_by_end else self.buckets[-1].followers_value_close


def ratio(value: Decimal) -> Decimal:
    return value.quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN, context=MATH_CONTEXT)


def ordered(segments: Iterable[Segment]) -> list[Segment]:
    return sorted(segments, key=lambda s: (s.buckets[0].start, s.pool_id))


def roi(segments: Iterable[Segment]) -> Decimal | None:
    """Chained growth of the NAV over the window, less 1; ``None`` without a segment."""
    chain = ordered(segments)
    if not chain:
        return None
    growth = ONE
    for segment in chain:
        growth = MATH_CONTEXT.multiply(growth, segment.growth)
    return ratio(growth - ONE)


def max_drawdown(segments: Iterable[Segment]) -> Decimal | None:
    """Largest fall of the chained NAV index from a peak to a later trough (0 to 1)."""
    chain = ordered(segments)
    if not chain:
        return None
    level = ONE  # the index at the start of the segment
    peak = ONE
    worst = ZERO
    for segment in chain:
        reference = segment.reference_nav
        if reference <= 0:
            continue
        scale = MATH_CONTEXT.divide(level, reference)
        for bucket in segment.buckets:
            worst = max(
                worst, bucket.nav_drawdown, fall(peak, MATH_CONTEXT.multiply(bucket.nav_low, scale))
            )
            peak = max(peak, MATH_CONTEXT.multiply(bucket.nav_high, scale))
        level = MATH_CONTEXT.multiply(level, segment.growth)
    return ratio(worst)


@dataclass(frozen=True)
class NavPoint:
    at: datetime  # the bucket's start
    index: Decimal  # the chained NAV index, 1 at the window's start
    nav: Decimal  # the pool's own NAV at the bucket's close
    balance: Decimal  # the pooled value at the close
    members: int


def nav_series(segments: Iterable[Segment]) -> list[NavPoint]:
    """The chained NAV index at each bucket's close, oldest first."""
    points: list[NavPoint] = []
    level = ONE
    for segment in ordered(segments):
        reference = segment.reference_nav
        scale = MATH_CONTEXT.divide(level, reference) if reference > 0 else ZERO
        for bucket in segment.buckets:
            index = MATH_CONTEXT.multiply(bucket.nav_close, scale) if reference > 0 else level
            points.append(
                NavPoint(
                    at=bucket.start,
                    index=ratio(index),
                    nav=bucket.nav_close,
                    balance=bucket.balance_close,
                    members=bucket.members_close,
                )
            )
        level = MATH_CONTEXT.multiply(level, segment.growth)
    return points


def aum_peak(segments: Iterable[Segment], *, now: Decimal) -> Decimal:
    """The highest pooled value in the window (the value now counts too)."""
    return max([now, *(b.balance_high for s in segments for b in s.buckets)])


def money(value: Decimal) -> Decimal:
    return value.quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_EVEN, context=MATH_CONTEXT)


def net_result(segments: Iterable[Segment], *, joined: Decimal, paid_out: Decimal) -> Decimal:
    """Followers' gain (loss, when negative) over the window; to 8 places."""
    chain = list(segments)
    start = sum((s.followers_value_start for s in chain), ZERO)
    end = sum((s.followers_value_end for s in chain), ZERO)
    return money(end - start + paid_out - joined)


def hours_live(
    intervals: Iterable[tuple[datetime, datetime | None]], *, start: datetime | None, end: datetime
) -> Decimal:
    """Hours of the streams' ``(started, ended or None while live)`` inside the window."""
    seconds = 0.0
    for began, ended in intervals:
        low = began if start is None else max(began, start)
        high = min(ended or end, end)
        if high > low:
            seconds += (high - low).total_seconds()
    return (Decimal(seconds) / 3600).quantize(HOURS_QUANTUM, rounding=ROUND_DOWN)


def streamer_share(*, streamer_units: Decimal, total_units: Decimal) -> Decimal | None:
    """The streamer's own part of the open pool's units; ``None`` without units."""
    if total_units <= 0:
        return None
    return ratio(MATH_CONTEXT.divide(streamer_units, total_units))


def is_new(history_start: datetime | None, *, now: datetime, new_days: int) -> bool:
    """A record younger than ``new_days`` days (or none at all) is new: not ranked."""
    return history_start is None or now - history_start < timedelta(days=new_days)
