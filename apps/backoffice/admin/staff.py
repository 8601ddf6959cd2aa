"""The staff action log: who did what to which object, why, and what came of it."""

from __future__ import annotations

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from apps.backoffice.models import StaffAction
from apps.core.admin_base import BigTableAdminMixin, ReadOnlyAdminMixin
from apps.core.admin_display import badge
from apps.core.admin_filters import DateRangeFilter


@admin.register(StaffAction)
class StaffActionAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "username",
        "action",
        "target",
        "outcome_badge",
        "reason",
        "message",
    )
    list_filter = ("outcome", "action", "target_type", ("created_at", DateRangeFilter))
    search_fields = ("=username", "=target_id", "reason")
    fields = (
        "created_at",
        "username",
        "action",
        "target",
        "outcome_badge",
        "reason",
        "message",
    )
    readonly_fields = fields

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_badge(self, action: StaffAction):
        return badge(action.get_outcome_display(), action.outcome)

    @admin.display(description="On")
    def target(self, action: StaffAction):
        app_label, _, model_name = action.target_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[action.target_id])
        except NoReverseMatch:
            return action.target_repr
        return format_html('<a href="{}">{}</a>', url, action.target_repr or action.target_id)
