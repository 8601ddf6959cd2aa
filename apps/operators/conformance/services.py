"""Conformance runs: created by staff or the command, carried out by a task or in place."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.operators.conformance.report import FAIL, PASS, SKIP
from apps.operators.conformance.suite import conformance_check
from apps.operators.models import ConformanceRun, Operator

logger = logging.getLogger(__name__)
State = ConformanceRun.State


@transaction.atomic
def conformance_run_create(*, operator: Operator, started_by: Any = None) -> ConformanceRun:
    run = ConformanceRun(operator=operator, started_by=started_by, state=State.PENDING)
    run.full_clean()
    run.save()
    return run


def conformance_run_execute(*, run_id: int) -> ConformanceRun:
    """Run the check of a pending run and store its report; a run already taken (a repeated
    task) is returned as it is. No database transaction is held across the probes."""
    taken = ConformanceRun.objects.filter(pk=run_id, state=State.PENDING).update(
        state=State.RUNNING, started_at=timezone.now()
    )
    run = ConformanceRun.objects.select_related("operator").get(pk=run_id)
    if not taken:
        return run
    try:
        report = conformance_check(operator=run.operator)
    except Exception as error:
        logger.exception("conformance run %s could not run", run_id)
        run.state = State.ERROR
        run.report = {"error": f"{type(error).__name__}: {error}", "probes": []}
    else:
        run.report = report.as_dict()
        run.passed = report.count(PASS)
        run.failed = report.count(FAIL)
        run.skipped = report.count(SKIP)
        run.state = State.PASSED if report.ok else State.FAILED
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "report", "passed", "failed", "skipped", "finished_at"])
    return run
