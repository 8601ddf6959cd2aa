"""Benchmark: reconciliation runs (and snapshot passes) over N open pools, as a matrix.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cp_bench_reconcile \\
        .venv/bin/python benchmarks/reconcile.py --pools 1000 10000

For each pool count the script (re)creates the database named in DATABASE_URL (a throwaway
one: it is dropped first), migrates it and fills it with N open pools of one operator, each
with a live stream, one follower's active position and the ledger rows of that join. A fake
operator (``tests.broker.operator_server.FakeOperatorServer``, signatures checked, keep-alive)
runs in a child process, once answering at once and once ``--latency`` late per answer.
Then, for each operator latency and each connection count (``--connections``, default 1 and
20), it times one ``reconciliation_run`` and one ``pools_snapshot``, counting the queries of
this process (a connection ``execute_wrapper``) and the time the caller waited on the
operator (the balance generator blocked), and prints:

* wall time and pools per second of each pass;
* **own work**: wall time less the time spent waiting for answers, as pools per second
  (target ≥ 1,000 pools/s at zero latency): what the database and our code cost;
* at the slow operator, 20 connections against one (target ≥ 20×);
* queries per pass: a batched pass issues a few per batch of answers (``READ_BATCH``) and
  per chunk of readings, none per pool. The call log's ``COPY`` bypasses the
  ``execute_wrapper`` and is not counted (one per batch).

A one-connection pass at the slow operator takes N × latency (10,000 pools at 50 ms: over
eight minutes): ``--skip-serial-above N`` skips it above N pools, and the report says so.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import Figure, Report, database_url, peak_rss_mb, recreate_database  # noqa: E402

RUNS = {
    "full": [["--pools", "1000", "10000", "--skip-serial-above", "1000"]],
    "smoke": [["--pools", "50"]],
}

OWN_WORK_TARGET = 1000.0  # pools/s
SPEEDUP_TARGET = 20.0  # 20 connections against one at the slow operator


def serve_operator(port_queue: Any, latencies: list[float]) -> None:
    """Child process: one fake operator per latency, until terminated."""
    from tests.broker.operator_server import FakeOperatorServer

    urls = {}
    for latency in latencies:
        server = FakeOperatorServer(default_balance=Decimal("1100")).start()
        if latency:
            server.latency["streamer-balance"] = latency
        urls[latency] = server.callback_url
    port_queue.put(urls)
    while True:
        time.sleep(3600)


def populate(count: int, callback_url: str) -> None:
    from django.utils import timezone

    from apps.followers.models import Follower, PlayerSession, Position
    from apps.operators.models import Operator, api_key_digest
    from apps.pools.models import Pool
    from apps.streamers.models import Stream, Streamer
    from apps.transactions.models import Saga, Transaction

    now = timezone.now()
    operator = Operator.objects.create(
        name="Bench",
        code="bench",
        callback_url=callback_url,
        wallet_url=callback_url.replace("/cb", "/wallet"),
        api_key_digest=api_key_digest("bench"),
        operator_api_key="ok",
        secret_key="s",
        wallet_client_id="c",
        wallet_secret="ws",
    )
    batch = 2000
    streamers = Streamer.objects.bulk_create(
        [
            Streamer(
                operator=operator, operator_user_id=f"s{i}", display_name=f"S{i}", currency="USD"
            )
            for i in range(count)
        ],
        batch_size=batch,
    )
    Stream.objects.bulk_create(
        [Stream(streamer=s, status="live", started_at=now) for s in streamers], batch_size=batch
    )
    pools = Pool.objects.bulk_create(
        [
            Pool(
                streamer=s,
                operator=operator,
                currency="USD",
                lock_state="locked",
                open_sent_at=now,
                locked_at=now,
                opening_balance=Decimal(1000),
                balance=Decimal(1100),
                balance_at=now,
                total_units=Decimal(1100),
                streamer_units=Decimal(1000),
            )
            for s in streamers
        ],
        batch_size=batch,
    )
    followers = Follower.objects.bulk_create(
        [Follower(operator=operator, operator_user_id=f"f{i}") for i in range(count)],
        batch_size=batch,
    )
    sessions = PlayerSession.objects.bulk_create(
        [
            PlayerSession(follower=f, user_token="t", currency="USD", expires_at=now)
            for f in followers
        ],
        batch_size=batch,
    )
    positions = Position.objects.bulk_create(
        [
            Position(pool=p, follower=f, session=s, status="active", units=100, contributed=100)
            for p, f, s in zip(pools, followers, sessions, strict=True)
        ],
        batch_size=batch,
    )
    sagas = Saga.objects.bulk_create(
        [
            Saga(
                kind="join",
                status="done",
                step="done",
                operator=operator,
                pool=p,
                position=pos,
                finished_at=now,
            )
            for p, pos in zip(pools, positions, strict=True)
        ],
        batch_size=batch,
    )
    rows = []
    for saga, pool, position, follower, streamer in zip(
        sagas, pools, positions, followers, streamers, strict=True
    ):
        common = dict(
            operator=operator,
            currency="USD",
            status="succeeded",
            saga=saga,
            pool=pool,
            position=position,
            follower=follower,
            streamer=streamer,
            completed_at=now,
            amount=Decimal(100),
        )
        rows.append(
            Transaction(
                kind="follower_debit",
                balance_before=Decimal(500),
                balance_after=Decimal(400),
                **common,
            )
        )
        rows.append(
            Transaction(
                kind="streamer_deposit",
                priced_balance=Decimal(1000),
                balance_after=Decimal(1100),
                units=Decimal(100),
                priced_total_units=Decimal(1000),
                **common,
            )
        )
    Transaction.objects.bulk_create(rows, batch_size=batch)


def prepare(count: int, callback_url: str) -> None:
    """Child process: migrate the fresh database and fill it."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    populate(count, callback_url)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by then


