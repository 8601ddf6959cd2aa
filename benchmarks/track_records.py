"""Benchmark: track records, the leaderboard and the history jobs on a year of data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cp_bench_stats \\
        .venv/bin/python benchmarks/track_records.py --streamers 1000 --days 365

The script (re)creates the database named in DATABASE_URL (it must be a throwaway one: it
is dropped first), migrates it, and fills it, with SQL (``generate_series``, ``INSERT ...
SELECT``), as retention leaves a year of 5-minute snapshots: N streamers of one operator,
each with several pools over the period (each closes and the next opens a few hours later;
one streamer in 25 busts its first pool; the last pool is open), raw ``PoolSnapshot`` rows
every 5 minutes for the last 31 days (one day more than the retention, for the prune to
delete), hourly ``PoolRollup`` rows for the whole period (summed from the raw snapshots
where they exist, from the same NAV curve before), daily rows summed from the hours, a
stream every other day, followers' positions with their ledger rows (a join debit, a
payout credit when the pool closed), and a day of call log older than the retention
(160,000 rows) beside a recent hour. The NAV curve is synthetic (smooth waves and a drift
per pool); the figures are not checked here, only timed (the tests check them).

Then it times, as the median of ``--runs`` runs, each with its query count
(``CaptureQueriesContext``): the leaderboard (``GET /api/v1/leaderboard?window=7d&sort=roi``
with a player token when that URL resolves, else the ``StreamerRecord`` query it stands
for), one streamer's page (``GET /api/v1/streamers/{id}/stats?window=...`` when it resolves,
else ``track_record``) for each window, ``rollups_refresh`` of the current hour,
``records_refresh`` of every streamer, and ``snapshots_prune`` / ``calls_prune`` of a day
(each run inside a transaction rolled back, so every run deletes the same day). It prints
the row counts, the build time, and the process's peak memory (RSS). No timing is asserted.
``--reuse`` times again against the database an earlier run built (no rebuild: a full
build takes tens of minutes on a small machine).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file's folder comes off the path: its name would shadow the standard "statistics"
# (which Django's and other libraries' modules import).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))

from benchmarks._common import Figure, Report, peak_rss_mb, recreate_database  # noqa: E402

RUNS = {
    "full": [["--streamers", "1000", "--days", "365"]],
    "smoke": [["--streamers", "3", "--days", "32", "--runs", "1"]],
}

RAW_DAYS = 31
CALLS_PER_DAY = 160_000
POSITIONS_PER_POOL = 3
LEADERBOARD_PATH = "/api/v1/leaderboard"
STATS_PATH = "/api/v1/streamers/{id}/stats"

# ln(NAV) of pool p at t seconds after it opened: 0 at the open, waves of a few days and
# of a few hours, and a drift of up to 0.5 % a day either way.
LOG_NAV = (
    "(0.25 * sin({t} / (86400.0 * (3 + {p} %% 7)))"
    " + 0.03 * sin({t} / (3600.0 * (2 + {p} %% 3)))"
    " + (({p} %% 11) - 5) * 0.001 * {t} / 86400.0)"
)


def nav_sql(pool: str, seconds: str) -> str:
    return f"round(exp({LOG_NAV.format(t=seconds, p=pool)})::numeric, 12)"


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


POOLS_SQL = """
INSERT INTO pools_pool (
    streamer_id, operator_id, currency, is_demo, state, lock_state, total_units,
    streamer_units, opening_balance, balance, balance_at, closing_balance, is_bust,
    close_reason, open_sent_at, opened_at, locked_at, closed_at, updated_at)
SELECT s.id, s.operator_id, 'USD', false,
       CASE WHEN k.last THEN 'open' ELSE 'closed' END,
       CASE WHEN k.last THEN 'locked' ELSE 'released' END,
       CASE WHEN k.last THEN 1300 ELSE 0 END,
       CASE WHEN k.last THEN 1000 ELSE 0 END,
       1000, 0, %(now)s, CASE WHEN k.last THEN NULL ELSE 0 END,
       k.bust, '', k.opened, k.opened, k.opened, k.closed, %(now)s
