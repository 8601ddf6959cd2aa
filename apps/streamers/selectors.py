import uuid

from django.db.models import Prefetch, QuerySet

from apps.operators.models import Operator
from apps.streamers.models import Stream, Streamer


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
