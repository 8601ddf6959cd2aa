"""The one-command demo: demo data wired to the sandbox, and the background loops.

``demo_setup`` creates (or finds again) a sandbox operator and our Operator with matching
credentials, streamers with balances and live streams, followers with sandbox accounts,
session tokens and player sessions, and an ``admin`` superuser with a fresh password.
``DemoLoops`` runs, in threads, the streamer-play simulator, joins and leaves of random
followers through our services, the saga resume, pool snapshots and finance (the daily
settlement every minute; last month's invoice once). Every loop catches and counts its
errors: the demo never dies of one bad round.

Finance in the demo: the streamers take performance fees (``STREAMER_FEES``), and the demo
operator pays CopyStake by a fee schedule (``DEMO_FEES``) in force from well before last month.
A fresh demo has no history, yet last month's invoice needs last month's settlements: see
``demo_last_month``, which makes real flows now and backdates them, and says so.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.followers.models import PlayerSession, Position
from apps.followers.services import demo_session_open, player_session_open
from apps.followers.tokens import player_url
from apps.operators.models import Operator, api_key_digest
from apps.operators.services import operator_create, operator_rotate_credential
from apps.pools import services as pool_services
from apps.pools.models import Pool
from apps.pools.rollups import rollups_refresh
from apps.sandbox.models import SandboxAccount, SandboxOperator
from apps.sandbox.selectors import sandbox_account_get, sandbox_operator_get
from apps.sandbox.services import (
    sandbox_account_create,
    sandbox_operator_create,
    sandbox_play_round,
    sandbox_token_issue,
)
from apps.streamers.models import Stream, Streamer
from apps.streamers.selectors import stream_live_get, streamer_get_by_user_id
from apps.streamers.services import stream_schedule, stream_start, streamer_create
from apps.transactions.finance.invoices import (
    invoice_generate,
    invoice_issue,
    month_bounds,
    previous_month,
    utc_today,
)
from apps.transactions.models import (
    DailySettlement,
    FeeSchedule,
    Invoice,
    JournalEntry,
    Transaction,
)
from apps.transactions.reconciliation import pools_snapshot, reconciliation_run
from apps.transactions.services import position_join, position_leave, sagas_resume, streams_end
from apps.transactions.settlement import settlement_compute, settlements_refresh
from apps.transactions.statistics.records import records_refresh

logger = logging.getLogger(__name__)

SLUG = "demo-casino"
NAME = "Demo Casino"
CURRENCY = "USD"
SESSION_TTL_SECONDS = 24 * 3600
WALLET_CLIENT_ID = "copystake-demo"

STREAMERS = [
    ("streamer-lena", "Lucky Lena", "Sweet Bonanza bonus hunt", Decimal("5000")),
    ("streamer-hank", "High Roller Hank", "Crazy Time, high stakes", Decimal("12000")),
    ("streamer-sofia", "Slots Sofia", "Book of Dead marathon", Decimal("2500")),
    ("streamer-ben", "Blackjack Ben", "Live blackjack, basic strategy", Decimal("8000")),
]
FOLLOWER_NAMES = [
    "Ada",
    "Bruno",
    "Chloe",
    "Dmitri",
    "Esme",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jun",
]
FOLLOWER_BALANCE = Decimal("1000")
STREAM_TITLES = {user_id: title for user_id, _, title, _ in STREAMERS}
YOU = ("player-you", "You")
JOIN_AMOUNTS = [Decimal(v) for v in ("5", "10", "15", "20", "25", "40", "50", "75", "100")]
# The streamers' performance fees (percent above each position's high-water mark), and the
# operator's default for streamers without their own.
STREAMER_FEES = {
    "streamer-lena": Decimal("10"),
    "streamer-hank": Decimal("20"),
    "streamer-sofia": Decimal("0"),
    "streamer-ben": Decimal("15"),
}
OPERATOR_DEFAULT_FEE = Decimal("10")
# CopyStake's fees to the demo operator: 0.5 % of turnover, 10 % of GGR, at least 100 a month.
DEMO_FEES = {
    "turnover_percent": Decimal("0.5"),
    "ggr_percent": Decimal("10"),
    "monthly_minimum": Decimal("100"),
}
# Days of last month the demo's history is backdated to (clipped to the month's length).
HISTORY_DAYS = (3, 8, 14, 21, 27)
HISTORY_JOINS_PER_DAY = 3
HISTORY_ROUNDS_PER_DAY = 4


@dataclass
class DemoWorld:
    sandbox_operator: SandboxOperator
    operator: Operator
    streamers: list[Streamer]
    sessions: list[PlayerSession]
    you: PlayerSession
    admin_password: str
    operator_api_key: str
    created: bool
    base_url: str
    # "kept": the one the last run printed (from ``credentials_file``); "new": the first;
    # "replaced": a new one, because the earlier one was lost or no longer works.
    api_key_status: str = "new"
    password_status: str = "new"

    @property
    def you_url(self) -> str:
        return player_url(self.you)

    def demo_url(self) -> str:
        """A fresh ``init-demo`` session (play money, no wallet), as the operator API does."""
        return player_url(demo_session_open(operator=self.operator))


def demo_setup(*, base_url: str, credentials_file: Path | None = None) -> DemoWorld:
    """Create the demo data, or find it again and refresh what must be fresh (tokens, URLs).

    The operator's ``X-API-KEY`` and the admin's password stay the same from run to run:
    they are kept in ``credentials_file`` (owner-only, in ``var/``, never in the repository;
    none: nothing is kept and both are new). Only when the file is gone, or what it holds no
    longer works, are new ones made, and the world says so."""
    base_url = base_url.rstrip("/")
    kept = _credentials_load(credentials_file)
    sandbox_operator, operator, created, api_key = _operators(base_url, kept.get("api_key"))
    admin_existed = get_user_model().objects.filter(username="admin").exists()
    password = _admin(kept.get("admin_password"))
    _credentials_save(credentials_file, api_key=api_key, admin_password=password)
    streamers = [
        _streamer(sandbox_operator, operator, user_id, name, title, balance)
        for user_id, name, title, balance in STREAMERS
    ]
    for n, streamer in enumerate(streamers):
        _upcoming(streamer, starts_in=timedelta(hours=20 + 3 * n))
    _fees(operator, streamers, created=created)
    sessions = [
        _follower_session(sandbox_operator, operator, f"follower-{n:02d}", name)
        for n, name in enumerate(FOLLOWER_NAMES, start=1)
    ]
    you = _follower_session(sandbox_operator, operator, *YOU)
    return DemoWorld(
        sandbox_operator=sandbox_operator,
        operator=operator,
        streamers=streamers,
        sessions=sessions,
        you=you,
        admin_password=password,
        operator_api_key=api_key,
        created=created,
        base_url=base_url,
        api_key_status=_status(api_key == kept.get("api_key"), existed=not created),
        password_status=_status(password == kept.get("admin_password"), existed=admin_existed),
    )


def _status(kept: bool, *, existed: bool) -> str:
    return "kept" if kept else ("replaced" if existed else "new")


def _credentials_load(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _credentials_save(path: Path | None, **values: str) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(values, handle)
    path.chmod(0o600)


def _operators(base_url: str, kept_key: str | None) -> tuple[SandboxOperator, Operator, bool, str]:
    callback_url = f"{base_url}/sandbox/{SLUG}/copystake"
    wallet_url = f"{base_url}/sandbox/{SLUG}/wallet"
    sandbox_operator = sandbox_operator_get(slug=SLUG) or sandbox_operator_create(
        slug=SLUG,
        name=NAME,
        api_key=str(uuid.uuid4()),
        secret_key=secrets.token_urlsafe(32),
        wallet_client_id=WALLET_CLIENT_ID,
        wallet_secret=secrets.token_urlsafe(32),
    )
    operator = Operator.objects.filter(code=SLUG).first()
    if operator is None:
        operator, credentials = operator_create(
            name=NAME,
            code=SLUG,
            callback_url=callback_url,
            wallet_url=wallet_url,
            operator_api_key=sandbox_operator.api_key,
            secret_key=sandbox_operator.secret_key,
            wallet_client_id=sandbox_operator.wallet_client_id,
            wallet_secret=sandbox_operator.wallet_secret,
            session_ttl_seconds=SESSION_TTL_SECONDS,
            request_timeout_seconds=3.0,
            min_contribution=Decimal("1"),
            max_contribution=Decimal("1000"),
        )
        return sandbox_operator, operator, True, credentials["api_key"]
    _operator_align(operator, sandbox_operator, callback_url=callback_url, wallet_url=wallet_url)
    if kept_key and api_key_digest(kept_key) == operator.api_key_digest:
        return sandbox_operator, operator, False, kept_key
    # Only the digest of the inbound key is stored: issue a new one so it can be printed.
    return (
        sandbox_operator,
        operator,
        False,
        operator_rotate_credential(operator=operator, which="api_key"),
    )


@transaction.atomic
def _operator_align(
    operator: Operator, sandbox_operator: SandboxOperator, *, callback_url: str, wallet_url: str
) -> None:
    """Point the operator at this run's address and at the sandbox's current credentials."""
    wanted = {
        "callback_url": callback_url,
        "wallet_url": wallet_url,
        "operator_api_key": sandbox_operator.api_key,
        "secret_key": sandbox_operator.secret_key,
        "wallet_client_id": sandbox_operator.wallet_client_id,
        "wallet_secret": sandbox_operator.wallet_secret,
    }
    changed = [name for name, value in wanted.items() if getattr(operator, name) != value]
    if changed:
        for name in changed:
            setattr(operator, name, wanted[name])
        operator.full_clean()
        operator.save(update_fields=[*changed, "updated_at"])


def _fees(operator: Operator, streamers: list[Streamer], *, created: bool) -> None:
    """The demo's fees: each streamer's performance fee (kept if staff changed it), the
    operator's default, and CopyStake's fee schedule for the operator.

    The operator's default is set when the demo creates the operator (staff's changes stay).
    The schedule is created directly, not through ``fee_schedule_create`` (which refuses a
    start in the past), and only when the operator has none: it starts on the first day of
    the month before last, so that last month (``demo_last_month``) is billed by it.
    """
    if created:
        operator.default_performance_fee_percent = OPERATOR_DEFAULT_FEE
        operator.full_clean()
        operator.save(update_fields=["default_performance_fee_percent", "updated_at"])
    for streamer in streamers:
        wanted = STREAMER_FEES.get(streamer.operator_user_id)
        if wanted is not None and streamer.performance_fee_percent is None:
            streamer.performance_fee_percent = wanted
            streamer.full_clean()
            streamer.save(update_fields=["performance_fee_percent"])
    if not FeeSchedule.objects.filter(operator=operator, currency=CURRENCY).exists():
        schedule = FeeSchedule(
            operator=operator,
            currency=CURRENCY,
            effective_from=previous_month(previous_month(utc_today())),
            note="Demo: CopyStake's standard rates",
            **DEMO_FEES,
        )
        schedule.full_clean()
        schedule.save()


def _streamer(
    sandbox_operator: SandboxOperator,
    operator: Operator,
    user_id: str,
    name: str,
    title: str,
    balance: Decimal,
) -> Streamer:
    if sandbox_account_get(operator=sandbox_operator, user_id=user_id) is None:
        sandbox_account_create(
            operator=sandbox_operator,
            user_id=user_id,
            username=name,
            currency=CURRENCY,
            balance=balance,
            is_streamer=True,
        )
    streamer = streamer_get_by_user_id(
        operator=operator, operator_user_id=user_id
    ) or streamer_create(
        operator=operator, operator_user_id=user_id, currency=CURRENCY, display_name=name
    )
    if stream_live_get(streamer=streamer) is None:
        stream_start(streamer=streamer, title=title)
    return streamer


def _upcoming(streamer: Streamer, *, starts_in: timedelta) -> None:
    """An announced stream in the lobby's "Upcoming" list, unless one is announced already."""
    if Stream.objects.filter(
        streamer=streamer, status=Stream.Status.SCHEDULED, scheduled_end__gt=timezone.now()
    ).exists():
        return
    starts_at = (timezone.now() + starts_in).replace(minute=0, second=0, microsecond=0)
    stream_schedule(
        streamer=streamer,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        title=f"{streamer.display_name}: the next session",
        game="Slots",
    )


