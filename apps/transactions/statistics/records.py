"""Streamers' track records read from the rollups and the ledger, never from operators.

``track_records`` computes every window of the streamers asked (all by default) in a fixed
number of queries: the rollups of the windows (hourly for ``24h`` and ``7d``, daily beyond),
the real pools, the ledger's sums, the positions, the streams. The figures themselves are
``apps.transactions.statistics.figures``. ``track_record`` is one streamer's one window, with
its NAV series (the streamer pages and ``GET streamers/{id}/stats``); ``records_refresh``
keeps a ``StreamerRecord`` row per streamer and window (the leaderboard, the lobby, the
dashboard), run by ``statistics_task`` after each rollup.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from apps.core.money import ZERO
from apps.followers.models import Position
from apps.pools.models import Pool, PoolRollup, StreamerRecord
from apps.pools.rollups import floor_hour
from apps.pools.selectors import MEMBERS
from apps.streamers.models import Stream, Streamer
from apps.transactions.models import Transaction
from apps.transactions.statistics import figures
from apps.transactions.statistics.figures import Bucket, NavPoint, Segment, Window

BUCKET_COLUMNS = (
    "pool_id",
    "start",
    "nav_open",
    "nav_high",
    "nav_low",
    "nav_close",
    "nav_drawdown",
    "balance_open",
    "balance_high",
    "balance_close",
    "members_close",
    "total_units_close",
    "streamer_units_close",
)
# Positions that were ever in a pool (a failed join never was).
WAS_MEMBER = ["active", "leaving", "closed"]


@dataclass(frozen=True)
class TrackRecord:
    streamer_id: int
    window: str
    window_start: datetime | None
    computed_at: datetime
    history_start: datetime | None
    is_new: bool
    currency: str
    roi: Decimal | None
    max_drawdown: Decimal | None
    aum: Decimal
    aum_peak: Decimal
    followers_now: int
    followers_distinct: int
    joined: Decimal
    paid_out: Decimal
    net_result: Decimal
    streams: int
    hours_live: Decimal
    streamer_share: Decimal | None
    series: list[NavPoint] = field(default_factory=list)


@dataclass(frozen=True)
class PoolInfo:
    id: int
    streamer_id: int
    opened_at: datetime
    closed_at: datetime | None


@dataclass
class OpenPool:
    balance: Decimal = ZERO
    total_units: Decimal = ZERO
    streamer_units: Decimal = ZERO
    members: int = 0


def _scope(streamer_ids: Sequence[int] | None, prefix: str) -> Q:
    return Q() if streamer_ids is None else Q(**{f"{prefix}__in": list(streamer_ids)})


def _buckets(
    period: str, since: datetime | None, streamer_ids: Sequence[int] | None
) -> dict[int, list[Bucket]]:
    """Each real pool's buckets of ``period`` from ``since`` on, in time order."""
    rows = PoolRollup.objects.filter(
        _scope(streamer_ids, "pool__streamer_id"), period=period, pool__is_demo=False
    )
    if since is not None:
        rows = rows.filter(start__gte=since)
    by_pool: dict[int, list[Bucket]] = defaultdict(list)
    for row in rows.order_by("pool_id", "start").values_list(*BUCKET_COLUMNS).iterator(5000):
        by_pool[row[0]].append(Bucket(*row[1:]))
    return by_pool


def _segments(
    window: Window, buckets: dict[int, list[Bucket]], pools: dict[int, PoolInfo]
) -> dict[int, list[Segment]]:
    """Per streamer, the segments of ``window`` (``buckets`` may reach further back)."""
    segments: dict[int, list[Segment]] = defaultdict(list)
    for pool_id, rows in buckets.items():
        info = pools.get(pool_id)
        if info is None:
            continue
        start = window.start
        inside = [b for b in rows if (start is None or b.start >= start) and b.start <= window.end]
        if not inside:
            continue
        before = None
        if start is not None:
            earlier = [b for b in rows if b.start == start - window.step]
            before = earlier[-1] if earlier else None
        segments[info.streamer_id].append(
            Segment(
                pool_id=pool_id,
                buckets=inside,
                before=before,
                opened_before_window=start is not None and info.opened_at < start,
                closed_by_end=info.closed_at is not None and info.closed_at <= window.end,
            )
        )
    return segments


