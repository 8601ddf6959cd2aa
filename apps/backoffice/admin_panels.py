"""Read-only panels shown on detail pages: staff actions on an object, capped inlines, the
transactions inline a pool and a saga page share."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.backoffice.models import StaffAction
from apps.core.admin_display import EMPTY, admin_link, badge, money_column, number_column
from apps.followers.models import Position
from apps.transactions.models import Transaction

PANEL_ROWS = 20


def staff_actions_panel(obj: models.Model, *, limit: int = PANEL_ROWS) -> SafeString | str:
    """The latest staff actions taken on ``obj`` (one query)."""
    concrete_model = obj._meta.concrete_model
    assert concrete_model is not None  # None only on abstract models, which have no rows
    opts = concrete_model._meta
    actions = list(
        StaffAction.objects.filter(
            target_type=f"{opts.app_label}.{opts.model_name}", target_id=str(obj.pk)
        ).order_by("-created_at", "-id")[:limit]
    )
    if not actions:
        return EMPTY
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                f"{a.created_at:%Y-%m-%d %H:%M:%S}",
                a.username,
                format_html('<span title="{}">{}</span>', a.action, a.action_label),
                badge(a.get_outcome_display(), a.outcome),
                a.reason,
                a.message,
            )
            for a in actions
        ),
    )
    return format_html(
        '<table class="cp-table"><thead><tr><th>When (UTC)</th><th>Who</th><th>Action</th>'
        "<th>Outcome</th><th>Why</th><th>Result</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


class CappedInlineFormSet(BaseInlineFormSet):
    """Shows the newest ``cap`` related rows only; the full list is one link away."""

    cap = 50

    def get_queryset(self):
        if not hasattr(self, "_capped_queryset"):
            self._capped_queryset = super().get_queryset()[: self.cap]
        return self._capped_queryset


class TransactionInline(admin.TabularInline):
    """Read-only transactions under a pool or a saga (subclasses set ``fk_name`` and
    ``fields``), capped by ``CappedInlineFormSet``."""

    model = Transaction
    formset = CappedInlineFormSet
    extra = 0
    can_delete = False
    classes = ("cp-inline",)

    @admin.display(description="#")
    def tx_link(self, tx: Transaction) -> SafeString | str:
        return admin_link(Transaction, tx.pk)

    @admin.display(description="Status")
    def status_badge(self, tx: Transaction) -> SafeString | str:
        return badge(tx.get_status_display(), tx.status)

    money_amount = money_column("amount", "Amount")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class PositionInline(admin.TabularInline):
    """Read-only positions, newest first and capped by ``CappedInlineFormSet``, under a pool or
    a follower (subclasses set ``fields`` from the columns here and their own)."""

    model = Position
    formset = CappedInlineFormSet
    extra = 0
    can_delete = False
    classes = ("cp-inline",)
    verbose_name_plural = "Positions (newest 50)"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Position")
    def position_link(self, position: Position) -> SafeString | str:
        return admin_link(Position, position.pk, str(position.pk)[:8] + "…")

    num_units = number_column("units", "Units")

    money_contributed = money_column("contributed", "Contributed", currency=None)

    money_payout = money_column("payout", "Payout", currency=None)
