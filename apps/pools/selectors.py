"""Reads on pools: the lobby, pool values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q

from apps.operators.models import Operator
from apps.pools.accounting import nav
from apps.pools.models import Pool
from apps.streamers.models import Stream, Streamer

MEMBERS = Count(
    "positions",
    filter=Q(positions__status__in=["joining", "active"])
    | Q(positions__status="leaving", positions__units__gt=0),
)


@dataclass(frozen=True)
class LobbyEntry:
    streamer: Streamer
    stream: Stream
    pool: Pool | None

    @property
    def nav(self) -> Decimal | None:
        return (
            nav(balance=self.pool.balance, total_units=self.pool.total_units) if self.pool else None
        )


def lobby_list(*, operator: Operator, is_demo: bool = False) -> list[LobbyEntry]:
    """Live streamers of the operator with their current pool (two queries, any size)."""
    live = Stream.objects.filter(status=Stream.Status.LIVE)
    streamers = (
        Streamer.objects.filter(
            operator=operator, status=Streamer.Status.ACTIVE, streams__status=Stream.Status.LIVE
        )
        .prefetch_related(Prefetch("streams", queryset=live, to_attr="live_streams"))
        .order_by("display_name")
        .distinct()
    )
    streamers = list(streamers)
    pools = {
        pool.streamer_id: pool
        for pool in Pool.objects.filter(streamer__in=streamers, is_demo=is_demo)
        .exclude(state=Pool.State.CLOSED)
        .annotate(members=MEMBERS)
    }
    return [
        LobbyEntry(streamer=s, stream=s.live_streams[0], pool=pools.get(s.pk))
        for s in streamers
        if s.live_streams
    ]
