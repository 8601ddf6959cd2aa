"""The portal's pages: the back office's ModelAdmins, scoped to the signed-in operator.

``PortalAdminMixin`` is the one mechanism: it goes first in each page's bases, so every
queryset the page reads (list, search, filters, detail, exports, actions, autocomplete)
comes through ``tenancy.scoped``, every filter's choices come from those rows, and what may
be seen or done comes from the role (``roles``) and the staff grant, never from Django's
model permissions (operators' people have none; staff viewing as an operator have theirs,
and act on nothing here).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest

from apps.backoffice.admin.finance import InvoiceAdmin
from apps.backoffice.admin.followers import FollowerAdmin, PositionAdmin
from apps.backoffice.admin.operators import CallLogAdmin, ConformanceRunAdmin
from apps.backoffice.admin.pools import PoolAdmin
from apps.backoffice.admin.streamers import StreamerAdmin
from apps.backoffice.admin.streams import StreamAdmin
from apps.backoffice.admin.transactions import (
    RESOLVE,
    RETRY,
    DailySettlementAdmin,
    ReviewItemAdmin,
    TransactionAdmin,
)
from apps.backoffice.admin_actions import StaffActionSpec
from apps.backoffice.models import ReviewItem
from apps.core.admin_base import ModelAdminMixin
from apps.followers.models import Follower, Position
from apps.operators.models import CallLog, ConformanceRun
from apps.pools.models import Pool
from apps.portal import tenancy
from apps.portal.context import PortalContext, portal_context
from apps.portal.site import portal_site
from apps.streamers.models import Stream, Streamer
from apps.transactions.finance.models import Invoice
from apps.transactions.models import DailySettlement, Transaction

# Read-only fields of the staff pages that the portal does not show (CopyStake's own notes).
INTERNAL_FIELDS = {"staff_actions_taken"}

# Review actions a staff member can grant an operator user (``may_act_on_review``).
GRANTABLE_ACTIONS = (RETRY.name, RESOLVE.name)


def _portal(request: HttpRequest) -> PortalContext:
    portal = portal_context(request)
    if portal is None:
        raise PermissionDenied
    return portal


class ScopedRelatedFilter(admin.RelatedOnlyFieldListFilter):
    """A related-object filter whose choices are only the objects the page's (scoped) rows
    point to: another operator's streamer is never offered."""


def _currency_filter(parameter: str) -> type[admin.SimpleListFilter]:
    class ScopedCurrencyFilter(admin.SimpleListFilter):
        title = "currency"
        parameter_name = parameter

        def lookups(self, request, model_admin):
            values = (
                model_admin.get_queryset(request)
                .order_by()
                .values_list(parameter, flat=True)
                .distinct()
            )
            return [(code, code) for code in sorted(v for v in values if v)]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{parameter: value}) if value else queryset

    return ScopedCurrencyFilter


# Filters of the staff pages whose choices are fixed in code (never read from a table): used
# as they are. Any other ``SimpleListFilter`` may draw its choices from every operator's rows
# (the invoices' month filter did), so the portal keeps only the choices that select some of
# the page's own rows (``_choices_from_own_rows``).
FIXED_CHOICE_FILTERS = {"EndpointFilter", "FollowerCallsFilter", "ResolutionFilter", "StaleFilter"}


def _choices_from_own_rows(spec: type[admin.SimpleListFilter]) -> type[admin.SimpleListFilter]:
    class OwnRowsFilter(spec):  # type: ignore[valid-type,misc]
        def lookups(self, request, model_admin):
            own = model_admin.get_queryset(request)
            kept = []
            probe = spec.__new__(spec)  # the filter as applied with one value, unbuilt
            for value, label in super().lookups(request, model_admin) or ():
                probe.used_parameters = {self.parameter_name: value}
                if probe.queryset(request, own).exists():
                    kept.append((value, label))
            return kept

    OwnRowsFilter.__name__ = OwnRowsFilter.__qualname__ = f"Own{spec.__name__}"
    return OwnRowsFilter


def portal_list_filter(model: type[models.Model], filters) -> list:
    """The staff page's filters, fit for one operator: no operator filter, related filters
    limited to the page's own rows, currency choices from those rows, and any other choice
    not fixed in code only when it selects some of those rows."""
    fitted: list[Any] = []
    for spec in filters:
        name = spec[0] if isinstance(spec, tuple) else spec
        if isinstance(name, str):
            if name == "operator" or name.startswith("operator__"):
                continue
            field = model._meta.get_field(name.split("__")[0])
            if field.is_relation and not isinstance(spec, tuple):
                fitted.append((name, ScopedRelatedFilter))
                continue
            fitted.append(spec)
            continue
        if isinstance(spec, type) and issubclass(spec, admin.SimpleListFilter):
            if spec.__name__ == "CurrencyFilter":
                fitted.append(_currency_filter(str(spec.parameter_name)))
                continue
            if spec.__name__ not in FIXED_CHOICE_FILTERS:
                fitted.append(_choices_from_own_rows(spec))
                continue
        fitted.append(spec)
    return fitted


