"""Reconciliation in batches: copy limits checked for many pools in one query, readings
recorded by one statement per chunk, answers handed over batch by batch as they come. Each
does what the pool-by-pool way did (same rows, same counts) in a number of queries that does
not grow with the pools."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.followers.models import Follower, PlayerSession, Position
from apps.operators import clients
from apps.operators.clients import BalanceRequest, CallResult
from apps.operators.models import CallLog, Operator
from apps.pools import snapshots
from apps.pools.models import Pool, PoolSnapshot
from apps.streamers.models import Stream, Streamer
from apps.transactions import copy_limits
from apps.transactions.models import Saga
from apps.transactions.reconciliation import pools_snapshot, readings, reconciliation_run
from tests.broker.operator_server import FakeOperatorServer

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


def open_pools(operator, count, *, first=0, stop_loss=None):
    """``count`` open pools of 1100 (1000 the streamer's, 100 one follower's, units at 1)."""
    now = timezone.now()
    streamers = Streamer.objects.bulk_create(
        Streamer(operator=operator, operator_user_id=f"s{i}", display_name=f"S{i}", currency="USD")
        for i in range(first, first + count)
    )
    Stream.objects.bulk_create(
        Stream(streamer=s, status=Stream.Status.LIVE, started_at=now) for s in streamers
    )
    pools = Pool.objects.bulk_create(
        Pool(
            streamer=s,
            operator=operator,
            currency="USD",
            lock_state="locked",
            open_sent_at=now,
            locked_at=now,
            opening_balance=D(1000),
            balance=D(1100),
            balance_at=now,
            total_units=D(1100),
            streamer_units=D(1000),
        )
        for s in streamers
    )
    followers = Follower.objects.bulk_create(
        Follower(operator=operator, operator_user_id=f"f{i}") for i in range(first, first + count)
    )
    sessions = PlayerSession.objects.bulk_create(
        PlayerSession(follower=f, user_token="t", currency="USD", expires_at=now) for f in followers
    )
    Position.objects.bulk_create(
        Position(
            pool=p,
            follower=f,
            session=s,
            status="active",
            units=100,
            contributed=100,
            stop_loss=stop_loss,
        )
        for p, f, s in zip(pools, followers, sessions, strict=True)
    )
    return pools


@pytest.fixture
def server(operator):
    with FakeOperatorServer(default_balance=D("1100")) as server:
        Operator.objects.filter(pk=operator.pk).update(
            callback_url=server.callback_url, wallet_url=server.wallet_url
        )
        operator.refresh_from_db()
        yield server


# --- copy limits, all pools in one query ---------------------------------------------------


def enforce_queries(pool_ids):
    with CaptureQueriesContext(connection) as queries:
        copy_limits.copy_limits_enforce_many(pool_ids=pool_ids)
    return len(queries)


def test_copy_limits_of_many_pools_take_the_same_queries_for_3_and_for_30(operator):
    # given: pools whose positions have a stop-loss the balance does not reach
    few = open_pools(operator, 3, stop_loss=D(50))
    many = open_pools(operator, 30, first=3, stop_loss=D(50))
    # then: one query for all of them, however many
    assert enforce_queries([p.pk for p in few]) == enforce_queries([p.pk for p in many]) == 1


def test_copy_limits_of_many_pools_leave_exactly_the_positions_past_their_limit(
    operator, monkeypatch
):
    # given: 4 pools with a stop-loss at 50; two read at half (each position worth 50)
    driven = []
    monkeypatch.setattr(copy_limits, "sagas_drive", driven.extend)
    pools = open_pools(operator, 4, stop_loss=D(50))
    Pool.objects.filter(pk__in=[pools[1].pk, pools[3].pk]).update(balance=D(550))
    closed = open_pools(operator, 1, first=4, stop_loss=D(50))[0]
    Pool.objects.filter(pk=closed.pk).update(balance=D(10), state=Pool.State.CLOSED)
    bust = open_pools(operator, 1, first=5, stop_loss=D(50))[0]
    Pool.objects.filter(pk=bust.pk).update(balance=D(0))
    # when
    started = copy_limits.copy_limits_enforce_many(pool_ids=[p.pk for p in [*pools, closed, bust]])
    # then: a stop-loss leave each for the two pools at 550, none for the others
    leaves = Saga.objects.filter(kind=Saga.Kind.LEAVE)
    assert sorted(started) == sorted(leaves.values_list("pk", flat=True)) == sorted(driven)
    assert sorted(leaves.values_list("pool_id", flat=True)) == [pools[1].pk, pools[3].pk]
    assert set(
        Position.objects.filter(status="leaving").values_list("leave_reason", flat=True)
    ) == {"stop_loss"}
    # and a second pass starts nothing more
    assert copy_limits.copy_limits_enforce_many(pool_ids=[p.pk for p in pools]) == []


# --- readings recorded by one statement ----------------------------------------------------


def record(pools, balance):
    views, _ = snapshots.open_pool_views(include_demo=False)
    by_id = {v.id: v for v in views if v.id in {p.pk for p in pools}}
    results = {pk: CallResult("success", 200, data={"balance": balance}) for pk in by_id}
    stats = snapshots.ReadingStats()
    with CaptureQueriesContext(connection) as queries:
        recorded = snapshots.pool_readings_record(by_id, results, stats=stats)
    return recorded, stats, len(queries)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one statement is PostgreSQL's")
def test_readings_take_one_statement_for_3_and_for_30_pools(operator):
    few = open_pools(operator, 3)
    many = open_pools(operator, 30, first=3)
    assert record(few, D("1200"))[2] == record(many, D("1200"))[2] == 1


@pytest.mark.parametrize("path", ["postgresql", "portable"])
def test_a_recorded_reading_sets_the_balance_and_snapshots_it_the_same_either_way(
    operator, monkeypatch, path
):
    if path == "postgresql" and connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's statement")
    if path == "portable":
        monkeypatch.setattr(snapshots, "_record_postgresql", snapshots._record_portable)
    # given: four pools; then, while their balances are read, one is claimed by a pricing,
    # one priced (balance_at moved) and one closed
    pools = open_pools(operator, 4)
    views, _ = snapshots.open_pool_views(include_demo=False)
    by_id = {v.id: v for v in views}
    claimed, priced, closed, kept = (p.pk for p in pools)
    Pool.objects.filter(pk=claimed).update(pricing_saga=1)
    Pool.objects.filter(pk=priced).update(balance_at=timezone.now())
    Pool.objects.filter(pk=closed).update(state=Pool.State.CLOSED)
    results = {pk: CallResult("success", 200, data={"balance": D("1234.5")}) for pk in by_id}
    stats = snapshots.ReadingStats()
    # when
    recorded = snapshots.pool_readings_record(by_id, results, stats=stats)
    # then: only the untouched pool's reading is recorded, with its snapshot
    assert [r.view.id for r in recorded] == [kept]
    assert (stats.read, stats.snapshots, stats.priced_during_read) == (1, 1, 3)
    pool = Pool.objects.get(pk=kept)
    assert pool.balance == D("1234.5") and pool.balance_at > by_id[kept].balance_at
    [snapshot] = PoolSnapshot.objects.all()
    assert (snapshot.pool_id, snapshot.balance, snapshot.total_units, snapshot.members) == (
        kept,
        D("1234.5"),
        D(1100),
        1,
    )
    assert snapshot.streamer_units == D(1000) and snapshot.taken_at == pool.balance_at
    assert snapshot.nav.quantize(D("1e-12")) == D("1.122272727273")
    assert Pool.objects.get(pk=claimed).balance == D(1100)


# --- answers handed over in batches --------------------------------------------------------


def test_balances_come_in_batches_then_whole(operator, server):
    # given
    requests = [BalanceRequest(key=i, user_id=f"s{i}", currency="USD") for i in range(5)]
    # when
    items = list(clients.streamer_balances_fetch([(operator, requests)], connections=2, batch=2))
    # then: two batches of two, then the whole: every result, the last call not handed over
    *parts, whole = items
    assert [(p.partial, len(p.results), len(p.calls)) for p in parts] == [(True, 2, 2)] * 2
    assert (whole.partial, sorted(whole.results), len(whole.calls)) == (False, list(range(5)), 1)
    assert whole.requested == 5 and whole.not_sent == 0
    batched = [key for p in parts for key in p.results]
    assert set(batched) < set(whole.results)
    assert all(r.amount("balance") == D("1100") for r in whole.results.values())


def test_a_run_in_batches_records_and_logs_what_a_run_in_one_piece_does(
    operator, server, monkeypatch
):
    # given: 7 pools, answers handed over 2 at a time
    open_pools(operator, 7)
    server.balances["s3"] = D("1000")
    monkeypatch.setattr(readings, "READ_BATCH", 2)
    monkeypatch.setattr("apps.transactions.reconciliation.runs.READ_BATCH", 2)
    # when
    [run] = reconciliation_run(connections=3).runs
    snapshot = pools_snapshot(connections=3)
    # then: every pool read once per pass, recorded, snapshotted, every call logged
    assert run.status == "finished" and run.error == ""
    checked = run.checked
    assert (checked["balances_read"], checked["snapshots"], checked["calls_logged"]) == (7, 7, 7)
    assert checked["balances_failed"] == checked["balances_not_sent"] == 0
    assert (snapshot.stats.read, snapshot.stats.snapshots, snapshot.not_sent) == (7, 7, 0)
    assert CallLog.objects.filter(endpoint="streamer-balance").count() == 14
    assert PoolSnapshot.objects.count() == 14
    assert Pool.objects.get(streamer__operator_user_id="s3").balance == D("1000")
    assert server.requests["streamer-balance"] == 14


def test_the_call_log_of_a_batch_is_written_as_bulk_create_writes_it(operator, server):
    # given: the masked call-log rows of three balance calls, built twice
    requests = [BalanceRequest(key=i, user_id=f"s{i}", currency="USD") for i in range(3)]
    server.balances["s1"] = D("12.5")
    [answers] = clients.streamer_balances_fetch([(operator, requests)], connections=1)
    again = [CallLog(**{f.attname: getattr(c, f.attname) for f in fields()}) for c in answers.calls]
    before = timezone.now()
    # when: one saved the way a pass saves them (COPY on PostgreSQL), one by bulk_create
    assert answers.save_call_log() == 3 and answers.calls == []
    copied = rows()
    CallLog.objects.all().delete()
    CallLog.objects.bulk_create(again)
    # then: the same rows, every field, each stamped when written
    assert copied == rows() and len(copied) == 3
    assert all(row["created_at"] >= before for row in CallLog.objects.values("created_at"))
    assert {row["request_headers"]["X-API-KEY"] for row in copied} != {"ok"}  # masked


def fields():
    return [
        f for f in CallLog._meta.concrete_fields if not f.primary_key and f.name != "created_at"
    ]


def rows():
    names = [f.name for f in fields()]
    return sorted(
        (dict(zip(names, values, strict=True)) for values in CallLog.objects.values_list(*names)),
        key=lambda row: row["request_body"],
    )


# --- operator answers checked in the database -----------------------------------------------


def answers_of(operator, pools, *, debit_after="400", deposit_after="1100"):
    """A join's BET (wallet 500 -> ``debit_after``) and DEPOSIT (priced 1000 ->
    ``deposit_after``) for each pool."""
    from apps.transactions.models import Transaction

    now = timezone.now()
    rows = []
    for pool in pools:
        position = Position.objects.get(pool=pool)
        common = dict(
            operator=operator,
            currency="USD",
            status="succeeded",
            pool=pool,
            position=position,
            follower_id=position.follower_id,
            streamer_id=pool.streamer_id,
            completed_at=now,
            amount=D(100),
        )
        rows.append(
            Transaction(
                kind="follower_debit",
                balance_before=D(500),
                balance_after=D(debit_after),
                **common,
            )
        )
        rows.append(
            Transaction(
                kind="streamer_deposit",
                priced_balance=D(1000),
                balance_after=D(deposit_after),
                units=D(100),
                priced_total_units=D(1000),
                **common,
            )
        )
    return Transaction.objects.bulk_create(rows)


def test_answers_are_checked_in_the_database_in_the_same_queries_for_3_and_for_30(operator):
    from apps.transactions.reconciliation.checks.answered_balances import (
        check_answered_balances,
    )

    # given: consistent answers of 30 pools; 3 more answering off by 50, their streamers
    # offline (no stream) but one, whose transfer is then no finding
    answers_of(operator, open_pools(operator, 30))
    odd = open_pools(operator, 3, first=30)
    Stream.objects.filter(streamer_id__in=[p.streamer_id for p in odd[:2]]).delete()
    bad = answers_of(operator, odd, debit_after="450", deposit_after="1150")
    # when
    with CaptureQueriesContext(connection) as queries:
        findings, wallet_checked, transfers_checked = check_answered_balances(
            operator_id=operator.pk, since=None
        )
    # then: every wallet answer counted, the offline transfers counted, the bad ones found
    assert (wallet_checked, transfers_checked) == (33, 2)
    debits = [tx for tx in bad if tx.kind == "follower_debit"]
    deposits = [tx for tx in bad if tx.kind == "streamer_deposit"][:2]
    assert sorted(f.subject for f in findings) == sorted(f"tx:{tx.pk}" for tx in debits + deposits)
    assert {(f.expected, f.actual) for f in findings} == {(D(400), D(450)), (D(1100), D(1150))}
    assert len(queries) == 5


def test_a_batch_that_breaks_fails_its_run_and_drops_the_rest(operator, server, monkeypatch):
    # given: 5 pools, answers handed over 2 at a time; recording the first batch breaks
    open_pools(operator, 5)
    monkeypatch.setattr("apps.transactions.reconciliation.runs.READ_BATCH", 2)
    real = readings.observe
    calls = []

    def observe_breaking_first(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(readings, "observe", observe_breaking_first)
    done = []
    # when
    [run] = reconciliation_run(
        connections=1, hooks=readings.Hooks(operator_done=lambda op, r: done.append(r.pk))
    ).runs
    # then: the run failed, nothing after the broken batch recorded, the operator reported
    run.refresh_from_db()
    assert run.status == "failed" and "boom" in run.error
    assert calls == [1] and done == [run.pk]
    assert PoolSnapshot.objects.count() == 0
