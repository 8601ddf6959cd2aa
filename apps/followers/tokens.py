"""Player tokens: what the ``init`` URL carries and the player API reads from ``Bearer``.

A token is ``django.core.signing.dumps`` of a small payload (signed with SECRET_KEY, not
encrypted: it holds nothing secret). The session row stays the source of truth: a token is
accepted only while its session exists, matches the payload and has not expired, so ending a
session (``expires_at`` in the past) revokes every token issued for it.
"""

import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.utils import timezone

from apps.core.errors import SessionExpired, Unauthorized
from apps.followers.models import PlayerSession

SALT = "copypool.player-token"
MAX_TOKEN_CHARS = 2048
PLAYER_PAGE_PATH = "/play/"


def _payload(session: PlayerSession) -> dict:
    follower = session.follower
    return {
        "sid": session.uid.hex,
        "op": follower.operator_id,
        "uid": follower.operator_user_id,
        "cur": session.currency,
        "exp": int(session.expires_at.timestamp()),
        "demo": session.is_demo,
    }


def _without_expiry(payload: dict) -> dict:
    return {key: value for key, value in payload.items() if key != "exp"}


def player_token_issue(session: PlayerSession) -> str:
    return signing.dumps(_payload(session), salt=SALT, compress=True)


def player_token_read(token: str) -> PlayerSession:
    """The session a token stands for; ``Unauthorized`` or ``SessionExpired`` otherwise."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise Unauthorized("Invalid player token")
    try:
        payload = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise Unauthorized("Invalid player token") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise Unauthorized("Invalid player token")
    if payload["exp"] <= int(timezone.now().timestamp()):
        raise SessionExpired()
    try:
        session_uid = uuid.UUID(hex=str(payload.get("sid")))
    except ValueError as error:
        raise Unauthorized("Invalid player token") from error
    session = (
        PlayerSession.objects.select_related("follower__operator").filter(uid=session_uid).first()
    )
    if session is None or _without_expiry(_payload(session)) != _without_expiry(payload):
        raise Unauthorized("Invalid player token")
    # The row decides: moving ``expires_at`` into the past revokes the session's tokens.
    if session.expires_at <= timezone.now():
        raise SessionExpired()
    return session


def player_url(session: PlayerSession) -> str:
    """The CopyStake page URL for this session: its token, and its stream when it has one."""
    params = {"token": player_token_issue(session)}
    if session.stream_uid:
        params["stream"] = str(session.stream_uid)
    return f"{settings.PUBLIC_BASE_URL}{PLAYER_PAGE_PATH}?{urlencode(params, safe=':')}"


INVITE_PARAMETER = "invite"


def invite_url(code: str) -> str:
    """The link staff hand out for a private streamer's invite: the CopyStake page with the
    code; the page redeems it (``POST /api/v1/invites/redeem``) once the player is signed in."""
    return f"{settings.PUBLIC_BASE_URL}{PLAYER_PAGE_PATH}?{urlencode({INVITE_PARAMETER: code})}"
