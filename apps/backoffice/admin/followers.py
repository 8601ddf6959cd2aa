"""Followers, their sessions and positions (read-only: the flows own them).

A session's operator user token is encrypted at rest and never shown.
"""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin_base import BigTableAdminMixin, ReadOnlyAdminMixin
from apps.core.admin_display import (
    EMPTY,
    admin_link,
    badge,
    money_column,
    number_column,
    signed_percent,
)
from apps.core.admin_filters import DateRangeFilter
from apps.followers.models import Follower, PlayerSession, Position
from apps.pools.models import Pool


@admin.register(Follower)
class FollowerAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = (
        "operator_user_id",
        "username",
        "operator",
        "is_blocked",
        "is_demo",
        "created_at",
    )
    list_filter = ("operator", "is_blocked", "is_demo")
    list_select_related = ("operator",)
    search_fields = ("=operator_user_id", "username")


@admin.register(PlayerSession)
class PlayerSessionAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ("uid", "follower", "currency", "is_demo", "created_at", "expires_at")
    list_filter = ("is_demo", "currency", ("created_at", DateRangeFilter))
    list_select_related = ("follower",)
    search_fields = ("=uid", "=follower__operator_user_id")
    # user_token is an encrypted secret of the operator's: never a field here.
    fields = (
        "uid",
        "follower",
        "currency",
        "language",
        "stream_uid",
        "is_demo",
        "created_at",
        "expires_at",
    )
    readonly_fields = fields


@admin.register(Position)
class PositionAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "follower",
        "pool_link",
        "status_badge",
        "money_contributed",
        "num_units",
        "money_payout",
        "result_display",
        "created_at",
    )
    list_filter = ("status", "is_demo", ("created_at", DateRangeFilter))
    list_select_related = ("follower", "pool")
    search_fields = ("=id", "=follower__operator_user_id")
    exclude = ("session",)
    readonly_fields = (
        "pool_link",
        "status_badge",
        "money_contributed",
        "num_units",
        "money_payout",
        "result_display",
    )

    @admin.display(description="Pool", ordering="pool_id")
    def pool_link(self, position: Position):
        return admin_link(Pool, position.pool_id)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, position: Position):
        return badge(position.get_status_display(), position.status)

    money_contributed = money_column(
        "contributed", "Contributed", currency="pool.currency", ordering="contributed"
    )

    num_units = number_column("units", "Units", ordering="units")

    money_payout = money_column("payout", "Payout", currency="pool.currency", ordering="payout")

    @admin.display(description="Result")
    def result_display(self, position: Position):
        if position.payout is None or not position.contributed:
            return EMPTY
        return signed_percent(position.result / position.contributed * 100)