@dataclass
class Pass:
    wall: float
    waited: float  # the caller blocked on the operator's answers
    queries: int
    detail: str

    def own(self) -> float:
        return max(self.wall - self.waited, 1e-9)


class Meter:
    """Counts this process's queries and the time the caller waits on balance answers."""

    def __init__(self) -> None:
        self.queries = 0
        self.waited = 0.0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any):
        self.queries += 1
        return execute(sql, params, many, context)

    def timed(self, generator: Iterator) -> Iterator:
        while True:
            started = time.perf_counter()
            try:
                item = next(generator)
            except StopIteration:
                self.waited += time.perf_counter() - started
                return
            self.waited += time.perf_counter() - started
            yield item


def measure(run: Callable[[], str]) -> Pass:
    from django.db import connection

    from apps.operators import clients

    meter = Meter()
    real_fetch = clients.streamer_balances_fetch

    def fetch(*args: Any, **kwargs: Any) -> Iterator:
        return meter.timed(real_fetch(*args, **kwargs))

    clients.streamer_balances_fetch = fetch  # type: ignore[assignment]
    try:
        with connection.execute_wrapper(meter):
            started = time.perf_counter()
            detail = run()
            wall = time.perf_counter() - started
    finally:
        clients.streamer_balances_fetch = real_fetch  # type: ignore[assignment]
    return Pass(wall=wall, waited=meter.waited, queries=meter.queries, detail=detail)


def run_matrix(
    *, pools: int, urls: dict[float, str], connection_counts: list[int], skip_above: int | None
) -> dict[tuple[float, int], tuple[Pass, Pass] | None]:
    from apps.operators.models import Operator
    from apps.transactions.models import ReconciliationRun
    from apps.transactions.reconciliation import pools_snapshot, reconciliation_run

    results: dict[tuple[float, int], tuple[Pass, Pass] | None] = {}
    for latency, url in urls.items():
        Operator.objects.filter(code="bench").update(
            callback_url=url, wallet_url=url.replace("/cb", "/wallet")
        )
        operator = Operator.objects.get(code="bench")
        for connections in connection_counts:
            if latency and connections == 1 and skip_above is not None and pools > skip_above:
                results[(latency, connections)] = None
                continue

            def reconcile(operator: Operator = operator, connections: int = connections) -> str:
                report = reconciliation_run(
                    operators=[operator],
                    trigger=ReconciliationRun.Trigger.MANUAL,
                    connections=connections,
                )
                [run] = report.runs
                checked = run.checked
                return (
                    f"read {checked['balances_read']}, failed {checked['balances_failed']}, "
                    f"calls logged {checked['calls_logged']}, findings {run.findings} "
                    f"({', '.join(run.found)}), status {run.status}"
                )

            def snapshot(operator: Operator = operator, connections: int = connections) -> str:
                report = pools_snapshot(operators=[operator], connections=connections)
                stats = report.stats
                return (
                    f"read {stats.read}, failed {stats.failed}, priced during the read "
                    f"{stats.priced_during_read}, snapshots {stats.snapshots}"
                )

            pair = (measure(reconcile), measure(snapshot))
            results[(latency, connections)] = pair
            print(
                f"  {pools} pools, {latency * 1000:.0f} ms, {connections} conn: reconcile "
                f"{pair[0].wall:.2f} s ({pair[0].detail}, {pair[0].queries} queries), snapshot "
                f"{pair[1].wall:.2f} s ({pair[1].detail}, {pair[1].queries} queries)",
                flush=True,
            )
    return results


