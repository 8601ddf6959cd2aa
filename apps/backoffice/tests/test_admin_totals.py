"""Per-currency totals of the current filter above the transactions, positions, pools and
withdrawal-locks changelists (``apps.backoffice.admin_totals``)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.backoffice.admin_totals import UNAVAILABLE, ChangeListTotalsMixin
from apps.backoffice.groups import FINANCE, OPERATIONS, READ_ONLY
from apps.backoffice.tests.admin_world import (
    make_member,
    make_pool,
    make_transactions,
    secret_operator,
    staff_user,
    superuser,
)
from apps.followers.models import Position
from apps.pools.models import Pool
from apps.transactions.models import Transaction

D = Decimal
pytestmark = pytest.mark.django_db

TRANSACTIONS = "admin:transactions_transaction_changelist"
POSITIONS = "admin:followers_position_changelist"
POOLS = "admin:pools_pool_changelist"
LOCKS = "admin:backoffice_withdrawallock_changelist"


@pytest.fixture
def world():
    """Two USD pools and one EUR pool, a member each, transactions of every kind."""
    operator = secret_operator()
    pools = [make_pool(operator, n, balance=D("1000.12345678") + n) for n in range(3)]
    Pool.objects.filter(pk=pools[2].pk).update(currency="EUR")
    positions = [
        make_member(pool, n, contributed=D("100.005") * (n + 1)) for n, pool in enumerate(pools)
    ]
    for n, position in enumerate(positions):
        make_transactions(position, 6, start=n * 6)
    Transaction.objects.filter(pool=pools[2]).update(currency="EUR")
    return pools


@pytest.fixture
def root(client):
    client.force_login(superuser())
    return client


def rows(response):
    totals = response.context["cp_totals"]
    return [(r.currency, *r.groups, r.count, *(_title(f) for f in r.figures)) for r in totals.rows]


def _title(html) -> Decimal | None:
    text = str(html)
    if 'title="' not in text:
        return None
    return D(text.split('title="')[1].split('"')[0])


def expected_transactions(queryset):
    sums: dict[tuple[str, str], list] = defaultdict(lambda: [0, D(0)])
    for tx in queryset:
        sums[(tx.currency, tx.get_kind_display())][0] += 1
        sums[(tx.currency, tx.get_kind_display())][1] += tx.amount
    return sorted((c, k, n, a) for (c, k), (n, a) in sums.items())


def _sorted(found):
    return sorted(found)


def test_transaction_totals_are_per_currency_and_kind_and_follow_the_filter(root, world):
    everything = root.get(reverse(TRANSACTIONS))
    assert _sorted(rows(everything)) == expected_transactions(Transaction.objects.all())
    currencies = {r[0] for r in rows(everything)}
    assert currencies == {"USD", "EUR"}
    page = everything.content.decode()
    assert "Totals of this filter" in page and 'data-currency="EUR"' in page

    debits = root.get(reverse(TRANSACTIONS), {"kind": "follower_debit"})
    expected = expected_transactions(Transaction.objects.filter(kind="follower_debit"))
    assert _sorted(rows(debits)) == expected and len(expected) == 2

    euros = root.get(reverse(TRANSACTIONS), {"currency": "EUR", "status": "succeeded"})
    expected = expected_transactions(Transaction.objects.filter(currency="EUR", status="succeeded"))
    assert _sorted(rows(euros)) == expected and {r[0] for r in expected} == {"EUR"}


def test_the_totals_cost_one_query(root, world, monkeypatch):
    url = reverse(TRANSACTIONS)
    root.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as with_totals:
        root.get(url)
    monkeypatch.setattr(ChangeListTotalsMixin, "totals_rows", lambda self, queryset: [])
    with CaptureQueriesContext(connection) as without:
        root.get(url)
    aggregate = [q["sql"] for q in with_totals.captured_queries if "GROUP BY" in q["sql"]]
    assert len(aggregate) == 1 and "SUM" in aggregate[0]
    # Beside the aggregate, on PostgreSQL only its savepoint and the timeout around it.
    extra = len(with_totals.captured_queries) - len(without.captured_queries)
    guard = [
        q["sql"]
        for q in with_totals.captured_queries
        if q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "SET LOCAL statement_timeout"))
    ]
    assert extra == 1 + len(guard)
    assert len(guard) == (4 if connection.vendor == "postgresql" else 0)


def test_a_slow_aggregate_says_so_and_the_page_still_works(root, world, monkeypatch):
    class TooSlow:
        db = "default"

        def __iter__(self):
            raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(ChangeListTotalsMixin, "totals_query", lambda self, queryset: TooSlow())
    response = root.get(reverse(TRANSACTIONS))
    assert response.status_code == 200
    page = response.content.decode()
    assert UNAVAILABLE in page and "data-totals-unavailable" in page
    assert 'id="result_list"' in page  # the rows are still listed


def test_position_totals_are_per_pool_currency(root, world):
    response = root.get(reverse(POSITIONS))
    found = {r[0]: r[1:] for r in rows(response)}
    usd = Position.objects.filter(pool__currency="USD")
    assert found["USD"][0] == usd.count() == 2
    assert found["USD"][1] == sum(p.contributed for p in usd) == D("300.015")
    assert found["EUR"][:2] == (1, D("300.01500000"))
    closed = root.get(reverse(POSITIONS), {"status__exact": "closed"})
    assert rows(closed) == []
    assert "Nothing matches this filter." in closed.content.decode()


def test_pool_totals_are_balances_per_currency_and_follow_the_filter(root, world):
    found = {r[0]: r[1:] for r in rows(root.get(reverse(POOLS)))}
    assert found["USD"] == (2, D("2001.24691356"), D("300.01500000"))
    assert found["EUR"] == (1, D("1002.12345678"), D("300.01500000"))
    euros = root.get(reverse(POOLS), {"currency": "EUR"})
    assert [r[0] for r in rows(euros)] == ["EUR"]
    page = root.get(reverse(POOLS)).content.decode()
    assert 'title="2001.24691356">2,001.25<span class="cp-ccy">USD' in page


def test_lock_totals_are_the_locked_amounts_per_currency(root, world):
    Pool.objects.filter(pk=world[1].pk).update(lock_state="released")
    found = {r[0]: r[1:] for r in rows(root.get(reverse(LOCKS)))}
    assert found["USD"] == (1, D("1000.12345678"), D("100.00500000"))
    assert found["EUR"][0] == 1
    stale = root.get(reverse(LOCKS), {"stale": "no"})
    assert all(r[1] <= 2 for r in rows(stale))


@pytest.mark.parametrize("group", [OPERATIONS, FINANCE, READ_ONLY])
def test_every_staff_group_sees_the_totals(client, world, group):
    client.force_login(staff_user(f"user-{group}", group))
    for name in (TRANSACTIONS, POSITIONS, POOLS, LOCKS):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert response.context["cp_totals"].rows, name


def test_review_queue_totals_are_what_the_queue_part_holds(root, world):
    from apps.backoffice import review

    queue = root.get(reverse("admin:backoffice_reviewitem_changelist"))
    shown = review.review_queue(state=review.OPEN)
    assert _sorted(rows(queue)) == expected_transactions(shown)
    assert shown.count() < Transaction.objects.count()  # only the open part of the queue


def test_settlement_totals_add_up_every_day_the_filter_selects(root):
    from datetime import date, timedelta

    from apps.transactions.models import DailySettlement

    operator = secret_operator()
    for day in range(3):
        DailySettlement.objects.create(
            operator=operator,
            currency="USD",
            day=date(2026, 11, 1) + timedelta(days=day),
            money_in=D("1000.00000001"),
            money_out=D("250.5"),
            fees=D("12.345"),
        )
    response = root.get(reverse("admin:transactions_dailysettlement_changelist"))
    assert rows(response) == [
        ("USD", 3, D("3000.00000003"), D("751.5"), D("0"), D("37.035"), D("0"))
    ]
    one_day = root.get(
        reverse("admin:transactions_dailysettlement_changelist"),
        {"day__from": "2026-11-02", "day__to": "2026-11-02"},
    )
    assert rows(one_day)[0][1:3] == (1, D("1000.00000001"))


def test_on_postgresql_a_slow_aggregate_is_cut_off_and_the_page_goes_on(root, world, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's (set DATABASE_URL)")
    from apps.backoffice.admin.transactions import TransactionAdmin

    slow = ChangeListTotalsMixin.totals_query

    def sleeping(self, queryset):
        return slow(self, queryset).extra(where=["pg_sleep(0.2) IS NOT NULL"])

    monkeypatch.setattr(TransactionAdmin, "totals_timeout_ms", 50)
    monkeypatch.setattr(ChangeListTotalsMixin, "totals_query", sleeping)
    response = root.get(reverse(TRANSACTIONS))
    assert response.status_code == 200
    assert UNAVAILABLE in response.content.decode()
    assert len(response.context["cl"].result_list) == Transaction.objects.count()
    # the timeout did not outlive the aggregate: a slow query after it still runs
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.1), current_setting('statement_timeout')")
        assert cursor.fetchone()[1] == "0"
