"""The ledger in the back office: transactions, the review queue, sagas, reconciliation and
finance exports.

Everything here is read-only; staff act through confirmed, audited actions that call
``apps.backoffice.review``. Changelists are built for a million rows: no full counts, no
facet counts, indexed exact-id search, a fixed number of queries per page.
"""

from __future__ import annotations

import contextlib
import uuid

from django import forms
from django.contrib import admin
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from apps.backoffice import review
from apps.backoffice.admin_actions import ReasonForm, StaffActionsMixin, StaffActionSpec
from apps.backoffice.admin_exports import StreamingExportMixin
from apps.backoffice.admin_panels import TransactionInline, staff_actions_panel
from apps.backoffice.admin_run_now import ReconciliationRunNowMixin, SettlementRunNowMixin
from apps.backoffice.admin_totals import ChangeListTotalsMixin
from apps.backoffice.models import ReviewItem
from apps.core.admin_base import (
    AuditedHistoryAdmin,
    BigTableAdminMixin,
    ModelAdminMixin,
    ReadOnlyAdminMixin,
)
from apps.core.admin_display import (
    EMPTY,
    admin_link,
    age,
    badge,
    changelist_url,
    money,
    money_column,
    number_column,
    pretty_json,
)
from apps.core.admin_filters import DateRangeFilter, currency_filter
from apps.followers.models import Follower, Position
from apps.operators.models import CallLog, Operator
from apps.pools.models import Pool
from apps.pools.selectors import pool_currencies
from apps.streamers.models import Streamer
from apps.transactions.finance.ledger import (
    settlement_journal_differences,
    settlements_with_journal,
)
from apps.transactions.models import (
    DailySettlement,
    Discrepancy,
    ReconciliationRun,
    Saga,
    Transaction,
)
from apps.transactions.reconciliation import discrepancy_resolve
from apps.transactions.resources import DailySettlementResource, FeeResource, TransactionResource

CALLS_SHOWN = 50


# --- search --------------------------------------------------------------------------


def transaction_search_ids(term: str):
    """Ids of transactions matching ``term`` as an indexed id, as a UNION of index lookups.

    Matches: transaction #, external id, saga #, pool #, position id, and the operator user id
    of the follower or streamer. Each branch is its own indexed query; an OR across them would
    make PostgreSQL scan the table.
    """
    term = term.strip().lstrip("#")
    ids = Transaction.objects.order_by().values("pk")
    operators = list(Operator.objects.values_list("pk", flat=True))
    # (operator, external_id) is the unique index: probing it per operator beats a scan.
    branches = [
        ids.filter(operator_id__in=operators, external_id=term),
        ids.filter(follower__in=Follower.objects.filter(operator_user_id=term).values("pk")),
        ids.filter(streamer__in=Streamer.objects.filter(operator_user_id=term).values("pk")),
    ]
    if term.isdigit() and len(term) < 19:
        number_ = int(term)
        branches += [
            ids.filter(pk=number_),
            ids.filter(saga_id=number_),
            ids.filter(pool_id=number_),
        ]
    with contextlib.suppress(ValueError):
        branches.append(ids.filter(position_id=uuid.UUID(term)))
    first, *rest = branches
    return first.union(*rest)


# --- actions -------------------------------------------------------------------------


class ResolveForm(ReasonForm):
    reason = forms.CharField(
        label="Resolution note",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text="What was checked and decided. Appended to the transaction's review notes "
        "and recorded with your name.",
    )


def _saga_summary(saga: Saga) -> str:
    return f"saga #{saga.pk} is {saga.status}, step {saga.step}"


def _retry(tx: Transaction, *, request, data) -> str:
    saga = review.review_retry_now(tx=tx)
    tx.refresh_from_db()
    return f"{_saga_summary(saga)}; the transaction is {tx.status}"


def _rollback(tx: Transaction, *, request, data) -> str:
    saga = review.review_rollback(tx=tx, reason=data["reason"])
    return _saga_summary(saga)


