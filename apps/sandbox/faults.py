"""Fault injection: decide, per (operator, route), whether a request misbehaves and how.

Every sandbox route asks :func:`fault_fire` right after authentication. A fault fires when
it is enabled, has ``remaining`` left (``None`` is unlimited) and wins its probability roll;
``remaining`` is then decremented in the database with a conditional ``UPDATE``, so two
concurrent requests never both consume the last firing. An operator's own fault for a route
wins over a fault that applies to every operator.

What each mode does is carried out by the views (they know the wire format):

* ``latency``: sleep ``latency_ms``, then answer normally;
* ``error``: a definite refusal, nothing moves;
* ``http_500``: HTTP 500, nothing moves;
* ``timeout_before``: sleep ``latency_ms``, then HTTP 504, nothing moves;
* ``timeout_after``: the money moves and commits, then sleep, then the normal answer;
* ``drop``: the money moves and commits, then HTTP 200 with a truncated body.
"""

import random
import time
from dataclasses import dataclass

from django.db.models import F, Q

from apps.sandbox.models import SandboxFault, SandboxOperator

Mode = SandboxFault.Mode
Route = SandboxFault.Route

_rng = random.Random()


@dataclass(frozen=True)
class FiredFault:
    fault_id: int
    mode: str
    latency_ms: int
    error_code: str

    @property
    def moves_nothing(self) -> bool:
        """Modes that answer without running the operation at all."""
        return self.mode in (Mode.ERROR, Mode.HTTP_500, Mode.TIMEOUT_BEFORE)


def fault_fire(
    *, operator: SandboxOperator, route: str, rng: random.Random | None = None
) -> FiredFault | None:
    """The fault that fires for this request, if any (consuming one of its firings)."""
    rng = rng or _rng
    candidates = (
        SandboxFault.objects.filter(route=route, enabled=True)
        .filter(Q(operator=operator) | Q(operator__isnull=True))
        .filter(Q(remaining__isnull=True) | Q(remaining__gt=0))
        # The operator's own fault first, then the one for every operator.
        .order_by(F("operator_id").asc(nulls_last=True), "pk")
    )
    for fault in candidates:
        if fault.probability <= 0 or rng.random() >= fault.probability:
            continue
        if not _consume(fault):
            continue
        return FiredFault(
            fault_id=fault.pk,
            mode=fault.mode,
            latency_ms=fault.latency_ms,
            error_code=fault.error_code,
        )
    return None


def _consume(fault: SandboxFault) -> bool:
    """Count one firing; False when a concurrent request took the last one."""
    firing = SandboxFault.objects.filter(pk=fault.pk, enabled=True)
    if fault.remaining is None:
        return bool(firing.filter(remaining__isnull=True).update(fired_count=F("fired_count") + 1))
    return bool(
        firing.filter(remaining__gt=0).update(
            remaining=F("remaining") - 1, fired_count=F("fired_count") + 1
        )
    )


def pause(latency_ms: int) -> None:
    """Sleep for the fault's latency (tests may replace this to observe it)."""
    if latency_ms > 0:
        time.sleep(latency_ms / 1000)


def truncate(body: bytes) -> bytes:
    """Half of the body: never valid JSON (an empty body becomes a lone ``{``)."""
    if len(body) < 2:
        return b"{"
    return body[: len(body) // 2]
