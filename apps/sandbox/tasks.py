"""Celery entry points of the sandbox: thin wrappers over services."""

from decimal import Decimal

from celery import shared_task

from apps.sandbox.selectors import sandbox_operator_get
from apps.sandbox.services import sandbox_play_round


@shared_task(name="apps.sandbox.tasks.sandbox_play_round_task", ignore_result=True)
def sandbox_play_round_task(operator_slug: str | None = None, rtp: str = "0.96") -> int:
    """One round of streamer play; returns the number of bets placed."""
    operator = None
    if operator_slug:
        operator = sandbox_operator_get(slug=operator_slug)
        if operator is None:
            return 0
    return len(sandbox_play_round(operator=operator, rtp=Decimal(rtp)))
