"""The CopyStake page that ``init`` links to: a lobby and broadcast page over the player API.

The page itself holds no money logic: it reads the player token only to greet the player and
to show the demo banner, and its small script (``static/play/play.js``) calls the player API
with ``Authorization: Bearer <token>``: the lobby (live and upcoming streams, each with its own
join limits) and the follower's positions. Operators embed it in an iframe, so it may be
framed; it frames a broadcast's https video player in turn (``COPYPOOL_PLAY_CSP``).
"""

from http.cookies import Morsel
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.http.request import split_domain_port
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.views.decorators.cache import cache_page, never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

from apps.core.errors import ApplicationError
from apps.followers.models import PlayerSession
from apps.followers.selectors import player_language
from apps.followers.tokens import MAX_TOKEN_CHARS, PLAYER_PAGE_PATH, player_token_read

API_BASE = "/api/v1/"
MAX_STREAM_CHARS = 64
MAX_INVITE_CHARS = 64
PLAY_COOKIE = "copypool_play"
# Browsers treat these as secure contexts even over plain http: a Secure cookie sticks there.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class _PartitionedMorsel(Morsel):
    """A cookie with the ``Partitioned`` attribute (CHIPS), which Python's ``http.cookies``
    only learns in 3.14: the browser keeps it per embedding site, and keeps it at all where
    third-party cookies are otherwise blocked (Chrome's incognito and "block third-party
    cookies" modes)."""

    def OutputString(self, attrs=None) -> str:  # noqa: N802 (the stdlib's name)
        return super().OutputString(attrs) + "; Partitioned"


def _player_name(session: PlayerSession) -> str:
    follower = session.follower
    if follower.is_demo:
        return "Demo player"
    return follower.username or follower.operator_user_id


# A position id that matches no position: only used to ask the URL conf what exists.
_PROBE_ID = "00000000-0000-0000-0000-000000000000"


def _player_endpoint(path: str):
    """The view class serving ``/api/v1/<path>``, or None when no endpoint has that path."""
    try:
        match = resolve(f"{API_BASE}{path}")
    except Resolver404:
        return None
    return getattr(match.func, "view_class", None)


def page_features() -> dict[str, bool]:
    """Which of the position controls the player API serves, so that the page shows only
    those: top-up, limits, a partial leave (a leave endpoint that reads a body: one without
    an input would take any leave as a whole one), the wallet balance and the NAV chart."""
    leave = _player_endpoint(f"positions/{_PROBE_ID}/leave")
    return {
        "topUp": _player_endpoint(f"positions/{_PROBE_ID}/top-up") is not None,
        "limits": _player_endpoint(f"positions/{_PROBE_ID}/limits") is not None,
        "partialLeave": leave is not None and hasattr(leave, "InputSerializer"),
        "wallet": _player_endpoint("wallet") is not None,
        "navChart": _player_endpoint("pools/1/nav") is not None,
    }


def _page_config(
    session: PlayerSession | None, token: str, stream: str, invite: str = "", language: str = "en"
) -> dict:
    # ``invite``: the code of an invite link (``/play/?invite=...``) the page redeems for the
    # player (``POST invites/redeem``), or keeps until they arrive with a session.
    config = {
        "apiBase": API_BASE,
        "streamId": stream,
        "invite": invite,
        "token": "",
        "fromStorage": not token,
        "language": language,
        "features": page_features(),
    }
    if session is not None:
        # No join limits here: each pool has its own (the lobby's ``limits`` of each entry).
        config.update(
            token=token,
            demo=session.is_demo,
            player=_player_name(session),
            currency=session.currency,
            expiresAt=session.expires_at.isoformat(),
        )
    return config


def _cookie_can_be_secure(request: HttpRequest) -> bool:
    host, _ = split_domain_port(request.get_host())
    return request.is_secure() or host in LOOPBACK_HOSTS or host.endswith(".localhost")


def _store_play_cookie(request: HttpRequest, response: HttpResponse, token: str, seconds: int):
    """Set (or, with ``seconds=0``, clear) the page's cookie; see ``play_page``."""
    secure = _cookie_can_be_secure(request)
    response.set_cookie(
        PLAY_COOKIE,
        token,
        max_age=seconds,
        path=PLAYER_PAGE_PATH,
        secure=secure,
        httponly=True,
        # Framed by the operator's site, the page is a third party: only SameSite=None is sent
        # there, and browsers take SameSite=None only with Secure. Plain http (development on
        # a non-loopback host) gets Lax: the page then works when opened on its own.
        samesite="None" if secure else "Lax",
    )
    if secure:
        plain = response.cookies[PLAY_COOKIE]
        partitioned = _PartitionedMorsel()
        partitioned.set(plain.key, plain.value, plain.coded_value)
        partitioned.update(plain)
        response.cookies[PLAY_COOKIE] = partitioned


