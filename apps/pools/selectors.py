"""Reads on pools: the lobby (live and upcoming streams), pool values, and the streamers'
kept track records (``StreamerRecord``: the leaderboard, the lobby's 7-day figures)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, F, OrderBy, OuterRef, Prefetch, Q, Sum
from django.utils import timezone

from apps.core.errors import ErrorCode, NotFound
from apps.core.money import DEMO_CURRENCY
from apps.operators.models import Operator
from apps.pools.accounting import nav
from apps.pools.models import Pool, PoolSnapshot, StreamerRecord
from apps.pools.services import MEMBER_FILTER
from apps.streamers.models import Stream, Streamer
from apps.streamers.selectors import StreamerLimits, streamer_limits, streamers_visible_q

_MEMBER_POSITIONS = Q(positions__status__in=["joining", "active"]) | Q(
    positions__status="leaving", positions__units__gt=0
)
# Member positions of a pool (what its close waits for).
MEMBERS = Count("positions", filter=_MEMBER_POSITIONS)
# Distinct followers with a member position: what the follower limit counts and the lobby
# shows (a follower with two positions is one follower).
FOLLOWERS = Count("positions__follower", filter=_MEMBER_POSITIONS, distinct=True)


# The lobby shows each streamer's record over this window.
LOBBY_RECORD_WINDOW = StreamerRecord.Window.WEEK

# The lobby's upcoming streams: those starting within this window, at most this many.
UPCOMING_WITHIN = timedelta(days=7)
UPCOMING_LIMIT = 50


@dataclass(frozen=True)
class LobbyEntry:
    """A stream in the lobby: live (with the streamer's pool, when one is open) or upcoming
    (scheduled; no pool yet)."""

    streamer: Streamer
    stream: Stream
    pool: Pool | None
    limits: StreamerLimits
    record: StreamerRecord | None = None  # the 7-day track record, once computed

    @property
    def status(self) -> str:
        return "live" if self.stream.status == Stream.Status.LIVE else "upcoming"

    @property
    def nav(self) -> Decimal | None:
        return (
            nav(balance=self.pool.balance, total_units=self.pool.total_units) if self.pool else None
        )


def lobby_list(
    *, operator: Operator, operator_user_id: str = "", is_demo: bool = False
) -> list[LobbyEntry]:
    """The lobby: live streamers of the operator with their current pool, then the upcoming
    streams (``lobby_upcoming``), each with the streamer's 7-day ``StreamerRecord`` (None
    before the first ``records_refresh``). Four queries, any size.

    Private streamers are listed only to the players on their allowlist.
    """
    live = Stream.objects.filter(status=Stream.Status.LIVE)
    streamers = list(
        Streamer.objects.filter(
            streamers_visible_q(operator_user_id=operator_user_id, is_demo=is_demo),
            operator=operator,
            status=Streamer.Status.ACTIVE,
            streams__status=Stream.Status.LIVE,
        )
        .select_related("operator")
        .prefetch_related(Prefetch("streams", queryset=live, to_attr="live_streams"))
        .order_by("display_name")
        .distinct()
    )
    pools = {
        pool.streamer_id: pool
        for pool in Pool.objects.filter(streamer__in=streamers, is_demo=is_demo)
        .exclude(state=Pool.State.CLOSED)
        .annotate(members=FOLLOWERS)
    }
    entries = [
        LobbyEntry(
            streamer=s,
            stream=s.live_streams[0],
            pool=pools.get(s.pk),
            limits=streamer_limits(s),
        )
        for s in streamers
        if s.live_streams
    ]
    entries += lobby_upcoming(operator=operator, operator_user_id=operator_user_id, is_demo=is_demo)
    records = records_for_streamers(
        streamer_ids={entry.streamer.pk for entry in entries}, window=LOBBY_RECORD_WINDOW
    )
    return [replace(entry, record=records.get(entry.streamer.pk)) for entry in entries]


def lobby_upcoming(
    *, operator: Operator, operator_user_id: str = "", is_demo: bool = False
) -> list[LobbyEntry]:
    """Scheduled streams of the operator's active streamers that start within
    ``UPCOMING_WITHIN`` (or are due and not started yet) and have not passed their end,
    soonest first, at most ``UPCOMING_LIMIT``; private streamers only to their allowlist, as
    in ``lobby_list``. One query."""
    now = timezone.now()
    visible = Streamer.objects.filter(
        streamers_visible_q(operator_user_id=operator_user_id, is_demo=is_demo),
        operator=operator,
        status=Streamer.Status.ACTIVE,
    )
    streams = (
        Stream.objects.filter(
            streamer__in=visible,
            status=Stream.Status.SCHEDULED,
            scheduled_start__lte=now + UPCOMING_WITHIN,
            scheduled_end__gt=now,
        )
        .select_related("streamer__operator")
        .order_by("scheduled_start", "pk")[:UPCOMING_LIMIT]
    )
    return [
        LobbyEntry(
            streamer=stream.streamer,
            stream=stream,
            pool=None,
            limits=streamer_limits(stream.streamer),
        )
        for stream in streams
    ]


@dataclass(frozen=True)
class PoolExposure:
    """Followers' money in a pool: members, what they put in, and a transfer being priced."""

    members: int
    contributed: Decimal
    pricing_saga: int | None

    @property
    def holds_money(self) -> bool:
        return self.members > 0 or self.pricing_saga is not None

    def describe(self) -> str:
        parts = [f"{self.members} member(s) who contributed {self.contributed:,.8f}"]
        if self.pricing_saga is not None:
            parts.append(f"saga #{self.pricing_saga} has a transfer priced or in doubt")
        return "; ".join(parts)


