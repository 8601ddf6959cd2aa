"""Celery tasks of streams: follow their schedule (start when due, end when due)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.streamers.models import Stream, Streamer

logger = logging.getLogger(__name__)


def stream_go_live(*, stream_id: int) -> bool:
    """A scheduled stream whose start has come goes live: the state change ``stream_start``
    makes, under the same rules (active streamer, at most one live stream). False when it
    cannot (it stays scheduled, and ends unstarted once its scheduled end has passed)."""
    with transaction.atomic():
        stream = Stream.objects.filter(pk=stream_id).values("streamer_id", "status").first()
        if stream is None or stream["status"] != Stream.Status.SCHEDULED:
            return False
        # Lock the streamer first, as stream_start does: one stable order.
        streamer = Streamer.objects.select_for_update().get(pk=stream["streamer_id"])
        if streamer.status != Streamer.Status.ACTIVE:
            return False
        if Stream.objects.filter(streamer=streamer, status=Stream.Status.LIVE).exists():
            return False
        try:
            with transaction.atomic():
                return bool(
                    Stream.objects.filter(pk=stream_id, status=Stream.Status.SCHEDULED).update(
                        status=Stream.Status.LIVE, started_at=timezone.now()
                    )
                )
        except IntegrityError:  # a concurrent start won the race
            return False


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
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
        transaction.on_commit(lambda stream_id=stream_id: stream_end_task.delay(stream_id))
    missed = Stream.objects.filter(status=Stream.Status.SCHEDULED, scheduled_end__lte=now).update(
        status=Stream.Status.ENDED, ended_at=now
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
def stream_end_task(stream_id: int) -> str:
    """End a stream and pay out its pools; idempotent (an ended stream's pools that are
    still open are settled again, which only starts what is not started yet)."""
    from apps.transactions.services import streams_end

    stream = Stream.objects.filter(pk=stream_id).first()
    if stream is None:
        return "missing"
    return streams_end(stream=stream).status
