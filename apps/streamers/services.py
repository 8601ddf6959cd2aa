import re
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import StreamAlreadyLive
from apps.core.money import AmountError, parse_amount
from apps.operators.models import Operator
from apps.streamers.models import Stream, Streamer

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3,8}$")
AMOUNT_LIMITS = ("min_contribution", "max_contribution", "max_pool_value")
LIMITS = (*AMOUNT_LIMITS, "max_followers")
# What staff may change once a streamer exists. Operator, user id and currency are fixed:
# pools, transfers and the operator's idea of the user depend on them.
EDITABLE = frozenset({"display_name", "is_private", *LIMITS})
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


def _validated(streamer: Streamer, errors: dict[str, list[str]]) -> None:
    """Limits, then the model's own checks (lengths, choices, constraints); every error at
    once, each under its field."""
    errors = {**errors}
    for name, messages in _checked_limits(streamer).items():
        errors.setdefault(name, []).extend(messages)
    try:
        streamer.full_clean(exclude=list(errors), validate_unique=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


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
) -> Streamer:
    """Register an operator's user as a streamer (the only kind of user a transfer may touch).

    Empty limits fall back to the operator's (``selectors.streamer_limits``). Raises
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
    )
    _validated(streamer, errors)
    return _saved(streamer)


@transaction.atomic
def streamer_update(*, streamer: Streamer, **changes: object) -> Streamer:
    """Change a streamer's display name, limits or privacy (``EDITABLE``); returns it fresh.

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
