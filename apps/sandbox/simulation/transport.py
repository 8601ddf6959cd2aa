"""The network of the simulation: every outbound call reaches the sandbox operator in-process,
through Django's test client, with faults decided by a seeded random generator.

Nothing runs in another thread and nothing waits on a clock, so the same seed gives the same
faults at the same calls, and the same history.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from django.test import Client


class SimulatedCrash(BaseException):
    """The process died here. A ``BaseException``, like ``SystemExit``: nothing in the engine
    may catch it; the simulation's "restart" does."""


# A fault and when it strikes: before the operator saw the call, or after it applied it.
FAULTS = (
    "timeout_before",  # no answer; the operator never saw it
    "timeout_after",  # the operator applied it; the answer never came
    "http_500_before",  # a 500 before anything happened
    "http_500_after",  # the operator applied it, then answered 500
    "drop_after",  # the operator applied it; the connection dropped
    "malformed_after",  # the operator answered; its body arrives garbled (same status)
    "slow",  # answered, slowly (SLOW_SECONDS, within any timeout)
    "crash_before",  # our process died before sending (the step's row is persisted)
    "crash_after",  # our process died after the operator applied it
)
# Garbled bodies: none can be read as an answer (a balance, a wallet result). An operator
# that answers a readable lie (a success it did not apply) is outside what can be recovered.
MALFORMED = (
    b'{"balance": 1234567890123456789012345678901.5, "currency": "USD"}',
    b'{"balance": "\\ud800", "currency": "USD"}',
    b'{"code": 200, "data": "\\u0000"}',
    b"\x00\xff\xfe garbage",
    b"[" * 5000,
)


SLOW_SECONDS = 0.05


@dataclass
class FaultPlan:
    """How often each route fails; ``rate`` is the chance that a call gets any fault."""

    rate: float = 0.0
    crash_rate: float = 0.0
    routes: frozenset[str] | None = None  # None: every route

    def pick(self, rng: random.Random, route: str) -> str | None:
        if self.routes is not None and route not in self.routes:
            return None
        if self.crash_rate and rng.random() < self.crash_rate:
            return rng.choice(("crash_before", "crash_after"))
        if self.rate and rng.random() < self.rate:
            return rng.choice(FAULTS[:7])
        return None


@dataclass
class FaultyTransport(httpx.BaseTransport):
    """An httpx transport into the Django app (the sandbox operator), with seeded faults."""

    rng: random.Random
    plan: FaultPlan = field(default_factory=FaultPlan)
    counts: Counter[str] = field(default_factory=Counter)
    calls: int = 0

    def __post_init__(self) -> None:
        self._client = Client(raise_request_exception=True)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        route = _route(request.url.path)
        fault = self.plan.pick(self.rng, route)
        if fault:
            self.counts[fault] += 1
            self.counts[f"{route}:{fault}"] += 1
        if fault == "timeout_before":
            raise httpx.ReadTimeout("simulated timeout", request=request)
        if fault == "http_500_before":
            return httpx.Response(500, content=b"simulated outage", request=request)
        if fault == "crash_before":
            raise SimulatedCrash(f"crash before {route}")
        answer = self._forward(request)
        if fault == "slow":
            time.sleep(SLOW_SECONDS)  # wall time only: no budget or clock decides anything here
        if fault == "timeout_after":
            raise httpx.ReadTimeout("simulated timeout after the operator applied it")
        if fault == "http_500_after":
            return httpx.Response(500, content=b"simulated error after applying", request=request)
        if fault == "drop_after":
            raise httpx.RemoteProtocolError("simulated dropped connection", request=request)
        if fault == "malformed_after":
            body = self.rng.choice(MALFORMED)
            return httpx.Response(answer.status_code, content=body, request=request)
        if fault == "crash_after":
            raise SimulatedCrash(f"crash after {route}")
        return answer

    def _forward(self, request: httpx.Request) -> httpx.Response:
        split = urlsplit(str(request.url))
        path = split.path + (f"?{split.query}" if split.query else "")
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in ("host", "content-length", "content-type")
        }
        response = self._client.generic(
            request.method,
            path,
            data=request.content,
            content_type=request.headers.get("content-type", "application/json"),
            headers=headers,
        )
        return httpx.Response(
            response.status_code,
            headers={"content-type": response.get("Content-Type", "application/json")},
            content=response.content,
            request=request,
        )


def _route(path: str) -> str:
    """``transfer``, ``streamer-balance``, ``game-pool``, ``wallet/withdraw``, ..."""
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 2 and parts[-2] == "wallet":
        return f"wallet/{parts[-1]}"
    return parts[-1] if parts else ""
