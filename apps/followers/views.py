"""The CopyStake page that ``init`` links to: a lobby and broadcast page over the player API.

The page itself holds no money logic: it reads the player token only to greet the player and
to show the demo banner, and its small script (``static/play/play.js``) calls the player API
with ``Authorization: Bearer <token>``. Operators embed it in an iframe, so it may be framed.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from apps.core.errors import ApplicationError
from apps.followers.models import PlayerSession
from apps.followers.tokens import MAX_TOKEN_CHARS, player_token_read

API_BASE = "/api/v1/"
MAX_STREAM_CHARS = 64


def _player_name(session: PlayerSession) -> str:
    follower = session.follower
    if follower.is_demo:
        return "Demo player"
    return follower.username or follower.operator_user_id


def _page_config(session: PlayerSession | None, token: str, stream: str) -> dict:
    config = {"apiBase": API_BASE, "streamId": stream, "token": "", "fromStorage": not token}
    if session is not None:
        operator = session.follower.operator
        config.update(
            token=token,
            demo=session.is_demo,
            player=_player_name(session),
            currency=session.currency,
            minAmount=f"{operator.min_contribution}",
            maxAmount=f"{operator.max_contribution}",
            expiresAt=session.expires_at.isoformat(),
        )
    return config


@xframe_options_exempt
@never_cache
@require_GET
def play_page(request: HttpRequest) -> HttpResponse:
    """``/play/?token=...&stream=<uuid>``: the lobby, or that broadcast when ``stream`` is set.

    Without a token the script looks for the one this tab already opened (sessionStorage).
    """
    token = request.GET.get("token", "").strip()[: MAX_TOKEN_CHARS + 1]
    stream = request.GET.get("stream", "").strip()[:MAX_STREAM_CHARS]
    session, error = None, None
    if token:
        try:
            session = player_token_read(token)
        except ApplicationError as exc:
            error = {"errorCode": exc.code, "errorMessage": exc.message}
    context = {
        "session": session,
        "is_demo": bool(session and session.is_demo),
        "error": error,
        "config": _page_config(session, token, stream),
    }
    response = render(request, "play/page.html", context, status=401 if error else 200)
    # The token travels in the query string: never leak it to other sites.
    response["Referrer-Policy"] = "no-referrer"
    # Operators frame this page: the site's policy without its frame-ancestors 'none'.
    response._csp_config = settings.COPYPOOL_PLAY_CSP
    return response