FROM streamers_streamer s
CROSS JOIN LATERAL (
    SELECT n, n = 3 + s.id %% 3 - 1 AS last,
           n = 0 AND s.id %% 25 = 0 AS bust,
           %(begin)s::timestamptz + (%(days)s * n / (3 + s.id %% 3)) * interval '1 day'
               + (s.id %% 5 + 1) * interval '1 hour' AS opened,
           CASE WHEN n = 3 + s.id %% 3 - 1 THEN NULL
                ELSE %(begin)s::timestamptz
                     + (%(days)s * (n + 1) / (3 + s.id %% 3)) * interval '1 day' END AS closed
    FROM generate_series(0, 3 + s.id %% 3 - 1) AS n
) k
"""

# The pool's readings every 5 minutes from the raw window's start (or its opening) to its
# close (or now); a bust pool's readings of its last hour are 0.
SNAPSHOTS_SQL = """
INSERT INTO pools_poolsnapshot (pool_id, balance, total_units, nav, members, streamer_units,
                                taken_at)
SELECT id, round(nav * (1000 + 100 * members), 8), 1000 + 100 * members, nav, members, 1000,
       at
FROM (
    SELECT p.id, g.at, 3 + (p.id + extract(epoch FROM g.at)::bigint / 3600) %% 4 AS members,
           CASE WHEN p.is_bust AND g.at > p.closed_at - interval '1 hour' THEN 0
                ELSE {nav} END AS nav
    FROM pools_pool p
    CROSS JOIN LATERAL generate_series(
        date_bin('5 minutes', greatest(p.opened_at, %(raw_start)s), %(epoch)s)
            + (p.id %% 240) * interval '1 second',
        coalesce(p.closed_at, %(now)s) - interval '1 second',
        interval '5 minutes') AS g(at)
    WHERE coalesce(p.closed_at, %(now)s) > %(raw_start)s
      AND g.at >= p.opened_at AND g.at <= %(now)s
) readings
ORDER BY at
""".format(nav=nav_sql("p.id", "extract(epoch FROM g.at - p.opened_at)"))

# Hours before the raw window, from the same curve (12 readings: the open, the middle and
# the close stand for them).
OLD_HOURS_SQL = """
INSERT INTO pools_poolrollup (pool_id, period, start, samples, first_at, last_at, nav_open,
    nav_high, nav_low, nav_close, nav_drawdown, balance_open, balance_high, balance_low,
    balance_close, members_open, members_high, members_low, members_close,
    total_units_close, streamer_units_close)
SELECT id, 'hour', h, 12, h + interval '5 seconds', h + interval '55 minutes', o,
       greatest(o, m, c), least(o, m, c), c,
       CASE WHEN greatest(o, m) > least(m, c)
            THEN round((greatest(o, m) - least(m, c)) / greatest(o, m), 12) ELSE 0 END,
       o * u, greatest(o, m, c) * u, least(o, m, c) * u, c * u,
       mem, mem, mem, mem, u, 1000
FROM (
    SELECT p.id, h, 3 + (p.id + extract(epoch FROM h)::bigint / 3600) %% 4 AS mem,
           1000 + 100 * (3 + (p.id + extract(epoch FROM h)::bigint / 3600) %% 4) AS u,
           {o} AS o, {m} AS m,
           CASE WHEN p.is_bust AND h + interval '1 hour' >= p.closed_at THEN 0 ELSE {c} END
               AS c
    FROM pools_pool p
    CROSS JOIN LATERAL generate_series(
        date_trunc('hour', p.opened_at),
        least(coalesce(p.closed_at, %(raw_start)s), %(raw_start)s) - interval '1 second',
        interval '1 hour') AS h
    WHERE p.opened_at < %(raw_start)s
) buckets
""".format(
    o=nav_sql("p.id", "greatest(0, extract(epoch FROM h - p.opened_at))"),
    m=nav_sql("p.id", "greatest(0, extract(epoch FROM h + interval '30 minutes' - p.opened_at))"),
    c=nav_sql("p.id", "greatest(0, extract(epoch FROM h + interval '55 minutes' - p.opened_at))"),
)

# Hours of the raw window, summed from the snapshots exactly as rollups_refresh does.
RAW_HOURS_SQL = """
INSERT INTO pools_poolrollup (pool_id, period, start, samples, first_at, last_at, nav_open,
    nav_high, nav_low, nav_close, nav_drawdown, balance_open, balance_high, balance_low,
    balance_close, members_open, members_high, members_low, members_close,
    total_units_close, streamer_units_close)
