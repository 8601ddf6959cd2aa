"""Streamers: registration, limits, suspension, private pools (streams: ``streams``)."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin_display import badge, money_column
from apps.streamers.models import Stream, Streamer


class StreamInline(admin.TabularInline):
    model = Stream
    extra = 0
    can_delete = False
    fields = ("title", "status", "started_at", "ended_at", "scheduled_start")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Streamer)
class StreamerAdmin(admin.ModelAdmin):
    list_display = (
        "display_name",
        "operator_user_id",
        "operator",
        "currency",
        "status_badge",
        "created_at",
    )
    list_filter = ("operator", "status", "currency")
    list_select_related = ("operator",)
    search_fields = ("=operator_user_id", "display_name")
    fields = (
        "operator",
        "operator_user_id",
        "display_name",
        "currency",
        "status",
        "money_demo_balance",
        "created_at",
    )
    readonly_fields = (
        "operator",
        "operator_user_id",
        "currency",
        "money_demo_balance",
        "created_at",
    )
    inlines = (StreamInline,)

    def has_add_permission(self, request) -> bool:
        return False  # registered with `manage.py create_streamer` (streamer_create)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Status", ordering="status")
    def status_badge(self, streamer: Streamer):
        return badge(
            streamer.get_status_display(), "active" if streamer.status == "active" else "failed"
        )

    money_demo_balance = money_column("demo_balance", "Demo balance", currency=None)
