"""The portal's writes: invitations, staff viewing as an operator, and the operator's own
configuration, keys and conformance check. Each one that changes something is audited with
who and why (``StaffAction``, the back office's audit log, with the operator user's name)."""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from apps.backoffice.models import StaffAction
from apps.backoffice.services import staff_action_record
from apps.operators import services as operator_services
from apps.operators.models import ConformanceRun, Operator
from apps.portal.context import VIEW_AS_SESSION_KEY
from apps.portal.models import OperatorUser, PortalInvite, invite_token_digest
from apps.portal.roles import Role

INVITE_TTL = timedelta(days=7)
DONE = StaffAction.Outcome.DONE
REFUSED = StaffAction.Outcome.REFUSED

# What an operator admin may change of their own configuration in the portal (limits
# included); credentials and CopyStake's own settings (fees, enabled) stay with staff.
CONFIGURATION_FIELDS = (
    "callback_url",
    "wallet_url",
    "ip_allowlist",
    "min_contribution",
    "max_contribution",
    "max_followers_per_pool",
    "max_pool_value",
    "languages",
)
URL_FIELDS = ("callback_url", "wallet_url")


@dataclass(frozen=True)
class Invitation:
    invite: PortalInvite
    url: str


def invite_create(
    *,
    operator: Operator,
    email: str,
    role: str,
    invited_by: User | AnonymousUser | None,
    base_url: str | None = None,
) -> Invitation:
    """An invitation e-mailed to ``email``; the link (with its one-time token) is returned
    to show the staff member once, and only the token's digest is kept."""
    if role not in Role.values:
        raise ValidationError({"role": f"must be one of {', '.join(Role.values)}"})
    email = get_user_model().objects.normalize_email(email.strip())
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invite = PortalInvite(
            operator=operator,
            email=email,
            role=role,
            token_digest=invite_token_digest(token),
            invited_by=invited_by if isinstance(invited_by, User) else None,
            expires_at=timezone.now() + INVITE_TTL,
        )
        invite.full_clean()
        invite.save()
    url = (base_url or settings.PUBLIC_BASE_URL).rstrip("/") + reverse(
        "portal:invite", args=[token]
    )
    send_mail(
        subject=f"Your access to the {operator.name} CopyStake portal",
        message=(
            f"You are invited to {operator.name}'s CopyStake portal as "
            f"{Role(role).label.lower()}.\n\nSet your password here (valid for "
            f"{INVITE_TTL.days} days, once): {url}\n"
            + (
                "\nOperator admins sign in with a one-time code too: have an authenticator "
                "app ready.\n"
                if role == Role.ADMIN
                else ""
            )
        ),
        from_email=None,
        recipient_list=[email],
    )
    return Invitation(invite=invite, url=url)


def invite_get_open(token: str) -> PortalInvite | None:
    invite = (
        PortalInvite.objects.select_related("operator")
        .filter(token_digest=invite_token_digest(token))
        .first()
    )
    return invite if invite is not None and invite.is_open else None


def invite_revoke(*, invite: PortalInvite) -> PortalInvite:
    if invite.accepted_at is None and invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])
    return invite


@transaction.atomic
def invite_accept(*, token: str, username: str, password: str) -> OperatorUser:
    """The person behind an invite sets a username and password: their account exists from
    now on. The invite is used up (locked, so two tabs cannot both accept it)."""
    invite = (
        PortalInvite.objects.select_for_update()
        .filter(token_digest=invite_token_digest(token))
        .first()
    )
    if invite is None or not invite.is_open:
        raise ValidationError("This invitation is no longer valid: ask for a new one.")
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That username is taken: choose another."})
    user = user_model.objects.create_user(
        username=username, email=invite.email, password=password, is_staff=False
    )
    member = OperatorUser.objects.create(user=user, operator=invite.operator, role=invite.role)
    invite.accepted_at = timezone.now()
    invite.accepted_user = user
    invite.save(update_fields=["accepted_at", "accepted_user"])
    return member


