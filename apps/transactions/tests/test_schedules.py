"""The schedules (one place, stored for beat) and what each scheduled task does."""

import importlib
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.followers.models import Position
from apps.pools.models import Pool
from apps.streamers.models import Stream, Streamer
from apps.transactions.models import Saga, Transaction
from apps.transactions.schedules import SCHEDULES, BeatModels, interval_parts, schedules_install
from apps.transactions.services import position_join, position_leave
from apps.transactions.tasks import (
    pools_snapshot_task,
    reconcile_task,
    sagas_resume_task,
    stream_end_task,
    streams_schedule_task,
)
from config.celery import app as celery_app
from tests.broker.operator_server import FakeOperatorServer

D = Decimal


class Clock:
    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


# --- the schedules ----------------------------------------------------------------------


def test_every_scheduled_task_exists_and_is_late_acknowledged():
    celery_app.loader.import_default_modules()
    for schedule in SCHEDULES:
        task = celery_app.tasks[schedule.task]
        assert task.acks_late and task.reject_on_worker_lost, schedule.task
    assert {s.task for s in SCHEDULES} == {
        "apps.transactions.tasks.sagas_resume_task",
        "apps.transactions.tasks.streams_schedule_task",
        "apps.transactions.tasks.pools_snapshot_task",
        "apps.transactions.tasks.reconcile_task",
        "apps.transactions.tasks.settlement_task",
        "apps.transactions.tasks.invoices_monthly_task",
        "apps.transactions.tasks.statistics_task",
        "apps.transactions.tasks.retention_task",
    }


@pytest.mark.django_db
def test_install_creates_every_schedule_once_and_keeps_staff_changes():
    # given: an empty beat database
    PeriodicTask.objects.all().delete()
    # when
    first = schedules_install()
    second = schedules_install()
    # then
    assert [c.action for c in first] == ["created"] * len(SCHEDULES)
    assert [c.action for c in second] == ["kept"] * len(SCHEDULES)
    resume = PeriodicTask.objects.get(task="apps.transactions.tasks.sagas_resume_task")
    assert (resume.interval.every, resume.interval.period, resume.expire_seconds) == (
        10,
        "seconds",
        10,
    )
    settlement = PeriodicTask.objects.get(task="apps.transactions.tasks.settlement_task")
    assert (settlement.crontab.minute, settlement.crontab.hour) == ("10", "*")
    assert PeriodicTask.objects.filter(task__startswith="apps.").count() == len(SCHEDULES)
    # when: staff slow the snapshots down and switch reconciliation off
    snapshot = PeriodicTask.objects.get(task="apps.transactions.tasks.pools_snapshot_task")
    snapshot.interval = IntervalSchedule.objects.create(every=30, period="minutes")
    snapshot.save()
    PeriodicTask.objects.filter(task="apps.transactions.tasks.reconcile_task").update(
        enabled=False, description="edited"
    )
    changes = {c.schedule.task: c for c in schedules_install()}
    # then: their timing and switch stay; the code-owned description comes back
    snapshot.refresh_from_db()
    assert (snapshot.interval.every, snapshot.interval.period) == (30, "minutes")
    reconcile = changes["apps.transactions.tasks.reconcile_task"]
    assert (reconcile.action, reconcile.enabled) == ("updated", False)
    # when: reset
    changes = {c.schedule.task: c for c in schedules_install(reset=True)}
    snapshot.refresh_from_db()
    assert (snapshot.interval.every, snapshot.interval.period) == (5, "minutes")
    assert changes["apps.transactions.tasks.reconcile_task"].enabled is True


@pytest.mark.django_db
def test_the_data_migration_installs_through_historical_models():
    # given
    PeriodicTask.objects.all().delete()
    migration = importlib.import_module("apps.transactions.migrations.0003_periodic_schedules")
    # when: run with the app registry standing in for the migration's
    migration.install(django_apps, None)
    # then
    assert PeriodicTask.objects.filter(task__startswith="apps.").count() == len(SCHEDULES)
    assert CrontabSchedule.objects.filter(minute="10", hour="*").exists()


@pytest.mark.django_db
def test_setup_schedules_command_prints_the_table():
    PeriodicTask.objects.all().delete()
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    assert "created" in out.getvalue() and "every 10 seconds" in out.getvalue()
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    assert "created" not in out.getvalue() and "kept" in out.getvalue()


def test_intervals_are_stored_in_the_largest_whole_unit():
    assert interval_parts(timedelta(seconds=10)) == (10, "seconds")
    assert interval_parts(timedelta(minutes=15)) == (15, "minutes")
    assert interval_parts(timedelta(hours=2)) == (2, "hours")
    with pytest.raises(ValueError):
        interval_parts(timedelta(milliseconds=1500))


def test_beat_models_default_to_django_celery_beat():
    assert BeatModels.live().PeriodicTask is PeriodicTask


# --- sagas: WINs retried for 24 hours, then flagged while still retried ---------------------


