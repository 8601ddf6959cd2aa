"""Track-record figures on hand-computed histories: a pool that reopens, a bust, windows."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.pools.rollups import rollups_refresh
from apps.pools.tests.histories import pool_with_history
from apps.transactions.statistics.records import track_record

NOW = datetime(2026, 6, 15, 12, 30, tzinfo=UTC)


def at(days_ago: float, hour: int = 0) -> datetime:
    return (NOW - timedelta(days=days_ago)).replace(hour=hour, minute=5, second=0)


@pytest.fixture
def reopened(streamer):
    """Pool A 40 days ago: 1 -> 1.2 -> 0.9 -> 1.1, closed; pool B 10 days ago: 1 -> 1.5."""
    pool_with_history(
        streamer,
        [(at(40, 1), "1"), (at(40, 5), "1.2"), (at(39, 3), "0.9"), (at(38, 2), "1.1")],
        closed_at=at(38, 3),
    )
    pool_with_history(streamer, [(at(10, 1), "1"), (at(10, 8), "1.5")])
    rollups_refresh(now=NOW)
    return streamer


def test_roi_chains_across_a_pool_that_reopens(reopened):
    record = track_record(reopened, "all", now=NOW)
    assert record.roi == Decimal("0.65")  # 1.1 x 1.5 - 1
    assert record.max_drawdown == Decimal("0.25")  # 1.2 -> 0.9
    assert [p.index for p in record.series][-1] == Decimal("1.65")


def test_a_window_that_starts_after_the_first_pool(reopened):
    record = track_record(reopened, "30d", now=NOW)
    assert record.roi == Decimal("0.5")
    assert record.max_drawdown == Decimal("0")
    assert record.aum == Decimal("150")


def test_a_bust_is_minus_one_and_a_full_drawdown(streamer):
    pool_with_history(
        streamer, [(at(5, 1), "1"), (at(5, 2), "1.3"), (at(5, 3), "0")], closed_at=at(5, 4)
    )
    pool_with_history(streamer, [(at(2, 1), "1"), (at(2, 2), "2")])
    rollups_refresh(now=NOW)
    assert track_record(streamer, "7d", now=NOW).roi == Decimal("-1")
    assert track_record(streamer, "7d", now=NOW).max_drawdown == Decimal("1")
    day = track_record(streamer, "24h", now=NOW)
    assert day.roi is None  # no reading in the last 24 hours


def position(pool, session, *, status="active", contributed="10", created=None, closed=None):
    from apps.followers.models import Position

    made = Position.objects.create(
        pool=pool,
        follower=session.follower,
        session=session,
        status=status,
        units=Decimal("10") if status == "active" else Decimal(0),
        contributed=Decimal(contributed),
        closed_at=closed,
    )
    Position.objects.filter(pk=made.pk).update(created_at=created or pool.opened_at)
    return made


def ledger(pool, kind, amount, completed, *, status="succeeded", is_demo=False):
    from apps.transactions.models import Transaction

    return Transaction.objects.create(
        operator=pool.operator,
        kind=kind,
        status=status,
        amount=Decimal(amount),
        currency=pool.currency,
        pool=pool,
        completed_at=completed,
        is_demo=is_demo,
    )


def test_money_followers_and_their_net_result_over_a_window(streamer, make_session):
    """A pool opened 3 days ago at NAV 1 with 100 units (50 the streamer's): followers joined
    60, one left with 30, the NAV is now 1.2: followers hold 50 units x 1.2 = 60."""
    pool = pool_with_history(streamer, [(at(3, 1), "1"), (at(1, 1), "1.1"), (at(0, 11), "1.2")])
    alice, bob = make_session("alice"), make_session("bob")
    position(pool, alice, contributed="40", created=at(3, 2))
    position(pool, bob, status="closed", contributed="20", created=at(3, 2), closed=at(2, 1))
    ledger(pool, "follower_debit", "40", at(3, 2))
    ledger(pool, "follower_debit", "20", at(3, 2))
    ledger(pool, "follower_debit", "5", at(3, 2), status="rolled_back")  # not money in
    ledger(pool, "follower_credit", "30", at(2, 1))
    ledger(pool, "follower_debit", "99", at(3, 2), is_demo=True)  # play money never counts
    rollups_refresh(now=NOW)

    record = track_record(streamer, "7d", now=NOW)

    assert (record.joined, record.paid_out) == (Decimal("60"), Decimal("30"))
    assert record.followers_distinct == 2
    assert record.followers_now == 1
    # holdings: 0 at the start (the pool opened inside the window), 50 units x 1.2 now
    assert record.net_result == Decimal("60") - 0 + Decimal("30") - Decimal("60")
    assert record.aum == Decimal("120")
    assert record.streamer_share == Decimal("0.5")
    assert record.roi == Decimal("0.2")


def test_a_window_that_starts_inside_a_pool_counts_the_holdings_then(streamer):
    """Followers hold 50 of 100 units: at NAV 1.1 (the hour before the 24 h window) they held
    55, now at 1.2 they hold 60: a gain of 5 with no money moved."""
    hour_before = (NOW - timedelta(hours=25)).replace(minute=40)
    pool_with_history(streamer, [(at(3, 1), "1"), (hour_before, "1.1"), (NOW, "1.2")])
    rollups_refresh(now=NOW)
    record = track_record(streamer, "24h", now=NOW)
    assert record.net_result == Decimal("5")
    assert record.roi == Decimal("0.090909090909")  # 1.2 / 1.1 - 1, to 12 places


def test_streams_and_hours_live_inside_the_window(streamer):
    from apps.streamers.models import Stream

    Stream.objects.filter(streamer=streamer).delete()
    Stream.objects.create(
        streamer=streamer, status="ended", started_at=at(40, 1), ended_at=at(40, 3)
    )
    Stream.objects.create(
        streamer=streamer,
        status="ended",
        started_at=NOW - timedelta(days=2, hours=1),
        ended_at=NOW - timedelta(days=2),
    )
    Stream.objects.create(streamer=streamer, status="live", started_at=NOW - timedelta(hours=3))
    week = track_record(streamer, "7d", now=NOW)
    assert (week.streams, week.hours_live) == (2, Decimal("4.00"))
    ever = track_record(streamer, "all", now=NOW)
    assert (ever.streams, ever.hours_live) == (3, Decimal("6.00"))


def test_a_young_record_is_new_and_an_old_one_is_not(streamer, settings):
    settings.COPYPOOL_STATS_NEW_DAYS = 7
    pool_with_history(streamer, [(at(3, 1), "1"), (at(0, 10), "1.1")])
    rollups_refresh(now=NOW)
    assert track_record(streamer, "7d", now=NOW).is_new
    settings.COPYPOOL_STATS_NEW_DAYS = 2
    assert not track_record(streamer, "7d", now=NOW).is_new


def test_demo_pools_and_no_history_give_an_empty_record(streamer):
    from apps.pools.models import Pool

    demo = pool_with_history(streamer, [(at(3, 1), "1"), (at(0, 10), "3")])
    Pool.objects.filter(pk=demo.pk).update(is_demo=True)
    rollups_refresh(now=NOW)
    record = track_record(streamer, "30d", now=NOW)
    assert (record.roi, record.max_drawdown, record.series) == (None, None, [])
    assert record.is_new and record.aum == 0 and record.followers_now == 0


def test_an_unknown_window_is_refused(streamer):
    with pytest.raises(ValueError, match="window must be one of"):
        track_record(streamer, "1y", now=NOW)


def test_records_refresh_keeps_one_row_per_streamer_and_window(reopened):
    from apps.pools.models import StreamerRecord
    from apps.transactions.statistics.records import records_refresh

    assert records_refresh(now=NOW) == 5
    assert records_refresh(now=NOW + timedelta(minutes=5)) == 5
    rows = {r.window: r for r in StreamerRecord.objects.filter(streamer=reopened)}
    assert sorted(rows) == sorted(["24h", "7d", "30d", "90d", "all"])
    assert rows["all"].roi == Decimal("0.65") and rows["30d"].roi == Decimal("0.5")
    assert rows["all"].computed_at == NOW + timedelta(minutes=5)


def test_a_streams_record_covers_its_hours_only(streamer):
    from apps.streamers.models import Stream
    from apps.transactions.statistics.records import stream_record

    Stream.objects.filter(streamer=streamer).delete()
    first = pool_with_history(
        streamer, [(at(5, 1), "1"), (at(5, 2), "0.8"), (at(5, 3), "1.2")], closed_at=at(5, 4)
    )
    pool_with_history(streamer, [(at(2, 1), "1"), (at(2, 2), "0.5")])
    ledger(first, "follower_debit", "25", at(5, 1))
    ledger(first, "follower_credit", "30", at(5, 4))
    stream = Stream.objects.create(
        streamer=streamer,
        status="ended",
        started_at=at(5, 1) - timedelta(minutes=1),
        ended_at=at(5, 4),
    )
    rollups_refresh(now=NOW)

    record = stream_record(stream, now=NOW)

    assert record.roi == Decimal("0.2")  # the later pool is not the stream's
    assert record.max_drawdown == Decimal("0.2")  # 1 -> 0.8
    assert (record.joined, record.paid_out, record.streams) == (Decimal(25), Decimal(30), 1)
    assert record.hours_live == Decimal("3.01")
    assert [p.nav for p in record.series] == [Decimal("1"), Decimal("0.8"), Decimal("1.2")]
    assert stream_record(Stream(streamer=streamer), now=NOW) is None


def test_the_command_rolls_up_and_refreshes_now(streamer):
    from io import StringIO

    from django.core.management import call_command

    from apps.pools.models import PoolRollup, StreamerRecord

    now = datetime.now(UTC)
    pool_with_history(streamer, [(now - timedelta(hours=2), "1"), (now, "1.1")])
    out = StringIO()
    call_command("refresh_statistics", stdout=out)
    assert PoolRollup.objects.filter(period="hour").count() == 2
    assert PoolRollup.objects.filter(period="day").count() in (1, 2)  # across midnight: 2
    assert StreamerRecord.objects.filter(streamer=streamer).count() == 5
    assert "into 2 hourly row(s)" in out.getvalue() and "5 track record(s)" in out.getvalue()


def test_records_refresh_in_chunks_writes_the_same_records(reopened, operator):
    from apps.pools.models import StreamerRecord
    from apps.streamers.models import Streamer
    from apps.transactions.statistics.records import records_refresh

    for n in range(4):
        other = Streamer.objects.create(
            operator=operator, operator_user_id=f"other-{n}", display_name=f"O{n}", currency="USD"
        )
        pool_with_history(other, [(at(12, 1), "1"), (at(11, 1), str(1 + n / 10))])
    rollups_refresh(now=NOW)

    def rows():
        return sorted(
            StreamerRecord.objects.values_list("streamer_id", "window", "roi", "max_drawdown")
        )

    assert records_refresh(now=NOW) == 25
    whole = rows()
    StreamerRecord.objects.all().delete()
    assert records_refresh(now=NOW, chunk=2) == 25
    assert rows() == whole
