"""The call log pruned past its retention (time travel through ``now=``)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from apps.operators.calllog import call_log_record, calls_prune
from apps.operators.models import CallLog

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 30, tzinfo=UTC)


def call_at(operator, moment: datetime) -> CallLog:
    call = call_log_record(
        operator=operator,
        direction=CallLog.Direction.OUTBOUND,
        endpoint="streamer-balance",
        url="http://operator.invalid/cb/streamer-balance",
        request_headers={},
        request_body=b"{}",
        outcome=CallLog.Outcome.SUCCESS,
    )
    CallLog.objects.filter(pk=call.pk).update(created_at=moment)
    return call


def remaining() -> list[datetime]:
    return sorted(CallLog.objects.values_list("created_at", flat=True))


@pytest.fixture
def calls(operator):
    """Calls 90, 31 and 30 days and a second ago, 29 days ago, and now."""
    for moment in [
        NOW - timedelta(days=90),
        NOW - timedelta(days=31),
        NOW - timedelta(days=30, seconds=1),
        NOW - timedelta(days=29),
        NOW,
    ]:
        call_at(operator, moment)


def test_calls_past_the_retention_are_deleted(calls):
    assert calls_prune(now=NOW) == 3
    assert remaining() == [NOW - timedelta(days=29), NOW]


def test_a_call_exactly_at_the_cutoff_is_kept(operator):
    call_at(operator, NOW - timedelta(days=30))
    assert calls_prune(now=NOW) == 0
    assert len(remaining()) == 1


@override_settings(COPYPOOL_CALL_LOG_RETENTION_DAYS=7)
def test_the_retention_setting_is_respected(calls):
    assert calls_prune(now=NOW) == 4
    assert remaining() == [NOW]


def test_keep_days_overrides_the_setting(calls):
    assert calls_prune(now=NOW, keep_days=60) == 1
    assert remaining()[0] == NOW - timedelta(days=31)


def test_pruning_runs_in_batches_until_nothing_is_left(calls, operator, monkeypatch):
    # given more old calls than a batch, some without an operator
    monkeypatch.setattr("apps.operators.calllog.PRUNE_BATCH", 2)
    call_at(None, NOW - timedelta(days=40))

    # when
    deleted = calls_prune(now=NOW)

    # then
    assert deleted == 4
    assert calls_prune(now=NOW) == 0
    assert remaining() == [NOW - timedelta(days=29), NOW]


def test_nothing_to_prune(db):
    assert calls_prune(now=NOW) == 0
