"""Per-currency totals of what a changelist's current filter selects, above its table.

A ``ModelAdmin`` mixin: ``totals`` names the figures (``(key, label, aggregate)``), and the
changelist shows one row per currency (and per ``totals_group_by`` value, e.g. per kind) with
the row count and each figure, as money with its exact value on hover. The figures are what
the filter and search select, every page of it, not just the page shown.

It is one aggregate query (``values(currency, ...).annotate(Count, Sum...)``) over the
changelist's own queryset. Changelists can sit over tables of millions of rows: on
PostgreSQL the query runs in a savepoint under ``SET LOCAL statement_timeout`` and, when it
takes longer, the box says the totals are not available for this filter instead of failing
the page (on SQLite, used by the tests, it simply runs).

The mixin wraps whichever template the changelist renders (the admin's, import-export's, a
page's own) in ``admin/copypool/changelist_totals.html``, which extends it: put it first in
the bases so that it sees the final response.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from django.db import OperationalError, connections, transaction
from django.db.models import Aggregate, Count, QuerySet
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString

from apps.core.admin_display import money

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

TOTALS_TEMPLATE = "admin/copypool/changelist_totals.html"
TOTALS_TIMEOUT_MS = 2000
COUNT_KEY = "cp_total_count"
UNAVAILABLE = "Totals are not available for this filter (they took too long); narrow it."


@dataclass(frozen=True)
class TotalsRow:
    currency: str
    groups: list[str]
    count: int
    figures: list[SafeString | str]
    # rows of the same currency follow each other; the first spans them in the table
    currency_rowspan: int = 0

    @property
    def count_shown(self) -> str:
        return f"{self.count:,}"


@dataclass(frozen=True)
class Totals:
    title: str
    group_labels: list[str]
    figure_labels: list[str]
    rows: list[TotalsRow] = field(default_factory=list)
    unavailable: str = ""


class ChangeListTotalsMixin:
    """Per-currency totals of the current filter above a changelist's table."""

    totals: Sequence[tuple[str, str, Aggregate]] = ()
    totals_currency_field = "currency"
    totals_group_by: Sequence[tuple[str, str]] = ()  # (field, column label)
    totals_title = "Totals of this filter"
    totals_timeout_ms = TOTALS_TIMEOUT_MS

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        context = getattr(response, "context_data", None)
        changelist = context.get("cl") if context else None
        if not isinstance(response, TemplateResponse) or context is None or changelist is None:
            return response
        context["cp_totals"] = self.changelist_totals(changelist.queryset)
        context["cp_totals_parent"] = _template_name(response.template_name)
        response.template_name = TOTALS_TEMPLATE
        return response

    # --- the figures -----------------------------------------------------------------

    def totals_labels(self, group: str, value: Any) -> str:
        """How a group value reads in the box: the field's choice label when it has one."""
        model = self.model  # type: ignore[attr-defined]
        try:
            choices = dict(model._meta.get_field(group).flatchoices)
        except Exception:  # a path across a relation: shown as it is
            choices = {}
        return str(choices.get(value, value))

    def totals_query(self, queryset: QuerySet) -> QuerySet:
        currency = self.totals_currency_field
        groups = [name for name, _ in self.totals_group_by]
        return (
            queryset.order_by()
            .values(currency, *groups)
            .annotate(**{COUNT_KEY: Count("pk")}, **{key: agg for key, _, agg in self.totals})
            .order_by(currency, *groups)
        )

    def totals_rows(self, queryset: QuerySet) -> list[dict[str, Any]] | None:
        """The aggregate's rows, or None when the database gave up (too slow)."""
        query = self.totals_query(queryset)
        connection = connections[query.db]
        try:
            if connection.vendor != "postgresql":
                return list(query)
            with transaction.atomic(using=query.db), connection.cursor() as cursor:
                # A literal, not a parameter: SET takes none under server-side binding.
                cursor.execute(f"SET LOCAL statement_timeout = {int(self.totals_timeout_ms)}")
                rows = list(query)
                # SET LOCAL lasts to the end of the outer transaction, if there is one.
                cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
                return rows
        except OperationalError:
            logger.warning(
                "changelist totals of %s gave up after %s ms",
                self.model._meta.label,  # type: ignore[attr-defined]
                self.totals_timeout_ms,
            )
            return None

    def changelist_totals(self, queryset: QuerySet) -> Totals:
        currency_field = self.totals_currency_field
        totals = Totals(
            title=self.totals_title,
            group_labels=[label for _, label in self.totals_group_by],
            figure_labels=[label for _, label, _ in self.totals],
        )
        rows = self.totals_rows(queryset)
        if rows is None:
            return replace(totals, unavailable=UNAVAILABLE)
        spans: dict[str, int] = {}
        for row in rows:
            spans[row[currency_field]] = spans.get(row[currency_field], 0) + 1
        shown = []
        for row in rows:
            currency = row[currency_field]
            shown.append(
                TotalsRow(
                    currency=currency,
                    groups=[
                        self.totals_labels(name, row[name]) for name, _ in self.totals_group_by
                    ],
                    count=row[COUNT_KEY],
                    figures=[money(row[key], currency) for key, _, _ in self.totals],
                    currency_rowspan=spans.pop(currency, 0),
                )
            )
        return replace(totals, rows=shown)


def _template_name(template_name) -> str:
    """The one template a response would render (it may name several to choose from)."""
    if isinstance(template_name, str):
        return template_name
    return select_template(list(template_name)).template.name
