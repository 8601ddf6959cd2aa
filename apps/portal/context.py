"""Who is looking at the portal, for which operator, and what they may do.

``portal_context(request)`` is the single answer every portal page asks for: the operator
whose data the page shows, the role, and whether it is read-only (CopyStake staff viewing as
an operator). ``None`` means nobody the portal serves.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from apps.operators.models import Operator
from apps.portal import roles
from apps.portal.models import OperatorUser
from apps.portal.roles import Role

VIEW_AS_SESSION_KEY = "portal_view_as_operator"


@dataclass(frozen=True)
class PortalContext:
    operator: Operator
    role: str
    member: OperatorUser | None  # None for staff viewing as the operator

    @property
    def is_staff_view(self) -> bool:
        return self.member is None

    @property
    def read_only(self) -> bool:
        """Staff viewing as the operator change nothing; an operator's own people may."""
        return self.is_staff_view

    @property
    def role_label(self) -> str:
        return "CopyStake staff (read-only)" if self.is_staff_view else Role(self.role).label

    def may_view(self, section: str) -> bool:
        return roles.may_view(self.role, section)

    def may_act(self, section: str) -> bool:
        return not self.read_only and roles.may_act(self.role, section)

    @property
    def may_act_on_review(self) -> bool:
        return (
            not self.read_only
            and self.member is not None
            and self.member.may_act_on_review
            and self.may_view("review")
        )


def membership(user) -> OperatorUser | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        member = user.operator_membership
    except OperatorUser.DoesNotExist:
        return None
    return member if member.is_active else None


def is_verified(user) -> bool:
    """Signed in with a one-time code (django-otp's middleware adds ``is_verified``)."""
    check = getattr(user, "is_verified", None)
    if check is not None:
        return bool(check())
    # Signed in on this very request: the user object is the sign-in form's, which django-otp
    # gave the device the code matched (its middleware adds ``is_verified`` from the next one).
    return getattr(user, "otp_device", None) is not None


def needs_two_factor(member: OperatorUser) -> bool:
    from django_otp import user_has_device

    return member.role in roles.TWO_FACTOR_REQUIRED or user_has_device(member.user)


def _resolve(request: HttpRequest) -> PortalContext | None:
    user = request.user
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_staff:
        operator_id = request.session.get(VIEW_AS_SESSION_KEY)
        if operator_id is None or not user.has_perm("operators.view_operator"):
            return None
        operator = Operator.objects.filter(pk=operator_id).first()
        if operator is None:
            return None
        return PortalContext(operator=operator, role=Role.ADMIN, member=None)
    member = membership(user)
    if member is None:
        return None
    if needs_two_factor(member) and not is_verified(user):
        return None
    return PortalContext(operator=member.operator, role=member.role, member=member)


def portal_context(request: HttpRequest) -> PortalContext | None:
    """Once per request."""
    if not hasattr(request, "_portal_context"):
        request._portal_context = _resolve(request)  # type: ignore[attr-defined]
    return request._portal_context  # type: ignore[attr-defined]
