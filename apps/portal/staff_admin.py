"""The staff side of the portal, in the back office: operator users and invitations."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin_base import ReadOnlyAdminMixin
from apps.portal.models import OperatorUser, PortalInvite


@admin.register(OperatorUser)
class OperatorUserAdmin(admin.ModelAdmin):
    list_display = ("user", "operator", "role", "may_act_on_review", "is_active", "created_at")
    list_filter = ("operator", "role", "is_active", "may_act_on_review")
    search_fields = ("user__username", "user__email")
    fields = ("user", "operator", "role", "may_act_on_review", "is_active", "created_at")
    readonly_fields = ("user", "operator", "created_at")

    def has_add_permission(self, request) -> bool:
        return False  # people join through an invitation


@admin.register(PortalInvite)
class PortalInviteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("email", "operator", "role", "invited_by", "expires_at", "accepted_at")
    list_filter = ("operator", "role")
    search_fields = ("email",)
