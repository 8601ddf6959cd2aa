"""The CSV export's bytes: the Python path (one formatter per column) reads as the per-cell
loop it replaced, on every export resource."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.backoffice.tests.admin_world import build_world
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