def _follower_session(
    sandbox_operator: SandboxOperator, operator: Operator, user_id: str, name: str
) -> PlayerSession:
    account = sandbox_account_get(operator=sandbox_operator, user_id=user_id)
    if account is None:
        account = sandbox_account_create(
            operator=sandbox_operator,
            user_id=user_id,
            username=name,
            currency=CURRENCY,
            balance=FOLLOWER_BALANCE,
        )
    token = sandbox_token_issue(account=account, ttl_seconds=SESSION_TTL_SECONDS)
    return player_session_open(
        operator=operator,
        operator_user_id=user_id,
        user_token=token.token,
        currency=CURRENCY,
        username=name,
    )


def _admin(kept_password: str | None = None) -> str:
    """The ``admin`` superuser; its password is the one kept from the last run while it
    still works, else a new one."""
    user_model = get_user_model()
    user = user_model.objects.filter(username="admin").first()
    password = kept_password or ""
    if user is None:
        password = password or secrets.token_urlsafe(12)
        user_model.objects.create_superuser("admin", "admin@example.com", password)
    else:
        if not (password and user.check_password(password)):
            password = secrets.token_urlsafe(12)
            user.set_password(password)
        user.is_staff = user.is_superuser = user.is_active = True
        user.save()
    try:
        from axes.utils import reset

        reset(username="admin")  # a lockout from an earlier run must not stop the demo
    except Exception:  # axes off or not migrated: nothing to reset
        logger.debug("axes reset skipped", exc_info=True)
    return password


