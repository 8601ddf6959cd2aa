"""CopyStake's fees (apps.transactions.finance.fees) on hand-computed days, through the
daily settlement that records them."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.transactions.finance.fees import day_fees, month_totals, schedule_in_force
from apps.transactions.models import DailySettlement, FeeSchedule, Transaction
from apps.transactions.settlement import settlement_compute

D = Decimal
pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 14)


def tx(operator, kind, amount, *, day=DAY, status="succeeded", currency="USD"):
    row = Transaction.objects.create(
        operator=operator, kind=kind, status=status, amount=D(amount), currency=currency
    )
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    Transaction.objects.filter(pk=row.pk).update(completed_at=at)
    return row


def schedule(operator, start, turnover, ggr, minimum="0", currency="USD"):
    return FeeSchedule.objects.create(
        operator=operator,
        currency=currency,
        effective_from=start,
        turnover_percent=D(turnover),
        ggr_percent=D(ggr),
        monthly_minimum=D(minimum),
    )


def test_a_profitable_day(operator, streamer):
    # given: 0.5 % of turnover, 10 % of GGR; followers put in 1000 and got 800 back
    plan = schedule(operator, date(2026, 1, 1), "0.5", "10")
    tx(operator, "follower_debit", "1000")
    tx(operator, "follower_credit", "800")
    tx(operator, "performance_fee", "3.25")
    tx(operator, "performance_fee", "9", status="failed")
    # when
    [row] = settlement_compute(day=DAY)
    # then: 5 on turnover, 10 % of 200 GGR = 20
    assert (row.turnover_fee, row.ggr_fee, row.fees) == (D("5"), D("20"), D("25"))
    assert row.performance_fees == D("3.25")
    assert row.transactions_count == 2
    assert row.fee_schedule == plan


def test_a_day_the_followers_won_rounds_toward_zero(operator, streamer):
    # given: in 300.00000003, out 450
    schedule(operator, date(2026, 1, 1), "0.5", "10")
    tx(operator, "follower_debit", "300.00000003")
    tx(operator, "follower_credit", "450")
    # when
    [row] = settlement_compute(day=DAY)
    # then: 0.5 % of 300.00000003 = 1.50000000015 -> 1.50000000;
    # 10 % of -149.99999997 = -14.999999997 -> -14.99999999 (toward zero)
    assert row.turnover_fee == D("1.50000000")
    assert row.ggr_fee == D("-14.99999999")
    assert row.fees == D("-13.49999999")


def test_no_schedule_no_fees(operator, streamer):
    schedule(operator, DAY + timedelta(days=1), "1", "1")  # starts the day after
    schedule(operator, date(2026, 1, 1), "1", "1", currency="EUR")  # another currency
    tx(operator, "follower_debit", "1000")
    [row] = settlement_compute(day=DAY)
    assert (row.turnover_fee, row.ggr_fee, row.fees, row.fee_schedule) == (0, 0, 0, None)


def test_a_schedule_change_mid_month_applies_from_its_day(operator, streamer):
    # given: 1 % turnover to the 14th, 2 % and 5 % GGR from the 15th
    first = schedule(operator, date(2026, 10, 1), "1", "0")
    second = schedule(operator, date(2026, 10, 15), "2", "5")
    for day in (date(2026, 10, 14), date(2026, 10, 15)):
        tx(operator, "follower_debit", "200", day=day)
        tx(operator, "follower_credit", "100", day=day)
    # when
    [before] = settlement_compute(day=date(2026, 10, 14))
    [after] = settlement_compute(day=date(2026, 10, 15))
    # then
    assert (before.fee_schedule, before.turnover_fee, before.ggr_fee) == (first, D(2), D(0))
    assert (after.fee_schedule, after.turnover_fee, after.ggr_fee) == (second, D(4), D(5))


def test_schedules_are_read_in_one_query(operator, streamer):
    schedule(operator, date(2026, 1, 1), "1", "1")
    schedule(operator, date(2026, 1, 1), "1", "1", currency="EUR")
    tx(operator, "follower_debit", "10")
    tx(operator, "follower_debit", "10", currency="EUR")
    with CaptureQueriesContext(connection) as queries:
        rows = settlement_compute(day=DAY)
    assert len(rows) == 2 and all(row.fee_schedule_id for row in rows)
    reads = [q["sql"] for q in queries.captured_queries if "feeschedule" in q["sql"].lower()]
    assert len([sql for sql in reads if sql.lstrip().upper().startswith("SELECT")]) == 1


def test_rule_functions_on_their_own():
    plan = FeeSchedule(turnover_percent=D("0.25"), ggr_percent=D("12.5"))
    assert day_fees(schedule=plan, money_in=D("0.00000003"), money_out=D(0)).fees == D(0)
    assert day_fees(schedule=None, money_in=D(100), money_out=D(0)).fees == D(0)
    assert month_totals(line_amounts=[D(30), D(40)], minimum=D(100)).minimum_charge == D(30)
    assert month_totals(line_amounts=[D(300)], minimum=D(100)).minimum_charge == D(0)
    negative = month_totals(line_amounts=[D(-30)], minimum=D(0))
    assert (negative.subtotal, negative.minimum_charge, negative.total) == (D(-30), D(30), D(0))
    floor = month_totals(line_amounts=[D(-30)], minimum=D(100))
    assert (floor.minimum_charge, floor.total) == (D(130), D(100))
    a = FeeSchedule(effective_from=date(2026, 1, 1))
    b = FeeSchedule(effective_from=date(2026, 2, 1))
    assert schedule_in_force([a, b], date(2026, 1, 31)) is a
    assert schedule_in_force([a, b], date(2026, 2, 1)) is b
    assert schedule_in_force([a, b], date(2025, 12, 31)) is None


def test_settle_command_recomputes_days_and_prints_them(operator, streamer):
    schedule(operator, date(2026, 1, 1), "0.5", "10")
    tx(operator, "follower_debit", "1000")
    streamer.__class__.objects.filter(pk=streamer.pk).update(
        created_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    out = StringIO()
    call_command("settle", "--date", DAY.isoformat(), "--days", "2", stdout=out)
    text = out.getvalue()
    assert "105.00000000" in text and "2 settlement row(s) computed." in text
    assert DailySettlement.objects.get(day=DAY).fees == D("105")
    assert DailySettlement.objects.filter(day=DAY - timedelta(days=1)).exists()
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        call_command("settle", "--date", "14/10/2026", stdout=out)
