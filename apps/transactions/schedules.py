"""Every periodic task of CopyPool, in one place.

The schedules live in the database (django-celery-beat), so operations staff see and change
them in the admin ("Periodic tasks") and ``celery beat`` with the ``DatabaseScheduler``
follows their changes without a restart. This module is the source they are created from:
a data migration seeds them on a fresh database and ``manage.py setup_schedules`` installs
any that are missing (idempotent; ``--reset`` puts intervals back to the values below).

Staff changes win: a re-install keeps an existing schedule's timing and ``enabled`` flag and
only brings the code-owned parts (task path, description, expiry) up to date.

Each schedule's messages expire after about one period, so a backlog piled up while no
worker was running is dropped rather than replayed (every task here is a "do what is due
now" sweep: running the next one is what matters).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    description: str
    every: timedelta | None = None
    crontab: dict[str, str] | None = None
    expire_seconds: int | None = None

    def __post_init__(self) -> None:
        if (self.every is None) == (self.crontab is None):
            raise ValueError(f"{self.name}: give exactly one of every= or crontab=")


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        name="Sagas: resume unfinished money flows",
        task="apps.transactions.tasks.sagas_resume_task",
        every=timedelta(seconds=10),
        expire_seconds=10,
        description=(
            "Drives every join, leave and close-pool saga whose time has come (SPEC 5): "
            "crash recovery, transfers in doubt, rollbacks, and WINs retried with backoff "
            "(flagged for review after 24 hours, still retried)."
        ),
    ),
    Schedule(
        name="Streams: start and end on schedule",
        task="apps.transactions.tasks.streams_schedule_task",
        every=timedelta(seconds=30),
        expire_seconds=30,
        description=(
            "Starts scheduled streams whose start has come; ends live streams whose "
            "scheduled end has passed, which pays out and closes their pools."
        ),
    ),
    Schedule(
        name="Pools: snapshot balances and NAV",
        # The task's registered name (stored by beat); it is defined in apps.transactions.tasks.
        task="apps.transactions.tasks.pools_snapshot_task",
        every=timedelta(minutes=5),
        expire_seconds=300,
        description=(
            "Reads every open pool's streamer balance (skipping pools being priced), records "
            "it with a snapshot for the charts, and starts the bust flow at a zero balance."
        ),
    ),
    Schedule(
        name="Reconciliation: ledger against operators",
        task="apps.transactions.tasks.reconcile_task",
        every=timedelta(minutes=15),
        expire_seconds=900,
        description=(
            "One run per operator: balances, unknown transactions, unacknowledged OPEN/CLOSE, "
            "empty pools, orphan debits, overdue WINs, balances in answers; findings are "
            "Discrepancy rows."
        ),
    ),
    Schedule(
        name="Settlement: daily figures per operator and currency",
        task="apps.transactions.tasks.settlement_task",
        crontab={"minute": "10", "hour": "*"},
        expire_seconds=3600,
        description=(
            "Recomputes yesterday's (final) and today's (so far) DailySettlement rows, UTC days."
        ),
    ),
    Schedule(
        name="Statistics: roll up snapshots and refresh track records",
        task="apps.transactions.tasks.statistics_task",
        every=timedelta(minutes=5),
        expire_seconds=300,
        description=(
            "Rolls the pools' snapshots up into hourly and daily rows (the current hour and "
            "day are rewritten each run), then recomputes every streamer's track record per "
            "window: what the leaderboard, the lobby and the dashboard show."
        ),
    ),
    Schedule(
        name="Retention: prune raw snapshots and the call log",
        task="apps.transactions.tasks.retention_task",
        crontab={"minute": "30", "hour": "3"},
        expire_seconds=86400,
        description=(
            "Daily at 03:30 UTC: deletes raw snapshots older than "
            "COPYPOOL_SNAPSHOT_RETENTION_DAYS (only once rolled up) and call log rows older "
            "than COPYPOOL_CALL_LOG_RETENTION_DAYS (30 days each by default)."
        ),
    ),
    Schedule(
        name="Invoices: last month's drafts per operator and currency",
        task="apps.transactions.tasks.invoices_monthly_task",
        crontab={"minute": "0", "hour": "2", "day_of_month": "1"},
        expire_seconds=86400,
        description=(
            "On the 1st at 02:00 UTC: recomputes the previous month's last day's settlement, "
            "then generates (or recomputes) that month's draft invoices for Finance to issue."
        ),
    ),
)


@dataclass(frozen=True)
class BeatModels:
    """The django-celery-beat models to write with: the real ones, or a migration's."""

    PeriodicTask: Any
    PeriodicTasks: Any
    IntervalSchedule: Any
    CrontabSchedule: Any

    @classmethod
    def live(cls) -> BeatModels:
        from django_celery_beat import models

        return cls(
            PeriodicTask=models.PeriodicTask,
            PeriodicTasks=models.PeriodicTasks,
            IntervalSchedule=models.IntervalSchedule,
            CrontabSchedule=models.CrontabSchedule,
        )


