"""The double-entry journal in the admin, strictly read-only: accounts (with their balance and
statement), entries (with their lines), the trial balance, and the check that the journal
agrees with the transaction log (``apps.transactions.finance.ledger``).

Nothing here adds, changes or deletes a journal row: entries are posted by the money flows
only. The pages are open to whoever may view journal accounts (Finance, Operations,
Read-only); the entries' export (one row per line) needs the finance export permission.
Money shows with 2 decimals, the exact 8-place value on hover.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.backoffice.admin_exports import StreamingExportMixin
from apps.core.admin_base import BigTableAdminMixin, ModelAdminMixin, ReadOnlyAdminMixin
from apps.core.admin_display import EMPTY, money
from apps.core.admin_filters import DateRangeFilter, currency_filter
from apps.operators.models import Operator
from apps.pools.selectors import pool_currencies
from apps.transactions.finance import ledger
from apps.transactions.finance.models import JournalAccount, JournalEntry, JournalLine
from apps.transactions.models import Transaction
from apps.transactions.resources import JournalLineResource

TRIAL_BALANCE_MAX_ROWS = 500
STATEMENT_DAYS_DEFAULT = 30
MONEY_FIELD = DecimalField(max_digits=30, decimal_places=8)


def money2(value: Decimal | None, currency: str = "") -> SafeString | str:
    """``1,234.50`` with the exact value in the ``title``, right-aligned; the currency, when
    given, in a quieter suffix: the back office's one money rule (``admin_display.money``)."""
    return money(value, currency)


def _link(model, pk, text: str) -> SafeString | str:
    """A link to ``model``'s admin page for ``pk``; the text alone when it has no page."""
    if pk is None:
        return EMPTY
    opts = model._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
    except NoReverseMatch:
        return text
    return format_html('<a href="{}">{}</a>', url, text)


def statement_url(account_id: int) -> str:
    return reverse("admin:transactions_journalaccount_statement", args=[account_id])


def trial_balance_url() -> str:
    return reverse("admin:transactions_journalaccount_trial_balance")


def _journal_currencies() -> list[str]:
    return [c for c in pool_currencies() if c != "DEMO"]


class JournalPagesMixin(ModelAdminMixin):
    """The journal's changelists: links to the trial balance, totals under the list."""

    # (import-export's export button wraps this template when the admin exports)
    change_list_template = "admin/copypool/journal_change_list.html"

    def journal_totals(self, queryset) -> list[dict]:
        raise NotImplementedError

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and "cl" in context:
            context["trial_balance_url"] = trial_balance_url()
            context["journal_totals"] = self.journal_totals(context["cl"].queryset)
        return response


# --- accounts ------------------------------------------------------------------------