def _resolve(tx: Transaction, *, request, data) -> str:
    review.review_resolve(tx=tx, user=request.user, note=data["reason"])
    return "marked resolved"


def _saga_of(tx: Transaction) -> Saga | None:
    return tx.saga if tx.saga_id else None


def _retry_preview(tx: Transaction) -> str:
    saga = _saga_of(tx)
    return _saga_summary(saga) if saga else "no saga: nothing to retry"


def _rollback_preview(tx: Transaction) -> str:
    refusal = review.rollback_refusal(_saga_of(tx))
    return f"refused: {refusal}" if refusal else "the BET will be refunded (wallet rollback)"


def _saga_running(tx: Transaction) -> bool:
    saga = _saga_of(tx)
    return saga is not None and saga.status == Saga.Status.RUNNING


RETRY = StaffActionSpec(
    name="transaction_retry_now",
    label="Retry now",
    run=_retry,
    description="Drives the transaction's saga now instead of at its next scheduled attempt: "
    "the same external id, signed afresh. The operator treats a repeat as the same request.",
    available=_saga_running,
    preview=_retry_preview,
)
ROLLBACK = StaffActionSpec(
    name="transaction_roll_back",
    label="Roll back the join",
    run=_rollback,
    description="Only for a join whose BET succeeded (or is in doubt) and whose DEPOSIT "
    "transfer was never sent or definitively failed: the saga refunds the BET with a wallet "
    "rollback and the position fails. Anything else is refused.",
    dangerous=True,
    max_objects=20,
    available=lambda tx: review.rollback_refusal(_saga_of(tx)) is None,
    preview=_rollback_preview,
)
RESOLVE: StaffActionSpec[Transaction] = StaffActionSpec(
    name="transaction_mark_resolved",
    label="Mark resolved",
    run=_resolve,
    form_class=ResolveForm,
    description="Takes the transaction out of the review queue with your note. Nothing is sent "
    "and no money moves; the saga (if still running) carries on.",
)


# --- shared columns and detail ---------------------------------------------------------


class TransactionColumns(ModelAdminMixin):
    @admin.display(description="External id", ordering="external_id")
    def short_external_id(self, tx: Transaction):
        return format_html('<code title="{}">{}…</code>', tx.external_id, tx.external_id[:10])

    @admin.display(description="Kind", ordering="kind")
    def kind_label(self, tx: Transaction):
        return {
            "follower_debit": "BET (withdraw)",
            "streamer_deposit": "DEPOSIT transfer",
            "streamer_withdrawal": "WITHDRAWAL transfer",
            "follower_credit": "WIN (deposit)",
            "follower_rollback": "Rollback",
            "performance_fee": "Performance fee",
        }.get(tx.kind) or tx.get_kind_display()

    @admin.display(description="Status", ordering="status")
    def status_badge(self, tx: Transaction):
        return badge(tx.get_status_display(), tx.status)

    money_amount = money_column("amount", "Amount", ordering="amount")

    @admin.display(description="Operator", ordering="operator__name")
    def operator_name(self, tx: Transaction):
        return tx.operator.name

    @admin.display(description="Pool", ordering="pool_id")
    def pool_link(self, tx: Transaction):
        return admin_link(Pool, tx.pool_id)

    @admin.display(description="Follower")
    def follower_name(self, tx: Transaction):
        return str(tx.follower) if tx.follower_id else EMPTY

    num_attempts = number_column("attempts", "Tries", places=0, ordering="attempts")

    @admin.display(description="Review", ordering="needs_review")
    def flagged(self, tx: Transaction):
        return badge("flagged", "unknown") if tx.needs_review else ""


