"""The CSV export's per-column formatters: each gives, for every value its field can hold,
the text ``_cell_text`` (the one formatting rule) gives. (A whole export against the per-cell
loop it replaced: ``apps/backoffice/tests/test_export_copy.py``.)"""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import models

from apps.core import exports
from apps.core.exports import Column, _cell_text, cell_formatter

D = Decimal
AWARE = [
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(1999, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-8))),
]
TEXTS = ["", "plain", "=SUM(A1)", "+1", "-1+2", "@x", "\tx", "\rx", "a,b", 'say "hi"', "é ü"]
# (field, decimal places, the values a column of that field holds)
CASES = [
    (models.DecimalField(max_digits=20, decimal_places=8), 8, [D("1.5"), D("-12.34567891")]),
    (models.DecimalField(max_digits=20, decimal_places=2), 2, [D("0.00"), D("-0.10")]),
    (models.DecimalField(max_digits=20, decimal_places=8), None, [D("1.50"), D("-3")]),
    (models.DateTimeField(), None, AWARE + [datetime(2026, 1, 2, 3, 4)]),
    (models.DateField(), None, [date(2026, 1, 2), date(1, 1, 1)]),
    (models.BooleanField(), None, [True, False]),
    (models.IntegerField(), None, [0, 7, -5, 2**40]),
    (models.PositiveIntegerField(), None, [0, 12]),
    (models.BigAutoField(), None, [1, 10**12]),
    (models.UUIDField(), None, [uuid.UUID(int=0), uuid.uuid4()]),
    (models.CharField(max_length=64), None, TEXTS),
    (models.TextField(), None, [*TEXTS, "two\nlines", "crlf\r\nend"]),
    (None, None, [D("1.25"), "=x", 3, True, AWARE[2], date(2026, 1, 1)]),  # an annotation
]


@pytest.mark.parametrize(("model_field", "places", "values"), CASES)
def test_each_column_formatter_writes_what_cell_text_writes(model_field, places, values):
    # given: a column of that field
    column = Column(header="h", path="p", places=places, field=model_field)
    # when
    formatter = cell_formatter(column)
    # then: every value, and the empty cell, reads as before
    for value in [None, *values]:
        assert formatter(value) == _cell_text(value, places), value


def test_a_foreign_key_column_formats_its_target_ids():
    model_field = Permission._meta.get_field("content_type")
    column = Column(header="content_type_id", path="content_type_id", field=model_field)
    assert cell_formatter(column) is exports._integer_cell
    assert [cell_formatter(column)(v) for v in (None, 12)] == ["", "12"]
