import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.core.errors import Conflict, ErrorCode, StreamNotFound, ValidationFailed
from apps.core.money import DEMO_CURRENCY
from apps.followers.limits import (
    effective_stop_loss,
    effective_take_profit,
    limit_basis,
    limit_crossed,
)
from apps.followers.models import Follower, PlayerSession, Position
from apps.followers.selectors import position_get_for_follower, position_value
from apps.operators.models import Operator
from apps.streamers.selectors import stream_get_for_operator


def _stream_uid(*, operator: Operator, stream_uid: str | uuid.UUID | None) -> uuid.UUID | None:
    if stream_uid in (None, ""):
        return None
    stream = stream_get_for_operator(operator=operator, uid=stream_uid)
    if stream is None:
        raise StreamNotFound()
    return stream.uid


def _session_create(
    *,
    follower: Follower,
    user_token: str,
    currency: str,
    language: str,
    stream_uid: uuid.UUID | None,
) -> PlayerSession:
    session = PlayerSession(
        follower=follower,
        user_token=user_token,
        currency=currency,
        language=language,
        stream_uid=stream_uid,
        is_demo=follower.is_demo,
        expires_at=timezone.now() + timedelta(seconds=follower.operator.session_ttl_seconds),
    )
    # The follower is the row just read or created in this transaction (its existence needs
    # no query of its own), and the uid is a fresh uuid4 that the unique index still guards:
    # the two queries full_clean would spend on them prove nothing.
    session.full_clean(exclude=["follower"], validate_unique=False)
    session.save(force_insert=True)
    return session


@transaction.atomic
def player_session_open(
    *,
    operator: Operator,
    operator_user_id: str,
    user_token: str,
    currency: str,
    language: str = "",
    stream_uid: str | uuid.UUID | None = None,
    username: str = "",
) -> PlayerSession:
    """What ``init`` does: find or register the follower and open a session for them.

    The operator's ``user_token`` is kept (encrypted) for the wallet calls of this session.
    """
    resolved_stream = _stream_uid(operator=operator, stream_uid=stream_uid)
    follower, created = Follower.objects.get_or_create(
        operator=operator,
        operator_user_id=operator_user_id,
        is_demo=False,
        defaults={"username": username},
    )
    follower.operator = operator  # the operator in hand: the session's TTL reads it
    if not created and username and follower.username != username:
        follower.username = username
        follower.full_clean()
        follower.save(update_fields=["username"])
    return _session_create(
        follower=follower,
        user_token=user_token,
        currency=currency,
        language=language,
        stream_uid=resolved_stream,
    )


@transaction.atomic
def demo_session_open(
    *, operator: Operator, language: str = "", stream_uid: str | uuid.UUID | None = None
) -> PlayerSession:
    """What ``init-demo`` does: a fresh anonymous demo follower with play money, no wallet."""
    resolved_stream = _stream_uid(operator=operator, stream_uid=stream_uid)
    follower = Follower(
        operator=operator, operator_user_id=f"demo-{uuid.uuid4().hex}", is_demo=True
    )
    follower.full_clean()
    follower.save()
    return _session_create(
        follower=follower,
        user_token="",
        currency=DEMO_CURRENCY,
        language=language,
        stream_uid=resolved_stream,
    )


# --- blocking ----------------------------------------------------------------------------

BLOCKED_REASON_CHARS = 300