class TransactionDetail(TransactionColumns):
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("external_id", "kind_label", "status_badge"),
                    ("money_amount", "operator_name", "is_demo"),
                    ("pool_link", "position_link", "saga_link"),
                    ("follower_name", "streamer_name", "rolls_back_link"),
                    ("created_at", "last_attempt_at", "completed_at"),
                    ("num_attempts", "last_error_code"),
                    "last_error",
                )
            },
        ),
        (
            "Pricing",
            {"fields": (("num_units", "money_priced_balance", "num_priced_total_units"),)},
        ),
        (
            "The operator's answer",
            {
                "fields": (
                    ("operator_reference", "money_balance_before", "money_balance_after"),
                    "answer",
                )
            },
        ),
        ("Saga", {"fields": ("saga_panel",)}),
        ("Calls for this transaction", {"fields": ("calls_panel",)}),
        (
            "Review",
            {
                "fields": (
                    ("flagged", "reasons"),
                    ("reviewed_by", "reviewed_at"),
                    "review_notes",
                    "staff_actions_taken",
                )
            },
        ),
    )
    readonly_fields = (
        "external_id",
        "kind_label",
        "status_badge",
        "money_amount",
        "operator_name",
        "is_demo",
        "pool_link",
        "position_link",
        "saga_link",
        "follower_name",
        "streamer_name",
        "rolls_back_link",
        "created_at",
        "last_attempt_at",
        "completed_at",
        "num_attempts",
        "last_error_code",
        "last_error",
        "num_units",
        "money_priced_balance",
        "num_priced_total_units",
        "operator_reference",
        "money_balance_before",
        "money_balance_after",
        "answer",
        "saga_panel",
        "calls_panel",
        "flagged",
        "reasons",
        "reviewed_by",
        "reviewed_at",
        "review_notes",
        "staff_actions_taken",
    )

    @admin.display(description="Position")
    def position_link(self, tx: Transaction):
        return admin_link(Position, tx.position_id, str(tx.position_id)[:8] + "…")

    @admin.display(description="Saga")
    def saga_link(self, tx: Transaction):
        saga = _saga_of(tx)
        return admin_link(Saga, saga.pk, str(saga)) if saga else EMPTY

    @admin.display(description="Streamer")
    def streamer_name(self, tx: Transaction):
        return str(tx.streamer) if tx.streamer_id else EMPTY

    @admin.display(description="Refunds")
    def rolls_back_link(self, tx: Transaction):
        return admin_link(Transaction, tx.rolls_back_id)

    num_units = number_column("units", "Units")

    money_priced_balance = money_column("priced_balance", "Priced on balance")

    num_priced_total_units = number_column("priced_total_units", "Priced on total units")

    money_balance_before = money_column("balance_before", "Balance before")

    money_balance_after = money_column("balance_after", "Balance after")

    @admin.display(description="Answer (as stored)")
    def answer(self, tx: Transaction):
        return pretty_json(tx.response)

    @admin.display(description="Why in the queue")
    def reasons(self, tx: Transaction):
        reasons = review.review_reasons(tx)
        if not reasons:
            return EMPTY
        return format_html_join(
            mark_safe("<br>"), '<span class="cp-reason">{}</span>', ((r,) for r in reasons)
        )

    @admin.display(description="Review notes")
    def review_notes(self, tx: Transaction):
        return (
            format_html('<div class="cp-note">{}</div>', tx.review_note)
            if tx.review_note
            else EMPTY
        )

    @admin.display(description="Saga")
    def saga_panel(self, tx: Transaction):
        saga = _saga_of(tx)
        if saga is None:
            return EMPTY
        siblings = list(saga.transactions.order_by("pk"))
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class='cp-num'>{}</td><td>{}</td>"
            "<td class='cp-num'>{}</td></tr>",
            (
                (
                    admin_link(Transaction, t.pk),
                    self.kind_label(t),
                    badge(t.get_status_display(), t.status),
                    money(t.amount),
                    t.external_id,
                    t.attempts,
                )
                for t in siblings
            ),
        )
        return format_html(
            '<dl class="cp-kv"><dt>Saga</dt><dd>{} · {} · step <strong>{}</strong></dd>'
            "<dt>Attempts</dt><dd>{} (next run {})</dd><dt>Last error</dt><dd>{}</dd>"
            "<dt>Flagged</dt><dd>{}</dd></dl>"
            '<table class="cp-table"><thead><tr><th>#</th><th>Kind</th><th>Status</th>'
            '<th class="cp-num">Amount</th><th>External id</th><th class="cp-num">Tries</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            admin_link(Saga, saga.pk, f"#{saga.pk} {saga.get_kind_display()}"),
            badge(saga.get_status_display(), saga.status),
            saga.step,
            saga.attempts,
            saga.next_run_at or EMPTY,
            saga.last_error or EMPTY,
            saga.review_reason or ("yes" if saga.needs_review else "no"),
            rows,
        )

    @admin.display(description="Call log")
    def calls_panel(self, tx: Transaction):
        calls = list(
            CallLog.objects.filter(operator_id=tx.operator_id, external_id=tx.external_id).order_by(
                "created_at", "id"
            )[:CALLS_SHOWN]
        )
        if not calls:
            return "No call recorded for this external id."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class='cp-num'>{}</td>"
            "<td>{}</td><td><details><summary>bodies</summary><p>Request</p>{}"
            "<p>Response</p>{}</details></td></tr>",
            (
                (
                    admin_link(CallLog, c.pk, f"{c.created_at:%Y-%m-%d %H:%M:%S}"),
                    c.endpoint,
                    c.response_status or EMPTY,
                    badge(c.get_outcome_display(), c.outcome),
                    f"{c.latency_ms} ms" if c.latency_ms is not None else EMPTY,
                    c.error_code or EMPTY,
                    pretty_json(c.request_body),
                    pretty_json(c.response_body),
                )
                for c in calls
            ),
        )
        return format_html(
            '<table class="cp-table"><thead><tr><th>When (UTC)</th><th>Endpoint</th>'
            '<th>HTTP</th><th>Outcome</th><th class="cp-num">Latency</th><th>Error</th>'
            "<th>Request / answer</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Staff actions")
    def staff_actions_taken(self, tx: Transaction):
        return staff_actions_panel(tx)


