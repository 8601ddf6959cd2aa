"""The global search: each kind by id, id prefix and name; only the kinds a user may view;
clear messages for an empty search and no result; a bounded number of queries."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.backoffice.groups import OPERATIONS, READ_ONLY
from apps.backoffice.search import LIMIT, TX_PREFIX_MIN, global_search
from apps.backoffice.tests.admin_world import (
    make_member,
    make_pool,
    make_transactions,
    secret_operator,
    staff_user,
    superuser,
)
from apps.followers.models import Follower
from apps.streamers.models import Streamer

pytestmark = pytest.mark.django_db
ALL = frozenset({"pool", "follower", "streamer", "transaction", "saga"})


@pytest.fixture
def world():
    operator = secret_operator("acme")
    other = secret_operator("zed")
    pool = make_pool(operator, 1, snapshots=0)
    Streamer.objects.filter(pk=pool.streamer_id).update(display_name="Lucky Luke")
    position = make_member(pool, 1)
    Follower.objects.filter(pk=position.follower_id).update(username="Dalton")
    other_pool = make_pool(other, 2, snapshots=0)
    transactions = make_transactions(position, 3)
    return {
        "pool": pool,
        "other_pool": other_pool,
        "follower": Follower.objects.get(pk=position.follower_id),
        "streamer": Streamer.objects.get(pk=pool.streamer_id),
        "transactions": transactions,
    }


def found(q, kinds=ALL):
    outcome = global_search(q, kinds)
    return {result.kind: [row.pk for row in result.rows] for result in outcome.results}


def test_pools_by_number_and_by_their_streamer(world):
    pool = world["pool"]
    assert pool.pk in found(str(pool.pk))["pool"]
    assert pool.pk in found(f"#{pool.pk}")["pool"]
    # by the streamer's operator user id, its start, or the start of its name (any case)
    assert found("streamer-acme-1")["pool"] == [pool.pk]
    assert found("streamer-acme")["pool"] == [pool.pk]
    assert found("lucky")["pool"] == [pool.pk]
    assert found("streamer-zed-2")["pool"] == [world["other_pool"].pk]


def test_followers_by_number_operator_user_id_its_start_and_username(world):
    follower = world["follower"]
    assert follower.pk in found(str(follower.pk))["follower"]
    assert found(follower.operator_user_id)["follower"] == [follower.pk]
    assert found(follower.operator_user_id[:-2])["follower"] == [follower.pk]
    assert found("dal")["follower"] == [follower.pk]
    assert found("DALTON")["follower"] == [follower.pk]
    # a name is matched by its start, not anywhere in it
    assert found("alton")["follower"] == []


def test_streamers_by_number_operator_user_id_its_start_and_name(world):
    streamer = world["streamer"]
    assert streamer.pk in found(str(streamer.pk))["streamer"]
    assert found("streamer-acme-1")["streamer"] == [streamer.pk]
    assert found("streamer-")["streamer"] == sorted(
        [streamer.pk, world["other_pool"].streamer_id],
        key=lambda pk: Streamer.objects.get(pk=pk).display_name,
    )
    assert found("LUCKY L")["streamer"] == [streamer.pk]
    assert found("uke")["streamer"] == []


def test_transactions_by_number_external_id_its_start_and_operator_reference(world):
    tx = world["transactions"][1]
    assert tx.pk in found(str(tx.pk))["transaction"]
    assert found(tx.external_id)["transaction"] == [tx.pk]
    assert found(tx.external_id[:TX_PREFIX_MIN])["transaction"] == [tx.pk]
    assert found(tx.operator_reference)["transaction"] == [tx.pk]
    # a prefix shorter than the minimum would match too much of the biggest table
    assert tx.pk not in found(tx.external_id[: TX_PREFIX_MIN - 1])["transaction"]
    # transactions are never searched by name
    assert found("dalton")["transaction"] == []


def test_sagas_by_number_only(world):
    saga = world["transactions"][0].saga
    assert found(str(saga.pk))["saga"] == [saga.pk]
    assert found("join")["saga"] == []


def test_integer_ids_match_exactly_never_as_a_prefix(world):
    pool = world["pool"]
    assert pool.pk not in found(f"{pool.pk}0")["pool"]


def test_at_most_the_limit_per_kind_and_more_is_said(world):
    operator = world["pool"].operator
    for n in range(LIMIT + 3):
        Follower.objects.create(operator=operator, operator_user_id=f"bulk-{n:03}", username="")
    outcome = global_search("bulk-", ALL)
    [followers] = [r for r in outcome.results if r.kind == "follower"]
    assert len(followers.rows) == LIMIT and followers.more


def test_only_the_kinds_asked_are_searched(world):
    assert set(found("streamer-acme-1", frozenset({"streamer"}))) == {"streamer"}


def test_a_search_runs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    operator = world["pool"].operator
    with CaptureQueriesContext(connection) as small:
        global_search("streamer-acme", ALL)
    for n in range(40):
        Follower.objects.create(operator=operator, operator_user_id=f"streamer-acme-f{n}")
        Streamer.objects.create(
            operator=operator, operator_user_id=f"streamer-acme-s{n}", display_name=f"S {n}"
        )
    with CaptureQueriesContext(connection) as big:
        global_search("streamer-acme", ALL)
    assert len(big.captured_queries) == len(small.captured_queries) <= 10
    for q in ("1", world["transactions"][0].external_id, "dalton"):
        with django_assert_max_num_queries(10):
            global_search(q, ALL)


def test_transactions_are_found_through_indexed_lookups_only(world):
    external_id = world["transactions"][0].external_id
    with CaptureQueriesContext(connection) as queries:
        global_search(external_id, frozenset({"transaction"}))
    sql = [q["sql"] for q in queries.captured_queries if "transactions_transaction" in q["sql"]]
    assert len(sql) == 3  # external id, operator reference, external id prefix
    for statement in sql:
        assert "LIKE '%" not in statement, statement  # never a match inside the text
        if "LIKE" in statement:  # a prefix: written as a range the index can seek
            assert f">= '{external_id}'" in statement, statement


# --- the page ------------------------------------------------------------------------------


def test_the_page_groups_results_by_kind_with_links(client, world):
    client.force_login(superuser())
    tx = world["transactions"][0]
    response = client.get(reverse("admin:search"), {"q": "streamer-acme-1"})
    html = response.content.decode()
    assert [g["kind"] for g in response.context["groups"]] == ["pool", "streamer"]
    assert reverse("admin:pools_pool_change", args=[world["pool"].pk]) in html
    assert reverse("admin:streamers_streamer_change", args=[world["streamer"].pk]) in html
    response = client.get(reverse("admin:search"), {"q": tx.external_id})
    [group] = response.context["groups"]
    assert group["kind"] == "transaction"
    assert group["hits"][0].url == reverse("admin:transactions_transaction_change", args=[tx.pk])


def test_more_than_the_limit_links_to_the_list_with_the_search(client, world):
    client.force_login(superuser())
    operator = world["pool"].operator
    for n in range(LIMIT + 1):
        Follower.objects.create(operator=operator, operator_user_id=f"bulk-{n:03}")
    html = client.get(reverse("admin:search"), {"q": "bulk-"}).content.decode()
    assert f"Showing the first {LIMIT}." in html
    assert reverse("admin:followers_follower_changelist") + "?q=bulk-" in html


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "Type an id, the start of an id, or a name."),
        ("   ", "Type an id, the start of an id, or a name."),
        ("x" * 200, "A search is at most 128 characters."),
        ("no-such-thing", "Nothing matches “no-such-thing”."),
    ],
)
def test_empty_too_long_and_no_result_say_so(client, world, q, message):
    client.force_login(superuser())
    html = client.get(reverse("admin:search"), {"q": q}).content.decode()
    assert message in html
    assert 'data-testid="search-message"' in html


@pytest.mark.parametrize("group", [OPERATIONS, READ_ONLY])
def test_each_group_may_search(client, world, group):
    client.force_login(staff_user(f"u-{group}", group))
    response = client.get(reverse("admin:search"), {"q": "streamer-acme-1"})
    assert response.status_code == 200
    assert {g["kind"] for g in response.context["groups"]} == {"pool", "streamer"}


def test_only_the_kinds_the_user_may_view(client, world):
    user = staff_user("narrow")
    user.user_permissions.add(Permission.objects.get(codename="view_streamer"))
    client.force_login(user)
    response = client.get(reverse("admin:search"), {"q": "streamer-acme-1"})
    assert [g["kind"] for g in response.context["groups"]] == ["streamer"]
    assert "sagas" not in response.context["searched"]
    # a staff user who may view none of the kinds has no search at all
    client.force_login(staff_user("none"))
    assert client.get(reverse("admin:search"), {"q": "1"}).status_code == 403


def test_the_page_runs_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    client.force_login(staff_user("olga", OPERATIONS))
    client.get(reverse("admin:search"), {"q": "streamer-acme"})  # warm permission caches
    with django_assert_max_num_queries(20):
        client.get(reverse("admin:search"), {"q": "streamer-acme"})
