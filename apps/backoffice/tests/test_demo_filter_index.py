"""The transactions list's demo filter reads the ``tx_demo_recent`` partial index."""

import pytest
from django.db import connection
from django.urls import reverse

from apps.backoffice.tests.admin_world import (
    build_world,
    plan_at_scale,
    settled_clones,
    superuser,
)
from apps.transactions.models import Transaction

pytestmark = pytest.mark.django_db

TRANSACTIONS = "admin:transactions_transaction_changelist"


def test_the_demo_filter_lists_exactly_the_demo_transactions_newest_first(client):
    world = build_world(pools=1, transactions=12)
    demo = [t.pk for t in world.transactions[::3]]
    Transaction.objects.filter(pk__in=demo).update(is_demo=True)
    client.force_login(superuser())
    # when
    response = client.get(reverse(TRANSACTIONS), {"is_demo__exact": "1"})
    # then
    listed = [t.pk for t in response.context["cl"].result_list]
    expected = Transaction.objects.filter(is_demo=True).order_by("-created_at", "-id")
    assert listed == [t.pk for t in expected]
    assert sorted(listed) == sorted(demo)
    assert sum(row.count for row in response.context["cp_totals"].rows) == len(demo)


def test_on_postgresql_the_demo_filter_uses_its_partial_index():
    if connection.vendor != "postgresql":
        pytest.skip("the partial index is PostgreSQL's plan (set DATABASE_URL)")
    build_world(pools=1, transactions=6)
    settled_clones(2000)
    Transaction.objects.filter(pk__in=Transaction.objects.order_by("pk")[:3]).update(is_demo=True)
    page = Transaction.objects.filter(is_demo=True).order_by("-created_at", "-id")[:50]
    plan = plan_at_scale(page)
    assert "tx_demo_recent" in plan, plan
