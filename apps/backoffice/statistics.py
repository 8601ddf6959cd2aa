"""Selectors behind the staff's statistics: a streamer's track-record page, the week's best
and worst streamers, and followers in pools over time.

The figures themselves are never computed here: a streamer's page reads
``apps.transactions.statistics.records.track_records`` (every window in one call), the
dashboard reads the ``StreamerRecord`` rows that ``records_refresh`` keeps. Demo pools count
nowhere. The dashboard's selectors take an optional ``operator`` (the operator portal): that
operator's streamers and pools only, filtered in the same queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, Max, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from apps.pools.models import Pool, PoolRollup, PoolSnapshot, StreamerRecord
from apps.streamers.models import Stream, Streamer
from apps.transactions.statistics.figures import DEFAULT_WINDOW, WINDOWS
from apps.transactions.statistics.records import TrackRecord, track_records

if TYPE_CHECKING:
    from apps.operators.models import Operator

RECENT_ROWS = 10
LEADERS = 5
WEEK = StreamerRecord.Window.WEEK.value


# --- one streamer ------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamerStatistics:
    streamer: Streamer
    window: str  # the window the charts show
    records: list[TrackRecord]  # one per window, in ``WINDOWS`` order
    chosen: TrackRecord  # the charted window's record, with its NAV series
    streams: list[Stream]  # the most recent first
    streams_total: int
    pools: list[Pool]  # the most recent first
    pools_total: int


def chosen_window(value: str | None) -> str:
    """The window asked for in the query string, or the default one."""
    return value if value in WINDOWS else DEFAULT_WINDOW


def streamer_statistics(
    *, streamer: Streamer, window: str = DEFAULT_WINDOW, now: datetime | None = None
) -> StreamerStatistics:
    """Every window of ``streamer``'s record (the chosen one with its series), and their most
    recent streams and pools (``RECENT_ROWS`` of each, with how many there are)."""
    window = chosen_window(window)
    now = now or timezone.now()
    records = track_records(streamer_ids=[streamer.pk], now=now, with_series=True)
    by_window = {record.window: record for record in records}
    streams = Stream.objects.filter(streamer=streamer)
    pools = Pool.objects.filter(streamer=streamer)
    return StreamerStatistics(
        streamer=streamer,
        window=window,
        records=[by_window[name] for name in WINDOWS],
        chosen=by_window[window],
        streams=list(streams.order_by("-created_at", "-pk")[:RECENT_ROWS]),
        streams_total=streams.count(),
        pools=list(pools.order_by("-opened_at", "-pk")[:RECENT_ROWS]),
        pools_total=pools.count(),
    )


# --- the week's best and worst -------------------------------------------------------------


@dataclass(frozen=True)
class Leaders:
    top: list[StreamerRecord]  # best ROI first
    bottom: list[StreamerRecord]  # worst ROI first; never one of ``top``


def week_leaders(*, limit: int = LEADERS, operator: Operator | None = None) -> Leaders:
    """The ``limit`` best and worst 7-day ROIs among ranked records (not new, with an ROI).

    With fewer than ``2 x limit`` ranked streamers the bottom list holds the rest only, so no
    streamer is listed twice. Ties are broken by the streamer's id. Two queries.
    """
    ranked = StreamerRecord.objects.filter(
        window=WEEK, is_new=False, roi__isnull=False
    ).select_related("streamer")
    if operator is not None:
        ranked = ranked.filter(streamer__operator=operator)
    top = list(ranked.order_by("-roi", "streamer_id")[:limit])
    bottom = list(
        ranked.exclude(pk__in=[r.pk for r in top]).order_by("roi", "-streamer_id")[:limit]
    )
    return Leaders(top=top, bottom=bottom)


# --- followers in pools over time ------------------------------------------------------------


def retention_start(now: datetime) -> datetime:
    """The oldest moment raw snapshots are still kept for (``snapshots_prune``)."""
    return now - timedelta(days=settings.COPYPOOL_SNAPSHOT_RETENTION_DAYS)


def followers_in_pools_series(
    *,
    days: int,
    kind: str = "hour",
    now: datetime | None = None,
    operator: Operator | None = None,
) -> list[tuple[datetime, int]]:
    """Followers in (real) pools over the last ``days``: per bucket of ``kind`` ("minute",
    "hour", "day"), each pool's latest reading of its members in the bucket, summed over the
    pools.

    Hours and days read the rollups' ``members_close``, which is that very figure (the
    members of a pool's last snapshot in the bucket), in a bounded number of rows whatever
    the snapshots kept: at 100 pools with a week of 5-minute snapshots, the same sum over
    the raw rows took 1.7 s on PostgreSQL, over the rollups milliseconds. The current
    bucket is as fresh as the last ``statistics_task`` (every 5 minutes). Minutes (a young
    history, ``dashboard.chart_bucket``) read the snapshots while they are kept.
    ``operator``: that operator's pools only.
    """
    now = now or timezone.now()
    since = now - timedelta(days=days)
    if kind == "minute" and since >= retention_start(now):
        return _followers_from_snapshots(since=since, kind=kind, operator=operator)
    return _followers_from_rollups(
        since=since, period="day" if kind == "day" else "hour", operator=operator
    )


def _followers_from_rollups(
    *, since: datetime, period: str, operator: Operator | None = None
) -> list[tuple[datetime, int]]:
    floor = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if period == "day":
        floor = floor.replace(hour=0)
    rollups = PoolRollup.objects.filter(period=period, start__gte=floor, pool__is_demo=False)
    if operator is not None:
        rollups = rollups.filter(pool__operator=operator)
    rows = (
        rollups.values("start")
        .annotate(members=Sum("members_close"))
        .order_by("start")
        .values_list("start", "members")
    )
    return [(start, int(members or 0)) for start, members in rows]


def _followers_from_snapshots(
    *, since: datetime, kind: str, operator: Operator | None = None
) -> list[tuple[datetime, int]]:
    """One statement: per bucket and pool the time of the latest snapshot (the ORM), that
    snapshot's members (a join on the ``(pool, taken_at)`` index), summed per bucket in the
    database (one row a bucket comes back, whatever the number of pools).

    A bucket counts the pools read within it: the snapshot pass reads every open pool in one
    round, every few minutes, so an hour or a day sees them all, and a minute sees a round
    whole or not at all."""
    snapshots = PoolSnapshot.objects.filter(taken_at__gte=since, pool__is_demo=False)
    if operator is not None:
        snapshots = snapshots.filter(pool__operator=operator)
    latest = (
        snapshots.annotate(bucket=Trunc("taken_at", kind))
        .values("bucket", "pool_id")
        .annotate(last=Max("taken_at"))
        .order_by()
    )
    sql, params = latest.query.sql_with_params()
    table = connection.ops.quote_name(PoolSnapshot._meta.db_table)
    series: list[tuple[datetime, int]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT per_pool.bucket, SUM(per_pool.members) FROM ("
            "SELECT latest.bucket, latest.pool_id, MAX(snap.members) AS members "
            f"FROM ({sql}) latest JOIN {table} snap "
            "ON snap.pool_id = latest.pool_id AND snap.taken_at = latest.last "
            "GROUP BY latest.bucket, latest.pool_id"
            ") per_pool GROUP BY per_pool.bucket ORDER BY per_pool.bucket",
            params,
        )
        # The bucket as the ORM would give it (an aware datetime on every backend), as in
        # ``dashboard.pooled_value_series``.
        bucket_of = Trunc("taken_at", kind, output_field=DateTimeField())
        converters = [
            *connection.ops.get_db_converters(bucket_of),
            *bucket_of.get_db_converters(connection),
        ]
        for bucket, members in cursor.fetchall():
            for converter in converters:
                bucket = converter(bucket, None, connection)
            series.append((bucket, int(members or 0)))
    return series