# --- transactions --------------------------------------------------------------------


@admin.register(Transaction)
class TransactionAdmin(
    ChangeListTotalsMixin,
    StreamingExportMixin,
    StaffActionsMixin,
    ReadOnlyAdminMixin,
    BigTableAdminMixin,
    TransactionDetail,
    AuditedHistoryAdmin,
):
    resource_classes = [TransactionResource, FeeResource]
    staff_actions = (RETRY, ROLLBACK)
    # Per currency and kind: a debit and a credit never add up to a figure finance reads.
    totals = (("cp_amount", "Amount", Sum("amount")),)
    totals_group_by = (("kind", "Kind"),)
    list_display = (
        "created_at",
        "short_external_id",
        "kind_label",
        "status_badge",
        "money_amount",
        "operator_name",
        "pool_link",
        "follower_name",
        "num_attempts",
        "flagged",
    )
    list_display_links = ("created_at", "short_external_id")
    list_filter = (
        "kind",
        "status",
        "operator",
        currency_filter(pool_currencies),
        ("created_at", DateRangeFilter),
        "needs_review",
        "is_demo",
    )
    list_select_related = ("operator", "follower")
    search_fields = ("external_id",)  # the search box; get_search_results does the work
    search_help_text = (
        "Any id, exactly: transaction #, external id, operator reference, saga #, pool #, "
        "position id, or a follower's or streamer's operator user id."
    )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        ids = transaction_search_ids(term)
        if not Transaction.objects.filter(pk__in=ids).exists():
            # The operator's reference has no index: scanned only when no indexed id matched.
            ids = Transaction.objects.order_by().values("pk").filter(operator_reference=term)
        return queryset.filter(pk__in=ids), False


# --- review queue --------------------------------------------------------------------


class ResolutionFilter(admin.SimpleListFilter):
    title = "resolution"
    parameter_name = "resolution"

    def lookups(self, request, model_admin):
        return (
            (review.RESOLVED, "Resolved"),
            (review.ROLLED_BACK, "Rolled-back joins"),
            (review.ALL, "All"),
        )

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Open",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        return queryset.filter(review.review_q(self.value() or review.OPEN))


