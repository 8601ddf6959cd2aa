"""Snapshots rolled up into hourly and daily rows, and raw history pruned.

Every pool is read about every 5 minutes (``apps.pools.snapshots``): 105,000 rows a pool a
year. Statistics do not read those. ``rollups_refresh`` sums each pool's snapshots of a UTC
hour into one ``PoolRollup`` (open, high, low, close of the NAV, the balance and the
members; the largest fall of the NAV inside the hour, as a fraction of its peak), and each
UTC day's hours into one daily row. What a statistic reads is then bounded by its window: at
most 24 x 7 hourly rows a pool for a week, one row a day beyond.

The largest fall inside a bucket is what makes a drawdown exact from rollups: a fall from a
peak to a later trough either lies inside one bucket (its ``nav_drawdown``) or starts at a
peak in an earlier bucket (at most the highest ``nav_high`` before it) and ends at a trough
(at least this bucket's ``nav_low``). The same holds when days are built from hours.

Each run recomputes from the hour before the newest hourly row it finds (a snapshot written
just before the hour turned may be committed just after a run), up to the current hour;
the current hour's and day's rows are partial until the bucket ends, and are rewritten by
each run (an upsert on pool, period and start). The first run rolls up everything there is.

``snapshots_prune`` deletes raw snapshots older than the retention
(``COPYPOOL_SNAPSHOT_RETENTION_DAYS``, 30 by default), never one that is not yet rolled up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from apps.core.money import MATH_CONTEXT, ZERO
from apps.pools.models import PoolRollup, PoolSnapshot

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
RATIO_PLACES = Decimal(1).scaleb(-12)
UPSERT_BATCH = 1000
PRUNE_BATCH = 10_000

UPDATED_FIELDS = [
    "samples",
    "first_at",
    "last_at",
    "nav_open",
    "nav_high",
    "nav_low",
    "nav_close",
    "nav_drawdown",
    "balance_open",
    "balance_high",
    "balance_low",
    "balance_close",
    "members_open",
    "members_high",
    "members_low",
    "members_close",
    "total_units_close",
    "streamer_units_close",
]


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def floor_day(moment: datetime) -> datetime:
    return floor_hour(moment).replace(hour=0)


def fall(peak: Decimal, low: Decimal) -> Decimal:
    """How far ``low`` is below ``peak``, as a fraction of ``peak`` (0 when not below), to
    12 places rounded down."""
    if peak <= 0 or low >= peak:
        return ZERO
    return MATH_CONTEXT.divide(peak - low, peak).quantize(RATIO_PLACES, rounding=ROUND_DOWN)


@dataclass(frozen=True)
class Sample:
    """One reading, or one finer bucket, of a pool in time order."""

    at: datetime
    last_at: datetime
    samples: int
    nav_open: Decimal
    nav_high: Decimal
    nav_low: Decimal
    nav_close: Decimal
    nav_drawdown: Decimal
    balance_open: Decimal
    balance_high: Decimal
    balance_low: Decimal
    balance_close: Decimal
    members_open: int
    members_high: int
    members_low: int
    members_close: int
    total_units_close: Decimal
    streamer_units_close: Decimal | None


def summarise(pool_id: int, period: str, start: datetime, samples: Sequence[Sample]) -> PoolRollup:
    """One bucket of a pool from its samples (time order): open and close are the first's
    and the last's, high and low the extremes, the drawdown the largest fall inside."""
    first, last = samples[0], samples[-1]
    peak = first.nav_open
    drawdown = ZERO
    for sample in samples:
        drawdown = max(drawdown, sample.nav_drawdown, fall(peak, sample.nav_low))
        peak = max(peak, sample.nav_high)
    return PoolRollup(
        pool_id=pool_id,
        period=period,
        start=start,
        samples=sum(s.samples for s in samples),
        first_at=first.at,
        last_at=last.last_at,
        nav_open=first.nav_open,
        nav_high=max(s.nav_high for s in samples),
        nav_low=min(s.nav_low for s in samples),
        nav_close=last.nav_close,
        nav_drawdown=drawdown,
        balance_open=first.balance_open,
        balance_high=max(s.balance_high for s in samples),
        balance_low=min(s.balance_low for s in samples),
        balance_close=last.balance_close,
        members_open=first.members_open,
        members_high=max(s.members_high for s in samples),
        members_low=min(s.members_low for s in samples),
        members_close=last.members_close,
        total_units_close=last.total_units_close,
        streamer_units_close=last.streamer_units_close,
    )


def _reading(taken_at, nav, balance, members, total_units, streamer_units) -> Sample:
    return Sample(
        at=taken_at,
        last_at=taken_at,
        samples=1,
        nav_open=nav,
        nav_high=nav,
        nav_low=nav,
        nav_close=nav,
        nav_drawdown=ZERO,
        balance_open=balance,
        balance_high=balance,
        balance_low=balance,
        balance_close=balance,
        members_open=members,
        members_high=members,
        members_low=members,
        members_close=members,
        total_units_close=total_units,
        streamer_units_close=streamer_units,
    )


