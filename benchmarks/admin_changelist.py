"""Benchmark: the back office's transaction pages at a large ledger beside a small one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cp_admin_bench \\
        .venv/bin/python benchmarks/admin_changelist.py --rows 1000000 --small 1000

Two throwaway databases are dropped, recreated, migrated and filled the same way: the one
DATABASE_URL names with ``--rows`` transactions, and a ``_small`` sibling with ``--small``;
both with one operator and ``--pools`` pools, streamers and followers (``populate``: one
``INSERT ... SELECT FROM generate_series``, mostly succeeded, some failed, unknown, flagged,
spread over 90 days). ``--reuse`` keeps a database already filled with that many rows.

Then, through Django's test client logged in as a superuser (the whole admin stack: filters,
paginator, totals box, templates), each page is fetched at both sizes in turn, ``--repeat``
times each after a warm-up, with both databases connected at once (the default connection is
switched between them). Each page prints the large median beside the small one (target: at
most 2× the time and the same number of queries) and the query counts beside each other.
Pages: the changelist (page 1, a deep page), each list filter, transactions of one operator,
pool and day, exact-id searches, a follower's transactions, the review queue, the dashboard
and the global search. PostgreSQL only. (The exports are measured by ``exports.py``.)
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import Figure, Report, database_url, recreate_database  # noqa: E402

RUNS = {
    "full": [["--rows", "1000000", "--small", "1000"]],
    "smoke": [["--rows", "2000", "--small", "200", "--pools", "20", "--repeat", "1"]],
}

TIME_TARGET = 2.0
PER_PAGE = 50  # BigTableAdminMixin.list_per_page


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


# --- the two databases ---------------------------------------------------------------


def sibling_url(url: str, suffix: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


def filled_rows(url: str) -> int | None:
    """Transactions in the database ``url`` names; None when it does not exist or is empty."""
    import psycopg

    parts = urlsplit(url)
    try:
        with psycopg.connect(urlunsplit(parts._replace(scheme="postgresql"))) as conn:
            row = conn.execute("SELECT count(*) FROM transactions_transaction").fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


@dataclass
class Size:
    """One filled database, its own connection and a logged-in client."""

    label: str
    rows: int
    url: str
    connection: Any = None
    client: Any = None
    sample: Any = None  # a transaction from the middle of the ledger
    total: int = 0


def connect(size: Size) -> None:
    """Open ``size``'s own connection and make it the default one."""
    from django.db import connections

    parts = urlsplit(size.url)
    wrapper = connections.create_connection("default")
    wrapper.settings_dict = copy.deepcopy(wrapper.settings_dict)
    wrapper.settings_dict["NAME"] = parts.path.lstrip("/")
    size.connection = wrapper
    use(size)


def use(size: Size) -> None:
    from django.db import connections

    connections["default"] = size.connection


def create_databases(sizes: list[Size], *, reuse: bool) -> list[Size]:
    """Recreate the databases to fill (all, or with ``reuse`` those not filled already with
    their number of rows), each migrated: the first is migrated, the others copied from it."""
    import os

    from django.core.management import call_command

    to_fill = [s for s in sizes if not (reuse and filled_rows(s.url) == s.rows)]
    if not to_fill:
        return []
    first, *rest = to_fill
    recreate_database(first.url)
    connect(first)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    if rest:
        first.connection.close()  # a template must have no session open on it
        template = os.environ.get("BENCH_TEMPLATE")
        os.environ["BENCH_TEMPLATE"] = urlsplit(first.url).path.lstrip("/")
        try:
            for size in rest:
                recreate_database(size.url)
        finally:
            if template is None:
                os.environ.pop("BENCH_TEMPLATE")
            else:
                os.environ["BENCH_TEMPLATE"] = template
    return to_fill