@dataclass(frozen=True)
class ScheduleChange:
    schedule: Schedule
    action: str  # created | reset | updated | kept
    timing: str
    enabled: bool


def interval_parts(every: timedelta) -> tuple[int, str]:
    """``every`` in the largest whole unit beat knows, as the admin shows it (5 minutes)."""
    seconds = every.total_seconds()
    if seconds < 1 or seconds != int(seconds):
        raise ValueError("intervals are whole seconds")
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return int(seconds // size), unit
    return int(seconds), "seconds"


def _interval(models: BeatModels, every: timedelta):
    count, period = interval_parts(every)
    found = models.IntervalSchedule.objects.filter(every=count, period=period).first()
    return found or models.IntervalSchedule.objects.create(every=count, period=period)


def _crontab(models: BeatModels, fields: dict[str, str]):
    values = {
        "minute": "*",
        "hour": "*",
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        **fields,
    }
    found = models.CrontabSchedule.objects.filter(timezone="UTC", **values).first()
    return found or models.CrontabSchedule.objects.create(timezone="UTC", **values)


def _timing(task) -> str:
    if task.interval_id:
        return f"every {task.interval.every} {task.interval.period}"
    if task.crontab_id:
        c = task.crontab
        return f"cron {c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week} UTC"
    return "other"


def schedules_install(
    *, reset: bool = False, models: BeatModels | None = None
) -> list[ScheduleChange]:
    """Create every schedule of ``SCHEDULES`` that is missing; idempotent.

    An existing schedule keeps its timing and ``enabled`` flag (staff may have changed them)
    unless ``reset``; its task path, description and expiry always follow the code. Beat is
    told that schedules changed. ``models`` lets a data migration pass its historical models.
    """
    models = models or BeatModels.live()
    changes = []
    for schedule in SCHEDULES:
        timing = {"interval": None, "crontab": None}
        if schedule.every is not None:
            timing["interval"] = _interval(models, schedule.every)
        else:
            timing["crontab"] = _crontab(models, schedule.crontab or {})
        code_owned = {
            "task": schedule.task,
            "description": schedule.description,
            "expire_seconds": schedule.expire_seconds,
        }
        task = models.PeriodicTask.objects.filter(name=schedule.name).first()
        if task is None:
            task = models.PeriodicTask.objects.create(
                name=schedule.name, enabled=True, **timing, **code_owned
            )
            action = "created"
        elif reset:
            for field, value in {**timing, **code_owned, "enabled": True}.items():
                setattr(task, field, value)
            task.solar_id = task.clocked_id = None
            task.save()
            action = "reset"
        elif any(getattr(task, field) != value for field, value in code_owned.items()):
            for field, value in code_owned.items():
                setattr(task, field, value)
            task.save(update_fields=[*code_owned, "date_changed"])
            action = "updated"
        else:
            action = "kept"
        changes.append(
            ScheduleChange(
                schedule=schedule, action=action, timing=_timing(task), enabled=task.enabled
            )
        )
    models.PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return changes


def schedules_install_migration(apps: Any, schema_editor: Any) -> None:
    """``schedules_install`` for a data migration, on the migration's historical models."""
    schedules_install(
        models=BeatModels(
            PeriodicTask=apps.get_model("django_celery_beat", "PeriodicTask"),
            PeriodicTasks=apps.get_model("django_celery_beat", "PeriodicTasks"),
            IntervalSchedule=apps.get_model("django_celery_beat", "IntervalSchedule"),
            CrontabSchedule=apps.get_model("django_celery_beat", "CrontabSchedule"),
        )
    )
