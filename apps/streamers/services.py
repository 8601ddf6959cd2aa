import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import (
    ApplicationError,
    Conflict,
    ErrorCode,
    NotFound,
    StreamAlreadyLive,
    ValidationFailed,
)
from apps.core.money import AmountError, parse_amount
from apps.operators.models import Operator
from apps.streamers.models import Stream, Streamer

PERCENT_STEP = Decimal("0.0001")
# The highest performance fee, as apps.pools.accounting.MAX_PERFORMANCE_FEE_PERCENT (a layer
# above this one) and the model's constraint say.
MAX_PERFORMANCE_FEE_PERCENT = Decimal(50)
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3,8}$")
AMOUNT_LIMITS = ("min_contribution", "max_contribution", "max_pool_value")
LIMITS = (*AMOUNT_LIMITS, "max_followers")
# What staff may change once a streamer exists. Operator, user id and currency are fixed:
# pools, transfers and the operator's idea of the user depend on them.
EDITABLE = frozenset({"display_name", "is_private", "performance_fee_percent", *LIMITS})
FEE = "performance_fee_percent"
FIXED = ("operator", "operator_user_id", "currency")


def _checked_limits(streamer: Streamer) -> dict[str, list[str]]:
    """The errors of the streamer's own limits, each under its field: positive amounts of at
    most 8 places, a follower count of at least 1, and a minimum no larger than the maximum,
    also once the operator's fill the empty ones (else no join could ever fit)."""
    errors: dict[str, list[str]] = {}
    for name in AMOUNT_LIMITS:
        value = getattr(streamer, name)
        if value is None:
            continue
        try:
            setattr(streamer, name, parse_amount(value))
        except AmountError as error:
            errors.setdefault(name, []).append(f"{error} (empty: the operator's)")
    followers = streamer.max_followers
    if followers is not None and (
        isinstance(followers, bool) or not isinstance(followers, int) or followers < 1
    ):
        errors.setdefault("max_followers", []).append(
            "must be a whole number of at least 1 (empty: the operator's)"
        )
    if "min_contribution" not in errors and "max_contribution" not in errors:
        operator = streamer.operator
        low = streamer.min_contribution
        high = streamer.max_contribution
        effective_low = operator.min_contribution if low is None else low
        effective_high = operator.max_contribution if high is None else high
        if effective_low > effective_high:
            whose_high = "" if high is not None else " (the operator's)"
            errors.setdefault("min_contribution", []).append(
                f"the minimum contribution {effective_low} is above the maximum "
                f"{effective_high}{whose_high}: no join could fit"
            )
    return errors


def _checked_fee(streamer: Streamer) -> list[str]:
    """The error of the streamer's own performance fee (empty: the operator's default): a
    percent from 0 to 50 with at most 4 places (``apps.pools.accounting``)."""
    value = streamer.performance_fee_percent
    if value is None or value == "":
        streamer.performance_fee_percent = None
        return []
    try:
        percent = Decimal(str(value).strip())
    except (ArithmeticError, ValueError):
        return [
            f"{value!r} is not a percent (0 to {MAX_PERFORMANCE_FEE_PERCENT}; empty: the operator's)"
        ]
    if (
        not percent.is_finite()
        or percent < 0
        or percent > MAX_PERFORMANCE_FEE_PERCENT
        or percent != percent.quantize(PERCENT_STEP)
    ):
        return [
            f"must be a percent from 0 to {MAX_PERFORMANCE_FEE_PERCENT} with at most 4 decimal "
            f"places, got {value} (empty: the operator's)"
        ]
    streamer.performance_fee_percent = percent
    return []


