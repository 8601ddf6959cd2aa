"""Pools and withdrawal locks in the back office.

Pools are never edited by hand: the page shows the pool, its NAV and balance charts, its
positions and transactions, and offers four confirmed, audited actions that call services:
refresh the balance, settle and close, re-send OPEN/CLOSE, force the lock's release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.html import format_html

from apps.backoffice import services
from apps.backoffice.admin_actions import ReasonForm, StaffActionsMixin, StaffActionSpec
from apps.backoffice.admin_panels import PositionInline, TransactionInline, staff_actions_panel
from apps.backoffice.admin_totals import ChangeListTotalsMixin
from apps.backoffice.dashboard import (
    followers_value,
    pools_with_members,
    stale_lock_after,
    stale_lock_q,
    withdrawal_locks,
)
from apps.backoffice.models import WithdrawalLock
from apps.core.admin_base import AuditedHistoryAdmin, BigTableAdminMixin, ReadOnlyAdminMixin
from apps.core.admin_display import (
    EMPTY,
    admin_link,
    age,
    badge,
    changelist_url,
    money,
    money_column,
    number_column,
    signed_percent,
)
from apps.core.admin_filters import DateRangeFilter, currency_filter
from apps.core.charts import Series, line_chart
from apps.followers.models import Position
from apps.operators.models import Operator
from apps.pools.accounting import NAV_ONE
from apps.pools.models import Pool, PoolSnapshot
from apps.pools.selectors import pool_close_cause, pool_currencies, pool_exposure, pool_stream
from apps.streamers.models import Streamer
from apps.transactions.locks import pool_game_pool_resend
from apps.transactions.models import Transaction
from apps.transactions.services import pool_settle

if TYPE_CHECKING:
    from apps.backoffice.dashboard import LockedPool

CHART_POINTS = 500


# --- actions ------------------------------------------------------------------------------


class ForceReleaseForm(ReasonForm):
    override = forms.BooleanField(
        required=False,
        label="Release even though followers' money is in the pool",
        help_text="Without this, the release is refused while the pool has members or a "
        "transfer in doubt. The pool then stays open and its next join locks it again.",
    )


def _refresh(pool: Pool, *, request, data) -> str:
    before = pool.balance
    pool = services.pool_refresh_balance(pool=pool)
    return (
        f"balance {pool.balance:,.8f} {pool.currency} (was {before:,.8f}); "
        f"NAV {pool.nav:.8f}; snapshot taken"
    )


def _settle(pool: Pool, *, request, data) -> str:
    who = request.user.get_username()
    started = pool_settle(
        pool=pool,
        reason=f"settled by staff {who}, {data['reason'].strip()}",
        leave_reason=Position.LeaveReason.STAFF,
    )
    pool.refresh_from_db()
    return f"{len(started)} leave(s) started; the pool is now {pool.get_state_display().lower()}"


def _resend(pool: Pool, *, request, data) -> str:
    return pool_game_pool_resend(pool=pool)


def _force_release(pool: Pool, *, request, data) -> str:
    pool = services.pool_force_release(
        pool=pool, reason=data["reason"], override=data.get("override", False)
    )
    return f"lock released; the pool is {pool.get_state_display().lower()}"


def _exposure_preview(pool: Pool) -> str:
    exposure = pool_exposure(pool=pool)
    if not exposure.holds_money:
        return "no followers' money in the pool"
    return exposure.describe()


def _not_closed(pool: Pool) -> bool:
    return pool.state != Pool.State.CLOSED


POOL_ACTIONS: tuple[StaffActionSpec[Pool], ...] = (
    StaffActionSpec(
        name="pool_refresh_balance",
        label="Refresh balance now",
        run=_refresh,
        description="Asks the operator for the streamer's balance (a signed streamer-balance "
        "call), records it as the pool's last known balance and takes a snapshot. "
        "Display only: no money moves.",
        available=_not_closed,
        initial_reason="Balance check",
    ),
    StaffActionSpec(
        name="pool_settle",
        label="Settle and close",
        run=_settle,
        description="Pays every follower out at the current NAV (a leave per active position: "
        "WITHDRAWAL transfer, then the WIN to the wallet), then tells the operator CLOSE once the "
        "last member has left.",
        dangerous=True,
        max_objects=10,
        available=_not_closed,
        preview=_exposure_preview,
    ),
    StaffActionSpec(
        name="pool_resend_game_pool",
        label="Re-send OPEN/CLOSE",
        run=_resend,
        description="Re-sends game-pool with the state the pool should be in (OPEN while open, "
        "CLOSE once closing or closed), signed afresh; through the owning saga when one waits "
        "for that answer.",
        preview=lambda pool: "OPEN" if pool.state == Pool.State.OPEN else "CLOSE",
    ),
    StaffActionSpec(
        name="pool_force_release",
        label="Force release of the lock",
        run=_force_release,
        form_class=ForceReleaseForm,
        description="Sends game-pool CLOSE so the streamer may withdraw again, and records the "
        "lock as released. Refused while followers' money is in the pool unless you tick the "
        "override below.",
        dangerous=True,
        max_objects=10,
        available=lambda pool: (
            pool.lock_state != Pool.LockState.RELEASED or pool.state != Pool.State.CLOSED
        ),
        preview=_exposure_preview,
    ),
)


# --- shared display ------------------------------------------------------------------


class PoolColumns:
    @admin.display(description="Streamer", ordering="streamer__display_name")
    def streamer_name(self, pool: Pool):
        return pool.streamer.display_name

    @admin.display(description="Operator", ordering="operator__name")
    def operator_name(self, pool: Pool):
        return pool.operator.name

    @admin.display(description="State", ordering="state")
    def state_badge(self, pool: Pool):
        return badge(pool.get_state_display(), pool.state)

    @admin.display(description="Lock", ordering="lock_state")
    def lock_badge(self, pool: Pool):
        label = {"pending": "Pending", "locked": "Locked", "released": "Released"}[pool.lock_state]
        return badge(label, pool.lock_state)

    money_balance = money_column("balance", "Balance", ordering="balance")

    num_nav = number_column("nav", "NAV")

    num_members = number_column("members", "Followers", places=0, ordering="members")

    @admin.display(description="Result")
    def result(self, pool: Pool):
        """NAV starts at 1 when the pool opens: the pool's performance since."""
        if pool.total_units <= 0:
            return EMPTY
        return signed_percent((pool.nav - NAV_ONE) * 100)


