import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from apps.operators.models import Operator
from apps.streamers.models import Stream, Streamer, StreamerAccess


@dataclass(frozen=True)
class StreamerLimits:
    """The limits a join into this streamer's pool must keep: the streamer's own where set,
    else the operator's. ``max_pool_value`` None: no capacity."""

    min_contribution: Decimal
    max_contribution: Decimal
    max_followers: int
    max_pool_value: Decimal | None


def streamer_limits(streamer: Streamer) -> StreamerLimits:
    operator = streamer.operator

    def pick[T](own: T | None, default: T) -> T:
        return default if own is None else own

    return StreamerLimits(
        min_contribution=pick(streamer.min_contribution, operator.min_contribution),
        max_contribution=pick(streamer.max_contribution, operator.max_contribution),
        max_followers=pick(streamer.max_followers, operator.max_followers_per_pool),
        max_pool_value=pick(streamer.max_pool_value, operator.max_pool_value),
    )


def streamer_fee_percent(streamer: Streamer) -> Decimal:
    """The performance fee a new position in the streamer's pool is opened with: the
    streamer's own, else its operator's default (apps.pools.accounting, "Performance fee")."""
    own = streamer.performance_fee_percent
    return streamer.operator.default_performance_fee_percent if own is None else own


def streamer_admits(*, streamer: Streamer, operator_user_id: str, is_demo: bool = False) -> bool:
    """Whether a player may see and join this streamer's pool: any player when it is public;
    when private, only a real (not demo) player on its allowlist."""
    if not streamer.is_private:
        return True
    if is_demo:
        return False
    return StreamerAccess.objects.filter(
        streamer=streamer, operator_user_id=operator_user_id
    ).exists()


def streamers_visible_q(*, operator_user_id: str, is_demo: bool = False) -> Q:
    """The ``Streamer`` filter for what one player may see: public streamers, and private
    ones that list them (``streamer_admits`` for a whole query)."""
    if is_demo:
        return Q(is_private=False)
    listed = StreamerAccess.objects.filter(
        streamer=OuterRef("pk"), operator_user_id=operator_user_id
    )
    return Q(is_private=False) | Q(Exists(listed))


def streamer_get(*, operator: Operator, streamer_id: int) -> Streamer | None:
    """One of this operator's streamers by primary key (the player API's ``streamerId``)."""
    return Streamer.objects.filter(operator=operator, pk=streamer_id).first()


def streamer_get_by_user_id(*, operator: Operator, operator_user_id: str) -> Streamer | None:
    return Streamer.objects.filter(operator=operator, operator_user_id=operator_user_id).first()


def streamer_live_list(*, operator: Operator) -> QuerySet[Streamer]:
    """Active streamers of the operator with a live stream; ``live_streams`` is prefetched."""
    return (
        Streamer.objects.filter(
            operator=operator,
            status=Streamer.Status.ACTIVE,
            streams__status=Stream.Status.LIVE,
        )
        .prefetch_related(
            Prefetch(
                "streams",
                queryset=Stream.objects.filter(status=Stream.Status.LIVE),
                to_attr="live_streams",
            )
        )
        .distinct()
        .order_by("display_name", "pk")
    )


def stream_live_get(*, streamer: Streamer) -> Stream | None:
    """The streamer's live stream, if one is live (a constraint allows at most one)."""
    return Stream.objects.filter(streamer=streamer, status=Stream.Status.LIVE).first()


def stream_latest_ended(*, streamer: Streamer) -> Stream | None:
    """The streamer's stream that ended last (cancelled ones never streamed)."""
    return (
        Stream.objects.filter(streamer=streamer, status=Stream.Status.ENDED)
        .order_by("-ended_at", "-pk")
        .first()
    )


def stream_get_for_operator(*, operator: Operator, uid: str | uuid.UUID) -> Stream | None:
    """A stream of one of this operator's streamers, by its public uuid; None when malformed."""
    try:
        parsed = uid if isinstance(uid, uuid.UUID) else uuid.UUID(str(uid))
    except (TypeError, ValueError, AttributeError):
        return None
    return (
        Stream.objects.select_related("streamer")
        .filter(uid=parsed, streamer__operator=operator)
        .first()
    )