@admin.register(JournalAccount)
class JournalAccountAdmin(
    JournalPagesMixin, ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin
):
    list_display = (
        "key",
        "kind",
        "name",
        "currency",
        "operator",
        "money_balance",
        "statement_link",
    )
    list_filter = ("kind", currency_filter(_journal_currencies), "operator")
    list_select_related = ("operator",)
    search_fields = ("key", "name")
    search_help_text = "An account key (e.g. follower:12:USD) or part of its name."
    readonly_fields = (
        "key",
        "kind",
        "name",
        "currency",
        "operator",
        "follower",
        "pool",
        "streamer",
        "created_at",
        "money_balance",
        "statement_link",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        balance = (
            JournalLine.objects.filter(account=OuterRef("pk"))
            .order_by()
            .values("account")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                balance=Coalesce(
                    Subquery(balance, output_field=MONEY_FIELD),
                    Value(Decimal(0)),
                    output_field=MONEY_FIELD,
                )
            )
        )

    @admin.display(description="Balance", ordering="balance")
    def money_balance(self, account: JournalAccount):
        return money2(getattr(account, "balance", None), account.currency)

    @admin.display(description="Statement")
    def statement_link(self, account: JournalAccount):
        return format_html('<a href="{}">statement</a>', statement_url(account.pk))

    def journal_totals(self, queryset) -> list[dict]:
        rows = (
            JournalLine.objects.filter(account__in=queryset.order_by().values("pk"))
            .order_by()
            .values("account__currency")
            .annotate(
                debits=Coalesce(
                    Sum("amount", filter=Q(amount__gt=0)),
                    Value(Decimal(0)),
                    output_field=MONEY_FIELD,
                ),
                balance=Sum("amount"),
                accounts=Count("account", distinct=True),
            )
            .order_by("account__currency")
        )
        return [
            {
                "currency": row["account__currency"],
                "label": f"{row['accounts']} account(s) with lines",
                "debits": money2(row["debits"], row["account__currency"]),
                "credits": money2(row["debits"] - row["balance"], row["account__currency"]),
                "total": money2(row["balance"], row["account__currency"]),
            }
            for row in rows
        ]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "trial-balance/",
                view(self.trial_balance_view),
                name="transactions_journalaccount_trial_balance",
            ),
            path(
                "<int:account_id>/statement/",
                view(self.statement_view),
                name="transactions_journalaccount_statement",
            ),
            *super().get_urls(),
        ]

    def _page(self, request, title: str, **context) -> dict:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "trial_balance_url": trial_balance_url(),
            "accounts_url": reverse("admin:transactions_journalaccount_changelist"),
            "entries_url": reverse("admin:transactions_journalentry_changelist"),
            **context,
        }

    def trial_balance_view(self, request):
        form = TrialBalanceForm(request.GET or None)
        params = form.cleaned_data if form.is_valid() else {}
        operator = params.get("operator")
        as_of = _end_of(params.get("as_of"))
        trial = ledger.trial_balance(
            operator=operator,
            currency=params.get("currency") or None,
            as_of=as_of,
            by_account=bool(params.get("by_account")),
            kind=params.get("kind") or None,
        )
        agreement = ledger.journal_agreement(operator)
        context = self._page(
            request,
            "Trial balance",
            form=form,
            trial=trial,
            currencies=[_currency_rows(total) for total in trial.currencies],
            agreement=_agreement_rows(agreement),
            max_rows=TRIAL_BALANCE_MAX_ROWS,
        )
        return TemplateResponse(request, "admin/copypool/journal_trial_balance.html", context)

    def statement_view(self, request, account_id: int):
        account = get_object_or_404(
            JournalAccount.objects.select_related("operator"), pk=account_id
        )
        today = timezone.localdate()
        initial = {"start": today - timedelta(days=STATEMENT_DAYS_DEFAULT), "end": today}
        form = StatementForm(request.GET or None, initial=initial)
        if form.is_bound and form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        else:
            start, end = initial["start"], initial["end"]
        statement = ledger.account_statement(account, _start_of(start), _end_of(end))
        cur = account.currency
        context = self._page(
            request,
            f"Statement of {account.name}",
            form=form,
            account=account,
            statement=statement,
            period=(start, end),
            opening=money2(statement.opening, cur),
            closing=money2(statement.closing, cur),
            debits=money2(statement.debits, cur),
            credits=money2(statement.credits, cur),
            lines=[
                {
                    "line": line,
                    "kind": line.kind_label,
                    "entry": _link(JournalEntry, line.entry_id, f"#{line.entry_id}"),
                    "debit": money2(line.debit) if line.debit else "",
                    "credit": money2(line.credit) if line.credit else "",
                    "balance": money2(line.balance),
                }
                for line in statement.lines
            ],
        )
        return TemplateResponse(request, "admin/copypool/journal_statement.html", context)


def _start_of(day) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


