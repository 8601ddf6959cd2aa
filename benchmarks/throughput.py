"""Benchmark: join+leave cycles per second over many pools, with concurrent clients.

    .venv/bin/python benchmarks/throughput.py --clients 8 --seconds 15

The database named in DATABASE_URL (default ``cp_bench_throughput``) is dropped and
recreated, migrated, and holds a sandbox world of ``--pools`` live streamers (default: one
per client) and one follower per client (``benchmarks._serve.world_make``). The operator's
side (the sandbox) runs in a gunicorn of its own, sized so that it is not the limit; ours is
started afresh for each configuration:

* ``sync``: gunicorn's sync workers, 1, 2 and 4 of them (``--workers``);
* ``gthread``: the same worker counts with ``--threads`` threads each (``--gthread``);
* ``celery``: ``--celery-web`` sync workers that answer after the saga's first step
  (``COPYPOOL_INLINE_SAGA_SECONDS=0``) and a Celery worker (``-c --celery-concurrency``, on
  the Redis of ``--broker``) finishing the sagas; the clients poll the position until done.

Each client loops join → leave on its own streamer's pool through the player API over HTTP
for ``--seconds``; the figure is completed cycles per second, beside one sync worker. The
CPU time the servers' processes used per cycle (from /proc) says where the limit is: with
the machine's cores busy, cycles/s cannot exceed cores ÷ CPU per cycle.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, Figure, Report, database_url, recreate_database  # noqa: E402
from benchmarks._serve import (  # noqa: E402
    PlayerClient,
    Server,
    django_setup,
    gunicorn_start,
    migrate,
    player_token,
    server_env,
    world_make,
)

RUNS = {
    "full": [["--clients", "8", "--seconds", "15", "--gthread", "--celery"]],
    "smoke": [["--clients", "4", "--seconds", "3", "--workers", "1,2", "--celery"]],
}

CELERY = str(Path(sys.executable).with_name("celery"))
TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of group ``pgid``."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields[2] is pgrp (the fields after the command)
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


@dataclass
class Outcome:
    cycles: int
    errors: int
    seconds: float
    ours_cpu: float
    operator_cpu: float
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.cycles / self.seconds


def drive(
    players: list[PlayerClient],
    streamer_ids: list[int],
    seconds: float,
    *,
    poll: bool,
    ours: tuple[int, ...],
    operator: int,
) -> Outcome:
    """Every player loops join+leave on its own pool for ``seconds``; cycles completed."""
    for n, player in enumerate(players):  # warm: connections, caches, prepared statements
        player.cycle(streamer_ids[n % len(streamer_ids)], poll=poll)
    counts = [0] * len(players)
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    def loop(n: int) -> None:
        streamer_id = streamer_ids[n % len(streamer_ids)]
        while time.monotonic() < stop_at:
            try:
                players[n].cycle(streamer_id, poll=poll)
            except Exception as error:  # counted and reported: the run goes on
                errors.append(f"{type(error).__name__}: {error}"[:300])
                continue
            counts[n] += 1

    groups = (*ours, operator)
    cpu_before = [group_cpu_seconds(pgid) for pgid in groups]
    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(n,)) for n in range(len(players))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu = [
        group_cpu_seconds(pgid) - before for pgid, before in zip(groups, cpu_before, strict=True)
    ]
    return Outcome(
        cycles=sum(counts),
        errors=len(errors),
        seconds=elapsed,
        ours_cpu=sum(cpu[:-1]),
        operator_cpu=cpu[-1],
        first_error=errors[0] if errors else "",
    )


def celery_start(database_url: str, env: dict[str, str], concurrency: int) -> subprocess.Popen:
    log = Path("/tmp/bench-throughput-celery.log")
    with log.open("wb") as out:
        return subprocess.Popen(
            [CELERY, "-A", "config", "worker", "-l", "warning", "-c", str(concurrency)],
            cwd=ROOT,
            env=server_env(database_url, env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def process_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pools", type=int, default=0, help="streamers (default: --clients)")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", default="1,2,4", help="our gunicorn's worker counts")
    parser.add_argument("--gthread", action="store_true", help="also gthread workers")
    parser.add_argument("--threads", type=int, default=4, help="threads of a gthread worker")
    parser.add_argument("--celery", action="store_true", help="also Celery finishing sagas")
    parser.add_argument("--celery-web", type=int, default=2, help="web workers with Celery")
    parser.add_argument("--celery-concurrency", type=int, default=4)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    url = database_url("cp_bench_throughput")
    recreate_database(url)
    django_setup(url)
    migrate()
    operator = gunicorn_start(
        "throughput-operator", url, workers=2, threads=8, extra_env={"SANDBOX_ENABLED": "1"}
    )
    pools = args.pools or args.clients
    configs: list[tuple[str, int, int, bool]] = []  # name, workers, threads, celery
    for workers in (int(w) for w in args.workers.split(",")):
        configs.append((f"sync, {workers} worker(s)", workers, 1, False))
    if args.gthread:
        for workers in (int(w) for w in args.workers.split(",")):
            configs.append(
                (f"gthread ×{args.threads}, {workers} worker(s)", workers, args.threads, False)
            )
    if args.celery:
        configs.append(
            (
                f"celery -c {args.celery_concurrency}, {args.celery_web} sync worker(s)",
                args.celery_web,
                1,
                True,
            )
        )
    outcomes: dict[str, Outcome] = {}
    try:
        world = world_make(operator.url, streamers=pools, followers=args.clients)
        tokens: list[str] = []
        for name, workers, threads, celery in configs:
            extra = {"SANDBOX_ENABLED": "0"}
            worker = None
            if celery:
                import redis

                redis.Redis.from_url(args.broker).flushdb()  # this benchmark's own broker db
                extra |= {"CELERY_BROKER_URL": args.broker, "COPYPOOL_INLINE_SAGA_SECONDS": "0"}
                worker = celery_start(url, extra, args.celery_concurrency)
            ours: Server | None = None
            try:
                ours = gunicorn_start(
                    "throughput-ours", url, workers=workers, threads=threads, extra_env=extra
                )
                if not tokens:
                    tokens = [player_token(world, ours.url, user) for user in world.follower_tokens]
                players = [PlayerClient(ours.url, token) for token in tokens]
                outcomes[name] = drive(
                    players,
                    world.streamer_ids,
                    args.seconds,
                    poll=celery,
                    ours=(ours.process.pid,) + ((worker.pid,) if worker is not None else ()),
                    operator=operator.process.pid,
                )
                for player in players:
                    player.close()
            finally:
                if ours is not None:
                    ours.stop()
                if worker is not None:
                    process_stop(worker)
    finally:
        operator.stop()
    report = Report("throughput: join+leave cycles per second, concurrent clients")
    report.context["clients"] = f"{args.clients} (each on its own pool of {pools})"
    report.context["seconds per configuration"] = args.seconds
    report.context["operator (sandbox)"] = "gunicorn 2 workers × 8 threads, same database"
    report.context["cores"] = os.cpu_count()
    baseline_name = configs[0][0]
    baseline = outcomes[baseline_name].rate
    for name, workers, _, _ in configs:
        outcome = outcomes[name]
        per_cycle = 1000 / outcome.cycles if outcome.cycles else 0.0
        note = (
            f"{outcome.cycles} cycles, {outcome.errors} errors; CPU per cycle: ours "
            f"{outcome.ours_cpu * per_cycle:.0f} ms, operator {outcome.operator_cpu * per_cycle:.0f} ms"
        )
        if outcome.first_error:
            note += f"; first error: {outcome.first_error}"
        report.add(
            Figure(
                name,
                outcome.rate,
                "cycles/s",
                baseline_name=baseline_name,
                baseline=baseline,
                target=f"scales with workers (ideal {workers}×)" if name != baseline_name else "",
                note=note,
            )
        )
    report.print()


if __name__ == "__main__":
    main()
