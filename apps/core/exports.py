"""Finance exports that stream: bounded memory and time to first byte whatever the row count.

django-import-export builds a whole ``tablib.Dataset`` in memory before writing a byte. The
columns are still declared once, as import-export resources (``apps/<app>/resources.py``);
these helpers turn a resource's fields into ``values_list`` paths and write:

* CSV as a ``StreamingHttpResponse``: on PostgreSQL through ``COPY (<the queryset's SELECT>)
  TO STDOUT`` with each column formatted in SQL, when SQL can write every column exactly as
  Python does (``copy_statement``); else rows read through a server-side cursor
  (``.values_list(...).iterator(chunk_size=...)``), one formatter per column
  (``cell_formatter``), flushed in batches. The two write the same bytes;
* XLSX with openpyxl's write-only workbook (rows go to a temporary file as they come, a new
  sheet every million rows, Excel's limit), then sent from that file.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import connections, models, transaction
from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
XLSX_ROWS_PER_SHEET = 1_000_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    path: str
    places: int | None = None  # decimal places of a DecimalField
    # The model field at the end of ``path`` (None for an annotation): what the column holds,
    # which picks its formatter once (``cell_formatter``) and its SQL (``copy_sql``).
    field: models.Field | None = dataclasses.field(default=None, compare=False)


def columns_from_resource(resource, model: type[models.Model], selected=None) -> list[Column]:
    """The export columns of an import-export resource, as ``values_list`` paths."""
    columns = []
    for export_field in resource.get_export_fields(selected):
        path = export_field.attribute or export_field.column_name
        places = None
        try:
            model_field = get_fields_from_path(model, path)[-1]
        except (FieldDoesNotExist, AttributeError):
            model_field = None
        if isinstance(model_field, models.DecimalField):
            places = model_field.decimal_places
        columns.append(
            Column(
                header=str(export_field.column_name),
                path=path,
                places=places,
                field=model_field,
            )
        )
    return columns


def _cell_text(value, places: int | None) -> str:
    """The text of any cell: what every column's formatter (``cell_formatter``) agrees with."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.{places}f}" if places is not None else format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # Spreadsheet formula injection: text from operators' answers must stay text.
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


Formatter = Callable[[object], str]


def _value_field(column: Column, queryset: QuerySet | None = None) -> models.Field | None:
    """The field whose values the column holds: the model field (a relation's target
    field), or an annotation's ``output_field``."""
    model_field = column.field
    if model_field is None and queryset is not None:
        annotation = queryset.query.annotations.get(column.path)
        if annotation is not None:
            try:
                model_field = annotation.output_field
            except FieldError:
                return None
    while isinstance(model_field, models.ForeignKey):  # a key to a key: its target's type
        model_field = model_field.target_field
    return model_field if isinstance(model_field, models.Field) else None


def _text_cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _integer_cell(value) -> str:
    if value is None:
        return ""
    return "'" + str(value) if value < 0 else str(value)  # "-5" starts like a formula


def _datetime_cell(value) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()


def _date_cell(value) -> str:
    return "" if value is None else value.isoformat()


def _boolean_cell(value) -> str:
    return "" if value is None else ("true" if value else "false")


def _uuid_cell(value) -> str:
    return "" if value is None else str(value)  # hex and dashes: never formula-like


def _decimal_cell(places: int | None) -> Formatter:
    spec = f".{places}f" if places is not None else "f"

    def cell(value) -> str:
        return "" if value is None else format(value, spec)

    return cell


def cell_formatter(column: Column, queryset: QuerySet | None = None) -> Formatter:
    """The formatter of one column, chosen once from the field it reads: the same text as
    ``_cell_text`` gives for that field's values, without asking each value its type."""
    value_field = _value_field(column, queryset)
    if isinstance(value_field, models.DecimalField):
        return _decimal_cell(column.places)
    if isinstance(value_field, models.DateTimeField):
        return _datetime_cell
    if isinstance(value_field, models.DateField):
        return _date_cell
    if isinstance(value_field, models.BooleanField):
        return _boolean_cell
    if isinstance(value_field, models.IntegerField | models.AutoField):
        return _integer_cell
    if isinstance(value_field, models.UUIDField):
        return _uuid_cell
    if isinstance(value_field, models.CharField | models.TextField) and not _converts(value_field):
        return _text_cell
    places = column.places
    return lambda value: _cell_text(value, places)


def _converts(model_field: models.Field) -> bool:
    """Whether the field turns the database's value into something else in Python."""
    return hasattr(model_field, "from_db_value")


def iter_rows(
    queryset: QuerySet, columns: Sequence[Column], *, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple]:
    yield from queryset.values_list(*(c.path for c in columns)).iterator(chunk_size=chunk_size)


