"""Small HTML helpers shared by the admin pages: money, badges, links, JSON, ages.

Money is always shown with its 8 decimal places (never rounded for display) in a span the
stylesheet right-aligns with tabular figures; columns whose method name starts with
``money_`` are right-aligned header and all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.money import AMOUNT_QUANTUM

EMPTY = "—"

TONES = {
    # statuses of transactions, sagas, pools, positions, calls
    "succeeded": "ok",
    "success": "ok",
    "done": "ok",
    "active": "ok",
    "open": "info",
    "locked": "warn",
    "pending": "muted",
    "joining": "muted",
    "leaving": "muted",
    "closing": "warn",
    "running": "info",
    "unknown": "warn",
    "failed": "bad",
    "error": "bad",
    "refused": "bad",
    "rolled_back": "muted",
    "released": "muted",
    "closed": "muted",
    "finished": "ok",
}


def money(value: Decimal | None, currency: str = "") -> SafeString | str:
    """``1,234.50000000`` right-aligned; the currency, when given, in a quieter suffix."""
    if value is None:
        return EMPTY
    text = f"{Decimal(value).quantize(AMOUNT_QUANTUM):,.8f}"
    if currency:
        return format_html(
            '<span class="cp-money">{}<span class="cp-ccy">{}</span></span>', text, currency
        )
    return format_html('<span class="cp-money">{}</span>', text)


def number(value: Decimal | int | None, places: int = 8) -> SafeString | str:
    if value is None:
        return EMPTY
    return format_html('<span class="cp-money">{}</span>', f"{Decimal(value):,.{places}f}")


def signed_percent(value: Decimal | None) -> SafeString | str:
    """A change as a coloured percentage: ``+12.50%`` green, ``-3.10%`` red."""
    if value is None:
        return EMPTY
    tone = "up" if value > 0 else "down" if value < 0 else "flat"
    return format_html('<span class="cp-money cp-{}">{}</span>', tone, f"{value:+.2f}%")


def badge(text: str, status: str = "") -> SafeString:
    tone = TONES.get(status or text, "muted")
    return format_html('<span class="cp-badge cp-badge--{}">{}</span>', tone, text)


def admin_link(model_or_obj, pk=None, text: str | None = None) -> SafeString | str:
    """Link to an object's admin page without loading it: ``admin_link(Pool, pool_id)``."""
    if pk is None and not isinstance(model_or_obj, type):
        pk = model_or_obj.pk
    if pk is None:
        return EMPTY
    opts = model_or_obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else f"#{pk}")


def changelist_url(model, **params) -> str:
    from urllib.parse import urlencode

    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def pretty_json(value) -> SafeString | str:
    """A stored JSON value or JSON text, indented, in a scrolling block."""
    if value in (None, "", {}, []):
        return EMPTY
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return format_html('<pre class="cp-pre">{}</pre>', value)
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre class="cp-pre">{}</pre>', text)


def duration(delta: timedelta | None) -> str:
    if delta is None:
        return EMPTY
    seconds = int(max(delta.total_seconds(), 0))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes = seconds // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def age(since: datetime | None) -> str:
    return EMPTY if since is None else duration(timezone.now() - since)


def _read(obj: object, path: str) -> Any:
    """``obj.a.b`` for ``path="a.b"``; None when a link on the way is missing."""
    for name in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


def money_column(
    field: str, description: str, *, currency: str | None = "currency", ordering: str | None = None
) -> Callable[[Any, object], SafeString | str]:
    """A changelist/detail column showing ``field`` as money (``money``), in the currency read
    from ``currency`` (a dotted path on the object; None for no currency)."""

    @admin.display(description=description, ordering=ordering)
    def column(model_admin: Any, obj: object) -> SafeString | str:
        return money(_read(obj, field), _read(obj, currency) or "" if currency else "")

    return column


def number_column(
    field: str, description: str, *, places: int = 8, ordering: str | None = None
) -> Callable[[Any, object], SafeString | str]:
    """A column showing ``field`` (a dotted path) as a number with ``places`` decimals."""

    @admin.display(description=description, ordering=ordering)
    def column(model_admin: Any, obj: object) -> SafeString | str:
        return number(_read(obj, field), places)

    return column
