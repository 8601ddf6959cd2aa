"""Player API authentication: ``Authorization: Bearer <player token>`` (see tokens.py)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.errors import ApplicationError, CopyStakeOff, ErrorCode
from apps.followers.models import Follower, PlayerSession
from apps.followers.tokens import player_token_read

KEYWORD = "Bearer"


class PlayerTokenAuthentication(BaseAuthentication):
    """``request.user`` is the Follower, ``request.auth`` the PlayerSession.

    No header: not authenticated (``IsPlayer`` then answers 401). A header that is not a valid,
    current token: 401 with ``ErrorCode.UNAUTHORIZED`` or ``ErrorCode.SESSION_EXPIRED``.
    """

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Authorization header must be 'Bearer <token>'", code=ErrorCode.UNAUTHORIZED
            )
        try:
            token = header[1].decode("ascii")
            session = player_token_read(token)
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed(
                "Invalid player token", code=ErrorCode.UNAUTHORIZED
            ) from error
        except ApplicationError as error:
            raise exceptions.AuthenticationFailed(error.message, code=error.code) from error
        follower = session.follower
        # DRF (throttles, IsAuthenticated) asks the user object this.
        follower.is_authenticated = True
        return follower, session

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="api"'


class IsPlayer(BasePermission):
    """A player with a valid session. While the operator is disabled, only what gets the
    follower's money out stays open (reading and leaving positions: a view says so with
    ``open_while_operator_disabled``); the rest answers ``ErrorCode.COPYSTAKE_OFF``."""

    def has_permission(self, request, view) -> bool:
        session = request.auth
        if not isinstance(session, PlayerSession):
            return False
        if not session.follower.operator.enabled and not getattr(
            view, "open_while_operator_disabled", False
        ):
            raise CopyStakeOff()
        return True


def player_session(request: Request) -> PlayerSession:
    """``request.auth`` of a player request: the session (views behind ``IsPlayer``)."""
    session = request.auth
    if not isinstance(session, PlayerSession):
        raise exceptions.NotAuthenticated()
    return session


def player_follower(request: Request) -> Follower:
    """``request.user`` of a player request: the follower, not a Django user."""
    user: object = request.user
    if not isinstance(user, Follower):
        raise exceptions.NotAuthenticated()
    return user


class PlayerTokenScheme(OpenApiAuthenticationExtension):
    target_class = PlayerTokenAuthentication
    name = "playerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The token of the URL that the operator API's init returned.",
        }