def reason_required(reason: str | None, *, action: str) -> str:
    """The reason, stripped; ``ErrorCode.REASON_REQUIRED`` when there is none."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(f"A reason is required to {action}", code=ErrorCode.REASON_REQUIRED)
    return reason


@transaction.atomic
def follower_block(*, follower: Follower, reason: str) -> Follower:
    """Blacklist a follower: from now on every join answers ``ErrorCode.FOLLOWER_BLOCKED``.

    Their positions are not touched here (paying them out is a staff decision:
    ``apps.backoffice.followers.follower_block_by_staff``). Idempotent: blocking a blocked
    follower changes nothing, the first reason and time stay.
    """
    reason = reason_required(reason, action="block a follower")
    locked = Follower.objects.select_for_update().get(pk=follower.pk)
    if not locked.is_blocked:
        locked.is_blocked = True
        locked.blocked_reason = reason[:BLOCKED_REASON_CHARS]
        locked.blocked_at = timezone.now()
        locked.full_clean()
        locked.save(update_fields=["is_blocked", "blocked_reason", "blocked_at"])
    return locked


@transaction.atomic
def follower_unblock(*, follower: Follower, reason: str) -> Follower:
    """Let a blocked follower join pools again; the block's reason and time are cleared (the
    staff action log keeps both actions and their reasons). Idempotent."""
    reason_required(reason, action="unblock a follower")
    locked = Follower.objects.select_for_update().get(pk=follower.pk)
    if locked.is_blocked:
        locked.is_blocked = False
        locked.blocked_reason = ""
        locked.blocked_at = None
        locked.full_clean()
        locked.save(update_fields=["is_blocked", "blocked_reason", "blocked_at"])
    return locked


# --- copy limits (stop-loss, take-profit) --------------------------------------------------

# The notation of a limit (apps.followers.limits): a value, plain decimal of at most 8 places
# ("80.5"), or a percent of the contribution of at most 4 places ("20%"). A stop-loss
# percent is a loss: "20%" and "-20%" both mean "lose at most 20 percent"; a take-profit
# percent is a gain: "20%" or "+20%".
LIMIT_VALUE_TEXT = re.compile(r"^(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,8})?$")
LIMIT_PERCENT_TEXT = re.compile(r"^([+-]?)((?:0|[1-9][0-9]{0,4})(?:\.[0-9]{1,4})?)%$")
MAX_TAKE_PROFIT_PERCENT = Decimal(100000)  # the column's range (9 digits, 4 places)


@dataclass(frozen=True)
class LimitSetting:
    """One limit as stored: a value or a percent (or neither: cleared)."""

    value: Decimal | None = None
    percent: Decimal | None = None


def _invalid_limit(message: str) -> ValidationFailed:
    return ValidationFailed(message, code=ErrorCode.INVALID_LIMIT)


def limit_parse(text: object, *, name: str, loss_sign: str) -> LimitSetting:
    """``text`` in the notation above; ``loss_sign`` is the sign a percent may carry
    (``"-"`` for a stop-loss, ``"+"`` for a take-profit). None clears the limit."""
    if text is None:
        return LimitSetting()
    if not isinstance(text, str):
        raise _invalid_limit(f'{name} must be a string such as "80.5" or "20%", or null')
    if LIMIT_VALUE_TEXT.fullmatch(text):
        return LimitSetting(value=Decimal(text))
    match = LIMIT_PERCENT_TEXT.fullmatch(text)
    if match is None:
        raise _invalid_limit(
            f'{name} must be a value of at most 8 decimal places ("80.5") or a percent of '
            f'the contribution of at most 4 ("20%"), got {text[:40]!r}'
        )
    sign, digits = match.groups()
    if sign and sign != loss_sign:
        raise _invalid_limit(
            f"{name} is a {'loss' if loss_sign == '-' else 'gain'}: write "
            f'"{digits}%" or "{loss_sign}{digits}%"'
        )
    return LimitSetting(percent=Decimal(digits))


def _stop_loss_checked(setting: LimitSetting, *, contributed: Decimal, value: Decimal) -> None:
    if setting.percent is not None and not 0 < setting.percent < 100:
        raise _invalid_limit("stopLoss as a percent must be a loss between 0% and 100%")
    level = effective_stop_loss(
        contributed=contributed, value=setting.value, percent=setting.percent
    )
    if level is not None and limit_crossed(value=value, stop_loss=level, take_profit=None):
        raise _invalid_limit(
            f"stopLoss {level:.8f} must be below the position's current value {value:.8f}"
        )


def _take_profit_checked(setting: LimitSetting, *, contributed: Decimal, value: Decimal) -> None:
    if setting.percent is not None and not 0 < setting.percent < MAX_TAKE_PROFIT_PERCENT:
        raise _invalid_limit("takeProfit as a percent must be a gain above 0%")
    level = effective_take_profit(
        contributed=contributed, value=setting.value, percent=setting.percent
    )
    if level is not None and limit_crossed(value=value, stop_loss=None, take_profit=level):
        raise _invalid_limit(
            f"takeProfit {level:.8f} must be above the position's current value {value:.8f}"
        )


@transaction.atomic
def position_limits_set(
    *, follower: Follower, position_id: object, changes: Mapping[str, object]
) -> Position:
    """Set or clear an active position's stop-loss and take-profit (``changes``: the keys
    ``stop_loss`` and ``take_profit`` given, each in the notation above or None to clear; a
    key left out keeps its limit).

    A limit the position's current value (at the pool's last known balance) has reached
    already is refused (``ErrorCode.INVALID_LIMIT``): it would pay the position out at once,
    which is what a leave is for. Only the follower's own active position
    (``ErrorCode.POSITION_NOT_FOUND``, ``ErrorCode.POSITION_NOT_ACTIVE``); the row is locked,
    so a trigger or a leave either saw these limits or sees the position leaving. Setting
    the same limits again changes nothing.
    """
    stop_loss = take_profit = None
    if "stop_loss" in changes:
        stop_loss = limit_parse(changes["stop_loss"], name="stopLoss", loss_sign="-")
    if "take_profit" in changes:
        take_profit = limit_parse(changes["take_profit"], name="takeProfit", loss_sign="+")
    found = position_get_for_follower(follower=follower, position_id=position_id)
    position = Position.objects.select_for_update().select_related("pool").get(pk=found.pk)
    if position.status != Position.Status.ACTIVE:
        raise Conflict(f"The position is {position.status}", code=ErrorCode.POSITION_NOT_ACTIVE)
    value = Decimal(position_value(position))
    fields = []
    if stop_loss is not None:
        _stop_loss_checked(stop_loss, contributed=limit_basis(position), value=value)
        position.stop_loss, position.stop_loss_percent = stop_loss.value, stop_loss.percent
        fields += ["stop_loss", "stop_loss_percent"]
    if take_profit is not None:
        _take_profit_checked(take_profit, contributed=limit_basis(position), value=value)
        position.take_profit, position.take_profit_percent = take_profit.value, take_profit.percent
        fields += ["take_profit", "take_profit_percent"]
    if fields:
        position.save(update_fields=[*fields, "updated_at"])
    return position
