"""Benchmark: the admin's CSV export of N transactions against PostgreSQL's ``COPY`` of the
same columns and against django-import-export's own export.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cp_export_bench \\
        .venv/bin/python benchmarks/exports.py --rows 1000000

The database named in DATABASE_URL is dropped and recreated (use a throwaway one), migrated,
filled by ``benchmarks.admin_changelist.populate`` (one ``INSERT ... SELECT FROM
generate_series``) and vacuumed and analysed. Then, in one run:

* the baseline: ``COPY (SELECT <the export's columns, joins and order>) TO STDOUT WITH CSV``
  read through psycopg, PostgreSQL formatting the values its own way (after one warm-up);
* the admin's CSV export of the whole table through the real admin stack (Django's test
  client logged in as a superuser, the export form posted with every column): time to first
  byte, total, rows, MB and peak memory growth;
* with ``--reference``, the same export with the COPY path switched off (the Python
  formatters) and the per-cell formatting loop the export had before (``_cell_text`` on
  every cell, one ``writerow`` per row), both over the same rows;
* django-import-export's export of the same resource (``TransactionResource.export`` and its
  CSV format, relations selected in the same query), on the first 1,000, 2,000, 4,000, ...
  rows until ``--iie-seconds`` have gone, extrapolated linearly from the largest to N rows.

PostgreSQL only. Nothing asserts a time: the script reports.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    Figure,
    Report,
    database_url,
    peak_rss_mb,
    recreate_database,
)

RUNS = {
    "full": [["--rows", "1000000", "--reference"]],
    "smoke": [["--rows", "3000", "--pools", "20", "--iie-seconds", "3", "--reference"]],
}

MAX_TIMES_COPY = 4.0
MAX_PEAK_MB = 200.0


def export_form() -> dict[str, str]:
    """The export form with the transactions resource and every column ticked."""
    from apps.transactions.resources import TransactionResource

    prefix = TransactionResource.__name__.lower()
    fields = {f"{prefix}_{name}": "on" for name in TransactionResource().get_export_order()}
    return {"format": "0", "resource": "0", **fields}


def admin_export(client) -> dict:
    """POST the admin's export form and read the streamed CSV to the end."""
    from django.urls import reverse

    rss_before = peak_rss_mb()
    started = time.perf_counter()
    response = client.post(reverse("admin:transactions_transaction_export"), export_form())
    first = None
    size = lines = 0
    for chunk in response.streaming_content:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
        lines += chunk.count(b"\r\n")
    total = time.perf_counter() - started
    response.close()
    if response.status_code != 200:
        raise SystemExit(f"the export answered {response.status_code}")
    return {
        "first_byte_s": first or total,
        "total_s": total,
        "rows": lines - 1,  # the header; no generated text holds a line break
        "mb": size / 1e6,
        "peak_growth_mb": max(peak_rss_mb() - rss_before, 0.0),
    }


def warm_up(client) -> None:
    """One export matching no row: the admin's imports, URLs and templates loaded."""
    from django.urls import reverse

    url = reverse("admin:transactions_transaction_export") + "?q=zz-no-such-thing"
    response = client.post(url, export_form())
    b"".join(response.streaming_content)
    response.close()


def export_columns():
    from apps.core.exports import columns_from_resource
    from apps.transactions.models import Transaction
    from apps.transactions.resources import TransactionResource

    return columns_from_resource(TransactionResource(), Transaction)


def copy_baseline() -> dict:
    """``COPY`` of the export's columns (same joins, same order), PostgreSQL's formatting."""
    from django.db import connection

    from apps.transactions.models import Transaction

    queryset = Transaction.objects.values_list(*(c.path for c in export_columns()))
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    started = time.perf_counter()
    size = rows = 0
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        for block in copy:
            size += len(block)
            rows += 1
    return {"total_s": time.perf_counter() - started, "rows": rows, "mb": size / 1e6}


def legacy_loop(queryset, columns) -> dict:
    """The export's loop before it chose one formatter per column: ``_cell_text`` per cell."""
    from apps.core.exports import CHUNK_SIZE, _cell_text

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    started = time.perf_counter()
    size = rows = 0
    places = [c.places for c in columns]
    batch: list[str] = []
    paths = [c.path for c in columns]
    for row in queryset.values_list(*paths).iterator(chunk_size=CHUNK_SIZE):
        batch.append(writer.writerow([_cell_text(v, p) for v, p in zip(row, places, strict=True)]))
        rows += 1
        if len(batch) >= CHUNK_SIZE:
            size += len("".join(batch).encode())
            batch = []
    size += len("".join(batch).encode())
    return {"total_s": time.perf_counter() - started, "rows": rows, "mb": size / 1e6}