# --- last month's history and invoice ----------------------------------------------------


def demo_last_month(
    world: DemoWorld, *, rng: random.Random | None = None, issue: bool = True
) -> Invoice | None:
    """Last month's invoice for the demo operator, issued, with lines: once per month.

    A fresh demo has no past, and an invoice bills past settlements. So, when the demo
    operator has no settled flow in last month yet, this makes some **now** and backdates
    them: on each of ``HISTORY_DAYS`` a few followers join live pools through the real
    services (over HTTP to the sandbox operator, as the traffic loop does), the streamers
    play a few rounds, and every follower leaves again. Those flows are real (the sandbox's
    balances and our ledger moved, fees were charged on profits); only their clocks are
    rewritten afterwards: the ``created_at`` and ``completed_at`` of their transactions and
    the ``posted_at`` of their journal entries are moved to noon of that day of last month,
    keeping their order. Then every day of last month is settled with the fee schedule
    (``_fees``), the month's draft is generated, and issued unless ``issue`` is false.

    An invoice of last month that is already issued or paid is returned as it is; so is one
    made by hand. Returns None when no flow could be made (e.g. no stream is live yet).
    """
    rng = rng or random.Random()
    operator = world.operator
    month = previous_month(utc_today())
    first, last = month_bounds(month)
    existing = (
        Invoice.objects.filter(
            operator=operator, currency=CURRENCY, kind=Invoice.Kind.INVOICE, period_start=first
        )
        .exclude(state=Invoice.State.VOID)
        .first()
    )
    if existing is not None and existing.state != Invoice.State.DRAFT:
        return existing
    settled = DailySettlement.objects.filter(
        operator=operator,
        currency=CURRENCY,
        day__gte=first,
        day__lte=last,
        transactions_count__gt=0,
    )
    if not settled.exists():
        made = [
            _history_day(world, first.replace(day=min(day, last.day)), rng) for day in HISTORY_DAYS
        ]
        if not any(made):
            return None
    day = first
    while day <= last:
        settlement_compute(day=day)
        day += timedelta(days=1)
    invoice = invoice_generate(operator=operator, currency=CURRENCY, month=first)
    return invoice_issue(invoice=invoice, user=None) if issue else invoice


