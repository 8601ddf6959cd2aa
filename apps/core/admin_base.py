"""Base behaviour shared by the back office's ModelAdmins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from apps.core.admin_display import money_column, number_column
from apps.core.admin_paging import CappedCountPaginator
from apps.core.money import AMOUNT_PLACES

if TYPE_CHECKING:
    # The base of ModelAdmin mixins, for the type checker only: it checks them as the
    # ModelAdmins they are mixed into. At run time they stay plain mixins, so every admin's
    # method resolution order is what it always was.
    ModelAdminMixin = admin.ModelAdmin[Any]
else:
    ModelAdminMixin = object


# A decimal field shown read-only goes through the money / units helpers under these names.
READABLE_PREFIXES = {"money": "money__", "num": "num__"}


def readable_decimal_name(model: type[models.Model], name: object) -> object:
    """``money__<field>`` / ``num__<field>`` for a model's ``DecimalField`` (8 places: money;
    more or fewer: units, at most 12 shown), anything else unchanged."""
    if not isinstance(name, str):
        return name
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    if not isinstance(field, models.DecimalField):
        return name
    kind = "money" if field.decimal_places == AMOUNT_PLACES else "num"
    return f"{READABLE_PREFIXES[kind]}{name}"


def _readable_fieldsets(model, fieldsets):
    def names(spec):
        if isinstance(spec, list | tuple):
            return type(spec)(names(item) for item in spec)
        return readable_decimal_name(model, spec)

    return [
        (title, {**options, "fields": names(options["fields"])}) for title, options in fieldsets
    ]


class ReadableDecimalsMixin(ModelAdminMixin):
    """Decimal fields on a read-only page or a changelist shown as people read them.

    Django renders a ``DecimalField`` named in ``list_display`` or shown read-only with all
    its places (``100.00000000``, ``1.000000000000000000``). Here such a name becomes a column
    of ``money`` (2 decimals, the currency when the row or its pool has one, exact on hover)
    or ``number`` (units: at most 12 places), sortable by the field as before.
    """

    def __getattr__(self, name: str):
        for kind, prefix in READABLE_PREFIXES.items():
            if name.startswith(prefix):
                model = self.__dict__.get("model")
                field_name = name.removeprefix(prefix)
                if model is None or readable_decimal_name(model, field_name) != name:
                    break
                return _bound_column(self, model, field_name, kind)
        raise AttributeError(name)

    def get_list_display(self, request):
        return [readable_decimal_name(self.model, n) for n in super().get_list_display(request)]

    def get_fieldsets(self, request, obj=None):
        return _readable_fieldsets(self.model, super().get_fieldsets(request, obj))

    def get_readonly_fields(self, request, obj=None):
        names = super().get_readonly_fields(request, obj)
        return [readable_decimal_name(self.model, n) for n in names]


def _bound_column(model_admin, model, field_name: str, kind: str):
    field = model._meta.get_field(field_name)
    label = str(field.verbose_name)
    label = label[:1].upper() + label[1:]
    if kind == "money":
        names = {f.name for f in model._meta.get_fields()}
        currency = (
            "currency" if "currency" in names else "pool.currency" if "pool" in names else None
        )
        column = money_column(field_name, label, currency=currency, ordering=field_name)
    else:
        column = number_column(
            field_name, label, places=min(field.decimal_places, 12), ordering=field_name
        )

    def shown(obj):
        return column(model_admin, obj)

    shown.short_description = label  # type: ignore[attr-defined]
    shown.admin_order_field = field_name  # type: ignore[attr-defined]
    return shown


class ReadOnlyAdminMixin(ReadableDecimalsMixin):
    """Rows written only by the money flows: staff look, and act through confirmed actions."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class BigTableAdminMixin(ModelAdminMixin):
    """Changelists over tables that grow without bound: no full counts, no facet counts."""

    paginator: ClassVar[type[CappedCountPaginator]] = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    list_max_show_all = 200


class AuditedHistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's change history, strictly read-only.

    simple-history's "revert" saves a historical copy of the row over the live one; for a pool
    or a transaction that would rewrite money state behind the sagas' back, so it is switched
    off, and a POST to a historical version is refused outright.
    """

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied("Reverting from history is disabled")
        return super().history_form_view(request, object_id, version_id, extra_context)