def _validated(streamer: Streamer, errors: dict[str, list[str]]) -> None:
    """Limits and the fee, then the model's own checks (lengths, choices, constraints); every
    error at once, each under its field (a bad fee with the code ``ErrorCode.INVALID_FEE``)."""
    errors = {**errors}
    for name, messages in _checked_limits(streamer).items():
        errors.setdefault(name, []).extend(messages)
    fee_errors = _checked_fee(streamer)
    if fee_errors:
        errors.setdefault(FEE, []).extend(fee_errors)
    try:
        streamer.full_clean(exclude=list(errors), validate_unique=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(
            {
                name: [
                    ValidationError(message, code=ErrorCode.INVALID_FEE) if name == FEE else message
                    for message in messages
                ]
                for name, messages in errors.items()
            }
        )


def _saved(streamer: Streamer, *, update_fields: list[str] | None = None) -> Streamer:
    try:
        with transaction.atomic():
            streamer.save(update_fields=update_fields)
    except IntegrityError as error:  # a concurrent create of the same user won the race
        raise ValidationError(
            {"operator_user_id": "already exists as a streamer of this operator"}
        ) from error
    return streamer


@transaction.atomic
def streamer_create(
    *,
    operator: Operator,
    operator_user_id: str,
    currency: str,
    display_name: str = "",
    min_contribution: Decimal | None = None,
    max_contribution: Decimal | None = None,
    max_followers: int | None = None,
    max_pool_value: Decimal | None = None,
    is_private: bool = False,
    performance_fee_percent: Decimal | None = None,
) -> Streamer:
    """Register an operator's user as a streamer (the only kind of user a transfer may touch).

    Empty limits fall back to the operator's (``selectors.streamer_limits``), an empty
    performance fee to the operator's default (``selectors.streamer_fee_percent``). Raises
    ``ValidationError`` with every bad field named; nothing is created then.
    """
    errors: dict[str, list[str]] = {}
    if not CURRENCY_PATTERN.fullmatch(currency or ""):
        errors["currency"] = ["must be 3 to 8 capital letters, e.g. USD"]
    user_id = operator_user_id or ""
    if not user_id.strip():
        errors["operator_user_id"] = ["must not be empty"]
    elif user_id != user_id.strip():
        errors["operator_user_id"] = ["must not start or end with spaces"]
    elif Streamer.objects.filter(operator=operator, operator_user_id=user_id).exists():
        errors["operator_user_id"] = [f"{user_id} already exists as a streamer of {operator}"]
    streamer = Streamer(
        operator=operator,
        operator_user_id=user_id,
        currency=currency or "",
        display_name=(display_name or "").strip() or user_id.strip()[:100],
        min_contribution=min_contribution,
        max_contribution=max_contribution,
        max_followers=max_followers,
        max_pool_value=max_pool_value,
        is_private=is_private,
        performance_fee_percent=performance_fee_percent,
    )
    _validated(streamer, errors)
    return _saved(streamer)


@transaction.atomic
def streamer_update(*, streamer: Streamer, **changes: object) -> Streamer:
    """Change a streamer's display name, limits, privacy or performance fee (``EDITABLE``);
    returns it fresh. A new fee applies to positions opened from now on: an open position
    keeps the percent it was opened with.

    Operator, user id and currency are fixed once created: passing them unchanged is fine
    (an import row restates them), a different value is refused. A limit set to None falls
    back to the operator's. Lowering a limit never touches money already in a pool: it
    applies from the next join. Raises ``ValidationError`` naming each bad field; nothing is
    changed then.
    """
    locked = (
        Streamer.objects.select_for_update(of=("self",))
        .select_related("operator")
        .get(pk=streamer.pk)
    )
    errors: dict[str, list[str]] = {}
    for name in FIXED:
        if name not in changes:
            continue
        given = changes.pop(name)
        current = locked.operator if name == "operator" else getattr(locked, name)
        if given != current:
            errors[name] = [
                f"is fixed once the streamer exists (it is {current}): pools and transfers "
                "depend on it"
            ]
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise ValidationError(f"Unknown streamer fields: {', '.join(unknown)}")
    if "display_name" in changes:
        changes["display_name"] = str(changes["display_name"] or "").strip()
        if not changes["display_name"]:
            errors["display_name"] = ["must not be empty"]
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, changes[name])
    _validated(locked, errors)
    if changed:
        _saved(locked, update_fields=changed)
    return locked


def _set_status(streamer: Streamer, status: str) -> Streamer:
    # The row lock stream_start takes too: a suspension and a go-live never interleave.
    locked = Streamer.objects.select_for_update().get(pk=streamer.pk)
    if locked.status != status:
        locked.status = status
        locked.save(update_fields=["status"])
    return locked


@transaction.atomic
def streamer_suspend(*, streamer: Streamer) -> Streamer:
    """Suspend: the streamer's pool takes no new joins and the streamer cannot go live.

    Idempotent. Money already in a pool stays there and is paid out as usual (a leave, or
    the end of the live stream); ``apps.backoffice.streamers.streamer_suspend_by_staff`` can
    pay it out at once.
    """
    return _set_status(streamer, Streamer.Status.SUSPENDED)


@transaction.atomic
def streamer_resume(*, streamer: Streamer) -> Streamer:
    """Lift a suspension: joins and going live are allowed again. Idempotent."""
    return _set_status(streamer, Streamer.Status.ACTIVE)


# --- streams ------------------------------------------------------------------------------

# A scheduled stream this close to its start is the one the operator's ``streams/start``
# (without a streamId) starts, rather than a new one beside it.
DUE_WITHIN = timedelta(hours=1)
# Fields of a stream that staff (and ``stream_update``) may change, and those of them a live
# stream keeps as they are.
STREAM_EDITABLE = ("title", "game", "embed_url", "scheduled_start", "scheduled_end")
STREAM_TIMES = ("scheduled_start", "scheduled_end")