def _history_day(world: DemoWorld, day: date, rng: random.Random) -> int:
    """Real joins, rounds and leaves now, then backdated to ``day`` (``demo_last_month``):
    the number of transactions moved."""
    started = timezone.now()
    live = list(
        Streamer.objects.filter(
            operator=world.operator, streams__status=Stream.Status.LIVE
        ).values_list("pk", flat=True)
    )
    if not live:
        return 0
    positions = []
    for session in rng.sample(world.sessions, min(HISTORY_JOINS_PER_DAY, len(world.sessions))):
        try:
            position = position_join(
                session=session, streamer_id=rng.choice(live), amount=rng.choice(JOIN_AMOUNTS)
            )
        except ApplicationError as error:
            logger.info("demo history join refused: %s", error.code)
            continue
        positions.append((session, position))
    for _ in range(HISTORY_ROUNDS_PER_DAY):
        sandbox_play_round(operator=world.sandbox_operator, rtp=Decimal("0.98"), rng=rng)
    for session, position in positions:
        position.refresh_from_db()
        if position.status != Position.Status.ACTIVE:
            continue
        try:
            position_leave(session=session, position_id=position.pk)
        except ApplicationError as error:
            logger.info("demo history leave refused: %s", error.code)
    noon = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    moved = 0
    rows = Transaction.objects.filter(
        position_id__in=[position.pk for _, position in positions],
        completed_at__isnull=False,
        created_at__gte=started,
    ).order_by("created_at", "pk")
    for tx in rows:
        assert tx.completed_at is not None  # the query's filter
        offset = tx.created_at - started
        completed = noon + offset + (tx.completed_at - tx.created_at)
        Transaction.objects.filter(pk=tx.pk).update(
            created_at=noon + offset, completed_at=completed
        )
        JournalEntry.objects.filter(transaction_id=tx.pk).update(posted_at=completed)
        moved += 1
    return moved