@pytest.mark.django_db(transaction=True)
def test_a_win_is_retried_with_backoff_flagged_after_24_hours_and_paid_once(
    fake, streamer, make_session, clock
):
    # given: a follower leaves and the wallet keeps failing the WIN
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    fake.fail("deposit", *["http_500"] * 1000)
    position_leave(session=position.session, position_id=position.pk)
    saga = Saga.objects.get(position=position, kind="leave")
    win = Transaction.objects.get(position=position, kind="follower_credit")
    created = win.created_at
    waits = []
    # when: the schedule resumes the saga each time it is due, for 30 hours
    while clock.now - created < timedelta(hours=30):
        saga.refresh_from_db()
        win.refresh_from_db()
        flagged = saga.needs_review or win.needs_review
        assert flagged == (win.last_attempt_at - created > timedelta(hours=24)), clock.now
        assert saga.status == "running" and saga.next_run_at is not None
        waits.append((saga.next_run_at - clock.now).total_seconds())
        clock.now = saga.next_run_at
        sagas_resume_task.delay()
    # then: exponential backoff up to half an hour, never given up, flagged for review
    assert waits[:4] == [4.0, 8.0, 16.0, 32.0] and max(waits) == 1800.0
    saga.refresh_from_db()
    win.refresh_from_db()
    assert saga.needs_review and win.needs_review and saga.status == "running"
    assert saga.review_reason == "WIN unpaid for more than 24 hours"
    assert win.attempts == len(waits) + 1 and win.status == "unknown"
    # when: the wallet recovers
    fake.faults["deposit"].clear()
    clock.now = saga.next_run_at
    sagas_resume_task.delay()
    # then: paid exactly once, with the id it always had
    win.refresh_from_db()
    assert win.status == "succeeded" and list(fake.deposits) == [win.external_id]
    assert Position.objects.get(pk=position.pk).status == "closed"


# --- streams -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_streams_start_and_end_on_schedule(fake, operator, streamer, make_session, clock):
    # given: streamer-1 is live until 10 minutes from now and has a follower
    live = Stream.objects.get(streamer=streamer, status="live")
    Stream.objects.filter(pk=live.pk).update(scheduled_end=clock.now + timedelta(minutes=10))
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    later = Streamer.objects.create(
        operator=operator, operator_user_id="s2", display_name="Later", currency="USD"
    )
    upcoming = Stream.objects.create(
        streamer=later,
        status="scheduled",
        scheduled_start=clock.now + timedelta(minutes=5),
        scheduled_end=clock.now + timedelta(hours=1),
    )
    missed = Stream.objects.create(
        streamer=later,
        status="scheduled",
        scheduled_start=clock.now - timedelta(hours=2),
        scheduled_end=clock.now - timedelta(hours=1),
    )
    # when: nothing is due yet
    assert streams_schedule_task.delay().get() == {
        "started": [],
        "ending": [],
        "missed": 1,
    }
    # when: the scheduled start comes
    clock.advance(minutes=6)
    assert streams_schedule_task.delay().get()["started"] == [upcoming.pk]
    # when: streamer-1's scheduled end passes
    clock.advance(minutes=5)
    assert streams_schedule_task.delay().get()["ending"] == [live.pk]
    # then: the stream ended, its follower was paid out, its pool closed
    upcoming.refresh_from_db()
    missed.refresh_from_db()
    assert upcoming.status == "live" and upcoming.started_at == clock.now - timedelta(minutes=5)
    assert missed.status == "ended" and missed.started_at is None
    assert missed.end_reason == "its scheduled end passed before it started"
    ended = Stream.objects.get(pk=live.pk)
    assert (ended.status, ended.end_reason) == ("ended", "stream ended on schedule")
    position.refresh_from_db()
    assert position.status == "closed" and position.payout == D(100)
    pool = Pool.objects.get(pk=position.pool_id)
    assert (pool.state, pool.close_reason) == ("closed", "stream ended on schedule")
    # and ending again is harmless
    assert stream_end_task.delay(live.pk).get() == "ended"
    assert stream_end_task.delay(10**9).get() == "missing"


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_stream_does_not_start_beside_a_live_one(operator, streamer, clock):
    scheduled = Stream.objects.create(
        streamer=streamer,
        status="scheduled",
        scheduled_start=clock.now - timedelta(minutes=1),
        scheduled_end=clock.now + timedelta(hours=1),
    )
    assert streams_schedule_task.delay().get()["started"] == []
    assert Stream.objects.get(pk=scheduled.pk).status == "scheduled"


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_stream_never_starts(operator, clock):
    later = Streamer.objects.create(
        operator=operator, operator_user_id="s2", display_name="Later", currency="USD"
    )
    cancelled = Stream.objects.create(
        streamer=later,
        status="cancelled",
        scheduled_start=clock.now - timedelta(minutes=1),
        scheduled_end=clock.now + timedelta(hours=1),
        end_reason="cancelled by staff",
    )
    assert streams_schedule_task.delay().get() == {"started": [], "ending": [], "missed": 0}
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.started_at) == ("cancelled", None)


# --- snapshot and reconcile tasks ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_snapshot_and_reconcile_tasks_run_their_passes(fake, operator, streamer, make_session):
    with FakeOperatorServer() as server:
        type(operator).objects.filter(pk=operator.pk).update(callback_url=server.callback_url)
        position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
        server.balances["streamer-1"] = D(1100)
        snapshot = pools_snapshot_task.delay().get()
        reconcile = reconcile_task.delay().get()
    assert snapshot == {"pools": 1, "snapshots": 1, "skipped": 0, "failed": 0, "busts": 0}
    assert len(reconcile["runs"]) == 1 and reconcile["findings"] == 0
    assert server.requests["streamer-balance"] == 2