@admin.register(ReviewItem)
class ReviewItemAdmin(
    ChangeListTotalsMixin,
    StaffActionsMixin,
    ReadOnlyAdminMixin,
    BigTableAdminMixin,
    TransactionDetail,
    admin.ModelAdmin,
):
    """Rollbacks and review queue: unknown, failed after retries, or flagged."""

    staff_actions = (RETRY, ROLLBACK, RESOLVE)
    totals_title = "In this part of the queue"
    totals = TransactionAdmin.totals
    totals_group_by = TransactionAdmin.totals_group_by
    # Fits 1280 px beside the filters, why each item is here in full: how long it has waited
    # under when it was made, the last error code under the tries.
    list_display = (
        "created_waiting",
        "short_external_id",
        "kind_label",
        "status_badge",
        "money_amount",
        "saga_state",
        "tries_error",
        "reasons",
    )
    list_display_links = ("created_waiting", "short_external_id")
    list_filter = (ResolutionFilter, "status", "kind", "operator", "is_demo")
    # Newest first by id: PostgreSQL walks the primary key and probes the queue's ids,
    # instead of fetching every queued row to sort it by date.
    ordering = ("-pk",)
    list_select_related = ("operator", "saga", "follower", "streamer")
    search_fields = ("external_id",)
    search_help_text = TransactionAdmin.search_help_text

    def get_search_results(self, request, queryset, search_term):
        return TransactionAdmin.get_search_results(self, request, queryset, search_term)

    @admin.display(description="Saga")
    def saga_state(self, tx: Transaction):
        saga = _saga_of(tx)
        if saga is None:
            return EMPTY
        return format_html(
            '<span class="cp-nowrap">{} {}</span> <span class="quiet">{}</span>',
            admin_link(Saga, saga.pk),
            badge(saga.get_status_display(), saga.status),
            saga.step,
        )

    @admin.display(description="Created, waiting", ordering="created_at")
    def created_waiting(self, tx: Transaction):
        return format_html(
            '<span class="cp-nowrap">{}</span><br><span class="quiet">{}</span>',
            date_format(timezone.localtime(tx.created_at), "Y-m-d H:i:s"),
            age(tx.created_at),
        )

    @admin.display(description="Tries, last error", ordering="attempts")
    def tries_error(self, tx: Transaction):
        return format_html(
            '{}<br><span class="quiet">{}</span>', tx.attempts, tx.last_error_code or ""
        )


# --- sagas ---------------------------------------------------------------------------


class SagaTransactionInline(TransactionInline):
    fk_name = "saga"
    fields = (
        "tx_link",
        "kind",
        "status_badge",
        "money_amount",
        "external_id",
        "attempts",
        "last_error_code",
    )
    readonly_fields = fields


def _saga_retry(saga: Saga, *, request, data) -> str:
    saga = review.saga_retry_now(saga=saga)
    return _saga_summary(saga)


