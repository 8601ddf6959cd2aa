"""Portal sessions expire: after ``PORTAL_SESSION_IDLE_SECONDS`` without a request, and in
any case ``PORTAL_SESSION_MAX_SECONDS`` after signing in. Then the person signs in again
(with their one-time code). Staff sessions are the back office's and are left alone.

An operator admin signed in without an authenticator device sees nothing but the enrolment
page (and sign-out) until they have one; a person deactivated by staff is signed out."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from apps.portal.context import is_verified, membership
from apps.portal.models import OperatorUser
from apps.portal.roles import TWO_FACTOR_REQUIRED

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
    """Ends expired portal sessions, and keeps a signed-in person who must enrol an
    authenticator (an operator admin without one) on the enrolment page until they have."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/portal/"

    def __call__(self, request: HttpRequest):
        if request.path.startswith(self.prefix):
            answer = self._portal_request(request)
            if answer is not None:
                return answer
        return self.get_response(request)

    def _portal_request(self, request: HttpRequest) -> HttpResponseRedirect | None:
        user = request.user
        if not getattr(user, "is_authenticated", False) or user.is_staff:
            return None  # staff sessions are the back office's
        login = reverse("portal:login")
        member = membership(user)
        if member is None:
            if _deactivated(user):
                # Deactivated by staff while signed in: the session ends at once.
                logout(request)
                return HttpResponseRedirect(f"{login}?deactivated=1")
            return None
        if session_expired(request):
            logout(request)
            if request.path != login:
                return HttpResponseRedirect(
                    f"{login}?{urlencode({'next': request.path})}&expired=1"
                )
            return None
        request.session[SEEN_AT] = int(time.time())
        if must_enrol(member) and request.path not in _enrol_open_paths():
            return HttpResponseRedirect(reverse("portal:two_factor"))
        return None


def must_enrol(member) -> bool:
    """An operator admin signed in with the password alone, without a device yet."""
    from django_otp import user_has_device

    return (
        member.role in TWO_FACTOR_REQUIRED
        and not is_verified(member.user)
        and not user_has_device(member.user)
    )


def _enrol_open_paths() -> set[str]:
    return {reverse("portal:two_factor"), reverse("portal:logout"), reverse("portal:jsi18n")}


def _deactivated(user) -> bool:
    try:
        return not user.operator_membership.is_active
    except OperatorUser.DoesNotExist:
        return False