def report_size(
    report: Report,
    pools: int,
    results: dict[tuple[float, int], tuple[Pass, Pass] | None],
    *,
    slow: float,
    connection_counts: list[int],
) -> None:
    few, many = min(connection_counts), max(connection_counts)
    for (latency, connections), pair in results.items():
        label = f"{pools} pools, {latency * 1000:.0f} ms, {connections} conn"
        if pair is None:
            report.add(
                Figure(
                    f"{label}: reconcile",
                    0.0,
                    "s",
                    note=f"SKIPPED (--skip-serial-above: about {pools * latency:.0f} s)",
                )
            )
            continue
        run, snap = pair
        report.add(
            Figure(
                f"{label}: reconcile",
                run.wall,
                "s",
                note=f"{pools / run.wall:.0f} pools/s, {run.queries} queries, "
                f"waited {run.waited:.2f} s; {run.detail}",
            )
        )
        report.add(
            Figure(
                f"{label}: snapshot pass",
                snap.wall,
                "s",
                note=f"{pools / snap.wall:.0f} pools/s, {snap.queries} queries, "
                f"waited {snap.waited:.2f} s; {snap.detail}",
            )
        )
        if latency == 0:
            for name, measured in (("reconcile", run), ("snapshot", snap)):
                own = pools / measured.own()
                report.add(
                    Figure(
                        f"{label}: {name} own work",
                        own,
                        "pools/s",
                        target=f"≥ {OWN_WORK_TARGET:.0f} pools/s",
                        met=own >= OWN_WORK_TARGET,
                        note=f"wall {measured.wall:.2f} s less {measured.waited:.2f} s waiting "
                        "on the operator",
                    )
                )
    serial, parallel = results.get((slow, few)), results.get((slow, many))
    name = f"{pools} pools, {slow * 1000:.0f} ms: {many} conn vs {few}"
    if serial is None or parallel is None:
        report.add(Figure(name, 0.0, "×", note="SKIPPED: the one-connection pass was skipped"))
        return
    for index, what in enumerate(("reconcile", "snapshot")):
        report.add(
            Figure(
                f"{name} ({what})",
                pools / parallel[index].wall,
                "pools/s",
                baseline_name=f"{few} connection, same operator",
                baseline=pools / serial[index].wall,
                target=f"≥ {SPEEDUP_TARGET:.0f}×",
                met=serial[index].wall / parallel[index].wall >= SPEEDUP_TARGET,
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pools", type=int, nargs="+", default=[1000])
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 20])
    parser.add_argument(
        "--latency", type=float, default=0.05, help="Seconds the slow operator waits per answer."
    )
    parser.add_argument(
        "--skip-serial-above",
        type=int,
        default=None,
        help="Skip the one-connection pass at the slow operator above this many pools.",
    )
    args = parser.parse_args()
    url = database_url("cp_bench_reconcile")

    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    latencies = [0.0, args.latency]
    operator_process = context.Process(target=serve_operator, args=(ports, latencies), daemon=True)
    operator_process.start()
    urls: dict[float, str] = ports.get(timeout=30)

    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEBUG="False",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.db import connections

    report = Report("reconcile")
    report.context["operator latency"] = f"0 and {args.latency * 1000:.0f} ms per answer"
    report.context["connections"] = " and ".join(map(str, args.connections))
    try:
        for pools in args.pools:
            connections.close_all()
            print(f"database {url}: recreating, migrating, filling {pools} pools ...", flush=True)
            recreate_database(url)
            # Setting up runs in a child process, so the peak memory is the runs' own.
            started = time.perf_counter()
            setup = context.Process(target=prepare, args=(pools, urls[0.0]))
            setup.start()
            setup.join()
            if setup.exitcode:
                raise SystemExit("setting up the benchmark database failed")
            print(f"created {pools} open pools in {time.perf_counter() - started:.1f} s")
            results = run_matrix(
                pools=pools,
                urls=urls,
                connection_counts=args.connections,
                skip_above=args.skip_serial_above,
            )
            report_size(
                report,
                pools,
                results,
                slow=args.latency,
                connection_counts=args.connections,
            )
    finally:
        operator_process.terminate()
    report.context["peak RSS"] = f"{peak_rss_mb():.0f} MB"
    report.print()


if __name__ == "__main__":
    main()