def _header_line(columns: Sequence[Column]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([c.header for c in columns])
    return buffer.getvalue()


def csv_chunks(
    queryset: QuerySet, columns: Sequence[Column], *, chunk_size: int = CHUNK_SIZE
) -> Iterator[str]:
    """The CSV text in chunks of ``chunk_size`` rows, formatted in Python (the header
    first): every database, every column."""
    yield _header_line(columns)
    formatters = [cell_formatter(c, queryset) for c in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = iter_rows(queryset, columns, chunk_size=chunk_size)
    while batch := list(islice(rows, chunk_size)):
        writer.writerows([[f(v) for f, v in zip(formatters, row, strict=True)] for row in batch])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


# --- the COPY path ---------------------------------------------------------------------
#
# On PostgreSQL, when SQL can write every column exactly as ``cell_formatter`` does, the rows
# come from ``COPY (<the queryset's own SELECT>) TO STDOUT WITH (FORMAT csv)``: the same
# rows, filters, joins and order (the queryset's SQL is the inner query, unchanged), each
# column formatted by the SQL below, quoted by PostgreSQL's CSV writer (the same rule as
# Python's: a value holding a comma, a quote, CR or LF is quoted, quotes doubled). The output
# is byte for byte the Python path's. What differs and how it is made equal:
#
# * an empty string is quoted by COPY (it would read back as NULL otherwise), never by
#   Python: empty text becomes NULL, written empty and unquoted;
# * COPY ends each row with LF, Python's csv with CRLF: each CopyData message is exactly one
#   row (the protocol says so), so its last byte is swapped for CRLF;
# * a one-column export is left to Python (COPY quotes a lone ``\.`` and an empty row).

COPY_ENABLED = True  # off: every CSV export is formatted in Python (benchmarks compare both)

# FORMULA_PREFIXES as the code points ascii() gives (integers compare faster than text)
_FORMULA_CODES = "(" + ", ".join(str(ord(prefix)) for prefix in FORMULA_PREFIXES) + ")"
_QUOTE_SQL = "''''"  # the apostrophe that keeps formula-like text text


def _copy_cell_sql(column: Column, queryset: QuerySet, ref: str) -> str | None:
    """SQL writing the column ``ref`` exactly as its ``cell_formatter`` does, NULL for an
    empty cell; None when SQL cannot be trusted to (the column then needs Python)."""
    value_field = _value_field(column, queryset)
    if isinstance(value_field, models.DecimalField):
        # numeric(p, s) prints its s places, as %.sf does; round() pads other places.
        places = column.places
        if places is None or places == value_field.decimal_places:
            return f"{ref}::text"
        return f"round({ref}, {int(places)})::text"
    if isinstance(value_field, models.DateTimeField):
        if not settings.USE_TZ:
            return None
        utc = f"({ref} AT TIME ZONE 'UTC')"
        # isoformat(): microseconds only when there are some, the offset always
        return (
            f"CASE WHEN date_trunc('second', {utc}) = {utc} "
            f"THEN to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS+00:00') "
            f"ELSE to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00') END"
        )
    if isinstance(value_field, models.DateField):
        return f"to_char({ref}, 'YYYY-MM-DD')"
    if isinstance(value_field, models.BooleanField):
        return f"CASE {ref} WHEN true THEN 'true' WHEN false THEN 'false' END"
    if isinstance(
        value_field,
        models.PositiveIntegerField
        | models.PositiveSmallIntegerField
        | models.PositiveBigIntegerField,
    ):
        return f"{ref}::text"  # the database refuses a negative one: no apostrophe ever
    if isinstance(value_field, models.IntegerField | models.AutoField):
        return f"CASE WHEN {ref} < 0 THEN {_QUOTE_SQL} || {ref}::text ELSE {ref}::text END"
    if isinstance(value_field, models.UUIDField):
        return f"{ref}::text"
    if isinstance(value_field, models.CharField | models.TextField) and not _converts(value_field):
        return (
            f"CASE WHEN {ref} = '' THEN NULL WHEN ascii({ref}) IN {_FORMULA_CODES} "
            f"THEN {_QUOTE_SQL} || {ref} ELSE {ref} END"
        )
    return None


def copy_statement(queryset: QuerySet, columns: Sequence[Column]) -> tuple[str, tuple] | None:
    """The ``COPY ... TO STDOUT`` writing the export's rows as ``csv_chunks`` would, and its
    parameters; None when the export needs the Python path (not PostgreSQL, a column SQL
    cannot format, one column, a path named twice)."""
    connection = connections[queryset.db]
    paths = [c.path for c in columns]
    if not COPY_ENABLED or connection.vendor != "postgresql":
        return None
    if len(columns) < 2 or len(set(paths)) != len(paths):
        return None
    cells = [_copy_cell_sql(c, queryset, f"export_rows.c{i}") for i, c in enumerate(columns)]
    if any(cell is None for cell in cells):
        return None
    inner = queryset.values_list(*paths)
    sql, params = inner.query.get_compiler(using=queryset.db).as_sql()
    names = ", ".join(f"c{i}" for i in range(len(columns)))
    statement = (
        f"COPY (SELECT {', '.join(cell for cell in cells if cell)} "
        f"FROM ({sql}) AS export_rows ({names})) TO STDOUT WITH (FORMAT csv)"
    )
    return statement, tuple(params)


def copy_csv_chunks(
    queryset: QuerySet,
    columns: Sequence[Column],
    statement: tuple[str, tuple],
    *,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """The CSV bytes of ``copy_statement``, the header first, ``chunk_size`` rows a chunk.

    The COPY runs in its own transaction (a savepoint inside one): closing the generator
    early (a dropped download) cancels the COPY, drains what was already sent and rolls
    that back, and the connection is free for the next query."""
    yield _header_line(columns).encode()
    sql, params = statement
    connection = connections[queryset.db]
    with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
        started = time.monotonic()
        with cursor.cursor.copy(sql, params) as copy:
            if connection.queries_logged:  # what CaptureQueriesContext and DEBUG count
                executed = connection.ops.last_executed_query(cursor.cursor, sql, params)
                connection.queries_log.append({"sql": executed, "time": "0.000"})
            batch: list[memoryview] = []
            for row in copy:  # one row per block, ending with LF
                batch.append(row[:-1])
                if len(batch) >= chunk_size:
                    yield b"\r\n".join(batch) + b"\r\n"
                    batch = []
            if batch:
                yield b"\r\n".join(batch) + b"\r\n"
        logger.debug("COPY export: %.1f s", time.monotonic() - started)


def stream_csv(
    queryset: QuerySet, columns: Sequence[Column], *, filename: str
) -> StreamingHttpResponse:
    """The export as a streamed CSV: through ``COPY`` when SQL can write every column
    (``copy_statement``), else formatted in Python (``csv_chunks``); the same bytes."""
    statement = copy_statement(queryset, columns)
    chunks: Iterator[str] | Iterator[bytes] = (
        csv_chunks(queryset, columns, chunk_size=CHUNK_SIZE)
        if statement is None
        else copy_csv_chunks(queryset, columns, statement, chunk_size=CHUNK_SIZE)
    )
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _xlsx_value(value, places: int | None):
    if isinstance(value, Decimal):
        # Excel numbers are doubles: exact up to 15 significant digits, text beyond.
        return float(value) if len(value.as_tuple().digits) <= 15 else format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if value is None or isinstance(value, bool | int | float | date):
        return value
    return str(value)  # UUIDs and anything else Excel has no type for


def write_xlsx(
    queryset: QuerySet,
    columns: Sequence[Column],
    target,
    *,
    chunk_size: int = CHUNK_SIZE,
    rows_per_sheet: int = XLSX_ROWS_PER_SHEET,
    on_row: Callable[[int], None] | None = None,
    about: Sequence[tuple[str, str]] = (),
) -> int:
    """Write the rows to ``target`` (a path or binary file); returns the row count.

    ``about`` lines (label, value), e.g. the export's filter, go on a last sheet named
    "about", with the row count written and the note that times are UTC (Excel keeps no
    time zone)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    headers = [c.header for c in columns]
    places = [c.places for c in columns]
    formats = ["0." + "0" * p if p else None for p in places]
    sheet: WriteOnlyWorksheet | None = None
    count = 0

    def new_sheet(number: int) -> WriteOnlyWorksheet:
        ws: WriteOnlyWorksheet = workbook.create_sheet(
            title=f"rows-{number}" if number > 1 else "export"
        )
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(ws, value=header)
            cell.font = Font(bold=True)
            header_cells.append(cell)
        ws.append(header_cells)
        return ws

    for row in iter_rows(queryset, columns, chunk_size=chunk_size):
        if sheet is None or count % rows_per_sheet == 0:  # None only before the first row
            sheet = new_sheet(count // rows_per_sheet + 1)
        cells = []
        for value, fmt in zip(row, formats, strict=True):
            value = _xlsx_value(value, None)
            if fmt and isinstance(value, float):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = fmt
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
        count += 1
        if on_row is not None:
            on_row(count)
    if sheet is None:
        new_sheet(1)
    if about:
        notes = workbook.create_sheet(title="about")
        for label, value in about:
            notes.append([label, value])
        notes.append(["Rows written", count])
        notes.append(["Times", "UTC (the spreadsheet keeps no time zone)"])
    workbook.save(target)
    return count


def xlsx_response(
    queryset: QuerySet,
    columns: Sequence[Column],
    *,
    filename: str,
    about: Sequence[tuple[str, str]] = (),
) -> FileResponse:
    spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    count = write_xlsx(queryset, columns, spool, about=about)
    spool.seek(0)
    logger.info("XLSX export %s: %s rows", filename, count)
    response = FileResponse(
        spool,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "no-store"
    return response


def resource_field(attribute: str, column: str | None = None):
    """An import-export resource column reading ``attribute`` (``operator__code`` follows a
    relation), headed ``column`` or the attribute's name: the one way the export resources
    declare their columns."""
    from import_export import fields

    return fields.Field(attribute=attribute, column_name=column or attribute)
