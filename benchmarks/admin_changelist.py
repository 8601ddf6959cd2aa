"""Benchmark: the back office's transaction pages and finance export over N transactions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cp_admin_bench \\
        .venv/bin/python benchmarks/admin_changelist.py --rows 1000000

The database named in DATABASE_URL is dropped and recreated (use a throwaway one), migrated,
and filled with one operator, ``--pools`` pools and followers, and N transactions written by
one ``INSERT ... SELECT FROM generate_series`` (a realistic mix: mostly succeeded, some
failed, unknown, flagged; spread over 90 days). ``--reuse`` keeps an existing filled database.

Then, through Django's test client logged in as a superuser (the whole admin stack: filters,
paginator, templates), it times each page several times and prints the median and worst wall
time and the number of SQL queries: the changelist (first and a deep page), filters, exact-id
searches, the review queue and the dashboard; then the streamed CSV export of the whole
table (time to first byte, total, rows, MB, peak memory growth), and an XLSX export of the
last week. PostgreSQL only: SQLite is not what production runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = {
    "full": [["--rows", "1000000"]],
    "smoke": [["--rows", "2000", "--pools", "20", "--repeat", "1", "--no-xlsx"]],
}


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


def populate(rows: int, pools: int) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from apps.followers.models import Follower, PlayerSession, Position
    from apps.operators.models import Operator, api_key_digest
    from apps.pools.models import Pool
    from apps.streamers.models import Streamer

    now = timezone.now()
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
    streamers = Streamer.objects.bulk_create(
        Streamer(operator=operator, operator_user_id=f"s{i}", display_name=f"S{i}", currency="USD")
        for i in range(pools)
    )
    pool_rows = Pool.objects.bulk_create(
        Pool(
            streamer=s,
            operator=operator,
            currency="USD",
            balance=Decimal("1000"),
            total_units=Decimal("1000"),
            streamer_units=Decimal("900"),
            lock_state="locked",
            locked_at=now,
        )
        for s in streamers
    )
    followers = Follower.objects.bulk_create(
        Follower(operator=operator, operator_user_id=f"f{i}") for i in range(pools)
    )
    sessions = PlayerSession.objects.bulk_create(
        PlayerSession(follower=f, currency="USD", expires_at=now + timedelta(hours=1))
        for f in followers
    )
    Position.objects.bulk_create(
        Position(
            pool=p, follower=f, session=s, contributed=Decimal("100"), units=100, status="active"
        )
        for p, f, s in zip(pool_rows, followers, sessions, strict=True)
    )
    first_pool, first_follower, first_streamer = pool_rows[0].pk, followers[0].pk, streamers[0].pk
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO transactions_transaction (
                external_id, operator_id, kind, status, amount, currency, pool_id, follower_id,
                streamer_id, operator_reference, attempts, last_error_code, last_error,
                needs_review, review_note, is_demo, created_at, updated_at, completed_at
            )
            SELECT
                md5(i::text),
                %(operator)s,
                (ARRAY['follower_debit', 'streamer_deposit', 'streamer_withdrawal',
                       'follower_credit', 'follower_rollback'])[1 + i %% 5],
                CASE WHEN i %% 200 = 0 THEN 'unknown'
                     WHEN i %% 20 = 1 THEN 'failed'
                     WHEN i %% 100 = 2 THEN 'pending'
                     WHEN i %% 30 = 3 THEN 'rolled_back'
                     ELSE 'succeeded' END,
                round((random() * 1000)::numeric, 8),
                'USD',
                %(pool)s + i %% %(pools)s,
                %(follower)s + i %% %(pools)s,
                %(streamer)s + i %% %(pools)s,
                'ref-' || i,
                1 + (i %% 40 = 1)::int,
                '',
                '',
                i %% 500 = 7,
                '',
                false,
                now() - (i * interval '90 days' / %(rows)s),
                now(),
                now() - (i * interval '90 days' / %(rows)s)
            FROM generate_series(1, %(rows)s) AS i
            """,
            {
                "operator": operator.pk,
                "pool": first_pool,
                "follower": first_follower,
                "streamer": first_streamer,
                "pools": pools,
                "rows": rows,
            },
        )
        cursor.execute("ANALYZE")