def _check_can_go_live(streamer: Streamer) -> None:
    """Refusals of a start, asked with the streamer's row locked (one stable lock order)."""
    if streamer.status != Streamer.Status.ACTIVE:
        raise Conflict("A suspended streamer cannot go live", code=ErrorCode.STREAMER_SUSPENDED)
    if Stream.objects.filter(streamer=streamer, status=Stream.Status.LIVE).exists():
        raise StreamAlreadyLive()


def _check_window(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is None or ends_at is None:
        raise ValidationError(
            {
                name: "A scheduled stream needs a start and an end."
                for name, value in (("scheduled_start", starts_at), ("scheduled_end", ends_at))
                if value is None
            }
        )
    if ends_at <= starts_at:
        raise ValidationError({"scheduled_end": "A stream must end after it starts."})
    if ends_at <= timezone.now():
        raise ValidationError({"scheduled_end": "A scheduled stream must end in the future."})


@transaction.atomic
def stream_start(
    *,
    streamer: Streamer,
    title: str = "",
    game: str = "",
    embed_url: str = "",
    uid: uuid.UUID | None = None,
) -> Stream:
    """Start a new live stream now (with ``uid`` as its id when given); a streamer has at most
    one live stream at a time, and a suspended one none."""
    locked = Streamer.objects.select_for_update().get(pk=streamer.pk)
    _check_can_go_live(locked)
    stream = Stream(
        streamer=locked,
        title=title,
        game=game,
        embed_url=embed_url,
        status=Stream.Status.LIVE,
        started_at=timezone.now(),
    )
    if uid is not None:
        stream.uid = uid
    stream.full_clean(validate_constraints=False, validate_unique=False)
    try:
        with transaction.atomic():
            stream.save()
    except IntegrityError as error:  # a concurrent start won the race, or took the uid
        if uid is not None and Stream.objects.filter(uid=uid).exists():
            raise Conflict(
                "The streamId belongs to another stream", code=ErrorCode.STREAM_ID_TAKEN
            ) from error
        raise StreamAlreadyLive() from error
    return stream


@transaction.atomic
def stream_schedule(
    *,
    streamer: Streamer,
    starts_at: datetime,
    ends_at: datetime,
    title: str = "",
    game: str = "",
    embed_url: str = "",
) -> Stream:
    """Announce a future broadcast; it becomes joinable only once it is live (at its start,
    by the schedule, or earlier by a staff "start now" or the operator's ``streams/start``)."""
    _check_window(starts_at, ends_at)
    stream = Stream(
        streamer=streamer,
        title=title,
        game=game,
        embed_url=embed_url,
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
    try:
        _scheduled_go_live(stream_id=stream_id)
    except (ApplicationError, ValidationError):
        return False
    return True


def _scheduled_go_live(*, stream_id: int) -> Stream:
    """Turn one scheduled stream live now, or say why not (it is no longer scheduled, the
    streamer is suspended or live already)."""
    with transaction.atomic():
        stream = Stream.objects.filter(pk=stream_id).first()
        if stream is None:
            raise NotFound("No such stream", code=ErrorCode.STREAM_NOT_FOUND)
        # Lock the streamer first, as stream_start does: one stable order.
        streamer = Streamer.objects.select_for_update().get(pk=stream.streamer_id)
        stream.refresh_from_db()
        if stream.status in (Stream.Status.ENDED, Stream.Status.CANCELLED):
            raise Conflict(f"The stream is {stream.status}", code=ErrorCode.STREAM_ENDED)
        if stream.status == Stream.Status.LIVE:
            raise StreamAlreadyLive("The stream is live already")
        _check_can_go_live(streamer)
        try:
            with transaction.atomic():
                started = Stream.objects.filter(
                    pk=stream_id, status=Stream.Status.SCHEDULED
                ).update(status=Stream.Status.LIVE, started_at=timezone.now())
        except IntegrityError as error:  # a concurrent start won the race
            raise StreamAlreadyLive() from error
        if not started:
            raise StreamAlreadyLive("The stream is no longer scheduled")
        stream.refresh_from_db()
        return stream


def stream_start_scheduled(*, stream: Stream) -> Stream:
    """Staff "start now": this scheduled stream goes live at once, before its scheduled start
    (its scheduled end still ends it). A stream whose scheduled end has passed is not started:
    the schedule would end it at once."""
    if (
        stream.status == Stream.Status.SCHEDULED
        and stream.scheduled_end is not None
        and stream.scheduled_end <= timezone.now()
    ):
        raise Conflict(
            "Its scheduled end has passed: schedule it again instead",
            code=ErrorCode.STREAM_ENDED,
        )
    return _scheduled_go_live(stream_id=stream.pk)


@transaction.atomic
def stream_start_for_operator(
    *,
    operator: Operator,
    operator_user_id: str,
    stream_uid: uuid.UUID | None = None,
    title: str = "",
) -> Stream:
    """The operator API's ``streams/start``, idempotent: a retry answers the stream the first
    call started.

    * The streamer already live: that stream, when no ``stream_uid`` is given or it is that
      stream's; another ``stream_uid`` is refused (already live).
    * ``stream_uid`` of the streamer's scheduled stream starts it; an unknown one creates the
      live stream with that id (so the operator's retry with the same id finds it); another
      streamer's is refused as taken, an ended or cancelled one as ended.
    * No ``stream_uid``: the streamer's scheduled stream that is due (starting within
      ``DUE_WITHIN`` or already, ending in the future) starts, soonest first; else a new one.
    """
    found = Streamer.objects.filter(operator=operator, operator_user_id=operator_user_id).first()
    if found is None:
        raise NotFound("No such streamer at this operator", code=ErrorCode.STREAMER_NOT_FOUND)
    streamer = Streamer.objects.select_for_update().get(pk=found.pk)
    if streamer.status != Streamer.Status.ACTIVE:
        raise Conflict("A suspended streamer cannot go live", code=ErrorCode.STREAMER_SUSPENDED)
    live = Stream.objects.filter(streamer=streamer, status=Stream.Status.LIVE).first()
    if stream_uid is not None:
        stream = Stream.objects.filter(uid=stream_uid).first()
        if stream is not None and stream.streamer_id != streamer.pk:
            raise Conflict(
                "The streamId belongs to another streamer's stream",
                code=ErrorCode.STREAM_ID_TAKEN,
            )
        if stream is not None and stream.status in (Stream.Status.ENDED, Stream.Status.CANCELLED):
            raise Conflict(f"The stream is {stream.status}", code=ErrorCode.STREAM_ENDED)
        if live is not None:
            if stream is not None and stream.pk == live.pk:
                return live
            raise StreamAlreadyLive("The streamer is live with another stream")
        if stream is None:
            return stream_start(streamer=streamer, title=title, uid=stream_uid)
    else:
        if live is not None:
            return live
        now = timezone.now()
        stream = (
            Stream.objects.filter(
                streamer=streamer,
                status=Stream.Status.SCHEDULED,
                scheduled_start__lte=now + DUE_WITHIN,
                scheduled_end__gt=now,
            )
            .order_by("scheduled_start", "pk")
            .first()
        )
        if stream is None:
            return stream_start(streamer=streamer, title=title)
    if title and title != stream.title:
        stream.title = title
        stream.full_clean(validate_constraints=False, validate_unique=False)
        stream.save(update_fields=["title"])
    return stream_start_scheduled(stream=stream)


@transaction.atomic
def stream_update(*, stream: Stream, **fields: Any) -> Stream:
    """Change a stream's title, game, embed URL or scheduled times.

    A scheduled stream may change all of them; a live one its title, game and embed URL but
    not its times; an ended or cancelled one nothing. Fields given with their current value
    are no change.
    """
    unknown = sorted(set(fields) - set(STREAM_EDITABLE))
    if unknown:
        raise ValidationFailed(f"These fields cannot be changed: {', '.join(unknown)}")
    locked = Stream.objects.select_for_update().get(pk=stream.pk)
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    if locked.status in (Stream.Status.ENDED, Stream.Status.CANCELLED):
        raise Conflict(
            f"The stream is {locked.status}: it can no longer be changed",
            code=ErrorCode.STREAM_ENDED,
        )
    times = [name for name in changed if name in STREAM_TIMES]
    if times and locked.status != Stream.Status.SCHEDULED:
        raise Conflict(
            "A live stream keeps its scheduled times", code=ErrorCode.STREAM_NOT_SCHEDULED
        )
    for name in changed:
        setattr(locked, name, fields[name])
    if times:
        _check_window(locked.scheduled_start, locked.scheduled_end)
    locked.full_clean()
    locked.save(update_fields=changed)
    return locked


def stream_cancel(*, stream: Stream, reason: str) -> Stream:
    """Call off a scheduled stream (it never starts); ``reason`` is kept as its end reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Cancelling a stream needs a reason", code=ErrorCode.REASON_REQUIRED)
    cancelled = Stream.objects.filter(pk=stream.pk, status=Stream.Status.SCHEDULED).update(
        status=Stream.Status.CANCELLED, ended_at=timezone.now(), end_reason=reason[:300]
    )
    stream.refresh_from_db()
    if not cancelled:
        raise Conflict(
            f"Only a scheduled stream can be cancelled; this one is {stream.status}",
            code=ErrorCode.STREAM_NOT_SCHEDULED,
        )
    return stream