def pool_exposure(*, pool: Pool) -> PoolExposure:
    members = pool.positions.filter(MEMBER_FILTER).aggregate(
        count=Count("pk"), contributed=Sum("contributed")
    )
    pricing = Pool.objects.filter(pk=pool.pk).values_list("pricing_saga", flat=True).first()
    return PoolExposure(
        members=members["count"],
        contributed=members["contributed"] or Decimal(0),
        pricing_saga=pricing,
    )


def pool_currencies() -> list[str]:
    """Every currency a pool can be in: the streamers' (a small table) and play money's."""
    currencies = set(Streamer.objects.order_by().values_list("currency", flat=True).distinct())
    return sorted(currencies | {DEMO_CURRENCY})


NAV_POINTS_DEFAULT = 60
NAV_POINTS_MAX = 200


def pool_nav_history(
    *, pool_id: int, operator: Operator, is_demo: bool, points: int = NAV_POINTS_DEFAULT
) -> list[PoolSnapshot]:
    """The pool's last ``points`` snapshots (its NAV over time), oldest first: the chart on
    the broadcast. Only a pool of this operator's streamers, of the session's kind (demo or
    real); any other, like a pool that does not exist, is not found."""
    points = max(1, min(points, NAV_POINTS_MAX))
    if not Pool.objects.filter(pk=pool_id, operator=operator, is_demo=is_demo).exists():
        raise NotFound("Pool not found", code=ErrorCode.NOT_FOUND)
    latest = PoolSnapshot.objects.filter(pool_id=pool_id).order_by("-taken_at", "-pk")[:points]
    return list(reversed(latest))


# --- Track records kept per streamer and window (``StreamerRecord``) ----------------------


def records_for_streamers(*, streamer_ids: set[int], window: str) -> dict[int, StreamerRecord]:
    """The streamers' kept records over ``window``, by streamer id. One query."""
    if not streamer_ids:
        return {}
    rows = StreamerRecord.objects.filter(streamer_id__in=streamer_ids, window=window)
    return {row.streamer_id: row for row in rows}


def streamer_get_visible(
    *, operator: Operator, streamer_id: int, operator_user_id: str = "", is_demo: bool = False
) -> Streamer:
    """One of the operator's streamers that this player may see (``streamers_visible_q``:
    public, or private and listing them); any other, like one that does not exist, is not
    found."""
    streamer = Streamer.objects.filter(
        streamers_visible_q(operator_user_id=operator_user_id, is_demo=is_demo),
        operator=operator,
        pk=streamer_id,
    ).first()
    if streamer is None:
        raise NotFound("Streamer not found", code=ErrorCode.NOT_FOUND)
    return streamer


