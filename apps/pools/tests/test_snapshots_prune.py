"""Raw snapshots pruned past their retention, never before they are rolled up."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from apps.pools.models import PoolRollup, PoolSnapshot
from apps.pools.rollups import rollups_refresh, snapshots_prune
from apps.pools.tests.histories import pool_with_history

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 30, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def kept() -> list[datetime]:
    return sorted(PoolSnapshot.objects.values_list("taken_at", flat=True))


@pytest.fixture
def history(streamer):
    """Readings 45, 40, 31, 29 and 10 days ago and just now."""
    return pool_with_history(
        streamer,
        [(days_ago(d), "1") for d in (45, 40, 31, 29, 10)] + [(NOW - timedelta(minutes=5), "1")],
    )


def test_nothing_is_pruned_before_anything_is_rolled_up(history):
    assert snapshots_prune(now=NOW) == 0
    assert len(kept()) == 6


def test_snapshots_past_the_retention_are_pruned_once_rolled_up(history):
    # given
    rollups_refresh(now=NOW)
    rollups = PoolRollup.objects.count()

    # when
    deleted = snapshots_prune(now=NOW)

    # then the default 30 days are kept, and every rollup
    assert deleted == 3
    assert kept() == [days_ago(29), days_ago(10), NOW - timedelta(minutes=5)]
    assert PoolRollup.objects.count() == rollups


def test_snapshots_not_yet_rolled_up_are_kept_whatever_their_age(history):
    # given rollups that stopped 42 days ago (the newest hourly row is 45 days old)
    rollups_refresh(now=days_ago(42))
    assert PoolRollup.objects.filter(period="hour").count() == 1

    # when
    deleted = snapshots_prune(now=NOW)

    # then only what is before the newest hourly row's previous hour may go: nothing yet
    assert deleted == 0
    assert len(kept()) == 6

    # and once the 40-day reading is rolled up (and an hour later), the 45-day one goes
    rollups_refresh(now=days_ago(40) + timedelta(hours=1))
    assert snapshots_prune(now=NOW) == 1
    assert kept()[0] == days_ago(40)


@override_settings(COPYPOOL_SNAPSHOT_RETENTION_DAYS=7)
def test_the_retention_setting_is_respected(history):
    rollups_refresh(now=NOW)
    assert snapshots_prune(now=NOW) == 5
    assert kept() == [NOW - timedelta(minutes=5)]


def test_keep_days_overrides_the_setting(history):
    rollups_refresh(now=NOW)
    assert snapshots_prune(now=NOW, keep_days=35) == 2
    assert kept()[0] == days_ago(31)


def test_pruning_in_batches_and_again_changes_nothing(history, monkeypatch):
    monkeypatch.setattr("apps.pools.rollups.PRUNE_BATCH", 2)
    rollups_refresh(now=NOW)
    assert snapshots_prune(now=NOW) == 3
    assert snapshots_prune(now=NOW) == 0
    assert len(kept()) == 3


def test_rollups_of_pruned_hours_survive_the_next_runs(history):
    # given
    rollups_refresh(now=NOW)
    old_hour = PoolRollup.objects.get(period="hour", start=days_ago(45).replace(minute=0))
    snapshots_prune(now=NOW)

    # when the next runs come
    rollups_refresh(now=NOW + timedelta(minutes=5))
    rollups_refresh(now=NOW + timedelta(hours=2))

    # then the pruned hours' rows are as they were
    assert PoolRollup.objects.get(pk=old_hour.pk).samples == 1
    assert PoolRollup.objects.filter(
        period="day", start=days_ago(45).replace(hour=0, minute=0)
    ).exists()