SELECT pool_id, 'hour', h, count(*), min(taken_at), max(taken_at),
       (array_agg(nav ORDER BY taken_at))[1], max(nav), min(nav),
       (array_agg(nav ORDER BY taken_at DESC))[1],
       max(CASE WHEN peak > 0 AND nav < peak THEN trunc((peak - nav) / peak, 12) ELSE 0 END),
       (array_agg(balance ORDER BY taken_at))[1], max(balance), min(balance),
       (array_agg(balance ORDER BY taken_at DESC))[1],
       (array_agg(members ORDER BY taken_at))[1], max(members), min(members),
       (array_agg(members ORDER BY taken_at DESC))[1],
       (array_agg(total_units ORDER BY taken_at DESC))[1],
       (array_agg(streamer_units ORDER BY taken_at DESC))[1]
FROM (
    SELECT *, date_trunc('hour', taken_at) AS h,
           max(nav) OVER (PARTITION BY pool_id, date_trunc('hour', taken_at)
                          ORDER BY taken_at) AS peak
    FROM pools_poolsnapshot
) s
GROUP BY pool_id, h
"""

# Days from their hours: the largest fall is inside an hour, or from the highest high of
# the day's earlier hours (or the day's open) to this hour's low.
DAYS_SQL = """
INSERT INTO pools_poolrollup (pool_id, period, start, samples, first_at, last_at, nav_open,
    nav_high, nav_low, nav_close, nav_drawdown, balance_open, balance_high, balance_low,
    balance_close, members_open, members_high, members_low, members_close,
    total_units_close, streamer_units_close)
SELECT pool_id, 'day', d, sum(samples), min(first_at), max(last_at),
       (array_agg(nav_open ORDER BY start))[1], max(nav_high), min(nav_low),
       (array_agg(nav_close ORDER BY start DESC))[1],
       max(greatest(nav_drawdown,
           CASE WHEN peak > 0 AND nav_low < peak THEN trunc((peak - nav_low) / peak, 12)
                ELSE 0 END)),
       (array_agg(balance_open ORDER BY start))[1], max(balance_high), min(balance_low),
       (array_agg(balance_close ORDER BY start DESC))[1],
       (array_agg(members_open ORDER BY start))[1], max(members_high), min(members_low),
       (array_agg(members_close ORDER BY start DESC))[1],
       (array_agg(total_units_close ORDER BY start DESC))[1],
       (array_agg(streamer_units_close ORDER BY start DESC))[1]
FROM (
    SELECT *, date_trunc('day', start) AS d,
           greatest(first_value(nav_open) OVER w,
                    coalesce(max(nav_high) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING
                                                 AND 1 PRECEDING), 0)) AS peak
    FROM pools_poolrollup
    WHERE period = 'hour'
    WINDOW w AS (PARTITION BY pool_id, date_trunc('day', start) ORDER BY start)
) h
GROUP BY pool_id, d
"""

# The open pools' balance as last read.
OPEN_POOLS_SQL = """
UPDATE pools_pool p SET balance = s.balance, total_units = s.total_units, balance_at = s.taken_at
FROM (SELECT DISTINCT ON (pool_id) pool_id, balance, total_units, taken_at
      FROM pools_poolsnapshot ORDER BY pool_id, taken_at DESC) s
WHERE p.id = s.pool_id AND p.state = 'open'
"""

# A stream every other day of 3 hours; the streamer is live now.
STREAMS_SQL = """
INSERT INTO streamers_stream (uid, streamer_id, title, game, embed_url, status, started_at,
                              ended_at, end_reason, created_at)
SELECT gen_random_uuid(), s.id, '', '', '', CASE WHEN g.n = 0 THEN 'live' ELSE 'ended' END,
       %(now)s - g.n * interval '2 days' - interval '1 hour',
       CASE WHEN g.n = 0 THEN NULL
            ELSE %(now)s - g.n * interval '2 days' + interval '2 hours' END,
       '', %(now)s - g.n * interval '2 days' - interval '1 hour'
FROM streamers_streamer s CROSS JOIN generate_series(0, %(days)s / 2 - 1) AS g(n)
"""

CALLS_SQL = """
INSERT INTO operators_calllog (direction, endpoint, method, url, request_headers,
    request_body, response_status, response_body, latency_ms, outcome, error_code,
    error_message, signature_valid, external_id, remote_addr, created_at, operator_id)
SELECT 'out', 'streamer-balance', 'POST', 'https://operator.invalid/cb/streamer-balance',
       '{"x-api-key": "ab***"}'::jsonb, '{"userId": "s1", "currency": "USD"}', 200,
       '{"balance": "1300.00"}', 40, 'success', '', '', NULL, '', NULL,
       %(start)s + g * %(step)s * interval '1 microsecond', %(operator)s
