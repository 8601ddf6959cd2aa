"""Daily settlement: each figure exactly as apps.transactions.settlement defines it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.pools.models import Pool, PoolSnapshot
from apps.streamers.models import Streamer
from apps.transactions.models import DailySettlement, Transaction
from apps.transactions.settlement import day_bounds, settlement_compute, settlements_refresh
from apps.transactions.tasks import settlement_task

D = Decimal
pytestmark = pytest.mark.django_db

TODAY = timezone.now().astimezone(UTC).date()
DAY = TODAY - timedelta(days=3)
NOON = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def tx(operator, kind, status, amount, *, at=NOON, currency="USD", demo=False):
    row = Transaction.objects.create(
        operator=operator,
        kind=kind,
        status=status,
        amount=D(amount),
        currency=currency,
        is_demo=demo,
    )
    Transaction.objects.filter(pk=row.pk).update(completed_at=at)
    return row


def pool_for(streamer, *, balance, total, streamer_units, opened, state="open", closed=None):
    pool = Pool.objects.create(
        streamer=streamer,
        operator=streamer.operator,
        currency=streamer.currency,
        state=state,
        balance=D(balance),
        total_units=D(total),
        streamer_units=D(streamer_units),
        closed_at=closed,
    )
    Pool.objects.filter(pk=pool.pk).update(opened_at=opened)
    return pool


def test_flows_count_only_what_the_definitions_say(operator, streamer):
    # given: one day of movements, and noise around it
    tx(operator, "follower_debit", "succeeded", "100")
    tx(operator, "follower_debit", "rolled_back", "50")  # refunded: not money in
    tx(operator, "follower_debit", "failed", "20")  # never happened
    tx(operator, "follower_credit", "succeeded", "80")
    tx(operator, "follower_credit", "succeeded", "0")  # a WIN of 0 closes a round
    tx(operator, "follower_credit", "pending", "30")  # not paid yet
    tx(operator, "follower_rollback", "succeeded", "50")
    tx(operator, "streamer_deposit", "succeeded", "100")  # within the operator
    tx(operator, "follower_debit", "succeeded", "1000", demo=True)  # play money
    tx(operator, "follower_debit", "succeeded", "7", at=NOON + timedelta(days=1))
    tx(operator, "follower_debit", "succeeded", "9", at=day_bounds(DAY)[0])  # 00:00 belongs
    # when
    [row] = settlement_compute(day=DAY)
    # then
    assert (row.operator, row.currency, row.day) == (operator, "USD", DAY)
    assert (row.money_in, row.money_out, row.rollbacks, row.fees) == (D(109), D(80), D(50), D(0))
    assert row.transactions_count == 5
    assert row.open_exposure == 0


def test_every_operator_currency_gets_a_row_even_without_movements(operator, streamer):
    Streamer.objects.create(
        operator=operator, operator_user_id="s-eur", display_name="E", currency="EUR"
    )
    Streamer.objects.filter(operator=operator).update(created_at=NOON - timedelta(days=1))
    rows = settlement_compute(day=DAY)
    assert sorted((r.currency, r.money_in, r.transactions_count) for r in rows) == [
        ("EUR", 0, 0),
        ("USD", 0, 0),
    ]


def test_todays_exposure_is_followers_units_at_the_last_known_balance(operator, streamer):
    # given: 100 follower units of 1100 in a pool now worth 2200 -> 200
    pool_for(streamer, balance="2200", total="1100", streamer_units="1000", opened=NOON)
    other = Streamer.objects.create(
        operator=operator, operator_user_id="s2", display_name="T", currency="USD"
    )
    pool_for(
        other,
        balance="500",
        total="600",
        streamer_units="100",
        opened=NOON,
        state="closed",
        closed=timezone.now() - timedelta(minutes=1),
    )
    # when
    [row] = settlement_compute(day=TODAY)
    # then: the closed pool holds nobody's money any more
    assert row.open_exposure == D(200)


def test_a_past_days_exposure_uses_the_snapshot_known_at_its_end(operator, streamer):
    # given: a pool open across the end of DAY, closed since
    end = day_bounds(DAY)[1]
    pool = pool_for(
        streamer,
        balance="999",
        total="1100",
        streamer_units="1000",
        opened=NOON - timedelta(days=1),
        state="closed",
        closed=end + timedelta(hours=5),
    )
    for when, balance in ((NOON, "1650"), (end + timedelta(hours=1), "3300")):
        PoolSnapshot.objects.create(
            pool=pool, balance=D(balance), total_units=D(1100), nav=1, taken_at=when
        )
    # when
    [row] = settlement_compute(day=DAY)
    # then: 100 units at 1650 / 1100
    assert row.open_exposure == D(150)


def test_recomputing_replaces_the_row(operator, streamer):
    settlement_compute(day=DAY)
    tx(operator, "follower_debit", "succeeded", "10")
    [row] = settlement_compute(day=DAY)
    assert DailySettlement.objects.count() == 1 and row.money_in == D(10)


def test_the_schedule_refreshes_yesterday_and_today(operator, streamer):
    yesterday = TODAY - timedelta(days=1)
    tx(
        operator,
        "follower_debit",
        "succeeded",
        "5",
        at=datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23),
    )
    assert settlement_task.delay().get() == 2
    assert DailySettlement.objects.get(day=yesterday).money_in == D(5)
    assert DailySettlement.objects.get(day=TODAY).money_in == D(0)
    # a streamer registered today has no row for the days before it existed
    assert [row.day for row in settlements_refresh(days=3)] == [yesterday, TODAY]
    Streamer.objects.update(created_at=NOON)
    assert len(settlements_refresh(days=3)) == 3
