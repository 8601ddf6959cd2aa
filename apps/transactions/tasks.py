"""Celery tasks: thin, id-in, idempotent through the sagas' own state guards."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.streamers.models import Stream
from apps.streamers.services import stream_go_live
from apps.transactions.models import Saga

logger = logging.getLogger(__name__)

# Delays longer than this are left to the periodic resume instead of a countdown, so a
# task never waits in the broker near Redis' visibility timeout.
MAX_COUNTDOWN_SECONDS = 60


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def saga_advance_task(saga_id: int) -> str:
    from apps.transactions.sagas import saga_advance

    return saga_advance(saga_id, budget=120.0, follow=False).status


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sagas_resume_task() -> int:
    from apps.transactions.services import sagas_resume

    return sagas_resume(fan_out=not settings.CELERY_TASK_ALWAYS_EAGER)


def saga_schedule(saga: Saga) -> None:
    """Make sure a running saga continues in a worker (no-op when tasks run eagerly: then the
    resume loop of the process drives it)."""
    if settings.CELERY_TASK_ALWAYS_EAGER or saga.status != Saga.Status.RUNNING:
        return
    delay = 0.0
    if saga.next_run_at:
        delay = max((saga.next_run_at - timezone.now()).total_seconds(), 0.0)
    if delay > MAX_COUNTDOWN_SECONDS:
        return
    saga_id = saga.pk
    transaction.on_commit(lambda: saga_advance_task.apply_async(args=(saga_id,), countdown=delay))


def sagas_drive(saga_ids: Sequence[int]) -> None:
    """Get sagas going now: a worker each, or inline when tasks run eagerly (no broker)."""
    from apps.transactions import sagas

    for saga_id in saga_ids:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            sagas.saga_advance(saga_id, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS)
        else:
            saga_schedule(Saga.objects.get(pk=saga_id))


# --- reconciliation and settlement (schedules: apps.transactions.schedules) -------------
# Long sweeps get their own time limits (the global ones fit saga steps), kept well below
# the broker's visibility timeout so an acknowledged-late sweep is never delivered twice.


# Registered under its old module's name: beat's stored schedules refer to the task by it.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
def pools_snapshot_task() -> dict[str, int]:
    """Read every open pool's balance; record it with a snapshot; start busts at zero."""
    from apps.transactions.reconciliation import FETCH_BUDGET_SECONDS, pools_snapshot

    report = pools_snapshot(budget=FETCH_BUDGET_SECONDS / 2)
    return {
        "pools": report.pools,
        "snapshots": report.stats.snapshots,
        "skipped": report.claimed_skipped + report.stats.priced_during_read,
        "failed": report.stats.failed,
        "busts": report.stats.busts,
    }


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=1500,
    time_limit=1560,
)
def reconcile_task(operator_ids: list[int] | None = None) -> dict:
    """One reconciliation run per operator (all that need one unless ``operator_ids``)."""
    from apps.operators.models import Operator
    from apps.transactions.reconciliation import reconciliation_run

    operators = list(Operator.objects.filter(pk__in=operator_ids)) if operator_ids else None
    report = reconciliation_run(operators=operators)
    return {
        "runs": [run.pk for run in report.runs],
        "findings": sum(run.findings for run in report.runs),
        "busy": [operator.pk for operator in report.busy],
    }


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=900,
    time_limit=960,
)
def settlement_task(days: int = 2) -> int:
    """Recompute the DailySettlement rows of the last ``days`` UTC days (today included)."""
    from apps.transactions.settlement import settlements_refresh

    return len(settlements_refresh(days=days))


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=900,
    time_limit=960,
)
def invoices_monthly_task() -> list[int]:
    """Settle the previous month's last day again, then generate that month's drafts."""
    from apps.transactions.finance.invoices import (
        invoices_generate_monthly,
        month_bounds,
        previous_month,
        utc_today,
    )
    from apps.transactions.settlement import settlement_compute

    today = utc_today()
    settlement_compute(day=month_bounds(previous_month(today))[1])
    return [invoice.pk for invoice in invoices_generate_monthly(today=today)]


# --- streams: follow their schedule (start when due, end when due and pay out) ----------

# The end reason of a stream (and the close reason of its pools) the schedule ended.
END_ON_SCHEDULE = "stream ended on schedule"
MISSED = "its scheduled end passed before it started"


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def streams_schedule_task() -> dict:
    """Start scheduled streams that are due, end live streams whose scheduled end passed
    (one ``stream_end_task`` each: ending pays the pools out), and end scheduled streams
    that never started before their end."""
    now = timezone.now()
    due = Stream.objects.filter(
        status=Stream.Status.SCHEDULED, scheduled_start__lte=now, scheduled_end__gt=now
    ).order_by("scheduled_start", "pk")
    started = [pk for pk in due.values_list("pk", flat=True) if stream_go_live(stream_id=pk)]
    ending = list(
        Stream.objects.filter(status=Stream.Status.LIVE, scheduled_end__lte=now)
        .order_by("scheduled_end", "pk")
        .values_list("pk", flat=True)
    )
    for stream_id in ending:
        transaction.on_commit(functools.partial(stream_end_task.delay, stream_id, END_ON_SCHEDULE))
    missed = Stream.objects.filter(status=Stream.Status.SCHEDULED, scheduled_end__lte=now).update(
        status=Stream.Status.ENDED, ended_at=now, end_reason=MISSED
    )
    if started or ending or missed:
        logger.info("Streams: %s started, %s ending, %s missed", len(started), len(ending), missed)
    return {"started": started, "ending": ending, "missed": missed}


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
def stream_end_task(stream_id: int, reason: str = END_ON_SCHEDULE) -> str:
    """End a stream and pay out its pools, ``reason`` on each; idempotent (an ended stream's
    pools that are still open are settled again, which only starts what is not started yet).
    Also how the operator API's ``streams/end`` pays out after answering (its stream is ended
    by then, and keeps its own end reason)."""
    from apps.transactions.services import streams_end

    stream = Stream.objects.filter(pk=stream_id).first()
    if stream is None:
        return "missing"
    return streams_end(stream=stream, reason=reason).status


# --- statistics and retention (apps.pools.rollups, apps.transactions.statistics) --------


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=280,
    time_limit=300,
)
def statistics_task() -> dict[str, int]:
    """Roll snapshots up (hours, then days), then refresh every streamer's track record."""
    from apps.pools.rollups import rollups_refresh
    from apps.transactions.statistics.records import records_refresh

    stats = rollups_refresh()
    return {
        "hourly_rows": stats.hourly_rows,
        "daily_rows": stats.daily_rows,
        "records": records_refresh(),
    }


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=1500,
    time_limit=1560,
)
def retention_task() -> dict[str, int]:
    """Prune raw snapshots (once rolled up) and the call log past their retention."""
    from apps.operators.calllog import calls_prune
    from apps.pools.rollups import rollups_refresh, snapshots_prune

    rollups_refresh()
    return {"snapshots": snapshots_prune(), "calls": calls_prune()}


# --- operator conformance check (apps.operators.conformance) ----------------------------


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
def conformance_check_task(run_id: int) -> str:
    """Run a pending conformance check (a repeated delivery finds it taken and does nothing)."""
    from apps.operators.conformance.services import conformance_run_execute

    return conformance_run_execute(run_id=run_id).state
