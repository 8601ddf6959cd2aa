"""Pages of the site itself: the start page at ``/`` and the sign-in lockout page."""

from __future__ import annotations

from datetime import datetime

from axes.conf import settings as axes_settings
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_safe


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """``/``: where to go (the back office, the API docs, the player page, the sandbox)."""
    sandbox = "/sandbox/" if settings.SANDBOX_ENABLED else ""
    return render(request, "copypool/landing.html", {"sandbox": sandbox})


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico`` (what browsers ask for on their own): the icon, from the static files."""
    return HttpResponsePermanentRedirect(static("copypool/favicon.svg"))


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (``AXES_LOCKOUT_CALLABLE``): a page that
    says how long to wait, counted from the lock's own expiry."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    until = _lock_expires(request, username)
    wait_minutes = 0
    if until is not None:
        seconds = (until - timezone.now()).total_seconds()
        wait_minutes = max(1, -(-int(seconds) // 60))
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "username": username,
        "until": until,
        "wait_minutes": wait_minutes,
    }
    return render(
        request,
        "admin/copypool/lockout.html",
        context,
        status=axes_settings.AXES_HTTP_RESPONSE_CODE,
    )


def _lock_expires(request: HttpRequest, username: str) -> datetime | None:
    attempt = (
        AccessAttempt.objects.filter(username=username, ip_address=_client_ip(request))
        .select_related("expiration")
        .order_by("-attempt_time")
        .first()
    )
    if attempt is None:
        return None
    expiration = getattr(attempt, "expiration", None)
    if expiration is not None:
        return expiration.expires_at
    return attempt.attempt_time + settings.AXES_COOLOFF_TIME


def _client_ip(request: HttpRequest) -> str | None:
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR")