def timed(client, method: str, url: str, data=None, *, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.backoffice.admin_totals import UNAVAILABLE

    times, queries, status, totals = [], 0, None, "-"
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = getattr(client, method)(url, data or {})
            if response.streaming:
                b"".join(response.streaming_content)
            else:
                page = response.content.decode()
                if "data-totals" in page or UNAVAILABLE in page:
                    totals = "gave up" if UNAVAILABLE in page else "shown"
            times.append(time.perf_counter() - started)
        queries, status = len(captured.captured_queries), response.status_code
    return {
        "median_ms": statistics.median(times) * 1000,
        "max_ms": max(times) * 1000,
        "queries": queries,
        "status": status,
        "totals": totals,
    }


def export_fields() -> dict:
    from apps.transactions.resources import TransactionResource

    prefix = TransactionResource.__name__.lower()
    return {f"{prefix}_{name}": "on" for name in TransactionResource().get_export_order()}


def stream_export(client, url: str, fmt: int) -> dict:
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    response = client.post(url, {"format": str(fmt), "resource": "0", **export_fields()})
    first = None
    size = lines = 0
    for chunk in response.streaming_content:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
        lines += chunk.count(b"\n") if fmt == 0 else 0
    total = time.perf_counter() - started
    return {
        "status": response.status_code,
        "first_byte_ms": (first or total) * 1000,
        "total_s": total,
        "rows": lines - 1 if fmt == 0 else None,
        "mb": size / 1e6,
        "peak_rss_growth_mb": max(peak_rss_mb() - rss_before, 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pools", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep an already filled database")
    parser.add_argument("--no-xlsx", action="store_true", help="skip the XLSX export")
    parser.add_argument("--no-export", action="store_true", help="pages only, no exports")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must point at a throwaway PostgreSQL database")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if not args.reuse:
        recreate_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from apps.transactions.models import Transaction

    settings.DEBUG = False
    setup_test_environment()
    started = time.perf_counter()
    if not args.reuse:
        call_command("migrate", verbosity=0)
        populate(args.rows, args.pools)
        print(f"filled {args.rows:,} transactions in {time.perf_counter() - started:.1f} s")
    total = Transaction.objects.count()
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)

    sample = Transaction.objects.order_by("pk")[total // 2]
    day = sample.created_at.date()
    changelist = reverse("admin:transactions_transaction_changelist")
    review = reverse("admin:backoffice_reviewitem_changelist")
    search = reverse("admin:search")
    pages = [
        ("changelist, page 1", changelist, {}),
        ("changelist, page 50", changelist, {"p": "50"}),
        ("filter status=unknown", changelist, {"status__exact": "unknown"}),
        (
            "filter kind+status+operator+currency",
            changelist,
            {
                "kind__exact": "follower_credit",
                "status__exact": "failed",
                "operator__id__exact": sample.operator_id,
                "currency": "USD",
            },
        ),
        (
            "filter date range (one day)",
            changelist,
            {"created_at__from": str(day), "created_at__to": str(day)},
        ),
        ("search external id", changelist, {"q": sample.external_id}),
        ("search transaction #", changelist, {"q": str(sample.pk)}),
        ("search operator reference", changelist, {"q": sample.operator_reference}),
        ("search follower user id", changelist, {"q": "f7"}),
        ("review queue", review, {}),
        ("dashboard", reverse("admin:index"), {}),
        ("global search: transaction #", search, {"q": str(sample.pk)}),
        ("global search: external id prefix", search, {"q": sample.external_id[:10]}),
        ("global search: follower user id", search, {"q": "f7"}),
        ("global search: no match", search, {"q": "zz-no-such-thing"}),
    ]
    print(f"\n{total:,} transactions on PostgreSQL; each page {args.repeat} times\n")
    print(
        f"{'page':40} {'median ms':>10} {'worst ms':>10} {'queries':>8} {'status':>7} {'totals':>8}"
    )
    for name, path, params in pages:
        timed(client, "get", path, params, repeat=1)  # warm
        result = timed(client, "get", path, params, repeat=args.repeat)
        print(
            f"{name:40} {result['median_ms']:10.1f} {result['max_ms']:10.1f} "
            f"{result['queries']:8} {result['status']:7} {result['totals']:>8}"
        )
    if args.no_export:
        return

    export_url = reverse("admin:transactions_transaction_export")
    csv_result = stream_export(client, export_url, 0)
    print(
        f"\nCSV export, all {total:,} rows, every column: status {csv_result['status']}, "
        f"first byte {csv_result['first_byte_ms']:.0f} ms, total {csv_result['total_s']:.1f} s, "
        f"{csv_result['rows']:,} rows, {csv_result['mb']:.1f} MB, "
        f"{csv_result['rows'] / csv_result['total_s']:,.0f} rows/s, "
        f"peak memory growth {csv_result['peak_rss_growth_mb']:.1f} MB"
    )
    if not args.no_xlsx:
        since = day - timedelta(days=6)
        query = f"?created_at__from={since}&created_at__to={day}"
        xlsx_rows = Transaction.objects.filter(
            created_at__date__gte=since, created_at__date__lte=day
        ).count()
        xlsx = stream_export(client, export_url + query, 1)
        print(
            f"XLSX export, one week ({xlsx_rows:,} rows): status {xlsx['status']}, "
            f"total {xlsx['total_s']:.1f} s, {xlsx['mb']:.1f} MB, "
            f"{xlsx_rows / xlsx['total_s']:,.0f} rows/s, "
            f"peak memory growth {xlsx['peak_rss_growth_mb']:.1f} MB"
        )
    print(f"\nprocess peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
