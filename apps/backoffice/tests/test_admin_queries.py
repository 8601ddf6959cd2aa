"""Every changelist runs a fixed number of queries, whatever the number of rows shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.backoffice.tests.admin_world import populate, superuser

CHANGELISTS = [
    "pools_pool",
    "pools_poolsnapshot",
    "backoffice_withdrawallock",
    "backoffice_reviewitem",
    "backoffice_staffaction",
    "transactions_transaction",
    "transactions_saga",
    "transactions_discrepancy",
    "transactions_reconciliationrun",
    "transactions_dailysettlement",
    "operators_operator",
    "operators_calllog",
    "followers_follower",
    "followers_playersession",
    "followers_position",
    "streamers_streamer",
    "streamers_stream",
]


@pytest.fixture
def admin_client_(client, db):
    client.force_login(superuser())
    return client


@pytest.mark.parametrize("rows", [10, 100])
@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_changelist_query_count_is_fixed(
    admin_client_, changelist, rows, django_assert_max_num_queries
):
    # given: `rows` of everything, all shown on one page (?all=)
    populate(rows)
    url = reverse(f"admin:{changelist}_changelist") + "?all="
    admin_client_.get(url)  # warm caches (content types, permissions) like a second visit
    # when / then
    with django_assert_max_num_queries(12):
        response = admin_client_.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count > 0


def test_the_dashboard_runs_a_fixed_number_of_queries(admin_client_):
    populate(10)
    admin_client_.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as small:
        admin_client_.get(reverse("admin:index"))
    populate(60, code="more")
    with CaptureQueriesContext(connection) as big:
        admin_client_.get(reverse("admin:index"))
    assert len(big.captured_queries) == len(small.captured_queries) <= 15
