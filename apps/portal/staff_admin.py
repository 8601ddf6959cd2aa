"""The staff side of the portal, in the back office: invitations, operator users, and their
authenticator devices.

Staff invite an operator's people by e-mail ("Invite someone": the link is shown once, the
database keeps only its digest) and then act on them through confirmed, audited staff actions
(``StaffActionsMixin``): revoke an invitation, deactivate or reactivate a person, grant or
withdraw "may retry and resolve review items", reset their two-factor sign-in. Nothing is
edited by hand. Acting needs ``backoffice.act_operations`` (the Operations group); every group
may look.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils import timezone
from django_otp.plugins.otp_totp import admin as otp_totp_admin  # noqa: F401  (registers first)
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.backoffice.admin_actions import ACT, StaffActionsMixin, StaffActionSpec
from apps.backoffice.admin_panels import staff_actions_panel
from apps.backoffice.services import staff_action_record
from apps.core.admin_base import ReadOnlyAdminMixin
from apps.core.admin_display import EMPTY, admin_link, badge
from apps.portal import services
from apps.portal.models import OperatorUser, PortalInvite
from apps.portal.roles import Role

STATE_TONES = {"open": "open", "accepted": "done", "revoked": "closed", "expired": "closed"}


# --- invitations ----------------------------------------------------------------------------
class InviteCreateForm(forms.ModelForm):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text="Recorded with your name in the staff action log.",
    )

    class Meta:
        model = PortalInvite
        fields = ("operator", "email", "role")
        help_texts = {
            "email": "The invitation link is e-mailed here, and shown to you once.",
            "role": "Operator admins must sign in with a one-time code (an authenticator app).",
        }


def _revoke(invite: PortalInvite, *, request, data) -> str:
    invite = services.invite_revoke_open(invite=invite)
    return f"revoked at {timezone.localtime(invite.revoked_at):%Y-%m-%d %H:%M}: the link no longer works"


INVITE_REVOKE: StaffActionSpec[PortalInvite] = StaffActionSpec(
    name="portal_invite_revoke",
    label="Revoke",
    run=_revoke,
    description="The invitation link stops working at once. An account already made with "
    "it stays (deactivate the person under Operator users).",
    dangerous=True,
    available=lambda invite: services.invite_state(invite) == "open",
    preview=lambda invite: f"{invite.email}: {services.invite_state(invite)}",
)


@admin.register(PortalInvite)
class PortalInviteAdmin(StaffActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    staff_actions = (INVITE_REVOKE,)
    form = InviteCreateForm
    list_display = (
        "email",
        "operator",
        "role",
        "state_badge",
        "invited_by",
        "expires_at",
        "accepted_user",
        "created_at",
    )
    list_filter = ("operator", "role", ("accepted_at", admin.EmptyFieldListFilter))
    list_select_related = ("operator", "invited_by", "accepted_user")
    search_fields = ("email",)
    readonly_fields = (
        "state_badge",
        "invited_by",
        "expires_at",
        "accepted_at",
        "accepted_user",
        "revoked_at",
        "created_at",
        "staff_actions_taken",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("operator", "email", "role", "reason")
        return (
            "operator",
            "email",
            "role",
            "state_badge",
            "invited_by",
            ("created_at", "expires_at"),
            ("accepted_at", "accepted_user"),
            "revoked_at",
            "staff_actions_taken",
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("operator", "email", "role", *self.readonly_fields)

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(ACT)

    def get_changeform_initial_data(self, request):
        return {"role": Role.SUPPORT}

    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(
            request,
            form_url,
            {"title": "Invite someone to an operator's portal", **(extra_context or {})},
        )

    def save_model(self, request, obj, form, change):
        """Not a save: ``invite_create`` makes the invitation and sends the e-mail."""
        invitation = services.invite_create(
            operator=form.cleaned_data["operator"],
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
        invite = invitation.invite
        obj.pk = invite.pk
        obj._state.adding = False
        obj.email, obj.token_digest, obj.expires_at = (
            invite.email,
            invite.token_digest,
            invite.expires_at,
        )
        request._cp_invite_url = invitation.url
        staff_action_record(
            user=request.user,
            action="portal_invite_create",
            target=invite,
            reason=form.cleaned_data["reason"],
            outcome="done",
            message=f"invited {invite.email} to {invite.operator} as "
            f"{Role(invite.role).label.lower()}; link e-mailed and shown once",
        )

    def response_add(self, request, obj, post_url_continue=None):
        url = getattr(request, "_cp_invite_url", None)
        if not url:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Invitation sent to {obj.email}",
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "outcomes": [
                {
                    "obj": obj,
                    "url": self._change_url(obj),
                    "message": f"E-mailed to {obj.email}. The link works once, until "
                    f"{timezone.localtime(obj.expires_at):%Y-%m-%d %H:%M}.",
                    "reveal": {"Invitation link": url},
                }
            ],
        }
        response = TemplateResponse(request, self.reveal_template, context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.display(description="State")
    def state_badge(self, invite: PortalInvite):
        state = services.invite_state(invite)
        return badge(state, STATE_TONES[state])

    @admin.display(description="Staff actions")
    def staff_actions_taken(self, invite: PortalInvite):
        return staff_actions_panel(invite)


# --- operator users -------------------------------------------------------------------------
def _set_active(active: bool):
    def run(member: OperatorUser, *, request, data) -> str:
        services.operator_user_set_active(member=member, active=active)
        return "may sign in again" if active else "may no longer sign in (from their next request)"

    return run


def _set_review(allowed: bool):
    def run(member: OperatorUser, *, request, data) -> str:
        services.operator_user_set_review(member=member, allowed=allowed)
        return (
            "may retry and resolve their operator's review items"
            if allowed
            else "may no longer retry or resolve review items"
        )

    return run


def _reset_two_factor(member: OperatorUser, *, request, data) -> str:
    removed = services.totp_reset(user=member.user)
    return f"{removed} authenticator device(s) removed: they set up a new one at next sign-in"


OPERATOR_USER_ACTIONS: tuple[StaffActionSpec[OperatorUser], ...] = (
    StaffActionSpec(
        name="portal_user_deactivate",
        label="Deactivate",
        run=_set_active(False),
        description="They can no longer sign in to the portal; a session they have open ends "
        "at their next request.",
        dangerous=True,
        available=lambda member: member.is_active,
    ),
    StaffActionSpec(
        name="portal_user_reactivate",
        label="Reactivate",
        run=_set_active(True),
        description="They may sign in to the portal again.",
        available=lambda member: not member.is_active,
    ),
    StaffActionSpec(
        name="portal_user_grant_review",
        label="Grant: may retry and resolve review items",
        run=_set_review(True),
        description="They may retry and resolve their own operator's review items in the "
        "portal (their role must see the review queue).",
        available=lambda member: not member.may_act_on_review,
    ),
    StaffActionSpec(
        name="portal_user_withdraw_review",
        label="Withdraw: may retry and resolve review items",
        run=_set_review(False),
        description="Review items of their operator stay with CopyStake again.",
        available=lambda member: member.may_act_on_review,
    ),
    StaffActionSpec(
        name="portal_user_reset_two_factor",
        label="Reset two-factor sign-in",
        run=_reset_two_factor,
        description="Removes their authenticator devices (a lost phone): they sign in with "
        "their password and set up a new one (operator admins must, before anything else).",
        dangerous=True,
    ),
)


@admin.register(OperatorUser)
class OperatorUserAdmin(StaffActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """People join through an invitation; staff change them only through the actions."""

    staff_actions = OPERATOR_USER_ACTIONS
    list_display = (
        "user",
        "operator",
        "role",
        "active_badge",
        "may_act_on_review",
        "two_factor",
        "created_at",
    )
    list_filter = ("operator", "role", "is_active", "may_act_on_review")
    list_select_related = ("user", "operator")
    search_fields = ("user__username", "user__email")
    fields = (
        "user",
        "email",
        "operator",
        "role",
        "active_badge",
        "may_act_on_review",
        "two_factor",
        "created_at",
        "staff_actions_taken",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        from django.db.models import Count, Q

        return (
            super()
            .get_queryset(request)
            .annotate(devices=Count("user__totpdevice", filter=Q(user__totpdevice__confirmed=True)))
        )

    @admin.display(description="E-mail")
    def email(self, member: OperatorUser):
        return member.user.email or EMPTY

    @admin.display(description="Active", ordering="is_active")
    def active_badge(self, member: OperatorUser):
        return badge("active", "active") if member.is_active else badge("deactivated", "closed")

    @admin.display(description="Two-factor", ordering="devices")
    def two_factor(self, member: OperatorUser):
        if getattr(member, "devices", 0):
            return badge("on", "done")
        return badge("not set up", "locked" if member.role == Role.ADMIN else "pending")

    @admin.display(description="Staff actions")
    def staff_actions_taken(self, member: OperatorUser):
        return staff_actions_panel(member)


# --- authenticator devices: never their key -------------------------------------------------
# django-otp's own admin shows a device's key on the add page, and its QR code (the key again)
# unless OTP_ADMIN_HIDE_SENSITIVE_DATA: here staff see which devices exist, not their secrets.
# Removing them is "Reset two-factor sign-in" on the person.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("user_link", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    @admin.display(description="User")
    def user_link(self, device: TOTPDevice):
        return admin_link(device.user, text=device.user.get_username())