class PortalAdminMixin(ModelAdminMixin):
    """Put first in the bases of a portal page (see the module's docstring)."""

    portal_section: str = ""

    # --- rows --------------------------------------------------------------------------
    def get_queryset(self, request):
        return tenancy.scoped(super().get_queryset(request), _portal(request).operator)

    def get_list_filter(self, request):
        return portal_list_filter(self.model, super().get_list_filter(request))

    def get_list_display(self, request):
        return [name for name in super().get_list_display(request) if name != "operator"]

    def get_search_fields(self, request):
        return [f for f in super().get_search_fields(request) if not f.startswith("operator__")]

    # --- who may look, and do -------------------------------------------------------------
    def has_module_permission(self, request) -> bool:
        portal = portal_context(request)
        return portal is not None and portal.may_view(self.portal_section)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_import_permission(self, request) -> bool:
        return False

    def has_export_permission(self, request) -> bool:
        portal = portal_context(request)
        return portal is not None and (portal.may_act("export") or portal.is_staff_view)

    def get_staff_actions(self, request: HttpRequest) -> list[StaffActionSpec]:
        portal = portal_context(request)
        if portal is None or not portal.may_act_on_review:
            return []
        specs = getattr(self, "staff_actions", ())
        return [spec for spec in specs if spec.name in GRANTABLE_ACTIONS]

    def _spec(self, request: HttpRequest, name: str) -> StaffActionSpec:
        for spec in self.get_staff_actions(request):
            if spec.name == name:
                return spec
        raise PermissionDenied

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            # Rows of the page's own (scoped) object: shown, never edited.
            inline.has_view_permission = lambda request, obj=None: True  # type: ignore[method-assign]
            inline.has_add_permission = lambda request, obj=None: False  # type: ignore[method-assign]
            inline.has_change_permission = lambda request, obj=None: False  # type: ignore[method-assign]
            inline.has_delete_permission = lambda request, obj=None: False  # type: ignore[method-assign]
        return inlines

    def get_fieldsets(self, request, obj=None):
        """The staff page's sections without CopyStake's own audit notes (who on the staff
        did what to the row, and why): those stay in the back office."""
        fitted = []
        for title, options in super().get_fieldsets(request, obj):
            fields = [f for f in options.get("fields", ()) if f not in INTERNAL_FIELDS]
            if fields:
                fitted.append((title, {**options, "fields": fields}))
        return fitted

    def history_view(self, request, object_id, extra_context=None):
        raise Http404("No change history in the portal")

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # django-simple-history's page of one historical version reads the history table
        # directly, not ``get_queryset``: it showed any operator's row to anyone who may view
        # the page. No history in the portal, so none of it.
        raise Http404("No change history in the portal")


@admin.register(Pool, site=portal_site)
class PortalPoolAdmin(PortalAdminMixin, PoolAdmin):
    portal_section = "pools"


@admin.register(Stream, site=portal_site)
class PortalStreamAdmin(PortalAdminMixin, StreamAdmin):
    portal_section = "streams"


@admin.register(Streamer, site=portal_site)
class PortalStreamerAdmin(PortalAdminMixin, StreamerAdmin):
    portal_section = "streamers"


@admin.register(Follower, site=portal_site)
class PortalFollowerAdmin(PortalAdminMixin, FollowerAdmin):
    portal_section = "followers"


@admin.register(Position, site=portal_site)
class PortalPositionAdmin(PortalAdminMixin, PositionAdmin):
    portal_section = "followers"


@admin.register(Transaction, site=portal_site)
class PortalTransactionAdmin(PortalAdminMixin, TransactionAdmin):
    portal_section = "transactions"


@admin.register(ReviewItem, site=portal_site)
class PortalReviewItemAdmin(PortalAdminMixin, ReviewItemAdmin):
    portal_section = "review"


@admin.register(CallLog, site=portal_site)
class PortalCallLogAdmin(PortalAdminMixin, CallLogAdmin):
    portal_section = "calls"


@admin.register(ConformanceRun, site=portal_site)
class PortalConformanceRunAdmin(PortalAdminMixin, ConformanceRunAdmin):
    portal_section = "conformance"


@admin.register(DailySettlement, site=portal_site)
class PortalDailySettlementAdmin(PortalAdminMixin, DailySettlementAdmin):
    portal_section = "finance"

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "cp_run_now_url": ""})

    def run_now_view(self, request):
        raise PermissionDenied


@admin.register(Invoice, site=portal_site)
class PortalInvoiceAdmin(PortalAdminMixin, InvoiceAdmin):
    """Invoices the operator has been sent: issued, paid or void (drafts are CopyStake's)."""

    portal_section = "finance"

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(state=Invoice.State.DRAFT)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context:
            context["cp_can_generate"] = False
        return response

    def generate_view(self, request):
        raise PermissionDenied
