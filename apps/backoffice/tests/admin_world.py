"""Builders of a back-office world for admin tests: operators with known secrets, pools with
snapshots, positions, sagas and transactions of every kind and status, call log entries,
reconciliation findings and settlements. Rows are written directly (no HTTP, no sagas), so a
test can ask for hundreds of them cheaply.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from apps.followers.models import Follower, PlayerSession, Position
from apps.operators.models import CallLog, Operator
from apps.operators.tests.factories import OperatorFactory
from apps.pools.models import Pool, PoolSnapshot
from apps.streamers.models import Stream, Streamer
from apps.transactions.models import (
    DailySettlement,
    Discrepancy,
    ReconciliationRun,
    Saga,
    Transaction,
)

D = Decimal
SECRETS = {
    "api_key": "inbound-api-key-VISIBLE-NEVER-0001",
    "operator_api_key": "operator-issued-key-NEVER-SHOWN-0002",
    "secret_key": "signature-secret-NEVER-SHOWN-0003",
    "wallet_secret": "wallet-secret-NEVER-SHOWN-0004",
    "user_token": "player-user-token-NEVER-SHOWN-0005",
}
DEFAULT_BALANCE = D("1000.12345678")
DEFAULT_CONTRIBUTION = D("100")
# The movements sent to an operator (a performance fee is never sent, and only ever succeeded).
KINDS = [
    choice for choice, _ in Transaction.Kind.choices if choice != Transaction.Kind.PERFORMANCE_FEE
]
STATUSES = [choice for choice, _ in Transaction.Status.choices]


def superuser(username: str = "root"):
    return get_user_model().objects.create_superuser(username, f"{username}@example.com", "pw")


def staff_user(username: str, *groups: str):
    from django.contrib.auth.models import Group

    from apps.backoffice.groups import staff_groups_ensure

    staff_groups_ensure()  # a transactional test's flush removes what migrations created
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


def secret_operator(code: str = "acme", **extra) -> Operator:
    """An operator whose every secret is one of ``SECRETS`` (tests assert none is shown)."""
    values = {
        "name": code.title(),
        "code": code,
        "callback_url": f"http://{code}.invalid/copystake",
        "wallet_url": f"http://{code}.invalid/wallet",
        "api_key": SECRETS["api_key"] + code,
        "api_key_hint": SECRETS["api_key"][-4:],
        "operator_api_key": SECRETS["operator_api_key"],
        "secret_key": SECRETS["secret_key"],
        "wallet_client_id": f"{code}-client",
        "wallet_secret": SECRETS["wallet_secret"],
    }
    return OperatorFactory.create(**{**values, **extra})


@dataclass
class World:
    operator: Operator
    streamers: list[Streamer] = field(default_factory=list)
    pools: list[Pool] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    sagas: list[Saga] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)


def make_pool(
    operator: Operator,
    n: int,
    *,
    locked: bool = True,
    balance: Decimal = DEFAULT_BALANCE,
    live: bool = True,
    locked_hours_ago: float = 1,
    snapshots: int = 6,
) -> Pool:
    streamer = Streamer.objects.create(
        operator=operator,
        operator_user_id=f"streamer-{operator.code}-{n}",
        display_name=f"Streamer {n}",
        currency="USD",
    )
    if live:
        Stream.objects.create(streamer=streamer, status="live", started_at=timezone.now())
    now = timezone.now()
    pool = Pool.objects.create(
        streamer=streamer,
        operator=operator,
        currency="USD",
        balance=balance,
        balance_at=now,
        opening_balance=D("1000"),
        total_units=D("1000"),
        streamer_units=D("900"),
        lock_state="locked" if locked else "pending",
        locked_at=now - timedelta(hours=locked_hours_ago) if locked else None,
        open_sent_at=now - timedelta(hours=locked_hours_ago) if locked else None,
    )
    for i in range(snapshots):
        value = balance + D(i * 10) - D(25)
        PoolSnapshot.objects.create(
            pool=pool,
            balance=value,
            total_units=D("1000"),
            nav=(value / D("1000")).quantize(D("0.000000000001")),
            members=1,
            taken_at=now - timedelta(hours=snapshots - i),
        )
    return pool


def make_member(pool: Pool, n: int, *, contributed: Decimal = DEFAULT_CONTRIBUTION) -> Position:
    follower = Follower.objects.create(
        operator=pool.operator, operator_user_id=f"player-{pool.pk}-{n}", username=f"player{n}"
    )
    session = PlayerSession.objects.create(
        follower=follower,
        user_token=SECRETS["user_token"],
        currency="USD",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    return Position.objects.create(
        pool=pool,
        follower=follower,
        session=session,
        contributed=contributed,
        units=D("100"),
        status="active",
    )


def make_transactions(position: Position, count: int, *, start: int = 0) -> list[Transaction]:
    """``count`` transactions cycling through kinds and statuses, each with a saga and a
    call log entry, some flagged for review."""
    pool = position.pool
    rows = []
    for i in range(start, start + count):
        saga = Saga.objects.create(
            kind="join" if i % 2 == 0 else "leave",
            step="deposit" if i % 2 == 0 else "credit",
            status="running" if i % 3 else "done",
            operator=pool.operator,
            pool=pool,
            position=position,
            needs_review=i % 7 == 0,
            review_reason="WIN refused: ERR_FORBIDDEN" if i % 7 == 0 else "",
        )
        kind = KINDS[i % len(KINDS)]
        tx = Transaction.objects.create(
            operator=pool.operator,
            kind=kind,
            status=STATUSES[i % len(STATUSES)],
            amount=D("12.34567891") + i,
            currency="USD",
            saga=saga,
            pool=pool,
            position=position,
            follower=position.follower,
            streamer=pool.streamer,
            attempts=1 + i % 3,
            needs_review=i % 5 == 0,
            last_error_code="ERR_TIMEOUT" if i % 4 == 0 else "",
            response={"balance": "1000.5", "currency": "USD"},
            operator_reference=f"ref-{i}",
        )
        CallLog.objects.create(
            operator=pool.operator,
            direction="out",
            endpoint="transfer" if "streamer" in kind else "wallet/deposit",
            url="http://x.invalid/copystake/transfer",
            request_headers={"X-API-KEY": "••••••0002"},
            request_body=f'{{"id": "{tx.external_id}", "amount": 12.5}}',
            response_status=500 if i % 4 == 0 else 200,
            response_body='{"balance": 1000.5}',
            latency_ms=42,
            outcome="unknown" if i % 4 == 0 else "success",
            external_id=tx.external_id,
        )
        rows.append(tx)
    return rows


def build_world(*, pools: int = 2, transactions: int = 10, code: str = "acme") -> World:
    operator = secret_operator(code)
    world = World(operator=operator)
    for n in range(pools):
        pool = make_pool(operator, n, locked_hours_ago=30 if n == 0 else 1)
        world.pools.append(pool)
        world.streamers.append(pool.streamer)
        world.positions.append(make_member(pool, n))
    per_pool = max(transactions // max(pools, 1), 1)
    for n, position in enumerate(world.positions):
        world.transactions += make_transactions(position, per_pool, start=n * per_pool)
    run = ReconciliationRun.objects.create(
        operator=operator, status="finished", findings=1, duration_ms=120
    )
    Discrepancy.objects.create(
        run=run,
        operator=operator,
        kind="balance_mismatch",
        subject=f"pool:{world.pools[0].pk}",
        pool=world.pools[0],
        expected=D("1000"),
        actual=D("999.5"),
    )
    for day in range(3):
        DailySettlement.objects.create(
            operator=operator,
            currency="USD",
            day=date.today() - timedelta(days=day),
            money_in=D("1234.5"),
            money_out=D("234.12345678"),
            transactions_count=17,
        )
    return world


def new_id() -> str:
    return uuid.uuid4().hex


def populate(n: int, *, code: str = "bulk") -> World:
    """``n`` rows of every model a changelist shows (pools, positions, transactions, sagas,
    calls, findings, runs, settlements, staff actions, streams, sessions, snapshots)."""
    from apps.backoffice.models import StaffAction

    operator = secret_operator(code)
    world = World(operator=operator)
    for i in range(n):
        pool = make_pool(operator, i, snapshots=1, locked_hours_ago=1 + i)
        world.pools.append(pool)
        world.positions.append(make_member(pool, i))
    per = max(n // len(world.positions), 1)
    for i, position in enumerate(world.positions):
        world.transactions += make_transactions(position, per, start=i * per)
    for i in range(n):
        run = ReconciliationRun.objects.create(operator=operator, status="finished", findings=i)
        Discrepancy.objects.create(
            run=run,
            operator=operator,
            kind="balance_mismatch",
            subject=f"{code}:{i}",
            pool=world.pools[i % len(world.pools)],
            transaction=world.transactions[i % len(world.transactions)],
            expected=D("1"),
            actual=D("2"),
        )
        DailySettlement.objects.create(
            operator=operator, currency="USD", day=date(2025, 1, 1) + timedelta(days=i)
        )
        StaffAction.objects.create(
            username="someone",
            action="pool_refresh_balance",
            target_type="pools.pool",
            target_id=str(world.pools[i % len(world.pools)].pk),
            target_repr="pool",
            reason="because",
            outcome="done",
        )
    return world


def settled_clones(count: int) -> None:
    """``count`` more settled transactions, none in the queue (a ledger mostly done)."""
    base = Transaction.objects.filter(status="succeeded", needs_review=False).first()
    assert base is not None
    fields = {
        f.attname: getattr(base, f.attname)
        for f in Transaction._meta.concrete_fields
        if not f.primary_key
    }
    fields.update(saga_id=None, rolls_back_id=None)
    Transaction.objects.bulk_create(
        Transaction(**(fields | {"external_id": f"settled-{n}"})) for n in range(count)
    )


def plan_at_scale(queryset) -> str:
    """PostgreSQL's plan for ``queryset`` as a page takes it at scale, after ANALYZE: an
    ordered index scan that stops at the page's rows (a few rows' bitmap over other indexes,
    or a sequential scan, is cheaper only on a tiny table)."""
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE transactions_transaction")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())