FROM generate_series(0, %(count)s - 1) AS g
"""

POSITIONS_SQL = """
INSERT INTO followers_position (id, pool_id, follower_id, session_id, status, units,
    contributed, payout, failure_code, failure_message, leave_reason, created_at, closed_at,
    is_demo, updated_at, fees_paid, high_water_mark, performance_fee_percent)
SELECT gen_random_uuid(), p.id, f.id, f.session_id,
       CASE WHEN p.state = 'open' THEN 'active' ELSE 'closed' END, 100, 100,
       CASE WHEN p.state = 'open' THEN NULL ELSE CASE WHEN p.is_bust THEN 0 ELSE 110 END END,
       '', '', CASE WHEN p.state = 'open' THEN '' ELSE 'stream_end' END,
       p.opened_at + (k.n + 1) * interval '1 hour', p.closed_at, false, p.opened_at, 0, 1,
       0
FROM pools_pool p
CROSS JOIN generate_series(0, %(per_pool)s - 1) AS k(n)
JOIN (SELECT fo.id, min(ps.id) AS session_id,
             row_number() OVER (ORDER BY fo.id) - 1 AS rank
      FROM followers_follower fo JOIN followers_playersession ps ON ps.follower_id = fo.id
      GROUP BY fo.id) f ON f.rank = (p.id * %(per_pool)s + k.n) %% %(followers)s
"""

LEDGER_SQL = """
INSERT INTO transactions_transaction (external_id, operator_id, kind, status, amount,
    currency, pool_id, position_id, follower_id, streamer_id, is_demo, created_at,
    completed_at, updated_at, operator_reference, attempts, last_error_code, last_error,
    needs_review, review_note)
SELECT left(md5(random()::text || x.id::text || x.kind), 32), p.operator_id, x.kind,
       'succeeded', x.amount, 'USD', p.id, x.id, x.follower_id, p.streamer_id, false, x.at,
       x.at, x.at, '', 1, '', '', false, ''
FROM (
    SELECT id, pool_id, follower_id, 'follower_debit' AS kind, contributed AS amount,
           created_at AS at FROM followers_position
    UNION ALL
    SELECT id, pool_id, follower_id, 'follower_credit', payout, closed_at
    FROM followers_position WHERE closed_at IS NOT NULL AND payout > 0
) x JOIN pools_pool p ON p.id = x.pool_id
"""


def execute(sql: str, params: dict | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def populate(streamers: int, days: int, now: datetime) -> dict[str, int]:
    from apps.followers.models import Follower, PlayerSession
    from apps.operators.models import Operator, api_key_digest
    from apps.streamers.models import Streamer

    operator = Operator.objects.create(
        name="Bench",
        code="bench",
        callback_url="https://operator.invalid/cb",
        wallet_url="https://operator.invalid/wallet",
        api_key_digest=api_key_digest("bench"),
        operator_api_key="ok",
        secret_key="s",
        wallet_client_id="c",
        wallet_secret="ws",
    )
    Streamer.objects.bulk_create(
        [
            Streamer(
                operator=operator, operator_user_id=f"s{i}", display_name=f"S{i}", currency="USD"
            )
            for i in range(streamers)
        ],
        batch_size=2000,
    )
    followers = Follower.objects.bulk_create(
        [Follower(operator=operator, operator_user_id=f"f{i}") for i in range(streamers * 3)],
        batch_size=2000,
    )
    PlayerSession.objects.bulk_create(
        [
            PlayerSession(
                follower=f, user_token="t", currency="USD", expires_at=now + timedelta(days=1)
            )
            for f in followers
        ],
        batch_size=2000,
    )
    begin = floor_hour(now) - timedelta(days=days)
    raw_start = floor_hour(now) - timedelta(days=RAW_DAYS)
    common = {
        "now": now,
        "begin": begin,
        "days": days,
        "raw_start": raw_start,
        "epoch": datetime(2000, 1, 1, tzinfo=UTC),
    }
    counts = {"streamers": streamers, "followers": len(followers)}
    counts["pools"] = execute(POOLS_SQL, common)
    counts["snapshots"] = execute(SNAPSHOTS_SQL, common)
    counts["hourly rollups (before raw)"] = execute(OLD_HOURS_SQL, common)
    counts["hourly rollups (raw window)"] = execute(RAW_HOURS_SQL)
    counts["daily rollups"] = execute(DAYS_SQL)
    execute(OPEN_POOLS_SQL)
    counts["streams"] = execute(STREAMS_SQL, common)
    counts["positions"] = execute(
        POSITIONS_SQL, {"per_pool": POSITIONS_PER_POOL, "followers": len(followers)}
    )
    counts["ledger rows"] = execute(LEDGER_SQL)
    day = timedelta(days=1)
    old_start = now - timedelta(days=30) - day
    counts["call log (a day past retention)"] = execute(
        CALLS_SQL,
        {
            "start": old_start,
            "step": day.total_seconds() * 1e6 / CALLS_PER_DAY,
            "count": CALLS_PER_DAY,
            "operator": operator.pk,
        },
    )
    counts["call log (recent hour)"] = execute(
        CALLS_SQL,
        {
            "start": now - timedelta(hours=1),
            "step": 3600 * 1e6 / (CALLS_PER_DAY // 24),
            "count": CALLS_PER_DAY // 24,
            "operator": operator.pk,
        },
    )
    execute("ANALYZE")  # as autovacuum would have by then
    from apps.transactions.statistics.records import records_refresh

    counts["streamer records"] = records_refresh(now=now)
    return counts


def prepare(streamers: int, days: int, now: datetime, results) -> None:
    """Child process: migrate the fresh database and fill it."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    results.put(populate(streamers, days, now))