@admin.register(Saga)
class SagaAdmin(StaffActionsMixin, ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    staff_actions = (
        StaffActionSpec(
            name="saga_retry_now",
            label="Retry now",
            run=_saga_retry,
            description="Drives the saga now instead of at its next scheduled attempt.",
            available=lambda saga: saga.status == Saga.Status.RUNNING,
        ),
    )
    list_display = (
        "id",
        "kind",
        "status_badge",
        "step",
        "pool_link",
        "attempts",
        "next_run_at",
        "needs_review",
        "review_reason",
        "created_at",
    )
    list_filter = ("kind", "status", "needs_review", "operator", ("created_at", DateRangeFilter))
    search_fields = ("=id",)
    inlines = (SagaTransactionInline,)
    readonly_fields = ("staff_actions_taken",)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        if not term:
            return queryset, False
        return (queryset.filter(pk=int(term)) if term.isdigit() else queryset.none()), False

    @admin.display(description="Status", ordering="status")
    def status_badge(self, saga: Saga):
        return badge(saga.get_status_display(), saga.status)

    @admin.display(description="Pool", ordering="pool_id")
    def pool_link(self, saga: Saga):
        return admin_link(Pool, saga.pool_id)

    @admin.display(description="Staff actions")
    def staff_actions_taken(self, saga: Saga):
        return staff_actions_panel(saga)


# --- reconciliation ------------------------------------------------------------------


def _resolve_discrepancy(item: Discrepancy, *, request, data) -> str:
    discrepancy_resolve(discrepancy=item, by=request.user, note=data["reason"])
    return "resolved"


@admin.register(Discrepancy)
class DiscrepancyAdmin(StaffActionsMixin, ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    staff_actions = (
        StaffActionSpec(
            name="discrepancy_resolve",
            label="Mark resolved",
            run=_resolve_discrepancy,
            form_class=ResolveForm,
            description="Closes the finding with your note. Nothing is sent, no money moves; "
            "reconciliation opens a new finding if it sees the difference again.",
            available=lambda item: item.state == Discrepancy.State.OPEN,
        ),
    )
    list_display = (
        "created_at",
        "kind",
        "subject",
        "operator",
        "pool_link",
        "transaction_link",
        "money_expected",
        "money_actual",
        "state_badge",
        "last_seen_at",
    )
    list_filter = ("state", "kind", "operator", ("created_at", DateRangeFilter))
    list_select_related = ("operator",)
    search_fields = ("subject",)
    readonly_fields = ("details_json", "staff_actions_taken")

    @admin.display(description="State", ordering="state")
    def state_badge(self, item: Discrepancy):
        return badge(item.get_state_display(), "failed" if item.state == "open" else "done")

    @admin.display(description="Pool", ordering="pool_id")
    def pool_link(self, item: Discrepancy):
        return admin_link(Pool, item.pool_id)

    @admin.display(description="Transaction", ordering="transaction_id")
    def transaction_link(self, item: Discrepancy):
        return admin_link(Transaction, item.transaction_id)

    money_expected = money_column("expected", "Expected", currency=None, ordering="expected")

    money_actual = money_column("actual", "Actual", currency=None, ordering="actual")

    @admin.display(description="Details")
    def details_json(self, item: Discrepancy):
        return pretty_json(item.details)

    @admin.display(description="Staff actions")
    def staff_actions_taken(self, item: Discrepancy):
        return staff_actions_panel(item)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(
    ReconciliationRunNowMixin, ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin
):
    change_list_template = "admin/copypool/run_now_change_list.html"
    list_display = (
        "id",
        "started_at",
        "operator",
        "status_badge",
        "trigger",
        "num_findings",
        "num_duration",
        "findings_link",
    )
    list_filter = ("status", "trigger", "operator", ("started_at", DateRangeFilter))
    list_select_related = ("operator",)
    fields = (
        "operator",
        "status_badge",
        "trigger",
        "started_at",
        "finished_at",
        "duration_ms",
        "checked_table",
        "findings",
        "found_table",
        "auto_resolved",
        "error",
    )
    readonly_fields = fields

    @admin.display(description="Checked")
    def checked_table(self, run: ReconciliationRun):
        """What the run read and checked, one figure a row (the stored JSON, readable)."""
        return figures_table(run.checked or {})

    @admin.display(description="Found")
    def found_table(self, run: ReconciliationRun):
        """Findings by kind: how many this run saw, opened and resolved."""
        return figures_table(run.found or {})

    @admin.display(description="Status", ordering="status")
    def status_badge(self, run: ReconciliationRun):
        return badge(run.get_status_display(), run.status)

    num_findings = number_column("findings", "Findings", places=0, ordering="findings")

    num_duration = number_column("duration_ms", "Duration (ms)", places=0, ordering="duration_ms")

    @admin.display(description="")
    def findings_link(self, run: ReconciliationRun):
        return format_html(
            '<a href="{}">findings</a>', changelist_url(Discrepancy, run__id__exact=run.pk)
        )


def _figure_text(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items()) or "none"
    if value is None or value == "":
        return "—"
    return str(value)


def figures_table(figures: dict):
    """A run's figures (a flat JSON object, values maybe objects) as a two-column table."""
    if not figures:
        return EMPTY
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td class="cp-num">{}</td></tr>',
        (
            (key.replace("_", " ").capitalize(), _figure_text(value))
            for key, value in figures.items()
        ),
    )
    return format_html(
        '<table class="cp-table" data-testid="run-figures"><tbody>{}</tbody></table>', rows
    )


# --- daily settlements ---------------------------------------------------------------


@admin.register(DailySettlement)
class DailySettlementAdmin(
    ChangeListTotalsMixin,
    SettlementRunNowMixin,
    StreamingExportMixin,
    ReadOnlyAdminMixin,
    BigTableAdminMixin,
    admin.ModelAdmin,
):
    import_export_change_list_template = "admin/copypool/run_now_change_list_export.html"
    resource_classes = [DailySettlementResource]
    # Fits 1280 px beside the filters: the currency under the operator, CopyStake's fees with
    # their turnover and GGR parts and the fee schedule under them.
    list_display = (
        "day",
        "operator_currency",
        "money_in",
        "money_out",
        "money_rollbacks",
        "fees_with_parts",
        "money_performance_fees",
        "money_open_exposure",
        "num_transactions",
        "journal_tie",
    )
    totals_title = "Totals of this filter (every day it selects)"
    totals = (
        ("cp_in", "Money in", Sum("money_in")),
        ("cp_out", "Money out", Sum("money_out")),
        ("cp_rollbacks", "Rollbacks", Sum("rollbacks")),
        ("cp_fees", "CopyStake fees", Sum("fees")),
        ("cp_performance_fees", "Streamers' fees", Sum("performance_fees")),
    )
    list_filter = ("operator", currency_filter(pool_currencies), ("day", DateRangeFilter))
    list_select_related = ("operator", "fee_schedule")

    def get_queryset(self, request):
        return settlements_with_journal(super().get_queryset(request))

    @admin.display(description="Journal")
    def journal_tie(self, row: DailySettlement):
        """Whether the day's money in, out, rollbacks and streamers' fees equal what the
        journal posted that day (``ledger.settlements_with_journal``)."""
        differences = settlement_journal_differences(row)
        if not differences:
            return format_html(
                '<span title="{}">{}</span>',
                "Money in, money out, rollbacks and streamers' fees equal the journal's entries "
                "of the day",
                badge("ties", "ok"),
            )
        detail = "; ".join(
            f"{figure.replace('_', ' ')}: settlement {settled:.8f}, journal {posted:.8f}"
            for figure, (settled, posted) in differences.items()
        )
        return format_html('<span title="{}">{}</span>', detail, badge("differs", "failed"))

    money_performance_fees = money_column(
        "performance_fees", "Streamers' fees", currency=None, ordering="performance_fees"
    )

    @admin.display(description="Operator", ordering="operator__name")
    def operator_currency(self, row: DailySettlement):
        return format_html('{}<br><span class="quiet">{}</span>', row.operator.name, row.currency)

    @admin.display(description="CopyStake fees (turnover + GGR)", ordering="fees")
    def fees_with_parts(self, row: DailySettlement):
        schedule = row.fee_schedule
        return format_html(
            '<div style="text-align: right">{}<br><span class="quiet cp-nowrap">{} + {}</span>'
            '<br><span class="quiet">{}</span></div>',
            money(row.fees),
            money(row.turnover_fee),
            money(row.ggr_fee),
            admin_link(
                schedule,
                text=f"{schedule.turnover_percent.normalize():f} % + "
                f"{schedule.ggr_percent.normalize():f} % GGR",
            )
            if schedule is not None
            else "no fee schedule",
        )

    money_rollbacks = money_column("rollbacks", "Rollbacks", currency=None, ordering="rollbacks")

    money_fees = money_column("fees", "CopyStake fees", currency=None, ordering="fees")

    money_open_exposure = money_column(
        "open_exposure", "Open exposure", currency=None, ordering="open_exposure"
    )

    num_transactions = number_column(
        "transactions_count", "Transactions", places=0, ordering="transactions_count"
    )