def view_as_start(*, request: HttpRequest, operator: Operator, reason: str) -> None:
    """Staff open the portal as ``operator``, read-only; the audit log says who, when, why."""
    staff_action_record(
        user=request.user,
        action="portal_view_as",
        target=operator,
        reason=reason,
        outcome=DONE,
        message="Viewing the operator portal as this operator (read-only)",
    )
    request.session[VIEW_AS_SESSION_KEY] = operator.pk


def view_as_stop(*, request: HttpRequest) -> None:
    request.session.pop(VIEW_AS_SESSION_KEY, None)


def _check_urls(candidate: Operator) -> operator_services.ConnectionCheck:
    return operator_services.operator_test_connection(
        operator=candidate, user_id=candidate.test_streamer_id or None
    )


@dataclass(frozen=True)
class ConfigurationChange:
    operator: Operator
    changed: dict[str, tuple[Any, Any]]
    check: operator_services.ConnectionCheck | None


def configuration_update(
    *, operator: Operator, user: User | AnonymousUser, values: dict[str, Any], reason: str
) -> ConfigurationChange:
    """Change the operator's own settings. A new callback or wallet URL is tried first with a
    signed ``streamer-balance`` to it: unless the operator's side answers and accepts our key
    and signature there, nothing is saved. Audited (what changed, from what, to what)."""
    unknown = set(values) - set(CONFIGURATION_FIELDS)
    if unknown:
        raise ValidationError(f"Not changeable in the portal: {', '.join(sorted(unknown))}")
    candidate = copy.copy(operator)
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in values.items():
        if name in URL_FIELDS and isinstance(value, str):
            value = value.strip().rstrip("/")
        if getattr(operator, name) != value:
            changed[name] = (getattr(operator, name), value)
            setattr(candidate, name, value)
    if not changed:
        raise ValidationError("Nothing changed.")
    candidate.full_clean()
    check = None
    if any(name in URL_FIELDS for name in changed):
        check = _check_urls(candidate)
        if not check.ok:
            staff_action_record(
                user=user,
                action="portal_configuration_change",
                target=operator,
                reason=reason,
                outcome=REFUSED,
                message=f"Not saved: the new URL failed the signed check. {check.verdict}",
            )
            raise ValidationError(
                f"Not saved: the signed streamer-balance check of the new URL failed. "
                f"{check.verdict}"
            )
    with transaction.atomic():
        locked = Operator.objects.select_for_update().get(pk=operator.pk)
        for name, (_old, new) in changed.items():
            setattr(locked, name, new)
        locked.full_clean()
        locked.save(update_fields=[*changed, "updated_at"])
        staff_action_record(
            user=user,
            action="portal_configuration_change",
            target=locked,
            reason=reason,
            outcome=DONE,
            message="; ".join(f"{name}: {old!s} → {new!s}" for name, (old, new) in changed.items())[
                :2000
            ],
        )
    return ConfigurationChange(operator=locked, changed=changed, check=check)


def configuration_audit(*, operator: Operator, limit: int = 10) -> list[StaffAction]:
    """The latest changes of the operator's configuration and keys, from the audit log."""
    return list(
        StaffAction.objects.filter(
            target_type="operators.operator",
            target_id=str(operator.pk),
            action__in=[
                "portal_configuration_change",
                "portal_keys_rotate",
                "portal_keys_finish_rotation",
            ],
        ).order_by("-created_at", "-pk")[:limit]
    )


def keys_rotate(
    *, operator: Operator, user: User | AnonymousUser, overlap: timedelta, reason: str
) -> dict[str, str]:
    """A new API key and secret for the operator, returned to show once; the old ones keep
    working for ``overlap`` (``operator_rotate_keys``). Audited."""
    try:
        revealed = operator_services.operator_rotate_keys(operator=operator, overlap=overlap)
    except ValidationError as error:
        staff_action_record(
            user=user,
            action="portal_keys_rotate",
            target=operator,
            reason=reason,
            outcome=REFUSED,
            message="; ".join(error.messages)[:2000],
        )
        raise
    staff_action_record(
        user=user,
        action="portal_keys_rotate",
        target=operator,
        reason=reason,
        outcome=DONE,
        message=f"New API key and secret; the old ones accepted for {overlap}",
    )
    return dict(revealed)


