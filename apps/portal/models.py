"""The portal's people: an operator's team members and the invitations that made them.

An operator user is a Django user (never staff: the back office stays CopyStake's) with an
``OperatorUser`` row naming its operator and role. Staff invite people by e-mail; the link
carries a random token whose SHA-256 digest alone is stored.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.operators.models import Operator
from apps.portal.roles import Role

# The check both tables keep on their role column.
ROLE_VALID = Q(role__in=Role.values)


def invite_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OperatorUser(models.Model):
    """One person of an operator's team, with their role in the portal."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_membership"
    )
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="portal_users")
    role = models.CharField(max_length=10, choices=Role.choices)
    may_act_on_review = models.BooleanField(
        default=False,
        help_text="Granted by CopyStake staff: may retry and resolve review items of their "
        "operator in the portal (otherwise that stays with CopyStake).",
    )
    is_active = models.BooleanField(default=True, help_text="Off: may no longer sign in.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["operator__name", "user__username"]
        verbose_name = "operator user"
        constraints = [
            models.CheckConstraint(condition=ROLE_VALID, name="operator_user_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.operator}, {self.get_role_display()})"


class PortalInvite(models.Model):
    """An invitation to an operator's portal, sent by staff to an e-mail address."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="portal_invites")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "portal invite"
        constraints = [
            models.CheckConstraint(condition=ROLE_VALID, name="portal_invite_role_valid"),
        ]

    def __str__(self) -> str:
        return f"Invite of {self.email} to {self.operator} ({self.get_role_display()})"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )
