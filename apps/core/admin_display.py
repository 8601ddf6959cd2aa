"""Small HTML helpers shared by the admin pages: money, badges, links, JSON, ages.

Money is shown to people with 2 decimals (rounded half-up, as the invoices' PDF does) and
thousands separators; the exact amount, all 8 places and never rounded, is in the span's
``title`` (on hover, and what a copy from the page's source gives). Units and NAVs show at
most 12 places (cut, never rounded up), trailing zeros trimmed, the exact value on hover when
places were cut. Exports never go through these helpers: they write the stored value.
Columns whose method name starts with ``money_`` or ``num_`` are right-aligned, header and all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.money import AMOUNT_QUANTUM, MATH_CONTEXT

EMPTY = "—"
CENT = Decimal("0.01")
MONEY_ROUNDING = ROUND_HALF_UP
UNITS_MAX_PLACES = 12
UNITS_MIN_PLACES = 2

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


def exact_amount(value: Decimal | int) -> Decimal:
    """The amount as stored: 8 places (a stored amount has exactly these, so nothing moves)."""
    return Decimal(value).quantize(AMOUNT_QUANTUM, context=MATH_CONTEXT)


def money_text(value: Decimal | int) -> str:
    """``7,733.99`` from ``7733.98917390``: 2 places, half-up (away from zero on a tie), with
    thousands separators; never ``-0.00``."""
    shown = Decimal(value).quantize(CENT, rounding=MONEY_ROUNDING, context=MATH_CONTEXT)
    if shown == 0:
        shown = abs(shown)
    return f"{shown:,.2f}"


def money(value: Decimal | int | None, currency: str = "") -> SafeString | str:
    """``<span class="cp-money num" title="7733.98917390">7,733.99</span>``, right-aligned in
    tabular figures; the currency, when given, in a quieter suffix. The title is the exact
    8-place amount in plain notation (no separators), so it parses back as it is."""
    if value is None:
        return EMPTY
    exact = exact_amount(value)
    tone = " cp-neg" if exact < 0 else ""
    if currency:
        return format_html(
            '<span class="cp-money num{}" title="{}">{}<span class="cp-ccy">{}</span></span>',
            tone,
            f"{exact:f}",
            money_text(exact),
            currency,
        )
    return format_html(
        '<span class="cp-money num{}" title="{}">{}</span>', tone, f"{exact:f}", money_text(exact)
    )


def _plain(value: Decimal) -> str:
    """``value`` in plain notation without trailing zeros after the point: ``1.5``, ``20``."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def number(
    value: Decimal | int | None, places: int = UNITS_MAX_PLACES, *, min_places: int | None = None
) -> SafeString | str:
    """A count or units: at most ``places`` decimals (cut toward zero, never rounded up, so a
    holding is never shown larger than it is), trailing zeros trimmed down to ``min_places``
    (2 for units, none for counts: ``places=0``). When places were cut the exact value is in
    the ``title``."""
    if value is None:
        return EMPTY
    if places < 0 or places > UNITS_MAX_PLACES:
        raise ValueError(f"number() shows 0 to {UNITS_MAX_PLACES} places, not {places}")
    exact = Decimal(value)
    if min_places is None:
        min_places = min(UNITS_MIN_PLACES, places)
    shown = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN, context=MATH_CONTEXT)
    if shown == 0:
        shown = abs(shown)
    text = f"{shown:,.{places}f}"
    if places > min_places:
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0").ljust(min_places, "0")
        text = f"{whole}.{fraction}" if fraction else whole
    if shown == exact:
        return format_html('<span class="cp-money num">{}</span>', text)
    return format_html('<span class="cp-money num" title="{}">{}</span>', _plain(exact), text)


def signed_percent(value: Decimal | None) -> SafeString | str:
    """A change as a coloured percentage: ``+12.50%`` green, ``-3.10%`` red."""
    if value is None:
        return EMPTY
    tone = "up" if value > 0 else "down" if value < 0 else "flat"
    return format_html('<span class="cp-money cp-{}">{}</span>', tone, f"{value:+.2f}%")


def badge(text: str, status: str = "") -> SafeString:
    tone = TONES.get(status or text, "muted")
    return format_html('<span class="cp-badge cp-badge--{}">{}</span>', tone, text)


# The admin site whose pages are being drawn: the back office ("admin") or another site built
# from the same ModelAdmins (the operator portal sets it while it serves a page), so that
# links drawn in Python lead to that site's pages, not the back office's.
current_admin_site: ContextVar[str] = ContextVar("current_admin_site", default="admin")


def _site_url(opts, view: str, args=()) -> str | None:
    site = current_admin_site.get()
    try:
        return reverse(f"{site}:{opts.app_label}_{opts.model_name}_{view}", args=args)
    except NoReverseMatch:
        if site == "admin":
            raise
        return None  # a page the other site does not have: the text, without a link


def admin_link(model_or_obj, pk=None, text: str | None = None) -> SafeString | str:
    """Link to an object's admin page without loading it: ``admin_link(Pool, pool_id)``."""
    if pk is None and not isinstance(model_or_obj, type):
        pk = model_or_obj.pk
    if pk is None:
        return EMPTY
    label = text if text is not None else f"#{pk}"
    url = _site_url(model_or_obj._meta, "change", [pk])
    if url is None:
        return label
    return format_html('<a href="{}">{}</a>', url, label)


def changelist_url(model, **params) -> str:
    from urllib.parse import urlencode

    url = _site_url(model._meta, "changelist") or ""
    return f"{url}?{urlencode(params)}" if params and url else url


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
    field: str, description: str, *, places: int = UNITS_MAX_PLACES, ordering: str | None = None
) -> Callable[[Any, object], SafeString | str]:
    """A column showing ``field`` (a dotted path) as a number (``number``): units with at most
    ``places`` decimals, ``places=0`` for counts."""

    @admin.display(description=description, ordering=ordering)
    def column(model_admin: Any, obj: object) -> SafeString | str:
        return number(_read(obj, field), places)

    return column
