"""The staff action log: who did what to which object, why, and what came of it."""

from __future__ import annotations

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from apps.backoffice.action_labels import RECORDED_LABELS
from apps.backoffice.models import StaffAction
from apps.core.admin_base import BigTableAdminMixin, ReadOnlyAdminMixin
from apps.core.admin_display import badge
from apps.core.admin_filters import DateRangeFilter


class ActionLabelFilter(admin.SimpleListFilter):
    """The actions by their labels, alphabetically (fixed choices: no DISTINCT over the log);
    the value in the URL is the code the rows carry."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return sorted(RECORDED_LABELS.items(), key=lambda item: item[1].lower())

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(StaffAction)
class StaffActionAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "username",
        "action_name",
        "target",
        "outcome_badge",
        "reason",
        "message",
    )
    list_filter = ("outcome", ActionLabelFilter, "target_type", ("created_at", DateRangeFilter))
    search_fields = ("=username", "=target_id", "reason")
    fields = (
        "created_at",
        "username",
        "action_name",
        "target",
        "outcome_badge",
        "reason",
        "message",
    )
    readonly_fields = fields

    @admin.display(description="Action", ordering="action")
    def action_name(self, action: StaffAction):
        """The label, its code on hover (what the log and the URL filter carry)."""
        return format_html('<span title="{}">{}</span>', action.action, action.action_label)

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
