"""Benchmark: one reconciliation run (and one snapshot pass) over N open pools.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cp_bench \\
        .venv/bin/python benchmarks/reconcile.py --pools 10000 --connections 20

The script (re)creates the database named in DATABASE_URL (it must be a throwaway one: it
is dropped first), migrates it, and fills it with N open pools of one operator, each with a
live stream, one follower's active position and the ledger rows of that join. It starts a
fake operator over HTTP on 127.0.0.1 in a child process (``tests.broker.operator_server``:
signatures checked, balances answered, keep-alive) and points the operator at it. Then it
times ``reconciliation_run`` (balances read concurrently over ``--connections`` connections,
every ledger check) and ``pools_snapshot``, and prints wall time, pools per second and the
process's peak memory (RSS).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = {
    "full": [["--pools", "10000"]],
    "smoke": [["--pools", "50", "--connections", "4"]],
}


def serve_operator(port_queue, latency: float) -> None:
    """Child process: the fake operator, until terminated."""
    from tests.broker.operator_server import FakeOperatorServer

    server = FakeOperatorServer(default_balance=Decimal("1100")).start()
    if latency:
        server.latency["streamer-balance"] = latency
    port_queue.put(server.callback_url)
    while True:
        time.sleep(3600)


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1"):
        raise SystemExit(f"refusing to drop database {name!r}: use a throwaway one")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def populate(count: int, callback_url: str):
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
    return operator


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pools", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=20, help="Per operator.")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="Seconds the fake operator waits per answer."
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cp_bench"),
    )
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the benchmark runs on PostgreSQL: give a postgres:// DATABASE_URL")

    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    operator_process = context.Process(
        target=serve_operator, args=(ports, args.latency), daemon=True
    )
    operator_process.start()
    callback_url = ports.get(timeout=30)

    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEBUG="False",
        LOG_LEVEL="WARNING",
    )
    print(f"database {args.database_url}: recreating, migrating, filling ...", flush=True)
    recreate_database(args.database_url)
    # Setting up runs in a child process, so the peak memory below is the runs' own.
    started = time.perf_counter()
    setup = context.Process(target=prepare, args=(args.pools, callback_url))
    setup.start()
    setup.join()
    if setup.exitcode:
        raise SystemExit("setting up the benchmark database failed")
    print(f"created {args.pools} open pools in {time.perf_counter() - started:.1f} s")

    import django

    django.setup()
    from apps.operators.models import Operator
    from apps.transactions.models import ReconciliationRun
    from apps.transactions.reconciliation import pools_snapshot, reconciliation_run

    operator = Operator.objects.get(code="bench")
    rss_before = peak_rss_mb()

    started = time.perf_counter()
    report = reconciliation_run(
        operators=[operator],
        trigger=ReconciliationRun.Trigger.MANUAL,
        connections=args.connections,
    )
    reconcile_wall = time.perf_counter() - started
    [run] = report.runs
    rss_after_reconcile = peak_rss_mb()

    started = time.perf_counter()
    snapshot = pools_snapshot(operators=[operator], connections=args.connections)
    snapshot_wall = time.perf_counter() - started
    rss_after_snapshot = peak_rss_mb()
    operator_process.terminate()

    checked = run.checked
    print()
    print(f"pools                 {args.pools}")
    print(f"connections/operator  {args.connections}")
    print(f"operator latency      {args.latency * 1000:.0f} ms per answer")
    print(
        f"reconcile run         {reconcile_wall:.2f} s wall, "
        f"{args.pools / reconcile_wall:.0f} pools/s "
        f"(balances read {checked['balances_read']}, failed {checked['balances_failed']}, "
        f"reading {checked['fetch_seconds']:.2f} s, findings {run.findings}, status {run.status})"
    )
    print(
        f"snapshot pass         {snapshot_wall:.2f} s wall, "
        f"{args.pools / snapshot_wall:.0f} pools/s (snapshots {snapshot.stats.snapshots})"
    )
    print(
        f"peak RSS              {rss_before:.0f} MB before (Django loaded), "
        f"{rss_after_reconcile:.0f} MB after the run, {rss_after_snapshot:.0f} MB after snapshots"
    )


if __name__ == "__main__":
    main()