LEADERBOARD_LIMIT_DEFAULT = 100
LEADERBOARD_LIMIT_MAX = 1000
# What the leaderboard ranks by, each followed by the other two, then the streamer's name.
_RANK_KEYS: dict[str, OrderBy] = {
    "roi": F("roi").desc(nulls_last=True),
    "aum": F("aum").desc(),
    "followers": F("followers_now").desc(),
}
LEADERBOARD_SORTS = tuple(_RANK_KEYS)


@dataclass(frozen=True)
class LeaderboardRow:
    """One streamer on the leaderboard: their kept record's figures; ``rank`` None for a new
    record (shown, not ranked)."""

    rank: int | None
    streamer_id: int
    name: str
    currency: str
    is_new: bool
    live: bool
    roi: Decimal | None
    max_drawdown: Decimal | None
    aum: Decimal
    followers_now: int
    computed_at: datetime


# What a row reads (only these columns: a thousand rows decode in a few milliseconds).
_ROW_COLUMNS = (
    "streamer_id",
    "streamer__display_name",
    "currency",
    "is_new",
    "live",
    "roi",
    "max_drawdown",
    "aum",
    "followers_now",
    "computed_at",
)


def leaderboard_list(
    *,
    operator: Operator,
    window: str,
    sort: str = "roi",
    limit: int = LEADERBOARD_LIMIT_DEFAULT,
    operator_user_id: str = "",
    is_demo: bool = False,
) -> list[LeaderboardRow]:
    """The operator's active streamers this player may see, by their kept record over
    ``window``: ranked by ``sort`` (one of ``LEADERBOARD_SORTS``) descending, then by the
    other two of ROI (null last), pooled value and followers now, then by name; the new
    records (``is_new``) after the ranked ones, unranked, in the same order. At most
    ``limit`` rows. One query, any size."""
    first = _RANK_KEYS[sort]
    others = [key for name, key in _RANK_KEYS.items() if name != sort]
    visible = Streamer.objects.filter(
        streamers_visible_q(operator_user_id=operator_user_id, is_demo=is_demo),
        operator=operator,
        status=Streamer.Status.ACTIVE,
    )
    live = Stream.objects.filter(streamer=OuterRef("streamer_id"), status=Stream.Status.LIVE)
    records = (
        StreamerRecord.objects.filter(window=window, streamer__in=visible)
        .annotate(live=Exists(live))
        .order_by("is_new", first, *others, "streamer__display_name", "streamer_id")
        .values_list(*_ROW_COLUMNS)
    )[: max(1, min(limit, LEADERBOARD_LIMIT_MAX))]
    rows: list[LeaderboardRow] = []
    rank = 0
    for values in records:
        row = LeaderboardRow(None, *values)
        if not row.is_new:
            rank += 1
            row = replace(row, rank=rank)
        rows.append(row)
    return rows


# --- why a pool closed, and the stream it belonged to ------------------------------------------


def pool_close_cause(pool: Pool) -> str:
    """Why ``pool`` closed (or is closing), in words, with who when staff decided it.

    ``close_reason`` is written when someone or something decided to pay the pool out (staff
    settling it, suspending the streamer or ending the stream, the operator ending it, the
    schedule); a bust is flagged on the pool; a pool closed with neither closed after its last
    member left, or, when it was never opened at the operator, after its first join failed.
    """
    if pool.state == Pool.State.OPEN and not pool.close_reason:
        return ""
    parts = []
    if pool.is_bust:
        parts.append("Bust: the streamer's balance fell to zero")
    if pool.close_reason:
        parts.append(pool.close_reason[:1].upper() + pool.close_reason[1:])
    if not parts:
        if pool.open_sent_at is None and pool.opening_balance is None:
            parts.append("Never opened: the first join did not go through")
        else:
            parts.append("The last follower left")
    if pool.state == Pool.State.CLOSING:
        parts.append("closing: paying members out")
    return "; ".join(parts)


def pool_stream(pool: Pool) -> Stream | None:
    """The stream of ``pool``'s streamer that was live when the pool opened (the latest to
    start before it; None when the pool opened outside any stream)."""
    started_before = Stream.objects.filter(
        streamer_id=pool.streamer_id,
        started_at__isnull=False,
        started_at__lte=pool.opened_at,
    ).order_by("-started_at", "-pk")
    stream = started_before.first()
    if stream is None:
        return None
    if stream.ended_at is not None and stream.ended_at < pool.opened_at:
        return None
    return stream
