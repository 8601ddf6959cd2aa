"""The CSV export's bytes. The Python path (one formatter per column) reads as the per-cell
loop it replaced, on every export resource; on PostgreSQL the ``COPY`` path writes byte for
byte the Python path's file, with the changelist's filters and the export permission still
applied, and a dropped download ends the COPY and frees the connection."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, models
from django.db.models import ExpressionWrapper, F
from django.db.models.functions import Upper
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.backoffice.tests.admin_world import build_world, staff_user, superuser
from apps.core import exports
from apps.core.exports import _cell_text
from apps.followers.models import Position
from apps.transactions.finance.models import JournalLine
from apps.transactions.models import DailySettlement, Transaction
from apps.transactions.resources import (
    DailySettlementResource,
    FeeResource,
    JournalLineResource,
    PositionResource,
    TransactionResource,
)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's"
)

D = Decimal
RESOURCES = [
    (TransactionResource, Transaction),
    (DailySettlementResource, DailySettlement),
    (PositionResource, Position),
    (FeeResource, Transaction),
    (JournalLineResource, JournalLine),
]


def _per_cell(queryset, columns) -> str:
    """The export as it was written before: ``_cell_text`` on every cell, row by row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in columns])
    for row in queryset.values_list(*(c.path for c in columns)):
        writer.writerow([_cell_text(v, c.places) for v, c in zip(row, columns, strict=True)])
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(("resource", "model"), RESOURCES)
def test_a_whole_export_reads_as_the_per_cell_loop_did(resource, model):
    # given: rows with empty cells, odd text and negative amounts, in chunks of 3 rows
    world = build_world(pools=2, transactions=10)
    first, second, third = world.transactions[:3]
    Transaction.objects.filter(pk=first.pk).update(
        last_error_code='=1,"2"\n3',
        balance_before=D("-0.5"),
        completed_at=datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC),
    )
    Transaction.objects.filter(pk=second.pk).update(operator_reference="-7", units=D("-1"))
    Transaction.objects.filter(pk=third.pk).update(kind="performance_fee")
    columns = exports.columns_from_resource(resource(), model)
    queryset = resource().filter_export(model.objects.order_by("pk"))
    # when
    text = "".join(exports.csv_chunks(queryset, columns, chunk_size=3))
    # then
    assert text == _per_cell(queryset, columns)
    assert len(list(csv.reader(io.StringIO(text, newline="")))) == queryset.count() + 1


ODD_TEXTS = [
    "",
    "a,b",
    'say "hi", then "bye"',
    "two\nlines",
    "crlf\r\nend",
    "cr\ronly",
    "=HYPERLINK(1)",
    "+1",
    "-2",
    "@sum",
    "\ttab first",
    "\rcr first",
    " spaces ",
    "\\.",
    "é, ü and 💶",
]
NEW_YORK = timezone(timedelta(hours=-5))


@pytest.fixture
def root(client):
    user = superuser()
    client.force_login(user)
    client.user = user
    return client


def varied_world():
    """Transactions with every awkward cell: empty and odd text, negative amounts, nulls,
    datetimes in other zones, with and without microseconds."""
    world = build_world(pools=2, transactions=len(ODD_TEXTS) + 5)
    for i, (tx, text) in enumerate(zip(world.transactions, ODD_TEXTS, strict=False)):
        Transaction.objects.filter(pk=tx.pk).update(
            last_error_code=text,
            operator_reference=ODD_TEXTS[-1 - i],
            balance_before=D("-1234.5") - i,
            balance_after=None if i % 2 else D("-0.00000001"),
            units=D("-3.25") if i % 3 == 0 else None,
            completed_at=None if i % 4 == 0 else datetime(2026, 3, 8, 1, 30, i, tzinfo=NEW_YORK),
            created_at=datetime(2026, 3, 8, 1, 30, 0, 1000 * i, tzinfo=NEW_YORK),
            is_demo=i % 2 == 0,
        )
    rolled = world.transactions[-1]
    Transaction.objects.filter(pk=rolled.pk).update(rolls_back=world.transactions[0])
    return world


def python_bytes(queryset, columns) -> bytes:
    return "".join(exports.csv_chunks(queryset, columns)).encode()


def copy_bytes(queryset, columns) -> bytes:
    statement = exports.copy_statement(queryset, columns)
    assert statement is not None, "this export should go through COPY"
    return b"".join(exports.copy_csv_chunks(queryset, columns, statement, chunk_size=4))


@postgresql_only
@pytest.mark.django_db
def test_copy_writes_the_python_paths_bytes():
    # given: awkward rows (times stored from New York, read back in UTC)
    varied_world()
    columns = exports.columns_from_resource(TransactionResource(), Transaction)
    queryset = Transaction.objects.order_by("-created_at", "-id")
    # when
    through_copy = copy_bytes(queryset, columns)
    # then
    assert through_copy == python_bytes(queryset, columns)
    assert len(rows_of(through_copy)) == Transaction.objects.count() + 1
    assert b',"two\nlines",' in through_copy and b",'=HYPERLINK(1)," in through_copy
    assert b"2026-03-08T06:30:00.001000+00:00" in through_copy  # New York 01:30 in UTC


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("resource", "model"),
    RESOURCES,
)
def test_every_export_resource_reads_the_same_through_copy(resource, model):
    # given: the resource's own queryset (its annotations included)
    world = varied_world()
    Transaction.objects.filter(pk=world.transactions[1].pk).update(kind="performance_fee")
    columns = exports.columns_from_resource(resource(), model)
    queryset = resource().filter_export(model.objects.order_by("pk"))
    # when / then
    assert copy_bytes(queryset, columns) == python_bytes(queryset, columns)


