"""Benchmark: the admin's track-record pages over N streamers with D days of 5-minute
snapshots.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cp_stats_bench \\
        .venv/bin/python benchmarks/admin_statistics.py --streamers 100 --days 35

The database named in DATABASE_URL is dropped and recreated (use a throwaway one), migrated,
and filled with one operator, N streamers each with one open pool and a snapshot every five
minutes for D days (one ``INSERT ... SELECT FROM generate_series``), rolled up
(``rollups_refresh``) and turned into records (``records_refresh``). ``--reuse`` keeps a
filled database. Then, through Django's test client logged in as a superuser, it times each
page several times and prints the median and worst wall time and the number of SQL queries:
a streamer's change page for each window, the streamer change list (7-day columns), and the
dashboard with its followers chart over 7, 30, 90 and 365 days (beyond the 30 days of raw
snapshots: the rollups). PostgreSQL only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import Figure, Report, recreate_database  # noqa: E402

RUNS = {
    "full": [["--streamers", "100", "--days", "35"]],
    "smoke": [["--streamers", "3", "--days", "2"]],
}


def populate(streamers: int, days: int) -> None:
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from apps.operators.models import Operator, api_key_digest
    from apps.pools.models import Pool
    from apps.pools.rollups import rollups_refresh
    from apps.streamers.models import Streamer
    from apps.transactions.statistics.records import records_refresh

    operator = Operator.objects.create(
        name="Bench",
        code="bench",
        callback_url="http://127.0.0.1:9/cb",
        wallet_url="http://127.0.0.1:9/wallet",
        api_key_digest=api_key_digest("bench"),
        operator_api_key="ok",
        secret_key="s",
        wallet_client_id="c",
        wallet_secret="ws",
    )
    rows = Streamer.objects.bulk_create(
        Streamer(operator=operator, operator_user_id=f"s{i}", display_name=f"S{i}", currency="USD")
        for i in range(streamers)
    )
    Pool.objects.bulk_create(
        Pool(
            streamer=s,
            operator=operator,
            currency="USD",
            balance=Decimal("1000"),
            total_units=Decimal("1000"),
            streamer_units=Decimal("500"),
            lock_state="locked",
        )
        for s in rows
    )
    Pool.objects.update(opened_at=timezone.now() - timedelta(days=days))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO pools_poolsnapshot
                (pool_id, balance, total_units, nav, members, streamer_units, taken_at)
            SELECT p.id,
                   round((1000 * (1 + 0.2 * sin(g / 300.0 + p.id)))::numeric, 8),
                   1000,
                   round((1 + 0.2 * sin(g / 300.0 + p.id))::numeric, 12),
                   1 + (g / 12 + p.id) %% 25,
                   500,
                   now() - %(days)s * interval '1 day' + g * interval '5 minutes'
            FROM pools_pool p, generate_series(0, %(samples)s) AS g
            """,
            {"days": days, "samples": days * 288},
        )
        cursor.execute("ANALYZE")
    print(f"snapshots: {streamers * (days * 288 + 1):,} in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    rollups_refresh()
    print(f"rollups_refresh: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    records_refresh()
    print(f"records_refresh: {time.perf_counter() - started:.1f} s")


def timed(client, url: str, runs: int = 5) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured.captured_queries)
    return statistics.median(times), max(times), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streamers", type=int, default=100)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a throwaway PostgreSQL database")
    if not args.reuse:
        recreate_database(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from apps.streamers.models import Streamer

    if not args.reuse:
        populate(args.streamers, args.days)
    user = get_user_model().objects.filter(username="bench").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench", "b@example.com", "pw")
    client = Client()
    client.force_login(user)
    streamer = Streamer.objects.order_by("pk").first()
    assert streamer is not None
    report = Report(
        "statistics: the admin's track-record pages",
        context={"streamers": args.streamers, "days of snapshots": args.days},
    )
    groups = [
        [
            (
                f"streamer page ?window={w}",
                f"/admin/streamers/streamer/{streamer.pk}/change/?window={w}",
            )
            for w in ("24h", "7d", "30d", "90d", "all")
        ],
        [("streamer change list", "/admin/streamers/streamer/")],
        [
            (f"dashboard, followers {d} days", f"/admin/?followers_days={d}")
            for d in (7, 30, 90, 365)
        ],
    ]
    for group in groups:
        first_name, first_median = "", 0.0
        for name, page in group:
            median, worst, queries = timed(client, page)
            if not first_name:
                first_name, first_median = name, median
            longer = name != first_name
            report.add(
                Figure(
                    name,
                    median,
                    "ms",
                    baseline_name=first_name if longer else "",
                    baseline=first_median if longer else None,
                    target="≤ 2× the shortest window" if longer else "",
                    met=median <= 2 * first_median if longer else None,
                    note=f"worst {worst:.1f} ms, {queries} queries",
                )
            )
    report.print()


if __name__ == "__main__":
    main()