def _end_of(day) -> datetime | None:
    """The first instant after ``day`` (statements run up to it, excluded)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _currency_rows(total: ledger.CurrencyTotal) -> dict:
    cur = total.currency
    return {
        "total": total,
        "debits": money2(total.debits, cur),
        "credits": money2(total.credits, cur),
        "balance": money2(total.balance, cur),
        "truncated": len(total.rows) > TRIAL_BALANCE_MAX_ROWS,
        "rows": [
            {
                "row": row,
                "account": format_html(
                    '<a href="{}">{}</a>', statement_url(row.account_id), row.account_key
                )
                if row.account_id
                else "",
                "debits": money2(row.debits),
                "credits": money2(row.credits),
                "balance": money2(row.balance),
            }
            for row in total.rows[:TRIAL_BALANCE_MAX_ROWS]
        ],
    }


def _agreement_rows(agreement: ledger.Agreement) -> dict:
    operators = dict(
        Operator.objects.filter(pk__in={row.operator_id for row in agreement.kinds}).values_list(
            "pk", "name"
        )
    )
    return {
        "agrees": agreement.agrees,
        "kinds": [
            {
                "row": row,
                "operator": operators.get(row.operator_id, row.operator_id),
                "log_total": money2(row.log_total, row.currency),
                "journal_total": money2(row.journal_total, row.currency),
                "difference": money2(row.difference, row.currency),
                "problems": ", ".join(
                    f"{count} {ledger.PROBLEMS[problem]}" for problem, count in row.problems.items()
                ),
            }
            for row in agreement.kinds
        ],
        "differences": [
            {
                "difference": difference,
                "transaction": _link(
                    Transaction, difference.transaction_id, difference.external_id
                ),
                "log_amount": money2(difference.log_amount, difference.currency),
                "journal_amount": money2(difference.journal_amount, difference.currency),
            }
            for difference in agreement.differences
        ],
        "difference_counts": {
            ledger.PROBLEMS[problem]: count
            for problem, count in agreement.difference_counts.items()
        },
        "unbalanced": [
            {
                "entry": entry,
                "link": _link(JournalEntry, entry.entry_id, f"#{entry.entry_id}"),
                "total": money2(entry.total, entry.currency),
            }
            for entry in agreement.unbalanced
        ],
        "unbalanced_count": agreement.unbalanced_count,
        "pools_not_zero": [
            {
                "pool": pool,
                "link": _link(JournalAccount, pool.account_id, f"pool #{pool.pool_id}"),
                "balance": money2(pool.balance, pool.currency),
            }
            for pool in agreement.pools_not_zero
        ],
    }


class TrialBalanceForm(forms.Form):
    operator = forms.ModelChoiceField(
        queryset=Operator.objects.order_by("name"), required=False, empty_label="all operators"
    )
    currency = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(
        required=False,
        choices=[("", "all account kinds"), *JournalAccount.Kind.choices],
        label="Account kind",
    )
    as_of = forms.DateField(
        required=False,
        label="As of (end of day)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    by_account = forms.BooleanField(required=False, label="Per account")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = [("", "all currencies")] + [(c, c) for c in _journal_currencies()]


class StatementForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (included)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError("The period ends before it starts.")
        return cleaned


# --- entries -------------------------------------------------------------------------


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    can_delete = False
    fields = ("account_link", "account_kind", "money_debit", "money_credit")
    readonly_fields = fields
    verbose_name = "line"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")

    def has_view_permission(self, request, obj=None) -> bool:
        # Lines are seen with their entry: whoever may view entries sees them.
        return request.user.has_perm("transactions.view_journalentry")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Account")
    def account_link(self, line: JournalLine):
        return format_html(
            '<a href="{}">{}</a> <a href="{}">(statement)</a>',
            reverse("admin:transactions_journalaccount_change", args=[line.account_id]),
            line.account.key,
            statement_url(line.account_id),
        )

    @admin.display(description="Kind")
    def account_kind(self, line: JournalLine):
        return line.account.get_kind_display()

    @admin.display(description="Debit (into)")
    def money_debit(self, line: JournalLine):
        return money2(line.amount, line.account.currency) if line.amount > 0 else ""

    @admin.display(description="Credit (out of)")
    def money_credit(self, line: JournalLine):
        return money2(-line.amount, line.account.currency) if line.amount < 0 else ""


@admin.register(JournalEntry)
class JournalEntryAdmin(
    StreamingExportMixin,
    JournalPagesMixin,
    ReadOnlyAdminMixin,
    BigTableAdminMixin,
    admin.ModelAdmin,
):
    resource_classes = [JournalLineResource]
    inlines = (JournalLineInline,)
    list_display = (
        "posted_at",
        "id",
        "kind",
        "money_amount",
        "operator",
        "transaction_link",
        "invoice_link",
        "description",
    )
    list_display_links = ("posted_at", "id")
    list_filter = (
        "kind",
        currency_filter(_journal_currencies),
        "operator",
        ("posted_at", DateRangeFilter),
    )
    list_select_related = ("operator", "transaction", "invoice")
    search_fields = ("=id", "=transaction__external_id", "description")
    search_help_text = "An entry #, a transaction's external id, or words of the description."
    fields = (
        ("kind", "money_amount"),
        ("operator", "posted_at"),
        ("transaction_link", "invoice_link"),
        "description",
    )
    readonly_fields = (
        "kind",
        "money_amount",
        "operator",
        "posted_at",
        "transaction_link",
        "invoice_link",
        "description",
    )

    @admin.display(description="Amount", ordering="amount")
    def money_amount(self, entry: JournalEntry):
        return money2(entry.amount, entry.currency)

    @admin.display(description="Transaction")
    def transaction_link(self, entry: JournalEntry):
        if entry.transaction is None:
            return EMPTY
        return _link(Transaction, entry.transaction_id, entry.transaction.external_id)

    @admin.display(description="Invoice")
    def invoice_link(self, entry: JournalEntry):
        if entry.invoice_id is None:
            return EMPTY
        return _link(type(entry.invoice), entry.invoice_id, str(entry.invoice))

    def journal_totals(self, queryset) -> list[dict]:
        rows = (
            queryset.order_by()
            .values("currency")
            .annotate(total=Sum("amount"), count=Count("pk"))
            .order_by("currency")
        )
        return [
            {
                "currency": row["currency"],
                "label": f"{row['count']} entr{'y' if row['count'] == 1 else 'ies'}",
                "total": money2(row["total"], row["currency"]),
            }
            for row in rows
        ]

    def get_export_queryset(self, request):
        """One row per line of the entries the changelist's filter shows."""
        entries = super().get_export_queryset(request)
        return JournalLine.objects.filter(entry__in=entries.order_by().values("pk")).order_by(
            "entry__posted_at", "entry_id", "pk"
        )