def prepare(size: Size, *, pools: int, fill: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from apps.transactions.models import Transaction

    connect(size)
    if fill:
        started = time.perf_counter()
        populate(size.rows, pools)
        with connection.cursor() as cursor:
            # What autovacuum does to a table soon after a fill: the visibility map lets
            # counts and totals read an index alone.
            cursor.execute("VACUUM ANALYZE transactions_transaction")
        print(
            f"{size.label}: filled {size.rows:,} transactions in {time.perf_counter() - started:.1f} s"
        )
    else:
        print(f"{size.label}: reusing {size.rows:,} transactions")
    size.total = Transaction.objects.count()
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    size.client = Client()
    size.client.force_login(user)
    size.sample = Transaction.objects.order_by("pk")[size.total // 2]


# --- the pages -----------------------------------------------------------------------


def pages(size: Size, deep: int) -> list[tuple[str, str, dict[str, str]]]:
    """(name, path, query) of every page measured, with ids taken from ``size``'s data;
    ``deep`` is the deep page's number (the same at both sizes)."""
    from django.urls import reverse

    sample = size.sample
    day = str(sample.created_at.date())
    changelist = reverse("admin:transactions_transaction_changelist")
    review = reverse("admin:backoffice_reviewitem_changelist")
    search = reverse("admin:search")
    return [
        ("changelist, page 1", changelist, {}),
        (f"changelist, page {deep}", changelist, {"p": str(deep)}),
        ("filter kind", changelist, {"kind__exact": "follower_credit"}),
        ("filter status=unknown", changelist, {"status__exact": "unknown"}),
        ("filter status=failed", changelist, {"status__exact": "failed"}),
        ("filter operator", changelist, {"operator__id__exact": str(sample.operator_id)}),
        ("filter currency", changelist, {"currency": "USD"}),
        ("filter date (one day)", changelist, {"created_at__from": day, "created_at__to": day}),
        ("filter needs review", changelist, {"needs_review__exact": "1"}),
        ("filter demo", changelist, {"is_demo__exact": "1"}),
        (
            "filter kind+status+operator+currency",
            changelist,
            {
                "kind__exact": "follower_credit",
                "status__exact": "failed",
                "operator__id__exact": str(sample.operator_id),
                "currency": "USD",
            },
        ),
        (
            "operator + pool + day",
            changelist,
            {
                "operator__id__exact": str(sample.operator_id),
                "pool__id__exact": str(sample.pool_id),
                "created_at__from": day,
                "created_at__to": day,
            },
        ),
        ("pool's transactions", changelist, {"pool__id__exact": str(sample.pool_id)}),
        ("search transaction #", changelist, {"q": str(sample.pk)}),
        ("search external id", changelist, {"q": sample.external_id}),
        ("search operator reference", changelist, {"q": sample.operator_reference}),
        ("search follower user id", changelist, {"q": "f7"}),
        ("review queue", review, {}),
        ("review queue, status=unknown", review, {"status__exact": "unknown"}),
        ("dashboard", reverse("admin:index"), {}),
        ("global search: transaction #", search, {"q": str(sample.pk)}),
        ("global search: external id prefix", search, {"q": sample.external_id[:10]}),
        ("global search: follower user id", search, {"q": "f7"}),
    ]


@dataclass
class Measure:
    times: list[float]
    queries: int
    totals: str
    rows: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def worst_ms(self) -> float:
        return max(self.times) * 1000


def fetch(size: Size, path: str, query: dict[str, str]) -> tuple[float, int, str, int]:
    """One request: its wall time, its SQL queries, what the totals box showed and how many
    rows the page listed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.backoffice.admin_totals import UNAVAILABLE

    use(size)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = size.client.get(path, query)
        page = response.content.decode()
        elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{size.label}: {path}?{query} answered {response.status_code}")
    totals = "gave up" if UNAVAILABLE in page else "shown" if "data-totals" in page else "-"
    rows = page.count('name="_selected_action"')
    return elapsed, len(captured.captured_queries), totals, rows


def measure(sizes: list[Size], index: int, repeat: int, deep: int) -> list[Measure]:
    """Page ``index`` at each size, the sizes taking turns so both see the same noise."""
    results = [Measure([], 0, "-") for _ in sizes]
    for size in sizes:
        _, path, query = pages(size, deep)[index]
        fetch(size, path, query)  # warm: caches, plans
    for _ in range(repeat):
        for size, result in zip(sizes, results, strict=True):
            _, path, query = pages(size, deep)[index]
            elapsed, result.queries, result.totals, result.rows = fetch(size, path, query)
            result.times.append(elapsed)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="transactions, large")
    parser.add_argument("--small", type=int, default=1000, help="transactions, baseline")
    parser.add_argument("--pools", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--reuse", action="store_true", help="keep a database already filled with that many rows"
    )
    parser.add_argument("--only", help="only the pages whose name contains this")
    args = parser.parse_args()

    import os

    url = database_url("cp_bench_admin_changelist")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.conf import settings

    # No setup_test_environment(): it instruments every template render (a signal and a
    # copy of the context each), which production does not pay and which grows with rows.
    settings.DEBUG = False

    small = Size("small", args.small, sibling_url(url, "_small"))
    large = Size("large", args.rows, url)
    sizes = [small, large]
    to_fill = create_databases(sizes, reuse=args.reuse)
    for size in sizes:
        prepare(size, pools=args.pools, fill=size in to_fill)
    deep = max(1, min(20, small.total // PER_PAGE))

    report = Report(
        "admin: transaction pages, large ledger beside a small one",
        context={
            "transactions": f"{large.total:,} (baseline {small.total:,})",
            "pools, followers, streamers": args.pools,
            "requests per page and size": f"{args.repeat} after one warm-up, sizes in turn",
        },
    )
    for index, (name, _, _) in enumerate(pages(small, deep)):
        if args.only and args.only not in name:
            continue
        base, big = measure(sizes, index, args.repeat, deep)
        same = big.queries == base.queries
        report.add(
            Figure(
                name,
                big.median_ms,
                "ms",
                baseline_name=f"{small.total:,} rows",
                baseline=base.median_ms,
                target=f"≤ {TIME_TARGET:g}× and same queries",
                met=big.median_ms <= TIME_TARGET * base.median_ms and same,
                note=f"worst {big.worst_ms:.1f} ms (baseline {base.worst_ms:.1f}); "
                f"totals {big.totals} (baseline {base.totals}); "
                f"rows listed {big.rows} (baseline {base.rows})",
            )
        )
        report.add(
            Figure(
                f"{name}: queries",
                big.queries,
                "queries",
                baseline=base.queries,
                target="same",
                met=same,
            )
        )
        print(
            f"{name:44} {big.median_ms:9.1f} ms vs {base.median_ms:8.1f} ms, "
            f"{big.queries} vs {base.queries} queries, {big.rows} vs {base.rows} rows",
            flush=True,
        )
    report.print()


if __name__ == "__main__":
    main()
