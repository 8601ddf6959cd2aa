"""django-import-export's export page, with CSV and XLSX written by the streaming helpers.

The export form (format, resource, field selection) and the filtered queryset (the
changelist's filters and search carried in the query string) are import-export's; only the
writing is replaced, because import-export materialises every row in a ``tablib.Dataset``.
Exporting needs ``backoffice.export_finance``. Each export states its filter and row count:
in its file name (``transaction-20261202-081800-1234-rows.csv``), on the XLSX's "about"
sheet (with who exported it, when, and that times are UTC), in the ``X-Export-Filter`` and
``X-Export-Rows`` headers, and in the log.
"""

from __future__ import annotations

import logging

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import BadRequest, PermissionDenied
from django.utils import timezone
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX

from apps.core.exports import columns_from_resource, stream_csv, xlsx_response

logger = logging.getLogger(__name__)

EXPORT_PERMISSION = "backoffice.export_finance"


class StreamingExportMixin(ExportMixin):
    export_formats = [CSV, XLSX]

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

    def get_export_queryset(self, request):
        # import-export builds the changelist from the query string and lets a filter that
        # does not apply (``?streamer=`` on positions) through as a server error: a 400.
        try:
            return super().get_export_queryset(request)
        except IncorrectLookupParameters as error:
            raise BadRequest("This export's filter does not apply to these rows") from error

    def get_export_filename(self, request, queryset, file_format) -> str:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return f"{self.opts.model_name}-{stamp}.{file_format.get_extension()}"

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if not self.has_export_permission(request):
            raise PermissionDenied
        if not isinstance(file_format, CSV | XLSX):
            return super()._do_file_export(file_format, request, queryset, export_form)
        resource_class = self.choose_export_resource_class(export_form, request)
        resource = resource_class(**self.get_export_resource_kwargs(request))
        selected = self.get_export_resource_fields_from_form(export_form)
        columns = columns_from_resource(resource, queryset.model, selected)
        queryset = resource.filter_export(queryset)
        rows = queryset.count()
        filename = self.get_export_filename(request, queryset, file_format)
        filename = filename.replace(
            f".{file_format.get_extension()}", f"-{rows}-rows.{file_format.get_extension()}"
        )
        described = export_filter_description(request)
        logger.info(
            "%s exports %s: %s rows, %s columns, filter %s",
            request.user,
            filename,
            rows,
            len(columns),
            described,
        )
        if isinstance(file_format, XLSX):
            about = [
                ("Export", str(self.opts.verbose_name_plural)),
                ("Filter", described),
                ("Rows counted at the start", str(rows)),
                ("Exported at (UTC)", timezone.now().strftime("%Y-%m-%d %H:%M:%S")),
                ("Exported by", request.user.get_username()),
            ]
            response = xlsx_response(queryset, columns, filename=filename, about=about)
        else:
            response = stream_csv(queryset, columns, filename=filename)
        response[EXPORT_ROWS_HEADER] = str(rows)
        response[EXPORT_FILTER_HEADER] = described
        return response


# Stated on every export: the changelist filter it was made with and how many rows it has
# (counted when the export starts; rows written meanwhile may follow).
EXPORT_ROWS_HEADER = "X-Export-Rows"
EXPORT_FILTER_HEADER = "X-Export-Filter"
NOT_FILTERS = {"p", "o", "_changelist_filters", "format", "resource", "export_items"}


def export_filter_description(request) -> str:
    """The changelist filter and search of the export, e.g. ``kind=performance_fee q=abc``
    (``all rows`` when there is none); ASCII, for an HTTP header."""
    parts = [
        f"{key}={value}"
        for key, values in sorted(request.GET.lists())
        if key not in NOT_FILTERS
        for value in values
    ]
    text = " ".join(parts) or "all rows"
    return text.encode("ascii", "backslashreplace").decode("ascii")[:1000]
