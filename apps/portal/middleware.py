"""Portal sessions expire: after ``PORTAL_SESSION_IDLE_SECONDS`` without a request, and in
any case ``PORTAL_SESSION_MAX_SECONDS`` after signing in. Then the person signs in again
(with their one-time code). Staff sessions are the back office's and are left alone."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from apps.portal.context import membership

LOGIN_AT, SEEN_AT = "portal_login_at", "portal_seen_at"


def session_started(request: HttpRequest) -> None:
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


def session_expired(request: HttpRequest, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    login_at = request.session.get(LOGIN_AT)
    seen_at = request.session.get(SEEN_AT)
    if login_at is None or seen_at is None:
        return True
    return (
        now - seen_at > settings.PORTAL_SESSION_IDLE_SECONDS
        or now - login_at > settings.PORTAL_SESSION_MAX_SECONDS
    )


class PortalSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/portal/"

    def __call__(self, request: HttpRequest):
        if request.path.startswith(self.prefix) and membership(request.user) is not None:
            if session_expired(request):
                logout(request)
                login = reverse("portal:login")
                if request.path != login:
                    return HttpResponseRedirect(f"{login}?next={request.path}&expired=1")
            else:
                request.session[SEEN_AT] = int(time.time())
        return self.get_response(request)
