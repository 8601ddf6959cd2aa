"""Rollups of snapshots into hourly and daily rows (time travel through ``now=``)."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.pools.models import Pool, PoolRollup, PoolSnapshot
from apps.pools.rollups import rollups_refresh
from apps.pools.tests.histories import pool_with_history

pytestmark = pytest.mark.django_db

DAY_START = datetime(2026, 6, 15, tzinfo=UTC)
RATIO = Decimal(1).scaleb(-12)


def at(hour: int, minute: int) -> datetime:
    return DAY_START + timedelta(hours=hour, minutes=minute)


def add_snapshot(pool: Pool, taken_at: datetime, nav: str, members: int = 1) -> PoolSnapshot:
    return PoolSnapshot.objects.create(
        pool=pool,
        balance=Decimal(100) * Decimal(nav),
        total_units=Decimal(100),
        streamer_units=Decimal(50),
        nav=Decimal(nav),
        members=members,
        taken_at=taken_at,
    )


def hourly(pool: Pool, hour: int) -> PoolRollup:
    return PoolRollup.objects.get(pool=pool, period=PoolRollup.Period.HOUR, start=at(hour, 0))


def daily(pool: Pool) -> PoolRollup:
    return PoolRollup.objects.get(pool=pool, period=PoolRollup.Period.DAY, start=DAY_START)


def brute_force_drawdown(navs: Sequence[Decimal]) -> Decimal:
    """The largest fall from any reading to any later one, as a fraction of the first."""
    worst = Decimal(0)
    for i, peak in enumerate(navs):
        for low in navs[i + 1 :]:
            if peak > 0 and low < peak:
                worst = max(worst, (peak - low) / peak)
    return worst.quantize(RATIO, rounding=ROUND_DOWN)


def test_an_hour_is_open_high_low_close_of_nav_balance_and_members(streamer):
    # given four readings in one hour
    pool = pool_with_history(streamer, [(at(10, 1), "1")])
    add_snapshot(pool, at(10, 6), "1.2", members=3)
    add_snapshot(pool, at(10, 11), "0.9", members=4)
    add_snapshot(pool, at(10, 16), "1.1", members=2)

    # when
    stats = rollups_refresh(now=at(10, 20))

    # then
    assert (stats.hours, stats.hourly_rows, stats.days, stats.daily_rows) == (1, 1, 1, 1)
    row = hourly(pool, 10)
    assert row.samples == 4
    assert (row.first_at, row.last_at) == (at(10, 1), at(10, 16))
    assert (row.nav_open, row.nav_high, row.nav_low, row.nav_close) == (
        Decimal("1"),
        Decimal("1.2"),
        Decimal("0.9"),
        Decimal("1.1"),
    )
    assert (row.balance_open, row.balance_high, row.balance_low, row.balance_close) == (
        Decimal("100"),
        Decimal("120"),
        Decimal("90"),
        Decimal("110"),
    )
    assert (row.members_open, row.members_high, row.members_low, row.members_close) == (1, 4, 1, 2)
    assert row.nav_drawdown == Decimal("0.25")  # 1.2 -> 0.9
    assert row.total_units_close == Decimal(100)
    assert row.streamer_units_close == Decimal(50)


def test_a_rise_after_a_fall_keeps_the_fall(streamer):
    pool = pool_with_history(
        streamer, [(at(10, 0), "2"), (at(10, 5), "1"), (at(10, 10), "4"), (at(10, 15), "3")]
    )
    rollups_refresh(now=at(10, 20))
    assert hourly(pool, 10).nav_drawdown == Decimal("0.5")  # 2 -> 1, not 4 -> 1


def test_the_current_hour_is_rewritten_by_the_next_run(streamer):
    # given the hour rolled up while it runs
    pool = pool_with_history(streamer, [(at(12, 5), "1"), (at(12, 10), "1.5")])
    rollups_refresh(now=at(12, 12))
    assert (hourly(pool, 12).samples, hourly(pool, 12).nav_close) == (2, Decimal("1.5"))

    # when a reading comes later in the same hour
    add_snapshot(pool, at(12, 20), "0.75")
    rollups_refresh(now=at(12, 25))

    # then the same row holds it
    row = hourly(pool, 12)
    assert (row.samples, row.nav_close, row.nav_low) == (3, Decimal("0.75"), Decimal("0.75"))
    assert row.nav_drawdown == Decimal("0.5")
    assert PoolRollup.objects.filter(pool=pool, period=PoolRollup.Period.HOUR).count() == 1
    assert daily(pool).nav_close == Decimal("0.75")


def test_a_late_snapshot_of_the_previous_hour_is_picked_up(streamer):
    # given hours 12 and 13 rolled up just after the hour turned
    pool = pool_with_history(streamer, [(at(12, 50), "1"), (at(13, 1), "1.1")])
    rollups_refresh(now=at(13, 2))
    assert hourly(pool, 12).samples == 1

    # when a reading of 12:55 is committed after that run
    add_snapshot(pool, at(12, 55), "0.8")
    rollups_refresh(now=at(13, 7))

    # then hour 12 is rewritten with it
    row = hourly(pool, 12)
    assert (row.samples, row.nav_close, row.nav_low) == (2, Decimal("0.8"), Decimal("0.8"))
    assert row.nav_drawdown == Decimal("0.2")
    assert daily(pool).samples == 3


def test_a_day_is_summed_from_its_hours(streamer):
    # given a peak in hour 9 and a trough in hour 15 of one day, and members changing
    pool = pool_with_history(streamer, [(at(8, 0), "1")])
    add_snapshot(pool, at(9, 30), "2", members=5)
    add_snapshot(pool, at(12, 0), "1.8", members=2)
    add_snapshot(pool, at(15, 45), "0.5", members=3)
    add_snapshot(pool, at(23, 55), "1.5", members=4)

    # when
    rollups_refresh(now=at(23, 58))

    # then
    day = daily(pool)
    assert day.samples == 5
    assert (day.first_at, day.last_at) == (at(8, 0), at(23, 55))
    assert (day.nav_open, day.nav_high, day.nav_low, day.nav_close) == (
        Decimal("1"),
        Decimal("2"),
        Decimal("0.5"),
        Decimal("1.5"),
    )
    assert (day.members_open, day.members_high, day.members_low, day.members_close) == (1, 5, 1, 4)
    assert (day.balance_high, day.balance_low) == (Decimal("200"), Decimal("50"))
    assert day.nav_drawdown == Decimal("0.75")  # 2 (hour 9) -> 0.5 (hour 15)
    assert all(hourly(pool, h).nav_drawdown == 0 for h in (8, 9, 12, 15, 23))
    assert PoolRollup.objects.filter(pool=pool, period=PoolRollup.Period.HOUR).count() == 5


def test_the_first_run_rolls_up_everything_and_hours_cross_days(streamer):
    pool = pool_with_history(
        streamer,
        [
            (DAY_START - timedelta(days=3, minutes=-5), "1"),
            (DAY_START - timedelta(minutes=5), "1.2"),
            (at(0, 5), "1.3"),
        ],
    )
    stats = rollups_refresh(now=at(0, 10))
    assert PoolRollup.objects.filter(pool=pool, period=PoolRollup.Period.HOUR).count() == 3
    assert list(
        PoolRollup.objects.filter(pool=pool, period=PoolRollup.Period.DAY)
        .order_by("start")
        .values_list("start", "nav_close")
    ) == [
        (DAY_START - timedelta(days=3), Decimal("1")),
        (DAY_START - timedelta(days=1), Decimal("1.2")),
        (DAY_START, Decimal("1.3")),
    ]
    assert stats.hours == 3 * 24 + 1
    assert stats.days == 4


def test_nothing_to_roll_up(db):
    assert rollups_refresh(now=at(1, 0)).hours == 0
    assert not PoolRollup.objects.exists()


def test_pools_are_rolled_up_apart(streamer, operator):
    first = pool_with_history(streamer, [(at(10, 0), "1"), (at(10, 5), "2")], closed_at=at(10, 6))
    second = pool_with_history(streamer, [(at(10, 30), "1"), (at(10, 35), "0.5")])
    rollups_refresh(now=at(10, 40))
    assert (hourly(first, 10).nav_close, hourly(first, 10).nav_drawdown) == (Decimal(2), 0)
    assert (hourly(second, 10).nav_close, hourly(second, 10).nav_drawdown) == (
        Decimal("0.5"),
        Decimal("0.5"),
    )


def rollup_values() -> list[tuple]:
    return list(PoolRollup.objects.order_by("pool_id", "period", "start").values_list())


def test_rolling_up_again_changes_nothing(streamer):
    # given a rolled-up history over two days
    pool_with_history(
        streamer,
        [
            (at(h, m), str(Decimal(1) + Decimal(h * 60 + m) / 1000))
            for h in (1, 5, 23)
            for m in (0, 30)
        ]
        + [(at(24 + 2, 0), "0.9")],
    )
    rollups_refresh(now=at(26, 5))
    before = rollup_values()

    # when run again at the same moment, and with since reaching back to the start
    rollups_refresh(now=at(26, 5))
    rollups_refresh(now=at(26, 5), since=at(0, 0))

    # then
    assert rollup_values() == before
    assert len(before) == 4 + 2  # hours 1, 5, 23, 26; days 15 and 16


navs = st.lists(
    st.decimals(min_value=0, max_value=5, places=2, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=60,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=navs, offset_minutes=st.integers(min_value=0, max_value=23 * 60))
def test_drawdown_inside_buckets_is_the_brute_force_drawdown(streamer, values, offset_minutes):
    # given readings every 7 minutes from some minute of a day (crossing hours, maybe a day)
    Pool.objects.filter(streamer=streamer).delete()
    PoolRollup.objects.all().delete()
    start = DAY_START + timedelta(minutes=offset_minutes)
    readings = [(start + timedelta(minutes=7 * i), str(nav)) for i, nav in enumerate(values)]
    pool = pool_with_history(streamer, readings, closed_at=readings[-1][0])

    # when
    rollups_refresh(now=readings[-1][0])

    # then every hour's and every day's fall is the brute-force one over its raw NAVs
    for row in PoolRollup.objects.filter(pool=pool):
        span = timedelta(hours=1) if row.period == PoolRollup.Period.HOUR else timedelta(days=1)
        inside = [Decimal(n) for t, n in readings if row.start <= t < row.start + span]
        assert row.nav_drawdown == brute_force_drawdown(inside), (row.period, row.start)
        assert (row.nav_open, row.nav_close) == (inside[0], inside[-1])
        assert (row.nav_high, row.nav_low) == (max(inside), min(inside))
        assert row.samples == len(inside)
    hours = PoolRollup.objects.filter(pool=pool, period=PoolRollup.Period.HOUR).count()
    assert hours == len({floor for floor in (t.replace(minute=0) for t, _ in readings)})
