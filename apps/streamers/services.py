import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import StreamAlreadyLive
from apps.operators.models import Operator
from apps.streamers.models import Stream, Streamer

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3,8}$")


@transaction.atomic
def streamer_create(
    *, operator: Operator, operator_user_id: str, currency: str, display_name: str = ""
) -> Streamer:
    """Register an operator's user as a streamer (the only kind of user a transfer may touch)."""
    if not CURRENCY_PATTERN.fullmatch(currency or ""):
        raise ValidationError({"currency": "must be 3 to 8 capital letters, e.g. USD"})
    if not (operator_user_id or "").strip():
        raise ValidationError({"operator_user_id": "must not be empty"})
    streamer = Streamer(
        operator=operator,
        operator_user_id=operator_user_id,
        currency=currency,
        display_name=(display_name or "").strip() or operator_user_id[:100],
    )
    streamer.full_clean()
    streamer.save()
    return streamer


@transaction.atomic
def stream_start(*, streamer: Streamer, title: str = "") -> Stream:
    """Start a live stream now; a streamer has at most one live stream at a time."""
    locked = Streamer.objects.select_for_update().get(pk=streamer.pk)
    if locked.status != Streamer.Status.ACTIVE:
        raise ValidationError("A suspended streamer cannot go live")
    if Stream.objects.filter(streamer=streamer, status=Stream.Status.LIVE).exists():
        raise StreamAlreadyLive()
    stream = Stream(
        streamer=streamer, title=title, status=Stream.Status.LIVE, started_at=timezone.now()
    )
    stream.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            stream.save()
    except IntegrityError as error:  # a concurrent start won the race
        raise StreamAlreadyLive() from error
    return stream


@transaction.atomic
def stream_schedule(
    *, streamer: Streamer, starts_at: datetime, ends_at: datetime, title: str = ""
) -> Stream:
    """Announce a future broadcast; it becomes joinable only once it is live."""
    if ends_at <= starts_at:
        raise ValidationError("A stream must end after it starts")
    if ends_at <= timezone.now():
        raise ValidationError("A scheduled stream must end in the future")
    stream = Stream(
        streamer=streamer,
        title=title,
        status=Stream.Status.SCHEDULED,
        scheduled_start=starts_at,
        scheduled_end=ends_at,
    )
    stream.full_clean()
    stream.save()
    return stream


def stream_go_live(*, stream_id: int) -> bool:
    """A scheduled stream whose start has come goes live: the state change ``stream_start``
    makes, under the same rules (active streamer, at most one live stream). False when it
    cannot (it stays scheduled, and ends unstarted once its scheduled end has passed)."""
    with transaction.atomic():
        stream = Stream.objects.filter(pk=stream_id).values("streamer_id", "status").first()
        if stream is None or stream["status"] != Stream.Status.SCHEDULED:
            return False
        # Lock the streamer first, as stream_start does: one stable order.
        streamer = Streamer.objects.select_for_update().get(pk=stream["streamer_id"])
        if streamer.status != Streamer.Status.ACTIVE:
            return False
        if Stream.objects.filter(streamer=streamer, status=Stream.Status.LIVE).exists():
            return False
        try:
            with transaction.atomic():
                return bool(
                    Stream.objects.filter(pk=stream_id, status=Stream.Status.SCHEDULED).update(
                        status=Stream.Status.LIVE, started_at=timezone.now()
                    )
                )
        except IntegrityError:  # a concurrent start won the race
            return False
