"""Followers, their sessions and positions.

Never edited by hand (the flows own them): staff act through confirmed, audited actions.
A follower can be blocked (no more joins; optionally every open position paid out now) and
unblocked; a position can be forced out (paid at the current NAV through the normal leave).
A session's operator user token is encrypted at rest and never shown.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.db.models import Sum
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.backoffice.admin_actions import ReasonForm, StaffActionsMixin, StaffActionSpec
from apps.backoffice.admin_exports import StreamingExportMixin
from apps.backoffice.admin_panels import CappedInlineFormSet, PositionInline, staff_actions_panel
from apps.backoffice.admin_people_panels import (
    LATEST,
    Button,
    follower_summary,
    sessions_panel,
    transactions_panel,
)
from apps.backoffice.admin_totals import ChangeListTotalsMixin
from apps.backoffice.followers import follower_block_by_staff, position_force_leave
from apps.core.admin_base import BigTableAdminMixin, ReadOnlyAdminMixin
from apps.core.admin_display import (
    EMPTY,
    admin_link,
    badge,
    changelist_url,
    money,
    money_column,
    number_column,
    signed_percent,
)
from apps.core.admin_filters import DateRangeFilter
from apps.core.errors import ErrorCode
from apps.followers.models import Follower, PlayerSession, Position
from apps.followers.selectors import follower_position_totals, position_value
from apps.followers.services import follower_unblock
from apps.pools.models import Pool
from apps.transactions.models import Receipt, Transaction
from apps.transactions.resources import PositionResource

# --- actions ------------------------------------------------------------------------------


class BlockForm(ReasonForm):
    pay_out_now = forms.BooleanField(
        required=False,
        label="Pay their open positions out now",
        help_text="Every active position leaves at once at the current NAV (a WITHDRAWAL "
        "transfer, then the WIN to the wallet), demo positions too. Without this, they stay "
        "until the follower leaves or the stream ends.",
    )


def _who(request) -> str:
    return request.user.get_username()


def _block(follower: Follower, *, request, data) -> str:
    outcome = follower_block_by_staff(
        follower=follower,
        pay_out_now=data.get("pay_out_now", False),
        who=_who(request),
        reason=data["reason"],
    )
    return outcome.describe()


def _unblock(follower: Follower, *, request, data) -> str:
    was_blocked = follower.is_blocked
    follower_unblock(follower=follower, reason=data["reason"])
    return "unblocked: may join pools again" if was_blocked else "was not blocked"


def _block_preview(follower: Follower) -> str:
    active = list(
        Position.objects.filter(follower=follower, status=Position.Status.ACTIVE).select_related(
            "pool"
        )
    )
    if not active:
        return "no active positions"
    worth: dict[str, Decimal] = {}
    for position in active:
        currency = position.pool.currency
        worth[currency] = worth.get(currency, Decimal(0)) + Decimal(position_value(position))
    value = ", ".join(f"{amount:,.8f} {currency}" for currency, amount in sorted(worth.items()))
    return (
        f"{len(active)} active position(s) worth {value} at the last known NAV; paid out only "
        "if you tick the box below"
    )


def _force_leave(position: Position, *, request, data) -> str:
    position = position_force_leave(position=position, who=_who(request), reason=data["reason"])
    if position.status == Position.Status.CLOSED:
        return f"closed: paid {position.payout:,.8f} {position.pool.currency}"
    if position.payout is not None:
        return (
            f"leaving: {position.payout:,.8f} {position.pool.currency} withdrawn from the pool, "
            "the WIN is on its way"
        )
    return "leaving: the WITHDRAWAL is waiting for the pool or the operator; retried on schedule"


def _force_leave_preview(position: Position) -> str:
    if position.status in (Position.Status.LEAVING, Position.Status.CLOSED):
        return f"already {position.status}: nothing more happens"
    if position.status != Position.Status.ACTIVE:
        return f"{position.status}: cannot be paid out (refused)"
    value = Decimal(position_value(position))
    return (
        f"pays about {value:,.8f} {position.pool.currency} (its value at the last known NAV; "
        "priced on a fresh balance when it leaves)"
    )


FOLLOWER_ACTIONS: tuple[StaffActionSpec[Follower], ...] = (
    StaffActionSpec(
        name="follower_block",
        label="Block",
        run=_block,
        form_class=BlockForm,
        description=f"The follower may no longer join any pool ({ErrorCode.FOLLOWER_BLOCKED}). "
        "Tick the "
        "box to also pay every open position out now, through the normal leave.",
        dangerous=True,
        max_objects=20,
        available=lambda follower: not follower.is_blocked,
        preview=_block_preview,
    ),
    StaffActionSpec(
        name="follower_unblock",
        label="Unblock",
        run=_unblock,
        description="The follower may join pools again. No money moves.",
        max_objects=20,
        available=lambda follower: follower.is_blocked,
        preview=lambda follower: (
            f"blocked since {timezone.localtime(follower.blocked_at):%Y-%m-%d %H:%M}: "
            f"{follower.blocked_reason}"
            if follower.is_blocked and follower.blocked_at
            else "not blocked: nothing happens"
        ),
    ),
)

POSITION_ACTIONS: tuple[StaffActionSpec[Position], ...] = (
    StaffActionSpec(
        name="position_force_leave",
        label="Force leave",
        run=_force_leave,
        description="Pays the position out now, as if its follower had left: a WITHDRAWAL "
        "transfer priced on a fresh balance, then the WIN to the wallet, retried until paid. "
        "The pool closes after its last member.",
        dangerous=True,
        max_objects=20,
        available=lambda position: position.status == Position.Status.ACTIVE,
        preview=_force_leave_preview,
    ),
)


# --- followers ----------------------------------------------------------------------------


class FollowerPositionInline(PositionInline):
    fields = (
        "position_link",
        "pool_link",
        "status_badge",
        "money_contributed",
        "num_units",
        "money_value",
        "money_payout",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("pool").order_by("-created_at", "pk")

    @admin.display(description="Pool")
    def pool_link(self, position: Position):
        return admin_link(Pool, position.pool_id, f"#{position.pool_id} {position.pool.currency}")

    @admin.display(description="Status")
    def status_badge(self, position: Position):
        return badge(position.get_status_display(), position.status)

    @admin.display(description="Value now")
    def money_value(self, position: Position):
        return money(Decimal(position_value(position)))


@admin.register(Follower)
class FollowerAdmin(StaffActionsMixin, ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    staff_actions = FOLLOWER_ACTIONS
    list_display = (
        "operator_user_id",
        "username",
        "operator",
        "blocked_badge",
        "blocked_at",
        "is_demo",
        "created_at",
    )
    list_filter = ("operator", "is_blocked", "is_demo")
    list_select_related = ("operator",)
    search_fields = ("=operator_user_id", "username")
    inlines = (FollowerPositionInline,)
    # Who they are, the block, the net result and the lists filtered to them are the header
    # (``follower_summary``); the fieldsets are the latest rows of each kind.
    # The template puts the first fieldset above the positions inline, the others below it.
    change_form_template = "admin/followers/follower/change_form.html"
    fieldsets = (
        ("Positions", {"fields": ("totals", "all_positions")}),
        (
            f"Latest transactions (newest {LATEST})",
            {"fields": ("latest_transactions",), "classes": ("cp-wide",)},
        ),
        ("Latest sessions", {"fields": ("latest_sessions",), "classes": ("cp-wide",)}),
        ("Staff actions", {"fields": ("staff_actions_taken",)}),
    )
    readonly_fields = (
        "totals",
        "all_positions",
        "latest_transactions",
        "latest_sessions",
        "staff_actions_taken",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("operator")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            buttons = [
                Button(spec.label, self.staff_action_url(obj, spec), spec.dangerous)
                for spec in self.get_staff_actions(request)
                if spec.available is None or spec.available(obj)
            ]
            context["cp_top_panel"] = follower_summary(obj, buttons=buttons)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="")
    def latest_transactions(self, follower: Follower):
        return transactions_panel(Transaction.objects.filter(follower=follower))

    @admin.display(description="")
    def latest_sessions(self, follower: Follower):
        return sessions_panel(follower)

    @admin.display(description="Blocked", ordering="is_blocked")
    def blocked_badge(self, follower: Follower):
        return badge("blocked", "failed") if follower.is_blocked else badge("may join", "active")

    @admin.display(description="Totals")
    def totals(self, follower: Follower):
        """Per currency: what went in, what came out, what the open positions are worth."""
        rows = follower_position_totals(follower=follower)
        if not rows:
            return EMPTY
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "</tr>",
            (
                (
                    row.currency,
                    row.positions,
                    row.open,
                    money(row.contributed),
                    money(row.paid_out),
                    money(row.value_now),
                    money(row.result),
                )
                for row in rows
            ),
        )
        return format_html(
            '<table class="cp-table cp-totals"><thead><tr><th>Currency</th><th>Positions</th>'
            "<th>Open</th><th>Contributed</th><th>Paid out</th><th>Open positions worth</th>"
            "<th>Result</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    @admin.display(description="All rows")
    def all_positions(self, follower: Follower):
        return format_html(
            '<a href="{}">All positions</a>',
            changelist_url(Position, follower__id__exact=follower.pk),
        )

    @admin.display(description="Staff actions on this follower")
    def staff_actions_taken(self, follower: Follower):
        return staff_actions_panel(follower)


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


class PositionReceiptInline(admin.TabularInline):
    """Every price of the position (join, top-ups, leaves), oldest first: read-only, the proof
    of what each was priced on (``Receipt``)."""

    model = Receipt
    formset = CappedInlineFormSet
    extra = 0
    can_delete = False
    classes = ("cp-inline",)
    verbose_name_plural = "Receipts (prices of the join, top-ups and leaves)"
    fields = (
        "kind",
        "priced_at",
        "money_amount",
        "money_gross",
        "money_fee",
        "fee_rate",
        "money_mark",
        "money_balance",
        "num_nav",
        "num_units",
        "num_total_before",
        "num_total_after",
        "bet_external_id",
        "deposit_external_id",
        "withdrawal_external_id",
        "win_external_id",
        "fee_external_id",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("priced_at", "pk")

    @admin.display(description="Fee rate")
    def fee_rate(self, receipt: Receipt):
        return EMPTY if receipt.kind != Receipt.Kind.LEAVE else percent_text(receipt.fee_percent)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    money_amount = money_column("amount", "Amount (a leave: net of the fee)")
    money_gross = money_column("gross_amount", "Gross (a leave: the units' value)")
    money_fee = money_column("fee", "Performance fee")
    money_mark = money_column("high_water_mark", "High-water mark carried")
    money_balance = money_column("balance", "Priced on balance")
    num_nav = number_column("nav", "NAV")
    num_units = number_column("units", "Units issued / redeemed")
    num_total_before = number_column("total_units_before", "Pool units before")
    num_total_after = number_column("total_units_after", "Pool units after")


def percent_text(value: Decimal | None) -> str:
    """A rate as staff read it: ``20 %``, ``12.5 %``."""
    return EMPTY if value is None else f"{value.normalize():f} %"


@admin.register(Position)
class PositionAdmin(
    ChangeListTotalsMixin,
    StreamingExportMixin,
    StaffActionsMixin,
    ReadOnlyAdminMixin,
    BigTableAdminMixin,
    admin.ModelAdmin,
):
    resource_classes = [PositionResource]
    staff_actions = POSITION_ACTIONS
    totals_currency_field = "pool__currency"
    totals = (
        ("cp_contributed", "Contributed", Sum("contributed")),
        ("cp_payout", "Paid out", Sum("payout")),
        ("cp_fees_paid", "Performance fees paid", Sum("fees_paid")),
    )
    inlines = (PositionReceiptInline,)
    list_display = (
        "id",
        "follower",
        "pool_link",
        "status_badge",
        "money_contributed",
        "num_units",
        "money_payout",
        "money_fees_paid",
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
        "money_value",
        "money_payout",
        "fee_rate",
        "money_mark",
        "money_fees_paid",
        "result_display",
        "staff_actions_taken",
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

    @admin.display(description="Value at the last known NAV")
    def money_value(self, position: Position):
        return money(Decimal(position_value(position)), position.pool.currency)

    money_payout = money_column("payout", "Payout", currency="pool.currency", ordering="payout")
    money_mark = money_column(
        "high_water_mark", "High-water mark", currency="pool.currency", ordering="high_water_mark"
    )
    money_fees_paid = money_column(
        "fees_paid", "Performance fees paid", currency="pool.currency", ordering="fees_paid"
    )

    @admin.display(description="Performance fee (fixed when it opened)")
    def fee_rate(self, position: Position):
        return percent_text(position.performance_fee_percent)

    @admin.display(description="Result")
    def result_display(self, position: Position):
        if position.payout is None or not position.contributed:
            return EMPTY
        return signed_percent(position.result / position.contributed * 100)

    @admin.display(description="Staff actions on this position")
    def staff_actions_taken(self, position: Position):
        return staff_actions_panel(position)