def import_export_capped(total_rows: int, seconds: float) -> dict:
    """django-import-export's export of 1,000, 2,000, 4,000, ... rows until ``seconds`` have
    gone; the largest one, scaled linearly to ``total_rows``."""
    from import_export.formats.base_formats import CSV

    from apps.transactions.models import Transaction
    from apps.transactions.resources import TransactionResource

    queryset = Transaction.objects.select_related(
        "operator", "follower", "streamer", "rolls_back"
    ).order_by("-created_at", "-id")
    spent = 0.0
    size = 1000
    done = {"rows": 0, "total_s": 0.0, "peak_growth_mb": 0.0}
    while spent < seconds and done["rows"] < total_rows:
        rows = min(size, total_rows)
        rss_before = peak_rss_mb()
        started = time.perf_counter()
        dataset = TransactionResource().export(queryset=queryset[:rows])
        CSV().export_data(dataset)
        took = time.perf_counter() - started
        spent += took
        done = {
            "rows": rows,
            "total_s": took,
            "peak_growth_mb": max(peak_rss_mb() - rss_before, 0.0),
        }
        del dataset
        size *= 2
    scale = total_rows / done["rows"] if done["rows"] else 0.0
    return done | {
        "extrapolated_s": done["total_s"] * scale,
        "extrapolated_mb": done["peak_growth_mb"] * scale,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pools", type=int, default=1000)
    parser.add_argument(
        "--iie-seconds", type=float, default=60.0, help="time given to django-import-export"
    )
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also the Python path and the per-cell loop the export had before",
    )
    args = parser.parse_args()

    url = database_url("cp_export_bench")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    recreate_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from apps.core import exports
    from apps.transactions.models import Transaction
    from benchmarks.admin_changelist import populate

    settings.DEBUG = False
    setup_test_environment()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    populate(args.rows, args.pools)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    filled_s = time.perf_counter() - started
    user = get_user_model().objects.create(username="bench", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)

    report = Report("exports: CSV of every transaction, every column")
    report.context["rows"] = f"{args.rows:,} transactions, {args.pools:,} pools"
    report.context["filled"] = f"{filled_s:.1f} s (populate, VACUUM ANALYZE)"

    copy_baseline()  # warm-up: the table and its joins in the cache
    warm_up(client)
    copy = copy_baseline()
    copy_name = "COPY (SELECT same columns) TO STDOUT, psycopg"
    admin = admin_export(client)
    report.add(
        Figure(
            "admin CSV export: total",
            admin["total_s"],
            "s",
            copy_name,
            copy["total_s"],
            target=f"≤ {MAX_TIMES_COPY:g}× COPY",
            met=admin["total_s"] <= MAX_TIMES_COPY * copy["total_s"],
            note=f"{admin['rows']:,} rows, {admin['mb']:.1f} MB (COPY: {copy['rows']:,} rows, "
            f"{copy['mb']:.1f} MB), {admin['rows'] / admin['total_s']:,.0f} rows/s",
        )
    )
    report.add(Figure("admin CSV export: first byte", admin["first_byte_s"] * 1000, "ms"))
    report.add(
        Figure(
            "admin CSV export: peak memory growth",
            admin["peak_growth_mb"],
            "MB",
            target=f"< {MAX_PEAK_MB:g} MB",
            met=admin["peak_growth_mb"] < MAX_PEAK_MB,
            note=f"process peak RSS {peak_rss_mb():.0f} MB",
        )
    )
    if args.reference:
        with mock.patch.object(exports, "COPY_ENABLED", False, create=True):
            python = admin_export(client)
        report.add(
            Figure(
                "admin CSV export, COPY off (Python path)",
                python["total_s"],
                "s",
                copy_name,
                copy["total_s"],
                note=f"{python['rows']:,} rows, {python['mb']:.1f} MB, "
                f"peak memory growth {python['peak_growth_mb']:.1f} MB",
            )
        )
        legacy = legacy_loop(Transaction.objects.all(), export_columns())
        report.add(
            Figure(
                "per-cell _cell_text loop (the export before)",
                legacy["total_s"],
                "s",
                copy_name,
                copy["total_s"],
                note=f"{legacy['rows']:,} rows, {legacy['mb']:.1f} MB; no admin, no count()",
            )
        )
    iie = import_export_capped(args.rows, args.iie_seconds)
    report.add(
        Figure(
            "django-import-export export (extrapolated)",
            iie["extrapolated_s"],
            "s",
            "admin CSV export",
            admin["total_s"],
            target="the admin export stays ahead (ratio > 1)",
            met=iie["extrapolated_s"] > admin["total_s"],
            note=f"measured {iie['rows']:,} rows in {iie['total_s']:.1f} s "
            f"(--iie-seconds {args.iie_seconds:g}), peak memory growth "
            f"{iie['peak_growth_mb']:.0f} MB, about {iie['extrapolated_mb']:.0f} MB at "
            f"{args.rows:,} rows",
        )
    )
    report.print()


if __name__ == "__main__":
    main()
