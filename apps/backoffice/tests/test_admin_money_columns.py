"""Every money or units figure an admin page shows goes through ``money`` / ``number``.

A bare ``DecimalField`` named in ``list_display`` or ``readonly_fields`` (or shown read-only
on a page staff cannot edit) is rendered by Django with all its places (``100.00000000``,
``1.000000000000000000``); this walks the registry so that adding one fails here.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.test import RequestFactory

from apps.backoffice.tests.admin_world import superuser
from apps.core import admin_display
from apps.core.admin_display import money_column, number_column

pytestmark = pytest.mark.django_db


def _decimal_field(model: type[models.Model], name: object) -> models.DecimalField | None:
    if not isinstance(name, str):
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.DecimalField) else None


def _shown_read_only(model_admin, request) -> list[str]:
    """The names a page renders as text: readonly fields, and every field of a page staff
    can only view (Django shows those read-only too)."""
    names = list(model_admin.get_readonly_fields(request))
    can_edit = model_admin.has_change_permission(request) or model_admin.has_add_permission(request)
    if not can_edit and not isinstance(model_admin, InlineModelAdmin):
        names += flatten_fieldsets(model_admin.get_fieldsets(request))
    return names


def _admins():
    for model, model_admin in admin.site._registry.items():
        yield model, model_admin
        for inline_class in model_admin.inlines:
            inline = inline_class(model, admin.site)
            yield inline.model, inline


def offenders(request) -> list[str]:
    found = []
    for model, model_admin in _admins():
        places = {
            "list_display": list(model_admin.get_list_display(request))
            if not isinstance(model_admin, InlineModelAdmin)
            else [],
            "read-only": _shown_read_only(model_admin, request),
        }
        for where, names in places.items():
            for name in names:
                field = _decimal_field(model, name)
                if field is not None:
                    found.append(f"{type(model_admin).__name__}.{where}: {name}")
    return sorted(set(found))


@pytest.fixture
def root_request():
    request = RequestFactory().get("/admin/")
    request.user = superuser()
    return request


def test_no_admin_shows_a_bare_decimal_field(root_request):
    assert offenders(root_request) == []


def test_the_walk_finds_a_bare_decimal_field_when_one_is_added(root_request, monkeypatch):
    """An admin without the helpers (not ``ReadableDecimalsMixin``) naming a decimal field."""
    from apps.pools.models import PoolSnapshot

    class BareAdmin(admin.ModelAdmin):
        list_display = ("pool", "balance")
        readonly_fields = ("nav",)

    monkeypatch.setitem(admin.site._registry, PoolSnapshot, BareAdmin(PoolSnapshot, admin.site))
    assert offenders(root_request) == [
        "BareAdmin.list_display: balance",
        "BareAdmin.read-only: nav",
    ]


def test_a_read_only_admin_shows_its_decimal_fields_through_the_helpers(root_request):
    """``ReadableDecimalsMixin``: a bare name becomes a helper column, sortable as before."""
    from apps.followers.models import Position

    position_admin = admin.site._registry[Position]
    fields = flatten_fieldsets(position_admin.get_fieldsets(root_request))
    assert "contributed" not in fields and "money__contributed" in fields
    assert "units" not in fields and "num__units" in fields
    column = position_admin.money__contributed
    assert column.admin_order_field == "contributed"

    class Row:
        contributed = Decimal("1234.5678")

        class pool:  # noqa: N801
            currency = "EUR"

    html = str(column(Row()))
    assert 'title="1234.56780000">1,234.57<span class="cp-ccy">EUR' in html
    with pytest.raises(AttributeError):
        getattr(position_admin, "money__follower")  # noqa: B009  not a decimal field


def test_helper_columns_are_named_so_the_stylesheet_right_aligns_them(root_request):
    """``money_column`` columns are named ``money_*``, ``number_column`` ones ``num_*``
    (admin.css right-aligns ``field-money_*`` / ``field-num_*`` cells and headers)."""
    misnamed = []
    for _model, model_admin in _admins():
        for name in (*getattr(model_admin, "list_display", ()), *model_admin.readonly_fields):
            column = getattr(type(model_admin), name, None) if isinstance(name, str) else None
            made_by = getattr(column, "__qualname__", "").split(".")[0]
            expected = {"money_column": "money_", "number_column": "num_"}.get(made_by)
            if expected and not name.startswith(expected):
                misnamed.append(f"{type(model_admin).__name__}.{name}")
    assert misnamed == []


def test_the_helpers_show_two_places_for_money_and_at_most_twelve_for_units():
    class Anything:
        def __getattr__(self, name: str):
            return Decimal("1234.567890123456789") if name != "currency" else "USD"

    money = str(money_column("x", "x")(None, Anything()))
    units = str(number_column("x", "x")(None, Anything()))
    assert ">1,234.57<" in money and 'title="1234.56789012"' in money
    assert ">1,234.567890123456<" in units and 'title="1234.567890123456789"' in units
    assert admin_display.UNITS_MAX_PLACES == 12
