"""The review queue is one condition that the ``tx_review_queue`` partial index answers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.backoffice import review
from apps.backoffice.dashboard import dashboard_summary
from apps.backoffice.tests.admin_world import (
    build_world,
    plan_at_scale,
    settled_clones,
    superuser,
)
from apps.transactions.models import Saga, Transaction

pytestmark = pytest.mark.django_db


def expected_queue(*, open_only: bool) -> set[int]:
    """The queue as the brief words it, row by row in Python."""
    found = set()
    for tx in Transaction.objects.select_related("saga"):
        flagged_saga = tx.saga is not None and tx.saga.needs_review
        in_queue = (
            tx.status == "unknown"
            or (tx.status == "failed" and tx.attempts >= 2)
            or tx.needs_review
            or (flagged_saga and tx.status not in ("succeeded", "rolled_back"))
        )
        reviewed = tx.reviewed_at is not None and not tx.needs_review
        if in_queue and not (open_only and reviewed):
            found.add(tx.pk)
    return found


def test_the_index_condition_is_the_queue_condition():
    index = next(i for i in Transaction._meta.indexes if i.name == "tx_review_queue")
    assert index.condition == review.IN_QUEUE


@pytest.mark.parametrize("flag_sagas", [False, True])
def test_the_queue_and_the_dashboard_figures_are_unchanged(flag_sagas):
    # given: a world with unknown, retried-failed and flagged rows; reviewed ones; demo ones
    world = build_world(pools=2, transactions=40)
    if not flag_sagas:
        Saga.objects.update(needs_review=False)
    else:
        Saga.objects.filter(pk__in=[t.saga_id for t in world.transactions[:6]]).update(
            needs_review=True
        )
    reviewed = [t.pk for t in world.transactions if t.status == "unknown"][:1]
    Transaction.objects.filter(pk__in=reviewed).update(reviewed_at=world.pools[0].opened_at)
    Transaction.objects.filter(pk=world.transactions[-1].pk).update(is_demo=True, status="unknown")
    # when
    open_ids = set(review.review_queue().values_list("pk", flat=True))
    all_ids = set(review.review_queue(state=review.ALL).values_list("pk", flat=True))
    summary = dashboard_summary()
    # then
    assert open_ids == expected_queue(open_only=True)
    assert expected_queue(open_only=True) < expected_queue(open_only=False)
    resolved = set(review.review_queue(state=review.RESOLVED).values_list("pk", flat=True))
    assert all_ids == expected_queue(open_only=False) | resolved
    real = Transaction.objects.filter(is_demo=False)
    assert summary.review_waiting == real.filter(pk__in=open_ids).count()
    assert summary.transactions_unknown == real.filter(status="unknown").count() > 0


def test_the_review_queue_page_costs_the_same_queries_at_any_queue_size(client):
    client.force_login(superuser())
    url = reverse("admin:backoffice_reviewitem_changelist")
    build_world(pools=1, transactions=10)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    build_world(pools=3, transactions=90, code="more")
    with CaptureQueriesContext(connection) as big:
        response = client.get(url)
    assert response.context["cl"].result_count == len(expected_queue(open_only=True)) > 50
    assert len(big.captured_queries) == len(small.captured_queries)


def test_on_postgresql_the_queue_is_read_from_its_partial_index():
    if connection.vendor != "postgresql":
        pytest.skip("the partial index is PostgreSQL's plan (set DATABASE_URL)")
    build_world(pools=1, transactions=20)
    settled_clones(2000)
    Saga.objects.update(needs_review=False)
    page = review.review_queue().order_by("-pk")[:50]
    plan = plan_at_scale(page)
    assert "tx_review_queue" in plan, plan
