"""The admin site itself: dashboard figures, staff groups, login rate limiting, audit
history, and the building blocks (paginator, filters, charts, exports)."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from apps.backoffice.dashboard import dashboard_summary, pooled_value_series
from apps.backoffice.groups import FINANCE, OPERATIONS, READ_ONLY, staff_groups_ensure
from apps.backoffice.models import StaffAction
from apps.backoffice.services import staff_action_record
from apps.backoffice.tests.admin_world import build_world, make_pool, secret_operator, superuser
from apps.core import exports
from apps.core.admin_paging import CappedCountPaginator
from apps.core.charts import Series, line_chart
from apps.pools.models import Pool, PoolSnapshot
from apps.transactions.models import Transaction
from apps.transactions.resources import TransactionResource

D = Decimal


@pytest.fixture
def root(client, db):
    user = superuser()
    client.force_login(user)
    client.user = user
    return client


# --- dashboard -----------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_figures():
    # given: 2 pools locked (one stale), a demo pool, a closed pool, 12 transactions
    world = build_world(pools=2, transactions=12)
    demo = make_pool(world.operator, 9)
    Pool.objects.filter(pk=demo.pk).update(is_demo=True, currency="DEMO")
    closed = make_pool(world.operator, 8)
    Pool.objects.filter(pk=closed.pk).update(state="closed")
    # when
    summary = dashboard_summary()
    # then: demo and closed pools count nowhere
    assert summary.open_pools == 2
    [usd] = summary.value_by_currency
    assert (usd.currency, usd.pools, usd.value) == ("USD", 2, D("2000.24691356"))
    assert summary.followers_in_pools == 2
    assert (summary.streamers_locked, summary.stale_locks) == (2, 1)
    unknown = sum(1 for t in world.transactions if t.status == "unknown")
    assert summary.transactions_unknown == unknown
    assert (
        summary.review_waiting
        == Transaction.objects.filter(
            pk__in=__import__("apps.backoffice.review", fromlist=["x"]).review_queue()
        ).count()
    )
    assert summary.open_discrepancies == 1
    assert summary.last_reconciliation.findings == 1
    # the chart: per hour, the real pools' balances then (the closed one held money too)
    points = summary.pooled_value["USD"]
    assert len(points) == 6
    assert points[-1][1] == 3 * (D("1000.12345678") + 50 - 25)


@pytest.mark.django_db
def test_pooled_value_sums_each_pools_average_per_bucket():
    pool_a = make_pool(secret_operator("chart"), 5, snapshots=0)
    pool_b = make_pool(secret_operator("chart2"), 6, snapshots=0)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    for minute, value in ((5, "100"), (35, "300")):  # two readings of A in the same hour
        PoolSnapshot.objects.create(
            pool=pool_a,
            balance=D(value),
            total_units=1,
            nav=1,
            taken_at=hour + timedelta(minutes=minute),
        )
    PoolSnapshot.objects.create(
        pool=pool_b, balance=D("50"), total_units=1, nav=1, taken_at=hour + timedelta(minutes=5)
    )
    PoolSnapshot.objects.create(
        pool=pool_b, balance=D("70"), total_units=1, nav=1, taken_at=hour + timedelta(minutes=35)
    )
    series = pooled_value_series(since=hour - timedelta(hours=1))
    # A averaged 200 over the hour, B 60: 260 held in pools
    assert series == {"USD": [(hour, D("260"))]}


def test_dashboard_page(root):
    build_world(pools=2, transactions=12)
    staff_action_record(
        user=root.user,
        action="pool_refresh_balance",
        target=Pool.objects.first(),
        reason="Morning check",
        outcome="done",
    )
    page = root.get(reverse("admin:index")).content.decode()
    for label in (
        "Open pools",
        "Followers in pools",
        "Streamers locked",
        "Transactions unknown",
        "Waiting for review",
        "Open discrepancies",
        "Last reconciliation",
        "Pooled value over time",
        "Recent staff actions",
        "Morning check",
    ):
        assert label in page
    assert "2,000.25" in page and "2000.24691356 USD" in page  # 2 decimals, exact on hover
    assert "<polyline" in page


# --- groups, permissions, login limits -------------------------------------------------


@pytest.mark.django_db
def test_the_data_migration_created_the_three_groups():
    perms = {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions__content_type")
    }
    assert {"backoffice.act_operations", "operators.change_operator"} <= perms[OPERATIONS]
    assert "backoffice.export_finance" not in perms[OPERATIONS]
    assert "backoffice.export_finance" in perms[FINANCE]
    assert "backoffice.act_operations" not in perms[FINANCE]
    assert all(p.split(".")[1].startswith("view_") for p in perms[READ_ONLY])
    assert "transactions.view_historicaltransaction" in perms[READ_ONLY]
    assert perms[READ_ONLY] < perms[FINANCE]
    assert {"streamers.add_stream", "streamers.change_streamer"} <= perms[OPERATIONS]
    assert "streamers.view_streamerinvite" in perms[READ_ONLY]
    # and the migrations gave exactly what the code defines: ensuring again changes nothing
    staff_groups_ensure()
    assert Group.objects.count() == 3
    assert {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions__content_type")
    } == perms


@pytest.mark.django_db
def test_read_only_staff_see_everything_and_change_nothing(client):
    world = build_world(pools=1, transactions=3)
    user = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=READ_ONLY))
    client.force_login(user)
    assert client.get(reverse("admin:index")).status_code == 200
    for name in (
        "pools_pool",
        "backoffice_reviewitem",
        "transactions_transaction",
        "operators_calllog",
    ):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    change = reverse("admin:operators_operator_change", args=[world.operator.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"name": "hacked"}).status_code == 403
    assert client.get(reverse("admin:transactions_transaction_export")).status_code == 403


@pytest.mark.django_db(transaction=True)
@override_settings(AXES_ENABLED=True)
def test_failed_admin_logins_are_rate_limited(client):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "right-password-1")
    url = reverse("admin:login")
    # when: four wrong passwords get the form again, the fifth locks the account out
    for _ in range(4):
        response = client.post(url, {"username": "boss", "password": "wrong"})
        assert response.status_code == 200
    assert client.post(url, {"username": "boss", "password": "wrong"}).status_code == 429
    # then: even the right password is refused now
    response = client.post(url, {"username": "boss", "password": "right-password-1"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)
@override_settings(AXES_ENABLED=True)
def test_a_good_login_still_works_with_axes_on(client):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "right-password-1")
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": "boss", "password": "right-password-1"},
    )
    assert response.status_code == 302 and client.session["_auth_user_id"]


# --- audit ---------------------------------------------------------------------------


def test_transaction_history_records_who_changed_it(root):
    world = build_world(pools=1, transactions=3)
    tx = world.transactions[0]
    url = reverse("admin:backoffice_reviewitem_act", args=[tx.pk, "transaction_mark_resolved"])
    root.post(url, {"confirm": "yes", "reason": "Checked"})
    history = root.get(reverse("admin:transactions_transaction_history", args=[tx.pk]))
    assert history.status_code == 200
    last = tx.history.order_by("-history_id").first()
    assert last.history_user == root.user and last.reviewed_by_id == root.user.pk


def test_staff_actions_are_listed_and_read_only(root):
    world = build_world(pools=1, transactions=1)
    record = staff_action_record(
        user=root.user,
        action="pool_settle",
        target=world.pools[0],
        reason="End of stream",
        outcome="done",
        message="2 leave(s) started",
    )
    page = root.get(reverse("admin:backoffice_staffaction_changelist")).content.decode()
    assert "End of stream" in page and "pool_settle" in page
    change = reverse("admin:backoffice_staffaction_change", args=[record.pk])
    assert root.post(change, {"reason": "rewritten"}).status_code == 403
    assert StaffAction.objects.get().reason == "End of stream"


@pytest.mark.django_db
def test_the_database_refuses_an_action_without_a_reason():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        StaffAction.objects.create(
            username="x", action="a", target_type="t", target_id="1", reason="", outcome="done"
        )


# --- building blocks -----------------------------------------------------------------


@pytest.mark.django_db
def test_paginator_counts_exactly_up_to_its_limit_then_estimates(monkeypatch):
    build_world(pools=1, transactions=12)
    monkeypatch.setattr(CappedCountPaginator, "exact_limit", 5)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE transactions_transaction")
    # when
    small = CappedCountPaginator(Transaction.objects.filter(kind="follower_debit"), 10)
    big = CappedCountPaginator(Transaction.objects.all(), 10)
    # then
    assert (small.count, small.estimated) == (3, False)
    count = big.count
    assert big.estimated is True
    if connection.vendor == "postgresql":
        assert count == 12  # the planner's statistics, fresh after ANALYZE
    else:
        assert count == 6  # no planner estimate: "more than 5"


@pytest.mark.django_db
def test_date_range_filter_days_are_inclusive(client):
    world = build_world(pools=1, transactions=3)
    client.force_login(superuser())
    tx = world.transactions[0]
    Transaction.objects.filter(pk=tx.pk).update(
        created_at=datetime(2026, 3, 10, 23, 59, tzinfo=UTC)
    )
    url = reverse("admin:transactions_transaction_changelist")
    hit = client.get(url, {"created_at__from": "2026-03-10", "created_at__to": "2026-03-10"})
    miss = client.get(url, {"created_at__from": "2026-03-11"})
    assert [t.pk for t in hit.context["cl"].result_list] == [tx.pk]
    assert tx.pk not in {t.pk for t in miss.context["cl"].result_list}
    bad = client.get(url, {"created_at__from": "yesterday"})
    assert bad.status_code == 302 and "e=1" in bad["Location"]


def test_chart_renders_series_and_escapes_names():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    points = [(now + timedelta(hours=i), D(i * 10)) for i in range(5)]
    svg = line_chart([Series("<USD>", points)], title="Pooled & more")
    assert svg.startswith('<svg class="cp-chart"') and svg.count("<circle") == 5
    assert "&lt;USD&gt;" in svg and "<USD>" not in svg and "Pooled &amp; more" in svg
    assert "No data yet" in line_chart([], empty_text="No data yet")


def test_chart_thins_long_series():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    points = [(now + timedelta(minutes=i), D(i)) for i in range(5000)]
    assert line_chart([Series("x", points)]).count("<circle") <= 401


@pytest.mark.django_db
def test_streamed_csv_matches_the_resource_columns():
    world = build_world(pools=1, transactions=5)
    columns = exports.columns_from_resource(TransactionResource(), Transaction)
    text = "".join(exports.csv_chunks(Transaction.objects.order_by("pk"), columns, chunk_size=2))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == TransactionResource().get_export_headers()
    assert len(rows) == 6
    amount = rows[0].index("amount")
    assert rows[1][amount] == f"{world.transactions[0].amount:.8f}"
    units = rows[0].index("units")
    assert rows[1][units] == ""


def test_cell_formatting():
    assert exports._cell_text(D("1.5"), 8) == "1.50000000"
    assert exports._cell_text(datetime(2026, 1, 2, 3, 4, tzinfo=UTC), None) == (
        "2026-01-02T03:04:00+00:00"
    )
    assert exports._cell_text(True, None) == "true"
    assert exports._cell_text("-1+2", None) == "'-1+2"
    assert exports._cell_text(None, 8) == ""


def test_every_dashboard_card_leads_to_a_working_page(root):
    import re

    build_world(pools=2, transactions=12)
    page = root.get(reverse("admin:index")).content.decode()
    links = re.findall(r'class="cp-card[^"]*" href="([^"]+)"', page)
    assert len(links) == 7
    for link in links:
        response = root.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        assert response.context["cl"].result_count > 0, link


@pytest.mark.django_db
def test_pooled_value_counts_a_pool_only_for_the_rounds_it_was_open():
    # given: a streamer's pool held 39,000 for the first round of the hour, closed, and the
    # streamer's next pool held 39,000 for the other five rounds; a second streamer held 1,000
    # all hour (six rounds, every 10 minutes)
    first = make_pool(secret_operator("spike"), 7, snapshots=0)
    reopened = make_pool(secret_operator("spike2"), 8, snapshots=0)
    steady = make_pool(secret_operator("spike3"), 9, snapshots=0)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)

    def snap(pool, minute, value):
        PoolSnapshot.objects.create(
            pool=pool,
            balance=D(value),
            total_units=1,
            nav=1,
            taken_at=hour + timedelta(minutes=minute),
        )

    snap(first, 0, "39000")
    for minute in (10, 20, 30, 40, 50):
        snap(reopened, minute, "39000")
    for minute in (0, 10, 20, 30, 40, 50):
        snap(steady, minute, "1000")
    # when
    series = pooled_value_series(since=hour - timedelta(hours=1))
    # then: 40,000 was held at every round; never the 79,000 of counting both pools all hour
    assert series == {"USD": [(hour, D("40000"))]}


def test_the_chart_title_says_what_one_point_stands_for(root):
    pool = make_pool(secret_operator("young"), 10, snapshots=0)
    PoolSnapshot.objects.create(
        pool=pool,
        balance=D("5"),
        total_units=1,
        nav=1,
        taken_at=timezone.now() - timedelta(minutes=20),
    )
    # given: a history younger than six hours, plotted per minute
    page = root.get(reverse("admin:index")).content.decode()
    assert "last 7 days (per minute average)" in page
    # and an older one, hourly
    PoolSnapshot.objects.create(
        pool=pool, balance=D("5"), total_units=1, nav=1, taken_at=timezone.now() - timedelta(days=2)
    )
    page = root.get(reverse("admin:index")).content.decode()
    assert "last 7 days (hourly average)" in page