def _ledger(
    window: Window, streamer_ids: Sequence[int] | None
) -> dict[int, tuple[Decimal, Decimal]]:
    """Per streamer: (money joined, paid out) in the window, as the settlement counts them."""
    rows = Transaction.objects.filter(
        _scope(streamer_ids, "pool__streamer_id"),
        is_demo=False,
        status=Transaction.Status.SUCCEEDED,
        kind__in=[Transaction.Kind.FOLLOWER_DEBIT, Transaction.Kind.FOLLOWER_CREDIT],
        pool__isnull=False,
    )
    if window.start is not None:
        rows = rows.filter(completed_at__gte=window.start)
    rows = rows.filter(completed_at__lte=window.end)
    sums: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for row in rows.values("pool__streamer_id", "kind").annotate(total=Sum("amount")).order_by():
        slot = 0 if row["kind"] == Transaction.Kind.FOLLOWER_DEBIT else 1
        sums[row["pool__streamer_id"]][slot] = row["total"] or ZERO
    return {key: (value[0], value[1]) for key, value in sums.items()}


def _followers_distinct(window: Window, streamer_ids: Sequence[int] | None) -> dict[int, int]:
    rows = Position.objects.filter(
        _scope(streamer_ids, "pool__streamer_id"),
        pool__is_demo=False,
        status__in=WAS_MEMBER,
        created_at__lte=window.end,
    )
    if window.start is not None:
        rows = rows.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=window.start))
    return dict(
        rows.values("pool__streamer_id")
        .annotate(n=Count("follower_id", distinct=True))
        .order_by()
        .values_list("pool__streamer_id", "n")
    )


def _streams(
    earliest: datetime | None, streamer_ids: Sequence[int] | None
) -> dict[int, list[tuple[datetime, datetime | None]]]:
    rows = Stream.objects.filter(_scope(streamer_ids, "streamer_id"), started_at__isnull=False)
    if earliest is not None:
        rows = rows.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=earliest))
    intervals: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for streamer_id, started, ended in rows.values_list("streamer_id", "started_at", "ended_at"):
        if started is not None:
            intervals[streamer_id].append((started, ended))
    return intervals


def _pools(streamer_ids: Sequence[int] | None) -> tuple[dict[int, PoolInfo], dict[int, OpenPool]]:
    real = Pool.objects.filter(_scope(streamer_ids, "streamer_id"), is_demo=False)
    infos = {
        pk: PoolInfo(id=pk, streamer_id=streamer_id, opened_at=opened_at, closed_at=closed_at)
        for pk, streamer_id, opened_at, closed_at in real.values_list(
            "pk", "streamer_id", "opened_at", "closed_at"
        )
    }
    current: dict[int, OpenPool] = {}
    for streamer_id, balance, total_units, streamer_units, members in (
        real.exclude(state=Pool.State.CLOSED)
        .annotate(members=MEMBERS)
        .order_by()
        .values_list("streamer_id", "balance", "total_units", "streamer_units", "members")
    ):
        current[streamer_id] = OpenPool(balance, total_units, streamer_units, members)
    return infos, current


def _history_starts(streamer_ids: Sequence[int] | None) -> dict[int, datetime]:
    """When each streamer's record began: the first reading of their first real pool."""
    return dict(
        PoolRollup.objects.filter(
            _scope(streamer_ids, "pool__streamer_id"),
            period=PoolRollup.Period.DAY,
            pool__is_demo=False,
        )
        .values("pool__streamer_id")
        .annotate(first=Min("first_at"))
        .order_by()
        .values_list("pool__streamer_id", "first")
    )


