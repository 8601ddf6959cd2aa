import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.core.errors import ErrorCode, StreamNotFound, ValidationFailed
from apps.core.money import DEMO_CURRENCY
from apps.followers.models import Follower, PlayerSession
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
    session.full_clean()
    session.save()
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
