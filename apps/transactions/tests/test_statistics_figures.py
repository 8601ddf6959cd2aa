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
