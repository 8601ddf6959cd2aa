"""The statistics and retention tasks, called directly (no broker, no sleeping)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.operators.calllog import call_log_record
from apps.operators.models import CallLog
from apps.pools.models import PoolRollup, PoolSnapshot, StreamerRecord
from apps.pools.rollups import floor_hour
from apps.pools.tests.histories import pool_with_history
from apps.transactions.statistics.figures import WINDOWS
from apps.transactions.tasks import retention_task, statistics_task

pytestmark = pytest.mark.django_db


def old_call(operator, age: timedelta) -> None:
    call = call_log_record(
        operator=operator,
        direction=CallLog.Direction.OUTBOUND,
        endpoint="streamer-balance",
        url="http://operator.invalid/cb/streamer-balance",
        request_headers={},
        request_body=b"{}",
        outcome=CallLog.Outcome.SUCCESS,
    )
    CallLog.objects.filter(pk=call.pk).update(created_at=timezone.now() - age)


def test_statistics_task_rolls_up_then_writes_every_record(streamer):
    # given a pool read 10 days ago and in the last hour, rising from 1 to 1.5
    now = timezone.now()
    pool = pool_with_history(
        streamer, [(now - timedelta(days=10), "1"), (now - timedelta(minutes=1), "1.5")]
    )

    # when
    result = statistics_task()

    # then
    assert result == {"hourly_rows": 2, "daily_rows": 2, "records": len(WINDOWS)}
    assert PoolRollup.objects.get(
        pool=pool, period="hour", start=floor_hour(now - timedelta(minutes=1))
    ).nav_close == Decimal("1.5")
    record = StreamerRecord.objects.get(streamer=streamer, window="30d")
    assert record.roi == Decimal("0.5")
    assert record.aum == Decimal("150")
    assert record.is_new is False  # 10 days of history, more than the 7 needed
    assert set(StreamerRecord.objects.values_list("window", flat=True)) == set(WINDOWS)


def test_statistics_task_again_updates_the_same_rows(streamer):
    now = timezone.now()
    pool_with_history(streamer, [(now - timedelta(days=2), "1"), (now - timedelta(minutes=1), "2")])
    statistics_task()
    rows = set(StreamerRecord.objects.values_list("pk", flat=True))

    statistics_task()

    assert set(StreamerRecord.objects.values_list("pk", flat=True)) == rows
    assert StreamerRecord.objects.get(streamer=streamer, window="7d").is_new is True


def test_retention_task_rolls_up_before_it_prunes(streamer, operator):
    # given readings 40 and 35 days old never rolled up, a recent one, and old and new calls
    now = timezone.now()
    pool = pool_with_history(
        streamer,
        [
            (now - timedelta(days=40), "1"),
            (now - timedelta(days=35), "0.5"),
            (now - timedelta(minutes=2), "1"),
        ],
    )
    old_call(operator, timedelta(days=31))
    old_call(operator, timedelta(days=1))

    # when
    result = retention_task()

    # then the old readings went, after their hours were rolled up
    assert result == {"snapshots": 2, "calls": 1}
    assert list(PoolSnapshot.objects.values_list("nav", flat=True)) == [Decimal("1")]
    assert PoolRollup.objects.filter(pool=pool, period="hour").count() == 3
    assert PoolRollup.objects.filter(pool=pool, period="day", nav_low=Decimal("0.5")).exists()
    assert CallLog.objects.count() == 1

    # and a second run has nothing left to do
    assert retention_task() == {"snapshots": 0, "calls": 0}
