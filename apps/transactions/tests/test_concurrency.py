"""50 concurrent joins and leaves on one pool (PostgreSQL): every invariant holds.

Threads drive real sagas against a real database; the operator is the in-memory double,
made thread-safe and recording the balance each transfer was applied on, so the test can
prove that no two transfers were priced on the same balance.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from apps.core.errors import ApplicationError
from apps.followers.models import Position
from apps.followers.services import follower_block
from apps.pools.models import Pool
from apps.transactions.models import Transaction
from apps.transactions.services import position_join, position_leave
from conftest import run_due

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
D0 = Decimal(0)


@pytest.fixture
def threadsafe_fake(fake):
    lock = threading.Lock()
    fake.applied_on: list[tuple[str, Decimal]] = []
    original_transfer = fake.transfer

    def transfer(*, tx, pool):
        before = fake.streamer_balance[pool.streamer.operator_user_id]
        result = original_transfer(tx=tx, pool=pool)
        if result.ok and not any(ext == tx.external_id for ext, _ in fake.applied_on):
            fake.applied_on.append((tx.external_id, before))
        return result

    for name in ("bet", "win", "rollback", "balance", "game_pool"):
        method = getattr(fake, name)
        setattr(fake, name, lambda _m=method, **kw: _locked(lock, _m, kw))
    fake.transfer = lambda **kw: _locked(lock, transfer, kw)
    return fake


def _locked(lock, method, kwargs):
    with lock:
        return method(**kwargs)


def test_fifty_concurrent_joins_and_leaves_keep_every_invariant(
    threadsafe_fake, streamer, make_session
):
    if connection.vendor != "postgresql" and not os.environ.get("COPYPOOL_REQUIRE_SERVICES"):
        pytest.skip("row-level concurrency needs PostgreSQL (set DATABASE_URL)")
    fake = threadsafe_fake
    sessions = [make_session(f"f{i}") for i in range(50)]

    def join(session):
        try:
            return position_join(
                session=session,
                streamer_id=streamer.pk,
                amount=Decimal(10 + sessions.index(session)),
            )
        finally:
            connection.close()

    # when: 50 joins at once
    with ThreadPoolExecutor(max_workers=10) as pool:
        positions = list(pool.map(join, sessions))
    run_due(max_rounds=200)
    assert Position.objects.filter(status="active").count() == 50

    # and then half of them leave concurrently while the other half... also joins again
    def leave(position):
        try:
            return position_leave(session=position.session, position_id=position.pk)
        finally:
            connection.close()

    def rejoin(session):
        try:
            return position_join(session=session, streamer_id=streamer.pk, amount=Decimal("5"))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        leaves = [pool.submit(leave, p) for p in positions[:25]]
        joins = [pool.submit(rejoin, s) for s in sessions[25:]]
        [f.result() for f in leaves + joins]
    run_due(max_rounds=200)

    # then: every saga settled, units add up, money is conserved, nothing applied twice
    pool_row = Pool.objects.get(streamer=streamer)
    active = Position.objects.filter(pool=pool_row, status="active")
    assert Position.objects.filter(status__in=["joining", "leaving", "failed"]).count() == 0
    assert active.count() == 50  # 25 first joins left, 25 kept + 25 rejoins
    assert pool_row.total_units == pool_row.streamer_units + sum(p.units for p in active)
    succeeded = Transaction.objects.filter(status="succeeded")
    deposits = sum(t.amount for t in succeeded.filter(kind="streamer_deposit"))
    withdrawals = sum(t.amount for t in succeeded.filter(kind="streamer_withdrawal"))
    debits = sum(t.amount for t in succeeded.filter(kind="follower_debit"))
    credits = sum(t.amount for t in succeeded.filter(kind="follower_credit"))
    assert fake.streamer_balance["streamer-1"] == Decimal(1000) + deposits - withdrawals
    assert (debits, credits) == (deposits, withdrawals)
    assert pool_row.balance == fake.streamer_balance["streamer-1"]
    for session in sessions:
        user = session.follower.operator_user_id
        mine = Transaction.objects.filter(follower=session.follower, status="succeeded")
        spent = sum(t.amount for t in mine.filter(kind="follower_debit"))
        won = sum(t.amount for t in mine.filter(kind="follower_credit"))
        assert fake.wallet[user] == Decimal(500) - spent + won
    # serialised pricing: each transfer was priced on exactly the balance it was applied on
    priced = dict(
        Transaction.objects.filter(
            kind__in=["streamer_deposit", "streamer_withdrawal"], status="succeeded"
        ).values_list("external_id", "priced_balance")
    )
    assert len(fake.applied_on) == len(priced) == 100  # 50 joins, 25 leaves, 25 rejoins
    for external_id, applied_on in fake.applied_on:
        assert priced[external_id] == applied_on
    # with no play, a leaver gets back exactly what was paid in (NAV stayed 1)
    for position in Position.objects.filter(status="closed"):
        assert position.payout == position.contributed


def _race(calls):
    """Run every call at once (a barrier releases them together); their results or errors."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait()
            return call()
        except ApplicationError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as executor:
        return list(executor.map(run, calls))