# --- background loops ----------------------------------------------------------------------


@dataclass
class DemoStats:
    counts: Counter = field(default_factory=Counter)
    last_error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def error(self, where: str, error: BaseException) -> None:
        with self.lock:
            self.counts["errors"] += 1
            self.last_error = f"{where}: {type(error).__name__}: {error}"[:200]

    def snapshot(self) -> tuple[dict, str]:
        with self.lock:
            return dict(self.counts), self.last_error


class DemoLoops:
    """The simulator, the join/leave traffic, the saga resume, the snapshots, finance (the
    settlement schedule, last month's invoice), statistics and reconciliation, in threads."""

    def __init__(
        self,
        world: DemoWorld,
        *,
        traffic: bool = True,
        play_interval: float = 2.0,
        upkeep_interval: float = 3.0,
        snapshot_interval: float = 5.0,
        settlement_interval: float = 30.0,
        statistics_interval: float = 15.0,
        reconciliation_interval: float = 60.0,
        stream_cycle_seconds: float = 180.0,
        rng: random.Random | None = None,
    ):
        self.world = world
        self.traffic = traffic
        self.play_interval = play_interval
        self.upkeep_interval = upkeep_interval
        self.snapshot_interval = snapshot_interval
        self.settlement_interval = settlement_interval
        self.statistics_interval = statistics_interval
        self.reconciliation_interval = reconciliation_interval
        self._invoiced_month: date | None = None
        # The traffic waits for the first finance pass, so that the history it backdates
        # (``demo_last_month``) holds only its own flows.
        self.history_ready = threading.Event()
        self.stream_cycle_seconds = stream_cycle_seconds
        self.rng = rng or random.Random()
        self.stats = DemoStats()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self._next_cycle = time.monotonic() + stream_cycle_seconds
        self._restart: tuple[float, Streamer] | None = None

    def start(self) -> None:
        loops: list[tuple[str, Callable[[], None], Callable[[], float]]] = [
            ("play", self.play_once, lambda: self.play_interval),
            ("upkeep", self.upkeep_once, lambda: self.upkeep_interval),
            ("snapshots", self.snapshot_once, lambda: self.snapshot_interval),
            ("finance", self.finance_once, lambda: self.settlement_interval),
            ("statistics", self.statistics_once, lambda: self.statistics_interval),
            ("reconciliation", self.reconcile_once, lambda: self.reconciliation_interval),
        ]
        if self.traffic:
            loops.append(("traffic", self.traffic_once, self._traffic_pause))
        for name, step, pause in loops:
            thread = threading.Thread(
                target=self._run, args=(name, step, pause), name=f"demo-{name}", daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def shutdown(self, timeout: float = 20.0) -> None:
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(deadline - time.monotonic(), 0.1))

    def _run(self, name: str, step: Callable[[], None], pause: Callable[[], float]) -> None:
        try:
            while not self.stop.is_set():
                try:
                    step()
                except Exception as error:
                    logger.exception("demo %s loop", name)
                    self.stats.error(name, error)
                    close_old_connections()
                self.stop.wait(pause())
        finally:
            connection.close()

    # -- play ------------------------------------------------------------------------------

    def play_once(self) -> None:
        bets = sandbox_play_round(
            operator=self.world.sandbox_operator, rtp=Decimal("0.98"), rng=self.rng
        )
        self.stats.add("bets", len(bets))

    # -- traffic ---------------------------------------------------------------------------

    def _traffic_pause(self) -> float:
        # A quick start so the first pools fill within seconds, then a calmer pace.
        if sum(self.stats.snapshot()[0].get(k, 0) for k in ("joins", "leaves")) < 8:
            return 0.3
        return self.rng.uniform(0.8, 2.5)

    def traffic_once(self) -> None:
        if not self.history_ready.is_set():
            return
        if self._stream_cycle():
            return
        sessions = {s.follower_id: s for s in self.world.sessions}
        active = list(
            Position.objects.filter(
                follower_id__in=sessions, status=Position.Status.ACTIVE, is_demo=False
            ).values_list("pk", "follower_id")
        )
        if active and (len(active) >= 14 or self.rng.random() < 0.4):
            position_id, follower_id = self.rng.choice(active)
            self._leave(sessions[follower_id], position_id)
        else:
            self._join(self.rng.choice(self.world.sessions))

    def _join(self, session: PlayerSession) -> None:
        live = list(
            Streamer.objects.filter(
                operator=self.world.operator, streams__status=Stream.Status.LIVE
            ).values_list("pk", flat=True)
        )
        if not live:
            return
        amount = self.rng.choice(JOIN_AMOUNTS)
        try:
            position = position_join(
                session=session, streamer_id=self.rng.choice(live), amount=amount
            )
        except ApplicationError as error:
            self.stats.add("refused")
            logger.info("demo join refused: %s %s", error.code, error.message)
            return
        if position.status == Position.Status.ACTIVE:
            self.stats.add("joins")
        elif position.status == Position.Status.FAILED:
            self.stats.add("failed joins")
        else:
            self.stats.add("pending")

    def _leave(self, session: PlayerSession, position_id) -> None:
        try:
            position = position_leave(session=session, position_id=position_id)
        except ApplicationError as error:
            self.stats.add("refused")
            logger.info("demo leave refused: %s %s", error.code, error.message)
            return
        self.stats.add("leaves" if position.status == Position.Status.CLOSED else "pending")

    def _stream_cycle(self) -> bool:
        """Now and then a stream ends (its pool pays everyone out) and a new one starts."""
        if self.stream_cycle_seconds <= 0:
            return False
        now = time.monotonic()
        if self._restart and now >= self._restart[0]:
            streamer = self._restart[1]
            self._restart = None
            if stream_live_get(streamer=streamer) is None:
                stream_start(
                    streamer=streamer, title=STREAM_TITLES.get(streamer.operator_user_id, "")
                )
                self.stats.add("streams started")
            return True
        if now < self._next_cycle:
            return False
        self._next_cycle = now + self.stream_cycle_seconds
        streamer = self.rng.choice(self.world.streamers)
        stream = stream_live_get(streamer=streamer)
        if stream is None:
            return False
        streams_end(stream=stream, reason="demo: the stream cycle ended it")
        self.stats.add("streams ended")
        self._restart = (now + 15.0, streamer)
        return True

    # -- upkeep ----------------------------------------------------------------------------

    def upkeep_once(self) -> None:
        self.stats.add("sagas resumed", sagas_resume(limit=50, budget=10.0))

    def snapshot_once(self) -> None:
        # The same guarded pass the scheduled task runs: pools being priced are skipped and a
        # reading never overwrites a fresher balance written by a transfer.
        report = pools_snapshot(operators=[self.world.operator])
        self.stats.add("snapshots", report.pools - report.claimed_skipped)

    def reconcile_once(self) -> None:
        """What the 15-minute schedule does, more often: one reconciliation run of the demo
        operator, so its runs and findings pages are never empty."""
        report = reconciliation_run(operators=[self.world.operator])
        self.stats.add("reconciliation runs", len(report.runs))

    def statistics_once(self) -> None:
        """What ``statistics_task`` does every 5 minutes: roll the snapshots up, refresh
        the track records (the leaderboard, the lobby's figures, the dashboard)."""
        rollups_refresh()
        self.stats.add("track records", records_refresh())

    def finance_once(self) -> None:
        """What beat does in production, on the demo's clock: recompute yesterday's and
        today's settlements (the hourly schedule, here every ``settlement_interval``), and make
        sure last month is invoiced (the schedule of the 1st, here once per month of running)."""
        try:
            month = previous_month(utc_today())
            if self._invoiced_month != month:
                invoice = demo_last_month(self.world, rng=self.rng)
                if invoice is not None:
                    self._invoiced_month = month
                    self.stats.add("invoices")
        finally:
            self.history_ready.set()
        self.stats.add("settlements", len(settlements_refresh(days=2)))


def pool_rows(operator: Operator) -> list[dict]:
    """What the progress display shows: every open pool of the demo operator."""
    rows = []
    for pool in (
        Pool.objects.filter(operator=operator)
        .exclude(state=Pool.State.CLOSED)
        .select_related("streamer")
        .order_by("streamer__display_name", "is_demo")
    ):
        rows.append(
            {
                "streamer": pool.streamer.display_name + (" (demo)" if pool.is_demo else ""),
                "state": pool.state + (" BUST" if pool.is_bust else ""),
                "balance": pool.balance,
                "currency": pool.currency,
                "nav": pool.nav,
                "followers": pool_services.pool_member_count(pool=pool),
            }
        )
    return rows


def sandbox_balances(sandbox_operator: SandboxOperator) -> dict[str, Decimal]:
    return dict(
        SandboxAccount.objects.filter(operator=sandbox_operator, is_streamer=True).values_list(
            "username", "balance"
        )
    )