def keys_finish_rotation(*, operator: Operator, user: User | AnonymousUser) -> Operator:
    operator = operator_services.operator_finish_rotation(operator=operator)
    staff_action_record(
        user=user,
        action="portal_keys_finish_rotation",
        target=operator,
        reason="Finished the key rotation in the portal",
        outcome=DONE,
        message="Only the new API key and secret are accepted now",
    )
    return operator


def conformance_start(
    *, operator: Operator, user: User | AnonymousUser, reason: str
) -> ConformanceRun:
    """The conformance check against the operator's own endpoints, run by a worker."""
    from apps.operators.conformance.services import conformance_run_create
    from apps.transactions.tasks import conformance_check_task

    with transaction.atomic():
        run = conformance_run_create(operator=operator, started_by=user)
        staff_action_record(
            user=user,
            action="portal_conformance_check",
            target=operator,
            reason=reason,
            outcome=DONE,
            message=f"Conformance check #{run.pk} started from the portal",
        )
        transaction.on_commit(lambda: conformance_check_task.delay(run.pk))
    return run


# --- two-factor devices (django-otp's TOTP) --------------------------------------------------
def totp_device_pending(*, user: User | AnonymousUser) -> Any:
    """The user's unconfirmed authenticator device (made once, then shown until confirmed)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def totp_device_confirm(*, device: Any, token: str) -> bool:
    """Confirm the device with one code from it; other devices of the user are removed."""
    if not device.verify_token(token.strip()):
        return False
    with transaction.atomic():
        type(device).objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return True


def totp_qr_data_uri(device: Any) -> str:
    import segno

    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=4))


def totp_secret_text(device: Any) -> str:
    """The device's key in Base32, grouped by four, for typing into an app by hand."""
    from base64 import b32encode

    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


# --- staff: operator users and invitations (the back office's confirmed actions) -------------
INVITE_STATES = ("open", "accepted", "revoked", "expired")


def invite_state(invite: PortalInvite) -> str:
    """``open``, ``accepted``, ``revoked`` or ``expired``: what became of an invitation."""
    if invite.accepted_at is not None:
        return "accepted"
    if invite.revoked_at is not None:
        return "revoked"
    return "open" if invite.expires_at > timezone.now() else "expired"


def invite_revoke_open(*, invite: PortalInvite) -> PortalInvite:
    """Revoke an invitation still open; refused (nothing changes) once it was accepted,
    revoked or has expired."""
    state = invite_state(invite)
    if state != "open":
        raise ValidationError(f"This invitation is {state}: there is nothing to revoke.")
    return invite_revoke(invite=invite)


def operator_user_set_active(*, member: OperatorUser, active: bool) -> OperatorUser:
    """Let a person sign in again, or not: off takes effect on their next request (every
    portal page asks ``membership``, which reads this flag)."""
    if member.is_active == active:
        raise ValidationError(f"Already {'active' if active else 'deactivated'}.")
    member.is_active = active
    member.save(update_fields=["is_active"])
    return member


def operator_user_set_review(*, member: OperatorUser, allowed: bool) -> OperatorUser:
    """Grant or withdraw "may retry and resolve review items" in the portal."""
    if member.may_act_on_review == allowed:
        raise ValidationError(f"Already {'granted' if allowed else 'not granted'}.")
    member.may_act_on_review = allowed
    member.save(update_fields=["may_act_on_review"])
    return member


def totp_reset(*, user: User) -> int:
    """Remove every authenticator device of ``user``: they enrol a new one at their next
    sign-in (an operator admin must before seeing any page). How many were removed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    return int(deleted)


def totp_devices(*, user: User | AnonymousUser) -> list[Any]:
    """The user's confirmed authenticator devices (for the page that shows the state)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"))