def _require_postgresql():
    if connection.vendor != "postgresql" and not os.environ.get("COPYPOOL_REQUIRE_SERVICES"):
        pytest.skip("row-level concurrency needs PostgreSQL (set DATABASE_URL)")


def test_racing_joins_never_pass_the_follower_limit(threadsafe_fake, streamer, make_session):
    _require_postgresql()
    # given: a pool of at most 4 followers, not open yet, and 12 players asking at once
    streamer.max_followers = 4
    streamer.save()
    sessions = [make_session(f"f{i}") for i in range(12)]
    # when
    outcomes = _race(
        [
            lambda s=s: position_join(session=s, streamer_id=streamer.pk, amount="10")
            for s in sessions
        ]
    )
    run_due(max_rounds=200)
    # then: exactly 4 were admitted; the others were refused for the limit and moved nothing
    refusals = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert [r.code for r in refusals] == ["ERR_FOLLOWER_LIMIT"] * 8
    pool = Pool.objects.get(streamer=streamer)
    members = Position.objects.filter(pool=pool, status="active")
    assert members.values("follower").distinct().count() == members.count() == 4
    assert Position.objects.count() == 4
    assert Transaction.objects.filter(kind="follower_debit").count() == 4
    assert threadsafe_fake.streamer_balance["streamer-1"] == Decimal(1040)


def test_racing_joins_never_pass_the_capacity(threadsafe_fake, streamer, make_session):
    _require_postgresql()
    # given: f0 in (the pool worth 1100), a capacity of 1350: room for 250 more
    position_join(session=make_session("f0"), streamer_id=streamer.pk, amount="100")
    streamer.max_pool_value = Decimal("1350")
    streamer.save()
    amounts = [Decimal(a) for a in ("60", "45", "80", "30", "75", "50", "90", "40", "55", "65")]
    sessions = [make_session(f"f{i + 1}") for i in range(len(amounts))]
    # when: ten joins at once, 590 in all
    outcomes = _race(
        [
            lambda s=s, a=a: position_join(session=s, streamer_id=streamer.pk, amount=a)
            for s, a in zip(sessions, amounts, strict=True)
        ]
    )
    run_due(max_rounds=200)
    # then: what was admitted fits; every refusal was the capacity, and it was right to refuse
    admitted = [o for o in outcomes if isinstance(o, Position)]
    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert refused and admitted
    assert {r.code for r in refused} == {"ERR_POOL_CAPACITY"}
    pool = Pool.objects.get(streamer=streamer)
    taken = sum((p.contributed for p in Position.objects.filter(pool=pool, status="active")), D0)
    assert taken == Decimal(100) + sum((p.contributed for p in admitted), D0)
    assert pool.balance == threadsafe_fake.streamer_balance["streamer-1"] == Decimal(1000) + taken
    assert pool.balance <= Decimal(1350)
    # no refused join would have fitted in what was left at the end
    left = Decimal(1350) - pool.balance
    refused_amounts = [a for a, o in zip(amounts, outcomes, strict=True) if o in refused]
    assert min(refused_amounts) > left


def test_no_join_slips_past_a_block(threadsafe_fake, streamer, make_session):
    _require_postgresql()
    # given: one follower sending eight joins while staff block them, all at once
    sessions = [make_session("f1") for _ in range(8)]
    follower = sessions[0].follower
    calls = [
        lambda s=s: position_join(session=s, streamer_id=streamer.pk, amount="10") for s in sessions
    ]
    calls.append(lambda: follower_block(follower=follower, reason="fraud"))
    # when
    outcomes = _race(calls)
    run_due(max_rounds=200)
    # then: every join either came before the block (its position exists, created before the
    # block took effect) or was refused for it; none was created after
    follower.refresh_from_db()
    assert follower.is_blocked and follower.blocked_at is not None
    refused = [o for o in outcomes[:-1] if isinstance(o, ApplicationError)]
    assert {r.code for r in refused} <= {"ERR_FOLLOWER_BLOCKED"}
    positions = Position.objects.filter(follower=follower)
    assert positions.count() + len(refused) == 8
    assert not positions.filter(created_at__gt=follower.blocked_at).exists()
