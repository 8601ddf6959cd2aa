"""Benchmark: the operator API's signed ``init`` against a bare DRF endpoint on the same server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cp_bench_operator_api \\
        .venv/bin/python benchmarks/operator_api.py --seconds 10 --clients 8 --threads 8

The database named in DATABASE_URL is dropped, recreated and migrated, and given one operator.
One gunicorn (``config/gunicorn.py``, ``--threads`` threads, ``benchmarks/_bench_settings.py``:
the project plus ``POST /bench/bare``, a DRF view with no authentication, throttle or
database) serves both endpoints. ``--clients`` threads, each on one keep-alive connection,
post as fast as answers come: signed ``init`` bodies for ``--players`` players in turn (the
first call registers each, later ones open a new session), then the same number of bare
posts, alternating for ``--rounds`` rounds; the best round of each is compared (the machine
is shared: the best round is the least disturbed). Target: ``init`` at least half the bare
rate. Every answer is checked (200, and a ``url`` from ``init``); one wrong answer fails the
run.

Then, in this process, it profiles ``--profile`` inits through Django's test client and
splits each one's time by area: the signature check, the operator lookup, the throttle, the
body's validation, the session (follower and session rows), the token signing and the call
log row, with the SQL queries of one ``init`` and their time.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import pstats
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import Figure, Report, database_url, recreate_database  # noqa: E402
from benchmarks._serve import django_setup, gunicorn_start, migrate  # noqa: E402

RUNS = {
    "full": [["--seconds", "10", "--rounds", "3"]],
    "smoke": [["--seconds", "1", "--rounds", "1", "--profile", "20"]],
}

API_KEY = "bench-operator-api-key"
SECRET = "bench-secret"
INIT = "/api/v1/copystake/init"
BARE = "/bench/bare"
SETTINGS = "benchmarks._bench_settings"


def populate() -> None:
    from apps.operators.models import Operator, api_key_digest

    Operator.objects.create(
        name="Bench",
        code="bench",
        callback_url="http://127.0.0.1:9/cb",
        wallet_url="http://127.0.0.1:9/wallet",
        api_key_digest=api_key_digest(API_KEY),
        operator_api_key="ok",
        secret_key=SECRET,
        wallet_client_id="c",
        wallet_secret="ws",
    )


def init_body(player: int) -> bytes:
    return json.dumps(
        {
            "operatorUserId": f"player-{player}",
            "userToken": f"wallet-token-{player}",
            "currency": "USD",
            "language": "en",
        }
    ).encode()


def signed(body: bytes) -> dict[str, str]:
    from apps.operators.signatures import copystake_signature

    return {
        "Content-Type": "application/json",
        "X-API-KEY": API_KEY,
        "X-REQUEST-SIGNATURE": copystake_signature(SECRET, body),
    }


class Load:
    """``clients`` threads posting to one path for ``seconds``: rate and latencies."""

    def __init__(self, base_url: str, path: str, clients: int, players: int) -> None:
        self.host, port = base_url.removeprefix("http://").split(":")
        self.port = int(port)
        self.path = path
        self.clients = clients
        self.players = players
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.next_player = 0

    def player(self) -> int:
        with self.lock:
            self.next_player += 1
            return self.next_player % self.players

    def request(self) -> tuple[bytes, dict[str, str]]:
        if self.path == INIT:
            body = init_body(self.player())
            return body, signed(body)
        body = init_body(self.player())
        return body, {"Content-Type": "application/json"}

    def client(self, until: float) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        latencies = []
        try:
            while time.monotonic() < until:
                body, headers = self.request()
                started = time.perf_counter()
                conn.request("POST", self.path, body=body, headers=headers)
                response = conn.getresponse()
                content = response.read()
                latencies.append(time.perf_counter() - started)
                if response.status != 200 or (
                    self.path == INIT and "url" not in json.loads(content)
                ):
                    with self.lock:
                        self.errors.append(f"{response.status} {content[:300]!r}")
                    return
        finally:
            conn.close()
            with self.lock:
                self.latencies.extend(latencies)

    def run(self, seconds: float) -> dict[str, float]:
        self.latencies, self.errors = [], []
        until = time.monotonic() + seconds
        started = time.perf_counter()
        threads = [threading.Thread(target=self.client, args=(until,)) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if self.errors:
            raise SystemExit(f"{self.path} answered wrongly: {self.errors[0]}")
        ordered = sorted(self.latencies)
        return {
            "rate": len(ordered) / elapsed,
            "p50": statistics.median(ordered) * 1000,
            "p95": ordered[int(len(ordered) * 0.95)] * 1000,
            "requests": len(ordered),
        }


AREAS = [
    # (area, file suffix, function name): cumulative time of that function per init
    ("whole request (Django handler)", "django/core/handlers/base.py", "get_response"),
    ("operator lookup by API key", "apps/operators/selectors.py", "operator_get_by_api_key"),
    ("signature check (HMAC)", "apps/operators/signatures.py", "copystake_verify"),
    ("throttle", "rest_framework/views.py", "check_throttles"),
    ("body parse and validation", "apps/operators/apis.py", "validated"),
    ("session: follower and session rows", "apps/followers/services.py", "player_session_open"),
    ("token signing (player URL)", "apps/followers/tokens.py", "player_url"),
    ("call log row", "apps/operators/authentication.py", "_record_call"),
]


def profile(count: int, report: Report, top: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()

    def post(player: int):
        body = init_body(player)
        headers = signed(body)
        del headers["Content-Type"]
        response = client.post(INIT, body, content_type="application/json", headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"init answered {response.status_code}: {response.content[:300]!r}")

    for player in range(5):  # warm: the follower rows exist, as for a returning player
        post(player)

    db_time = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            db_time[0] += time.perf_counter() - started

    with CaptureQueriesContext(connection) as captured:
        post(1)
    queries = [q["sql"] for q in captured.captured_queries]

    profiler = cProfile.Profile()
    with connection.execute_wrapper(timed):
        profiler.enable()
        for i in range(count):
            post(i % 5)
        profiler.disable()
    if top:
        print(f"\nprofile of {count} inits, the {top} functions with the most time of their own:")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(top)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    def cumulative(suffix: str, name: str) -> float:
        return sum(
            entry[3]
            for (filename, _, function), entry in stats.items()
            if function == name and filename.endswith(suffix)
        )

    whole = cumulative(AREAS[0][1], AREAS[0][2]) / count * 1000
    for area, suffix, name in AREAS:
        ms = cumulative(suffix, name) / count * 1000
        report.add(
            Figure(
                f"profile: {area}",
                ms,
                "ms/init",
                baseline_name="the whole request" if name != "get_response" else "",
                baseline=whole if name != "get_response" else None,
            )
        )
    report.add(
        Figure(
            "profile: time in SQL (execute)",
            db_time[0] / count * 1000,
            "ms/init",
            baseline_name="the whole request",
            baseline=whole,
        )
    )
    report.add(
        Figure(
            "queries per init (a returning player)",
            len(queries),
            "queries",
            note="; ".join(q.split(" WHERE ")[0][:60] for q in queries),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8, help="client threads (keep-alive)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--profile", type=int, default=200, help="inits to profile in-process")
    parser.add_argument("--top", type=int, default=0, help="print the profile's top functions")
    args = parser.parse_args()

    url = database_url("cp_bench_operator_api")
    recreate_database(url)
    django_setup(url, {"DJANGO_SETTINGS_MODULE": SETTINGS})
    migrate()
    populate()

    report = Report(
        "operator API: signed init against a bare DRF endpoint",
        context={
            "server": f"gunicorn, {args.workers} worker(s) × {args.threads} thread(s)",
            "clients": f"{args.clients} threads, keep-alive, {args.seconds:g} s × {args.rounds}",
        },
    )
    server = gunicorn_start(
        "operator_api",
        url,
        workers=args.workers,
        threads=args.threads,
        extra_env={"DJANGO_SETTINGS_MODULE": SETTINGS},
    )
    try:
        init = Load(server.url, INIT, args.clients, args.players)
        bare = Load(server.url, BARE, args.clients, args.players)
        init.run(min(args.seconds, 2))  # warm both up: connections, imports, first followers
        bare.run(min(args.seconds, 2))
        rounds: dict[str, list[dict[str, float]]] = {INIT: [], BARE: []}
        for _ in range(args.rounds):
            rounds[INIT].append(init.run(args.seconds))
            rounds[BARE].append(bare.run(args.seconds))
    finally:
        server.stop()
    best_init = max(rounds[INIT], key=lambda r: r["rate"])
    best_bare = max(rounds[BARE], key=lambda r: r["rate"])
    ratio = best_init["rate"] / best_bare["rate"]
    report.add(
        Figure(
            "signed init",
            best_init["rate"],
            "req/s",
            baseline_name="bare DRF endpoint, same server",
            baseline=best_bare["rate"],
            target="≥ 0.5× the bare rate",
            met=ratio >= 0.5,
            note="rounds: "
            + ", ".join(f"{r['rate']:.0f}" for r in rounds[INIT])
            + " vs "
            + ", ".join(f"{r['rate']:.0f}" for r in rounds[BARE]),
        )
    )
    for key in ("p50", "p95"):
        report.add(
            Figure(
                f"signed init latency {key}",
                best_init[key],
                "ms",
                baseline_name=f"bare DRF endpoint {key}",
                baseline=best_bare[key],
            )
        )
    profile(args.profile, report, args.top)
    report.print()


if __name__ == "__main__":
    main()