def track_records(
    *,
    streamer_ids: Sequence[int] | None = None,
    windows: Iterable[str | Window] = figures.WINDOWS,
    now: datetime | None = None,
    with_series: bool = False,
) -> list[TrackRecord]:
    """Every window of every streamer asked (all streamers by default), figures as defined
    in ``figures``; with ``with_series`` each carries its NAV series too."""
    now = now or timezone.now()
    wanted = [w if isinstance(w, Window) else figures.window_for(w, now) for w in windows]
    streamers = list(
        Streamer.objects.filter(_scope(streamer_ids, "pk")).values_list("pk", "currency")
    )
    ids = None if streamer_ids is None else [pk for pk, _ in streamers]
    pools, current = _pools(ids)
    history = _history_starts(ids)
    fetched: dict[str, dict[int, list[Bucket]]] = {}
    for period in {w.period for w in wanted}:
        starts = [w.start for w in wanted if w.period == period]
        since = None if None in starts else min(s for s in starts if s is not None)
        step = figures.HOUR if period == "hour" else figures.DAY
        fetched[period] = _buckets(period, since - step if since else None, ids)
    earliest = (
        None if any(w.start is None for w in wanted) else min(w.start for w in wanted if w.start)
    )
    streams = _streams(earliest, ids)
    new_days = settings.COPYPOOL_STATS_NEW_DAYS

    records: list[TrackRecord] = []
    for window in wanted:
        segments = _segments(window, fetched[window.period], pools)
        ledger = _ledger(window, ids)
        distinct = _followers_distinct(window, ids)
        for streamer_id, currency in streamers:
            mine = segments.get(streamer_id, [])
            joined, paid_out = ledger.get(streamer_id, (ZERO, ZERO))
            open_pool = current.get(streamer_id, OpenPool())
            intervals = streams.get(streamer_id, [])
            records.append(
                TrackRecord(
                    streamer_id=streamer_id,
                    window=window.name,
                    window_start=window.start,
                    computed_at=now,
                    history_start=history.get(streamer_id),
                    is_new=figures.is_new(history.get(streamer_id), now=now, new_days=new_days),
                    currency=currency,
                    roi=figures.roi(mine),
                    max_drawdown=figures.max_drawdown(mine),
                    aum=open_pool.balance,
                    aum_peak=figures.aum_peak(mine, now=open_pool.balance),
                    followers_now=open_pool.members,
                    followers_distinct=distinct.get(streamer_id, 0),
                    joined=joined,
                    paid_out=paid_out,
                    net_result=figures.net_result(mine, joined=joined, paid_out=paid_out),
                    streams=sum(
                        1
                        for began, _ in intervals
                        if (window.start is None or began >= window.start) and began <= window.end
                    ),
                    hours_live=figures.hours_live(intervals, start=window.start, end=window.end),
                    streamer_share=figures.streamer_share(
                        streamer_units=open_pool.streamer_units, total_units=open_pool.total_units
                    ),
                    series=figures.nav_series(mine) if with_series else [],
                )
            )
    return records


def track_record(streamer: Streamer, window: str, *, now: datetime | None = None) -> TrackRecord:
    """One streamer's record over ``window``, with its NAV series (``ValueError`` for a
    window that is not one of ``figures.WINDOWS``)."""
    return track_records(streamer_ids=[streamer.pk], windows=[window], now=now, with_series=True)[0]


def stream_record(stream: Stream, *, now: datetime | None = None) -> TrackRecord | None:
    """The record of one stream: its streamer's over the stream's hours (from the hour it
    started to its end, or now while live), with the NAV series; ``None`` before it started.
    "Now" figures (pooled value, followers, share) are the streamer's now."""
    if stream.started_at is None:
        return None
    now = now or timezone.now()
    end = min(stream.ended_at or now, now)
    window = Window(name="stream", period="hour", start=floor_hour(stream.started_at), end=end)
    return track_records(
        streamer_ids=[stream.streamer_id], windows=[window], now=now, with_series=True
    )[0]


RECORD_FIELDS = [
    "computed_at",
    "window_start",
    "history_start",
    "is_new",
    "currency",
    "roi",
    "max_drawdown",
    "aum",
    "aum_peak",
    "followers_now",
    "followers_distinct",
    "joined",
    "paid_out",
    "net_result",
    "streams",
    "hours_live",
    "streamer_share",
]


# Streamers whose records are computed at once: what one pass holds in memory (every bucket
# of their windows) is bounded by this, not by the number of streamers.
REFRESH_CHUNK = 200


def records_refresh(*, now: datetime | None = None, chunk: int = REFRESH_CHUNK) -> int:
    """Recompute every streamer's ``StreamerRecord`` rows (one per window), ``chunk``
    streamers at a time, all at the same ``now``; returns how many rows were written."""
    now = now or timezone.now()
    ids = list(Streamer.objects.order_by("pk").values_list("pk", flat=True))
    written = 0
    for start in range(0, len(ids), chunk):
        records = track_records(streamer_ids=ids[start : start + chunk], now=now)
        rows = [
            StreamerRecord(
                streamer_id=r.streamer_id,
                window=r.window,
                **{name: getattr(r, name) for name in RECORD_FIELDS},
            )
            for r in records
        ]
        with transaction.atomic():
            StreamerRecord.objects.bulk_create(
                rows,
                batch_size=1000,
                update_conflicts=True,
                unique_fields=["streamer", "window"],
                update_fields=RECORD_FIELDS,
            )
        written += len(rows)
    return written