@postgresql_only
@pytest.mark.django_db
def test_annotated_columns_read_the_same_through_copy():
    # given: annotations of every kind SQL formats, negative integers among them
    varied_world()
    queryset = Transaction.objects.order_by("pk").annotate(
        minus=ExpressionWrapper(F("attempts") * -7, output_field=models.IntegerField()),
        shifted=ExpressionWrapper(
            F("created_at") + timedelta(microseconds=1), output_field=models.DateTimeField()
        ),
        upper_code=Upper("last_error_code"),
        half=ExpressionWrapper(F("amount") / 2, output_field=models.DecimalField()),
    )
    columns = [exports.Column("id", "id", field=Transaction._meta.get_field("id"))] + [
        exports.Column(name, name) for name in ("minus", "shifted", "upper_code", "half")
    ]
    # when
    through_copy = copy_bytes(queryset, columns)
    # then
    assert through_copy == python_bytes(queryset, columns)
    assert b",'-7," in through_copy


@postgresql_only
def test_columns_sql_cannot_format_stay_in_python():
    # given: a JSON column (Python writes its repr), and a one-column export
    json_column = exports.Column(
        "response", "response", field=Transaction._meta.get_field("response")
    )
    id_column = exports.Column("id", "id", field=Transaction._meta.get_field("id"))
    queryset = Transaction.objects.all()
    # then
    assert exports.copy_statement(queryset, [id_column, json_column]) is None
    assert exports.copy_statement(queryset, [id_column]) is None
    assert exports.copy_statement(queryset, [id_column, id_column]) is None


def export(client, query: str = ""):
    form = {
        f"transactionresource_{name}": "on" for name in TransactionResource().get_export_order()
    }
    url = reverse("admin:transactions_transaction_export") + query
    return client.post(url, {"format": "0", "resource": "0", **form})


def rows_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(), newline="")))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?status__exact=unknown", "?kind__exact=follower_credit"])
def test_the_admin_export_through_copy_is_the_python_export(root, monkeypatch, query):
    # given
    varied_world()
    # when: once through COPY, once with COPY off
    with CaptureQueriesContext(connection) as captured:
        through_copy = body(export(root, query))
    queries = [q["sql"] for q in captured.captured_queries]  # before the next request clears
    monkeypatch.setattr(exports, "COPY_ENABLED", False)
    in_python = body(export(root, query))
    # then: the same file, the COPY counted among the queries
    assert through_copy == in_python
    assert sum(sql.startswith("COPY (SELECT") for sql in queries) == 1
    if query:
        field, value = query[1:].split("=")
        expected = Transaction.objects.filter(**{field: value}).count()
        assert len(rows_of(through_copy)) == expected + 1


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(("group", "status"), [("Operations", 403), ("Finance", 200)])
def test_only_a_user_with_the_export_permission_gets_the_copy(client, group, status):
    # given: staff who may read transactions, and may export them only in Finance
    varied_world()
    client.force_login(staff_user("someone", group))
    # when
    with CaptureQueriesContext(connection) as captured:
        response = export(client)
        content = body(response) if status == 200 else b""
    # then
    assert response.status_code == status
    copies = [q for q in captured.captured_queries if q["sql"].startswith("COPY")]
    assert len(copies) == (1 if status == 200 else 0)
    assert len(rows_of(content)) == (Transaction.objects.count() + 1 if status == 200 else 0)


@postgresql_only
@pytest.mark.django_db
def test_a_dropped_download_ends_the_copy_and_frees_the_connection():
    # given: an export streaming through COPY, 5 rows a chunk, its first rows read
    from psycopg import pq

    world = build_world(pools=2, transactions=40)
    columns = exports.columns_from_resource(TransactionResource(), Transaction)
    queryset = Transaction.objects.order_by("pk")
    statement = exports.copy_statement(queryset, columns)
    assert statement is not None
    chunks = exports.copy_csv_chunks(queryset, columns, statement, chunk_size=5)
    next(chunks)  # the header
    assert len(rows_of(next(chunks))) == 5  # the first rows: the COPY is under way
    info = connection.connection.info
    assert info.transaction_status == pq.TransactionStatus.ACTIVE
    # when: the client goes away (StreamingHttpResponse.close() closes the generator)
    chunks.close()
    # then: the COPY is over, its savepoint rolled back, the connection ready for more
    assert info.transaction_status == pq.TransactionStatus.INTRANS  # the test's transaction
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        assert cursor.fetchone()[0].startswith("SELECT query FROM pg_stat_activity")
    assert Transaction.objects.count() == len(world.transactions)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_dropped_admin_download_leaves_a_working_connection(root):
    # given: the admin's export through COPY, 5 rows a chunk, its first rows read
    world = build_world(pools=2, transactions=40)
    with mock.patch.object(exports, "CHUNK_SIZE", 5):
        response = export(root)
    chunks = iter(response.streaming_content)
    next(chunks)
    assert len(rows_of(next(chunks))) == 5
    # when: the client goes away
    response.close()
    # then: the next request and query work (outside any transaction: autocommit)
    assert connection.get_autocommit()
    assert Transaction.objects.count() == len(world.transactions)
    assert root.get(reverse("admin:transactions_transaction_changelist")).status_code == 200
