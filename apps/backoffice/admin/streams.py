"""Streams: the streaming schedule, and starting and ending broadcasts."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin_base import ReadOnlyAdminMixin
from apps.core.admin_display import badge
from apps.core.admin_filters import DateRangeFilter
from apps.streamers.models import Stream


@admin.register(Stream)
class StreamAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "streamer", "status_badge", "started_at", "ended_at")
    list_filter = ("status", ("started_at", DateRangeFilter))
    list_select_related = ("streamer",)
    search_fields = ("=uid", "title")

    @admin.display(description="Status", ordering="status")
    def status_badge(self, stream: Stream):
        return badge(
            stream.get_status_display(),
            {"live": "active", "ended": "closed"}.get(stream.status, "pending"),
        )