def _bucket(rollup: PoolRollup) -> Sample:
    return Sample(
        at=rollup.first_at,
        last_at=rollup.last_at,
        samples=rollup.samples,
        nav_open=rollup.nav_open,
        nav_high=rollup.nav_high,
        nav_low=rollup.nav_low,
        nav_close=rollup.nav_close,
        nav_drawdown=rollup.nav_drawdown,
        balance_open=rollup.balance_open,
        balance_high=rollup.balance_high,
        balance_low=rollup.balance_low,
        balance_close=rollup.balance_close,
        members_open=rollup.members_open,
        members_high=rollup.members_high,
        members_low=rollup.members_low,
        members_close=rollup.members_close,
        total_units_close=rollup.total_units_close,
        streamer_units_close=rollup.streamer_units_close,
    )


def _grouped(rows: Iterable[tuple[int, Sample]]) -> Iterable[tuple[int, list[Sample]]]:
    """Consecutive samples of one pool (rows come ordered by pool, then time)."""
    current: int | None = None
    group: list[Sample] = []
    for pool_id, sample in rows:
        if pool_id != current:
            if group and current is not None:
                yield current, group
            current, group = pool_id, []
        group.append(sample)
    if group and current is not None:
        yield current, group


def _upsert(rollups: list[PoolRollup]) -> None:
    PoolRollup.objects.bulk_create(
        rollups,
        batch_size=UPSERT_BATCH,
        update_conflicts=True,
        unique_fields=["pool", "period", "start"],
        update_fields=UPDATED_FIELDS,
    )


def hour_roll_up(start: datetime) -> int:
    """(Re)write the hourly rows of the hour starting at ``start``; returns how many."""
    rows = (
        PoolSnapshot.objects.filter(taken_at__gte=start, taken_at__lt=start + HOUR)
        .order_by("pool_id", "taken_at", "pk")
        .values_list(
            "pool_id", "taken_at", "nav", "balance", "members", "total_units", "streamer_units"
        )
    )
    rollups = [
        summarise(pool_id, PoolRollup.Period.HOUR, start, samples)
        for pool_id, samples in _grouped(
            (row[0], _reading(*row[1:])) for row in rows.iterator(chunk_size=5000)
        )
    ]
    with transaction.atomic():
        _upsert(rollups)
    return len(rollups)


def day_roll_up(start: datetime) -> int:
    """(Re)write the daily rows of the UTC day starting at ``start`` from its hourly rows."""
    hours = PoolRollup.objects.filter(
        period=PoolRollup.Period.HOUR, start__gte=start, start__lt=start + DAY
    ).order_by("pool_id", "start")
    rollups = [
        summarise(pool_id, PoolRollup.Period.DAY, start, samples)
        for pool_id, samples in _grouped(
            (hour.pool_id, _bucket(hour)) for hour in hours.iterator(chunk_size=5000)
        )
    ]
    with transaction.atomic():
        _upsert(rollups)
    return len(rollups)


@dataclass
class RollupStats:
    hours: int = 0
    days: int = 0
    hourly_rows: int = 0
    daily_rows: int = 0


def rollups_refresh(*, now: datetime | None = None, since: datetime | None = None) -> RollupStats:
    """Roll up the snapshots from ``since`` (by default: the hour before the newest hourly
    row, or the oldest snapshot on a first run) to ``now``'s hour, then those hours' days.
    ``since`` must not reach back before snapshots were pruned: an hour whose raw snapshots
    are gone would be rewritten from what is left."""
    now = now or timezone.now()
    stats = RollupStats()
    if since is None:
        newest = PoolRollup.objects.filter(period=PoolRollup.Period.HOUR).aggregate(
            at=Max("start")
        )["at"]
        if newest is not None:
            since = newest - HOUR
        else:
            since = PoolSnapshot.objects.aggregate(at=Min("taken_at"))["at"]
            if since is None:
                return stats
    hour, last_hour = floor_hour(since), floor_hour(now)
    while hour <= last_hour:
        stats.hourly_rows += hour_roll_up(hour)
        stats.hours += 1
        hour += HOUR
    day, last_day = floor_day(since), floor_day(now)
    while day <= last_day:
        stats.daily_rows += day_roll_up(day)
        stats.days += 1
        day += DAY
    return stats


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def snapshots_prune(*, now: datetime | None = None, keep_days: int | None = None) -> int:
    """Delete raw snapshots older than ``keep_days`` (the setting by default) that are
    rolled up already (before the newest hourly row's previous hour); returns how many, in
    batches so no statement holds locks for long."""
    now = now or timezone.now()
    days = settings.COPYPOOL_SNAPSHOT_RETENTION_DAYS if keep_days is None else keep_days
    newest = PoolRollup.objects.filter(period=PoolRollup.Period.HOUR).aggregate(at=Max("start"))[
        "at"
    ]
    if newest is None:
        return 0
    cutoff = min(retention_cutoff(now, days), newest - HOUR)
    deleted = 0
    while True:
        batch = list(
            PoolSnapshot.objects.filter(taken_at__lt=cutoff)
            .order_by("taken_at")
            .values_list("pk", flat=True)[:PRUNE_BATCH]
        )
        if not batch:
            return deleted
        deleted += PoolSnapshot.objects.filter(pk__in=batch).delete()[0]