def timed(runs: int, action: Callable[[], object], *, rollback: bool = False):
    """Median wall time (ms) of ``runs`` runs, the queries of the last, and its result."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    walls = []
    result: object = None
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            if rollback:
                with transaction.atomic():
                    result = action()
                    transaction.set_rollback(True)
            else:
                result = action()
            walls.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    walls.sort()
    middle = len(walls) // 2
    wall = walls[middle] if len(walls) % 2 else (walls[middle - 1] + walls[middle]) / 2
    return wall, queries, result


def resolves(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def build(args: argparse.Namespace, now: datetime) -> None:
    print(f"database {args.database_url}: recreating, migrating, filling ...", flush=True)
    recreate_database(args.database_url)
    # Setting up runs in a child process, so the peak memory below is the runs' own.
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    started = time.perf_counter()
    setup = context.Process(target=prepare, args=(args.streamers, args.days, now, results))
    setup.start()
    setup.join()
    if setup.exitcode or results.empty():
        raise SystemExit("setting up the benchmark database failed")
    counts = results.get()
    seconds = time.perf_counter() - started
    print(f"built in {seconds:.1f} s (migrations included), at now = {now:%Y-%m-%d %H:%M} UTC")
    for name, count in counts.items():
        print(f"  {name:34} {count:>12,}")


def built_at() -> datetime:
    """The moment a database built earlier was built for: 40 minutes into the hour of its
    newest snapshot (migrating it to the code's schema first)."""
    import django

    django.setup()
    from django.core.management import call_command

    from apps.pools.models import PoolSnapshot

    call_command("migrate", verbosity=0)  # the code may have moved on since the build
    newest = PoolSnapshot.objects.order_by("-taken_at").values_list("taken_at", flat=True).first()
    if newest is None:
        raise SystemExit("nothing to reuse: build the database first (without --reuse)")
    return floor_hour(newest) + timedelta(minutes=40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streamers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=7, help="Runs per figure (median).")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cp_bench_stats"),
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Time against the database as an earlier run built it (no rebuild).",
    )
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the benchmark runs on PostgreSQL: give a postgres:// DATABASE_URL")
    if args.days < RAW_DAYS + 1:
        raise SystemExit(f"--days must be more than {RAW_DAYS}")

    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEBUG="False",
        LOG_LEVEL="WARNING",
    )
    if args.reuse:
        now = built_at()
        print(f"database {args.database_url}: reused as built, at now = {now:%Y-%m-%d %H:%M} UTC")
    else:
        # Now is 40 minutes into an hour: the current hour has raw snapshots to roll up.
        now = floor_hour(datetime.now(UTC)) + timedelta(minutes=40)
        build(args, now)

    import django

    django.setup()
    from django.test import Client
    from django.utils import timezone

    from apps.followers.models import PlayerSession
    from apps.followers.tokens import player_token_issue
    from apps.operators.calllog import calls_prune
    from apps.pools.models import StreamerRecord
    from apps.pools.rollups import rollups_refresh, snapshots_prune
    from apps.streamers.models import Streamer
    from apps.transactions.statistics.figures import WINDOWS
    from apps.transactions.statistics.records import (
        TrackRecord,
        records_refresh,
        track_record,
    )

    rss_before = peak_rss_mb()
    session = PlayerSession.objects.select_related("follower").order_by("pk").first()
    assert session is not None
    session.expires_at = timezone.now() + timedelta(hours=2)
    session.save(update_fields=["expires_at"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}")
    # The first streamer: four pools over the period, a year of history.
    streamer = Streamer.objects.filter(pools__rollups__period="day").order_by("pk").first()
    assert streamer is not None

    def get(path: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: {response.status_code} {response.content[:300]!r}")
            return response

        return call

    report = Report(
        "statistics: leaderboard and streamer page on a year of snapshots",
        context={
            "streamers": args.streamers,
            "days of history": args.days,
            "runs per figure": args.runs,
        },
    )
    leaderboard = f"{LEADERBOARD_PATH}?window=7d&sort=roi"

    def ranked() -> object:
        return list(
            StreamerRecord.objects.filter(
                window="7d", is_new=False, streamer__operator_id=session.follower.operator_id
            )
            .select_related("streamer")
            .order_by("-roi", "streamer_id")[:50]
        )

    bare, bare_queries, _ = timed(args.runs, ranked)
    if resolves(LEADERBOARD_PATH):
        wall, queries, _ = timed(args.runs, get(leaderboard))
        report.add(
            Figure(
                f"leaderboard GET {leaderboard}",
                wall,
                "ms",
                baseline_name=f"its StreamerRecord query alone ({bare_queries} queries)",
                baseline=bare,
                note=f"{queries} queries",
            )
        )
    else:
        report.add(Figure("leaderboard 7d by ROI, top 50 (query)", bare, "ms"))
    stats_path = STATS_PATH.format(id=streamer.pk)
    pages: list[tuple[str, float, int]] = []
    for window in WINDOWS:
        if resolves(stats_path):
            path = f"{stats_path}?window={window}"
            wall, queries, _ = timed(args.runs, get(path))
            pages.append((f"streamer page GET ?window={window}", wall, queries))
        else:

            def page(window: str = window) -> TrackRecord:
                return track_record(streamer, window, now=now)

            wall, queries, record = timed(args.runs, page)
            points = len(record.series)  # type: ignore[attr-defined]
            pages.append((f"streamer page {window} ({points} points)", wall, queries))
    first_name, first_wall, first_queries = pages[0]
    for name, wall, queries in pages:
        report.add(
            Figure(
                name,
                wall,
                "ms",
                baseline_name=f"{first_name} ({first_queries} queries)",
                baseline=first_wall,
                target="≤ 2× the shortest window: a year reads rollups, not raw rows",
                met=wall <= 2 * first_wall,
                note=f"{queries} queries",
            )
        )
    rss_pages = peak_rss_mb()

    wall, queries, stats = timed(max(3, args.runs // 2), lambda: rollups_refresh(now=now))
    report.add(
        Figure(
            "rollups_refresh, current hour",
            wall,
            "ms",
            note=f"{stats.hourly_rows} hourly, {stats.daily_rows} daily rows; {queries} queries",  # type: ignore[attr-defined]
        )
    )
    wall, queries, written = timed(3, lambda: records_refresh(now=now))
    report.add(
        Figure(
            "records_refresh, every streamer",
            wall,
            "ms",
            note=f"{written} rows; {queries} queries",
        )
    )
    rss_jobs = peak_rss_mb()
    wall, queries, deleted = timed(3, lambda: snapshots_prune(now=now), rollback=True)
    report.add(
        Figure(
            "snapshots_prune, a day",
            wall,
            "ms",
            note=f"{deleted:,} rows, rolled back each run; {queries} queries",
        )
    )
    wall, queries, deleted = timed(3, lambda: calls_prune(now=now), rollback=True)
    report.add(
        Figure(
            "calls_prune, a day",
            wall,
            "ms",
            note=f"{deleted:,} rows, rolled back each run; {queries} queries",
        )
    )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    report.context["machine"] = f"{os.cpu_count()} CPUs, load average {load} after the runs"
    report.context["peak RSS"] = (
        f"{rss_before:.0f} MB before (Django loaded), {rss_pages:.0f} MB after the "
        f"pages, {rss_jobs:.0f} MB after the refreshes, {peak_rss_mb():.0f} MB at the end"
    )
    report.print()


if __name__ == "__main__":
    main()
