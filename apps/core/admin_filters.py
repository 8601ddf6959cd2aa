"""List filters that stay cheap on big tables.

* ``DateRangeFilter``: presets plus a from/to form (both days inclusive), on any date or
  date-time field; a bounded range query that the field's index serves.
* ``currency_filter(choices)``: currencies listed by a selector over a small table, never a
  ``SELECT DISTINCT`` over a million transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import models
from django.utils import timezone


def _parse_day(value: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise IncorrectLookupParameters(f"{value!r} is not a date (YYYY-MM-DD)") from error


class DateRangeFilter(admin.FieldListFilter):
    """``?<field>__from=YYYY-MM-DD&<field>__to=YYYY-MM-DD``, both inclusive."""

    template = "admin/copypool/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.param_from = f"{field_path}__from"
        self.param_to = f"{field_path}__to"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.value_from = self._value(self.param_from)
        self.value_to = self._value(self.param_to)

    def _value(self, name: str) -> str:
        value = self.used_parameters.get(name)
        if isinstance(value, list):
            value = value[-1] if value else ""
        # Strings: only ``__in`` and ``__isnull`` parameters are turned into anything else.
        return str(value) if value else ""

    def expected_parameters(self):
        return [self.param_from, self.param_to]

    def _bound(self, day: date) -> date | datetime:
        if isinstance(self.field, models.DateTimeField):
            return timezone.make_aware(datetime.combine(day, time.min))
        return day

    def queryset(self, request, queryset):
        start = _parse_day(self.value_from)
        end = _parse_day(self.value_to)
        if start:
            queryset = queryset.filter(**{f"{self.field_path}__gte": self._bound(start)})
        if end:
            queryset = queryset.filter(
                **{f"{self.field_path}__lt": self._bound(end + timedelta(days=1))}
            )
        return queryset

    def choices(self, changelist):
        today = timezone.localdate()
        presets = (
            ("Any date", "", ""),
            ("Today", today, today),
            ("Past 7 days", today - timedelta(days=6), today),
            ("This month", today.replace(day=1), today),
            ("Past 90 days", today - timedelta(days=89), today),
        )
        ours = (self.param_from, self.param_to)
        self.hidden_params = [
            (key, value) for key, value in changelist.params.items() if key not in ours
        ]
        for title, start, end in presets:
            start, end = str(start), str(end)
            yield {
                "selected": (self.value_from, self.value_to) == (start, end),
                "query_string": changelist.get_query_string(
                    {self.param_from: start, self.param_to: end} if start else {},
                    [self.param_from, self.param_to],
                ),
                "display": title,
            }


def currency_filter(
    choices: Callable[[], Iterable[str]], title: str = "currency", parameter: str = "currency"
) -> type[admin.SimpleListFilter]:
    """A filter on a currency column whose choices come from ``choices()`` (asked on each page,
    e.g. ``apps.pools.selectors.pool_currencies``), never from the filtered table itself."""

    class CurrencyFilter(admin.SimpleListFilter):
        parameter_name = parameter

        def lookups(self, request, model_admin):
            return [(code, code) for code in sorted(set(choices()))]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{parameter: value}) if value else queryset

    CurrencyFilter.title = title
    return CurrencyFilter