def _render_page(request: HttpRequest, context: dict, language: str, status: int = 200):
    """The page in ``language``: its template strings, and the script's catalogue
    (``play_catalog``) that the page loads as a file of its own (CSP ``script-src 'self'``)."""
    with translation.override(language):
        context = {**context, "language": language}
        return render(request, "play/page.html", context, status=status)


def _error_page(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    context = {
        "session": None,
        "is_demo": False,
        "error": {"errorCode": error.code, "errorMessage": error.message},
        "config": _page_config(None, "", ""),
    }
    response = _render_page(request, context, "en", status=401)
    if PLAY_COOKIE in request.COOKIES:
        _store_play_cookie(request, response, "", seconds=0)
    return response


def _exchange(request: HttpRequest) -> HttpResponse:
    """``/play/?token=...``: keep the token in the page's cookie, answer with ``/play/``
    without it (every other parameter kept)."""
    token = request.GET.get("token", "").strip()[: MAX_TOKEN_CHARS + 1]
    try:
        session = player_token_read(token)
    except ApplicationError as error:
        return _error_page(request, error)
    params = [(name, value) for name, value in request.GET.items() if name != "token"]
    location = PLAYER_PAGE_PATH + (f"?{urlencode(params)}" if params else "")
    response = HttpResponseRedirect(location)
    lifetime = int((session.expires_at - timezone.now()).total_seconds())
    _store_play_cookie(request, response, token, seconds=max(1, lifetime))
    return response


def _no_referrer(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    # Operators frame this page: the site's policy without its frame-ancestors 'none'.
    # Django's CSP middleware reads a per-response policy from this attribute.
    response._csp_config = settings.COPYPOOL_PLAY_CSP  # type: ignore[attr-defined]
    return response


@xframe_options_exempt
@never_cache
@require_GET
def play_page(request: HttpRequest) -> HttpResponse:
    """``/play/?stream=<uuid>``: the lobby, or that broadcast when ``stream`` is set.

    **Where the token goes.** ``init`` returns ``/play/?token=...``. That first request
    exchanges it: the token is checked, kept in an HttpOnly cookie scoped to ``/play/``, and
    the browser is redirected to the same URL without it. From then on no URL carries the
    token: not the address bar or history, not a ``Referer`` (also ``no-referrer``), not a
    bookmark or a shared link, and not the access logs of later requests (the first request
    line is redacted by the logging filter and the gunicorn logger: docs/operations.md).
    The page renders the token from the cookie into its config for its script, which sends it
    as ``Authorization: Bearer`` (never as a cookie: the player API takes no cookies, so the
    cookie gives no cross-site request any power) and keeps it in this tab's sessionStorage.

    **Why a cookie of its own and not the Django session.** The page is framed by the
    operator's site, so it is a third party there: the session cookie (SameSite=Lax, shared
    with the admin, where it must stay Lax) is not sent into a cross-site frame. This cookie is
    ``SameSite=None; Secure; Partitioned``: None so that a framed page gets it, Secure because
    browsers refuse None without it (http://localhost counts as secure for this), Partitioned
    so that the browser keeps one per embedding site and keeps it where third-party cookies
    are blocked but partitioned ones are not (Chrome's incognito and blocking modes; Firefox
    partitions every third-party cookie anyway). It lives as long as the player session.
    Partitioned also keeps the framing open to any site safe: a page of another site that
    frames ``/play/`` is another partition and gets no cookie, so it has no session to
    clickjack (before, it had no token either).
    Where a browser refuses every third-party cookie (Safari's default, some privacy
    settings), the framed page cannot keep the token across the redirect and says there is no
    player session; opened on its own (top level) it works everywhere.
    """
    if "token" in request.GET:
        return _no_referrer(_exchange(request))
    token = request.COOKIES.get(PLAY_COOKIE, "").strip()[: MAX_TOKEN_CHARS + 1]
    stream = request.GET.get("stream", "").strip()[:MAX_STREAM_CHARS]
    invite = request.GET.get("invite", "").strip()[:MAX_INVITE_CHARS]
    session = None
    if token:
        try:
            session = player_token_read(token)
        except ApplicationError as error:
            return _no_referrer(_error_page(request, error))
    language = player_language(session) if session is not None else "en"
    context = {
        "session": session,
        "is_demo": bool(session and session.is_demo),
        "error": None,
        "config": _page_config(session, token, stream, invite, language),
    }
    return _no_referrer(_render_page(request, context, language))


PLAY_LANGUAGES = frozenset(code for code, _ in settings.LANGUAGES)


@cache_page(3600)
@require_GET
def play_catalog(request: HttpRequest, language: str) -> HttpResponseBase:
    """``/play/i18n/<language>.js``: the script's translations (Django's
    ``JavaScriptCatalog``, domain ``djangojs``) as a static-like file: the page may only run
    scripts of its own origin, never an inline one."""
    if language not in PLAY_LANGUAGES:
        raise Http404("No such language")
    with translation.override(language):
        return JavaScriptCatalog.as_view(domain="djangojs")(request)
