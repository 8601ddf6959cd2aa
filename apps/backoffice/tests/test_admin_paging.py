"""The capped-count paginator: one count query, exact up to its limit, estimated past it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.backoffice.tests.admin_world import build_world
from apps.core.admin_paging import CappedCountPaginator, planner_estimate
from apps.transactions.models import Transaction

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("limit", [5, 100])
def test_a_count_is_one_query_under_or_past_the_limit(monkeypatch, limit):
    build_world(pools=1, transactions=12)
    monkeypatch.setattr(CappedCountPaginator, "exact_limit", limit)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE transactions_transaction")
    queryset = Transaction.objects.all()
    # when
    with CaptureQueriesContext(connection) as captured:
        paginator = CappedCountPaginator(queryset, 10)
        count = paginator.count
    # then
    assert len(captured.captured_queries) == 1
    if limit == 100:
        assert (count, paginator.estimated) == (12, False)
    elif connection.vendor == "postgresql":
        assert paginator.estimated is True
        assert count == max(planner_estimate(queryset) or 0, limit + 1)
    else:
        assert (count, paginator.estimated) == (limit + 1, True)


def test_a_filter_value_with_quotes_is_estimated_as_written(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the estimate is PostgreSQL's (set DATABASE_URL)")
    world = build_world(pools=1, transactions=12)
    Transaction.objects.filter(pk=world.transactions[0].pk).update(external_id="it's; --")
    monkeypatch.setattr(CappedCountPaginator, "exact_limit", 0)
    queryset = Transaction.objects.filter(external_id__in=["it's; --", "x"])
    paginator = CappedCountPaginator(queryset, 10)
    assert paginator.count == max(planner_estimate(queryset) or 0, 1)
    assert paginator.estimated is True
    assert Transaction.objects.count() == 12


def test_a_filter_that_selects_nothing_by_construction_counts_zero_without_a_query():
    build_world(pools=1, transactions=3)
    with CaptureQueriesContext(connection) as captured:
        none = CappedCountPaginator(Transaction.objects.none(), 10).count
        empty_in = CappedCountPaginator(Transaction.objects.filter(pk__in=[]), 10).count
    assert (none, empty_in) == (0, 0)
    assert captured.captured_queries == []
