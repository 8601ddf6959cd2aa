"""Benchmark: our own work in a join and a leave, against the operator calls inside them.

    .venv/bin/python benchmarks/saga_overhead.py --cycles 200

The database named in DATABASE_URL (default ``cp_bench_saga_overhead``) is dropped and
recreated, migrated, and holds a sandbox world (``benchmarks._serve.world_make``). Two
gunicorns serve the project: the operator's side (the sandbox, ``/sandbox/``) and ours (the
operator API and the player API, the sandbox off), so our work and the operator's run in
separate processes. The follower gets a player token from the operator's signed ``init``,
then runs ``--cycles`` join+leave cycles through the player API over HTTP, one at a time.

A cycle's wall time, measured at the client, is our work plus the operator's calls; the
operator's time is the sum of the outbound calls' durations in the call log
(``CallLog.latency_ms``, measured by our HTTP client around each call). Our own work is the
difference. Target: at most 0.3× the operator's time.

Then ``--inproc-cycles`` cycles run in this process (Django's test client, the operator still
over HTTP) to count the queries of a cycle and what they are.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import Figure, Report, database_url, recreate_database  # noqa: E402
from benchmarks._serve import (  # noqa: E402
    PlayerClient,
    World,
    django_setup,
    gunicorn_start,
    migrate,
    player_token,
    world_make,
)

RUNS = {
    "full": [["--cycles", "200"]],
    "smoke": [["--cycles", "10", "--inproc-cycles", "3"]],
}

TARGET = 0.3


def outbound_calls_since(call_id: int) -> tuple[int, float, int]:
    """(last id, total duration in ms, number) of the outbound calls after ``call_id``."""
    from django.db.models import Count, Max, Sum

    from apps.operators.models import CallLog

    totals = CallLog.objects.filter(id__gt=call_id, direction=CallLog.Direction.OUTBOUND).aggregate(
        last=Max("id"), ms=Sum("latency_ms"), n=Count("id")
    )
    return int(totals["last"] or call_id), float(totals["ms"] or 0), int(totals["n"])


def last_call_id() -> int:
    from apps.operators.models import CallLog

    return int(CallLog.objects.order_by("-id").values_list("id", flat=True).first() or 0)


def query_kind(sql: str) -> str:
    """A query's verb and table, e.g. ``UPDATE transactions_saga``."""
    text = sql.lstrip()
    verb = text.split(None, 1)[0].upper() if text else "?"
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
        return verb
    match = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', text, re.IGNORECASE)
    return f"{verb} {match.group(1) if match else '?'}"


def inproc_queries(world: World, our_url: str, cycles: int) -> tuple[float, Counter[str]]:
    """Queries per join+leave cycle, run in this process (the operator still over HTTP)."""
    import uuid

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    token = player_token(world, our_url, "f0001")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    streamer_id = world.streamer_ids[0]
    kinds: Counter[str] = Counter()
    total = 0

    def cycle() -> None:
        joined = client.post(
            "/api/v1/pools/join",
            {"streamerId": streamer_id, "amount": "10"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        assert joined.status_code == 201, joined.content
        left = client.post(f"/api/v1/positions/{joined.json()['id']}/leave")
        assert left.status_code == 200 and left.json()["status"] == "closed", left.content

    cycle()  # warm
    for _ in range(cycles):
        with CaptureQueriesContext(connection) as captured:
            cycle()
        total += len(captured.captured_queries)
        kinds.update(query_kind(query["sql"]) for query in captured.captured_queries)
    return total / cycles, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--inproc-cycles", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="our gunicorn's workers")
    parser.add_argument("--threads", type=int, default=1, help="our gunicorn's threads")
    args = parser.parse_args()
    url = database_url("cp_bench_saga_overhead")
    recreate_database(url)
    django_setup(url)
    migrate()
    operator = gunicorn_start(
        "saga-overhead-operator", url, workers=2, threads=4, extra_env={"SANDBOX_ENABLED": "1"}
    )
    ours = None
    try:
        ours = gunicorn_start(
            "saga-overhead-ours",
            url,
            workers=args.workers,
            threads=args.threads,
            extra_env={"SANDBOX_ENABLED": "0"},
        )
        world = world_make(operator.url, streamers=1, followers=2)
        player = PlayerClient(ours.url, player_token(world, ours.url, "f0000"))
        streamer_id = world.streamer_ids[0]
        for _ in range(3):  # warm both servers (connections, caches, prepared statements)
            player.cycle(streamer_id)
        mark = last_call_id()
        walls = []
        started = time.perf_counter()
        for _ in range(args.cycles):
            cycle_started = time.perf_counter()
            player.cycle(streamer_id)
            walls.append((time.perf_counter() - cycle_started) * 1000)
        wall_ms = (time.perf_counter() - started) * 1000 / args.cycles
        _, operator_total_ms, calls = outbound_calls_since(mark)
        player.close()
        per_cycle, kinds = inproc_queries(world, ours.url, args.inproc_cycles)
    finally:
        if ours is not None:
            ours.stop()
        operator.stop()
    operator_ms = operator_total_ms / args.cycles
    own_ms = wall_ms - operator_ms
    report = Report("saga overhead: one join + one leave through the player API")
    report.context["cycles"] = args.cycles
    report.context["servers"] = (
        f"ours: gunicorn {args.workers} worker(s) × {args.threads} thread(s); "
        "operator (sandbox): 2 workers × 4 threads; one PostgreSQL database"
    )
    report.context["operator calls per cycle"] = f"{calls / args.cycles:.1f}"
    report.add(
        Figure(
            "own work per cycle (wall − operator calls)",
            own_ms,
            "ms",
            baseline_name="operator calls per cycle (call log latency_ms)",
            baseline=operator_ms,
            target=f"≤ {TARGET}× the operator's time",
            met=own_ms <= TARGET * operator_ms,
        )
    )
    report.add(
        Figure(
            "cycle wall time (mean)",
            wall_ms,
            "ms",
            baseline_name="operator calls per cycle",
            baseline=operator_ms,
            note=f"median {statistics.median(walls):.1f} ms, max {max(walls):.1f} ms",
        )
    )
    top = ", ".join(f"{kind} {n / args.inproc_cycles:g}" for kind, n in kinds.most_common(12))
    report.add(
        Figure(
            "queries per cycle (in-process)",
            per_cycle,
            "queries",
            note=f"per cycle: {top}",
        )
    )
    report.print()


if __name__ == "__main__":
    main()
