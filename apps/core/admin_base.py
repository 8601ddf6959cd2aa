"""Base behaviour shared by the back office's ModelAdmins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from apps.core.admin_paging import CappedCountPaginator

if TYPE_CHECKING:
    # The base of ModelAdmin mixins, for the type checker only: it checks them as the
    # ModelAdmins they are mixed into. At run time they stay plain mixins, so every admin's
    # method resolution order is what it always was.
    ModelAdminMixin = admin.ModelAdmin[Any]
else:
    ModelAdminMixin = object


class ReadOnlyAdminMixin(ModelAdminMixin):
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