# --- pools ---------------------------------------------------------------------------


class PoolPositionInline(PositionInline):
    fields = (
        "position_link",
        "follower",
        "status",
        "money_contributed",
        "num_units",
        "money_payout",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("follower").order_by("-created_at")


class PoolTransactionInline(TransactionInline):
    fk_name = "pool"
    verbose_name_plural = "Transactions (newest 50)"
    fields = (
        "tx_link",
        "created_at",
        "kind",
        "status_badge",
        "money_amount",
        "external_id",
        "attempts",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at", "-id")


@admin.register(Pool)
class PoolAdmin(
    ChangeListTotalsMixin,
    StaffActionsMixin,
    ReadOnlyAdminMixin,
    BigTableAdminMixin,
    PoolColumns,
    AuditedHistoryAdmin,
):
    staff_actions = POOL_ACTIONS
    totals = (
        ("cp_balance", "Balance", Sum("balance")),
        ("cp_contributed", "Followers' contributions", Sum("followers_contributed")),
    )
    list_display = (
        "__str__",
        "streamer_name",
        "operator_name",
        "state_badge",
        "lock_badge",
        "money_balance",
        "num_nav",
        "num_members",
        "result",
        "opened_at",
    )
    list_filter = (
        "state",
        "lock_state",
        "operator",
        currency_filter(pool_currencies),
        ("opened_at", DateRangeFilter),
        "is_demo",
        "is_bust",
    )
    list_select_related = ("streamer", "operator")
    search_help_text = "Pool #, or the streamer's operator user id or name."
    search_fields = ("streamer__operator_user_id",)
    inlines = (PoolPositionInline, PoolTransactionInline)
    fieldsets = (
        (
            "Pool",
            {
                "fields": (
                    ("streamer_link", "stream_link", "operator_link"),
                    ("currency", "is_demo", "is_bust"),
                    ("state_badge", "lock_badge"),
                    "close_cause",
                    "lists",
                )
            },
        ),
        (
            "Money",
            {
                "fields": (
                    ("money_balance", "balance_at"),
                    ("num_nav", "result"),
                    ("money_opening_balance", "money_closing_balance"),
                    ("num_total_units", "num_streamer_units"),
                    ("num_members", "money_followers_contributed", "money_followers_value"),
                )
            },
        ),
        (
            "Life",
            {
                "fields": (
                    ("opened_at", "open_sent_at"),
                    ("locked_at", "closed_at"),
                    ("pricing_saga", "pricing_since"),
                )
            },
        ),
        ("Staff actions", {"fields": ("staff_actions_taken",)}),
    )
    readonly_fields = (
        "streamer_link",
        "operator_link",
        "currency",
        "is_demo",
        "is_bust",
        "state_badge",
        "lock_badge",
        "close_cause",
        "stream_link",
        "lists",
        "money_balance",
        "balance_at",
        "num_nav",
        "result",
        "money_opening_balance",
        "money_closing_balance",
        "num_total_units",
        "num_streamer_units",
        "num_members",
        "money_followers_contributed",
        "money_followers_value",
        "opened_at",
        "open_sent_at",
        "locked_at",
        "closed_at",
        "pricing_saga",
        "pricing_since",
        "staff_actions_taken",
    )

    def get_queryset(self, request):
        return pools_with_members(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        if term.isdigit():
            return queryset.filter(pk=int(term)), False
        if term:
            return queryset.filter(
                Q(streamer__operator_user_id=term) | Q(streamer__display_name__icontains=term)
            ), False
        return queryset, False

    def top_panel(self, pool: Pool):
        """NAV and balance over time, from the pool's snapshots."""
        snapshots = list(
            PoolSnapshot.objects.filter(pool=pool)
            .order_by("-taken_at")
            .values_list("taken_at", "balance", "nav")[:CHART_POINTS]
        )
        snapshots.reverse()
        balance = line_chart(
            [Series(f"Balance ({pool.currency})", [(t, b) for t, b, _ in snapshots])],
            title=f"Balance, {pool.currency}",
            width=640,
            height=240,
            empty_text="No snapshots yet (Refresh balance takes one)",
        )
        nav_chart = line_chart(
            [Series("NAV", [(t, n) for t, _, n in snapshots], color="#9333ea")],
            title="NAV (1 at opening)",
            width=640,
            height=240,
            empty_text="No snapshots yet",
        )
        return format_html('<div class="cp-charts">{}{}</div>', balance, nav_chart)

    @admin.display(description="Streamer")
    def streamer_link(self, pool: Pool):
        return format_html(
            "{} <span class='quiet'>({})</span>",
            admin_link(Streamer, pool.streamer_id, pool.streamer.display_name),
            pool.streamer.operator_user_id,
        )

    @admin.display(description="Stream")
    def stream_link(self, pool: Pool):
        stream = pool_stream(pool)
        if stream is None:
            return EMPTY
        return format_html(
            "{} <span class='quiet'>{}</span>",
            admin_link(stream, text=stream.title or f"Stream #{stream.pk}"),
            stream.get_status_display(),
        )

    @admin.display(description="Why it closed")
    def close_cause(self, pool: Pool):
        return pool_close_cause(pool) or "Open"

    @admin.display(description="Operator")
    def operator_link(self, pool: Pool):
        return admin_link(Operator, pool.operator_id, pool.operator.name)

    @admin.display(description="All rows")
    def lists(self, pool: Pool):
        return format_html(
            '<a href="{}">All positions</a> · <a href="{}">All transactions</a> · '
            '<a href="{}">Snapshots</a>',
            changelist_url(Position, pool__id__exact=pool.pk),
            changelist_url(Transaction, pool__id__exact=pool.pk),
            changelist_url(PoolSnapshot, pool__id__exact=pool.pk),
        )

    money_opening_balance = money_column("opening_balance", "Opening balance (B0)")

    money_closing_balance = money_column("closing_balance", "Closing balance")

    num_total_units = number_column("total_units", "Total units")

    num_streamer_units = number_column("streamer_units", "Streamer's units")

    money_followers_contributed = money_column("followers_contributed", "Followers' contributions")

    @admin.display(description="Followers' units are worth")
    def money_followers_value(self, pool: Pool):
        return money(followers_value(pool), pool.currency)

    @admin.display(description="Staff actions on this pool")
    def staff_actions_taken(self, pool: Pool):
        return staff_actions_panel(pool)


@admin.register(PoolSnapshot)
class PoolSnapshotAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ("taken_at", "pool_link", "money_balance", "num_nav", "members")
    list_filter = (("taken_at", DateRangeFilter),)
    list_select_related = ("pool",)
    raw_id_fields = ("pool",)

    @admin.display(description="Pool", ordering="pool_id")
    def pool_link(self, snapshot: PoolSnapshot):
        return admin_link(Pool, snapshot.pool_id)

    money_balance = money_column("balance", "Balance", currency="pool.currency", ordering="balance")

    num_nav = number_column("nav", "NAV", ordering="nav")


# --- withdrawal locks ----------------------------------------------------------------


class StaleFilter(admin.SimpleListFilter):
    title = "staleness"
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return (("yes", "Stale"), ("no", "Fresh"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(stale_lock_q())
        if self.value() == "no":
            return queryset.exclude(stale_lock_q())
        return queryset


@admin.register(WithdrawalLock)
class WithdrawalLockAdmin(
    ChangeListTotalsMixin, StaffActionsMixin, ReadOnlyAdminMixin, PoolColumns, admin.ModelAdmin
):
    """Every streamer whose balance is locked, oldest lock first; stale locks are tinted."""

    totals_title = "Locked, totals of this filter"
    totals = (
        ("cp_balance", "Streamers' balances locked", Sum("balance")),
        ("cp_contributed", "Followers' contributions", Sum("followers_contributed")),
    )

    staff_actions = tuple(
        spec
        for spec in POOL_ACTIONS
        if spec.name in ("pool_force_release", "pool_refresh_balance", "pool_settle")
    )
    # Fits 1280 px beside the filters: the operator under the pool, short money headers
    # (the column's title says in full), long text wrapping (admin.css).
    list_display = (
        "pool_link",
        "state_badge",
        "locked_since",
        "money_contributed",
        "money_followers_value",
        "money_balance",
        "staleness",
    )
    list_display_links = None
    list_filter = (StaleFilter, "operator", currency_filter(pool_currencies))
    list_select_related = ("streamer", "operator")
    ordering = ("locked_at", "pk")
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request):
        return withdrawal_locks().select_related("streamer", "operator")

    def get_ordering(self, request):
        return self.ordering

    @admin.display(description="Pool · operator", ordering="pk")
    def pool_link(self, pool: Pool):
        return format_html(
            '<span class="cp-lock-pool">{}</span><span class="cp-lock-operator quiet">{}</span>',
            admin_link(Pool, pool.pk, f"#{pool.pk} {pool.streamer.display_name}"),
            pool.operator.name,
        )

    @admin.display(description="Locked since", ordering="locked_at")
    def locked_since(self, pool: Pool):
        if pool.locked_at is None:
            return EMPTY
        return format_html(
            '<span class="cp-nowrap">{}</span><br><span class="quiet">{}</span>',
            f"{timezone.localtime(pool.locked_at):%Y-%m-%d %H:%M}",
            f"for {age(pool.locked_at)}",
        )

    @admin.display(description="Followers contributed", ordering="followers_contributed")
    def money_contributed(self, pool: LockedPool):
        members = pool.members or 0
        return format_html(
            '{}<span class="cp-lock-members quiet">{} follower{}</span>',
            money(pool.followers_contributed, pool.currency),
            members,
            "" if members == 1 else "s",
        )

    @admin.display(description="Worth now")
    def money_followers_value(self, pool: Pool):
        """What the followers' units are worth at the last known balance."""
        return money(followers_value(pool), pool.currency)

    @admin.display(description="Stale?")
    def staleness(self, pool: LockedPool):
        reasons = []
        if pool.locked_at and pool.locked_at < timezone.now() - stale_lock_after():
            reasons.append(f"locked over {age(pool.locked_at)}")
        if not pool.members:
            reasons.append("no members")
        if not pool.has_live_stream:
            reasons.append("streamer not live")
        if not reasons:
            return badge("fresh", "succeeded")
        return format_html(
            '<span class="cp-stale cp-badge cp-badge--warn">stale</span><br>'
            '<span class="quiet">{}</span>',
            "; ".join(reasons),
        )
