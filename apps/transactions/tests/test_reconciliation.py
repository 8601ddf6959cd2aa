"""Reconciliation and snapshots: balances read over real HTTP from a small fake operator,
the money flows driven by the in-memory operator double (``fake``), time travel by clock."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.followers.models import Position
from apps.operators import clients
from apps.operators.models import CallLog, Operator
from apps.operators.tests.factories import OperatorFactory
from apps.pools.models import Pool, PoolSnapshot
from apps.streamers.models import Stream, Streamer
from apps.transactions.models import Discrepancy, ReconciliationRun, Saga, Transaction
from apps.transactions.reconciliation import (
    Hooks,
    discrepancy_resolve,
    pools_snapshot,
    reconciliation_run,
)
from apps.transactions.reconciliation import runs as reconciliation_runs
from apps.transactions.services import position_join
from conftest import run_due
from tests.broker.operator_server import FakeOperatorServer

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(operator):
    """A real HTTP operator for balance readings and re-sent game-pool calls."""
    with FakeOperatorServer() as server:
        Operator.objects.filter(pk=operator.pk).update(
            callback_url=server.callback_url, wallet_url=server.wallet_url
        )
        operator.refresh_from_db()
        yield server


class Clock:
    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def join(streamer, make_session, user="f1", amount="100"):
    return position_join(session=make_session(user), streamer_id=streamer.pk, amount=amount)


def open_discrepancies(kind=None):
    rows = Discrepancy.objects.filter(state="open")
    return list(rows.filter(kind=kind) if kind else rows)


def end_stream_without_payout(streamer):
    """The stream is over but the pool still has members (as while it is being paid out)."""
    Stream.objects.filter(streamer=streamer, status="live").update(
        status="ended", ended_at=timezone.now()
    )


# --- readings --------------------------------------------------------------------------


def test_snapshot_records_balances_and_never_reads_a_pool_being_priced(
    fake, server, operator, streamer, make_session
):
    # given: two open pools, the second one in the middle of a pricing
    first = join(streamer, make_session)
    other = Streamer.objects.create(
        operator=operator, operator_user_id="streamer-2", display_name="T", currency="USD"
    )
    Stream.objects.create(streamer=other, status="live", started_at=timezone.now())
    second = join(other, make_session, "f2")
    Pool.objects.filter(pk=second.pool_id).update(pricing_saga=424242)
    server.balances["streamer-1"] = D("1234.5")
    # when
    report = pools_snapshot()
    # then: the free pool's reading is recorded, with a snapshot; the claimed one was not asked
    pool = Pool.objects.get(pk=first.pool_id)
    assert pool.balance == D("1234.5")
    [snapshot] = PoolSnapshot.objects.filter(pool=pool)
    assert (snapshot.balance, snapshot.total_units, snapshot.members) == (D("1234.5"), 1100, 1)
    # 1234.5 / 1100 (SQLite keeps about 15 digits; PostgreSQL all 18)
    assert snapshot.nav.quantize(D("1e-12")) == D("1.122272727273")
    assert not PoolSnapshot.objects.filter(pool_id=second.pool_id).exists()
    assert server.requests["streamer-balance"] == 1
    assert (report.pools, report.claimed_skipped, report.stats.snapshots) == (2, 1, 1)
    [log] = CallLog.objects.filter(endpoint="streamer-balance", direction="out")
    assert log.outcome == "success" and log.operator_id == operator.pk
    assert "ok" not in log.request_headers["X-API-KEY"]  # masked


def test_a_reading_overtaken_by_a_pricing_is_dropped(
    fake, server, streamer, make_session, monkeypatch
):
    # given: a pricing completes while the operator is answering our read
    position = join(streamer, make_session)
    real_fetch = clients.streamer_balances_fetch

    def fetch_while_a_join_prices(*args, **kwargs):
        for answers in real_fetch(*args, **kwargs):
            Pool.objects.filter(pk=position.pool_id).update(
                balance=D("1200"), balance_at=timezone.now() + timedelta(seconds=1)
            )
            yield answers

    monkeypatch.setattr(clients, "streamer_balances_fetch", fetch_while_a_join_prices)
    server.balances["streamer-1"] = D("5")
    # when
    report = pools_snapshot()
    # then: the stale reading never overwrote the fresher balance
    assert Pool.objects.get(pk=position.pool_id).balance == D("1200")
    assert report.stats.priced_during_read == 1 and report.stats.snapshots == 0


def test_a_zero_balance_starts_the_bust_flow(fake, server, streamer, make_session):
    # given: the streamer lost everything
    position = join(streamer, make_session)
    server.balances["streamer-1"] = D(0)
    fake.streamer_balance["streamer-1"] = D(0)
    # when
    report = pools_snapshot()
    # then: the pool is bust; the follower left with a WIN of 0 and the pool closed
    position.refresh_from_db()
    pool = Pool.objects.get(pk=position.pool_id)
    assert report.stats.busts == 1 and pool.is_bust
    assert position.status == "closed" and position.payout == 0
    assert list(fake.deposits.values()) == [D(0)]
    assert pool.state == "closed" and fake.pool_state["streamer-1"] == "CLOSE"


def test_demo_pools_are_snapshotted_through_their_gateway(streamer, make_session, server):
    # given: a demo pool (play money: the demo gateway, no operator)
    session = make_session("demo-1", demo=True)
    demo = position_join(session=session, streamer_id=streamer.pk, amount="10")
    assert demo.status == "active"
    # when
    report = pools_snapshot()
    # then: a snapshot at the demo streamer's balance, no operator call for it
    snapshot = PoolSnapshot.objects.get(pool_id=demo.pool_id)
    streamer.refresh_from_db()
    assert snapshot.balance == streamer.demo_balance
    assert Pool.objects.get(pk=demo.pool_id).balance == streamer.demo_balance
    assert report.stats.snapshots == 1 and server.requests["streamer-balance"] == 0


# --- balance findings --------------------------------------------------------------------


def test_offline_balance_drop_below_followers_value_is_two_findings_kept_open(
    fake, server, streamer, make_session, clock
):
    # given: f1 holds 100 of 1100 units; the stream ended and a reading confirmed 1100
    position = join(streamer, make_session)
    end_stream_without_payout(streamer)
    clock.advance(minutes=1)
    server.balances["streamer-1"] = D("1100")
    pools_snapshot()
    # when: the balance falls to 50 with no stream live
    clock.advance(minutes=5)
    server.balances["streamer-1"] = D("50")
    [run] = reconciliation_run().runs
    # then
    moved = Discrepancy.objects.get(kind="balance_moved_offline")
    over = Discrepancy.objects.get(kind="pool_overvalued")
    assert (moved.subject, moved.expected, moved.actual) == (
        f"pool:{position.pool_id}",
        D(1100),
        D(50),
    )
    assert (over.expected, over.actual) == (D(100), D(50))
    assert over.details["shortfall"] == "50.00000000"
    assert run.found["pool_overvalued"] == {"new": 1}
    assert Pool.objects.get(pk=position.pool_id).balance == D(50)
    # when: it moves again, and later readings are quiet
    clock.advance(minutes=5)
    server.balances["streamer-1"] = D("40")
    reconciliation_run()
    clock.advance(minutes=5)
    reconciliation_run()
    # then: still one open row per kind and subject, with both movements, never auto-resolved
    [moved] = open_discrepancies("balance_moved_offline")
    assert moved.times_seen == 2
    assert [m["to"] for m in moved.details["movements"]] == ["50.00000000", "40.00000000"]
    assert len(open_discrepancies("pool_overvalued")) == 1


def test_staff_resolve_with_who_and_why(
    fake, server, streamer, make_session, clock, django_user_model
):
    join(streamer, make_session)
    end_stream_without_payout(streamer)
    clock.advance(minutes=1)
    server.balances["streamer-1"] = D("1100")
    pools_snapshot()  # the balance confirmed with no stream live
    clock.advance(minutes=1)
    server.balances["streamer-1"] = D("1000")
    reconciliation_run()
    [row] = open_discrepancies("balance_moved_offline")
    staff = django_user_model.objects.create_user("ops", password="x" * 12)
    with pytest.raises(ValidationError):
        discrepancy_resolve(discrepancy=row, by=staff, note="  ")
    # when
    resolved = discrepancy_resolve(discrepancy=row, by=staff, note="operator adjustment, ticket 7")
    # then
    assert (resolved.state, resolved.resolved_by, resolved.resolution_note) == (
        "resolved",
        staff,
        "operator adjustment, ticket 7",
    )
    assert resolved.resolved_at is not None
    # and a new movement is a new finding
    clock.advance(minutes=1)
    server.balances["streamer-1"] = D("990")
    reconciliation_run()
    assert Discrepancy.objects.filter(kind="balance_moved_offline").count() == 2


def test_a_balance_drop_while_the_streamer_plays_is_not_a_finding(
    fake, server, streamer, make_session, clock
):
    # given: the stream is live: the streamer is betting with the pool
    join(streamer, make_session)
    clock.advance(minutes=1)
    server.balances["streamer-1"] = D("50")
    # when
    [run] = reconciliation_run().runs
    # then: the followers simply lost with the streamer
    assert run.findings == 0 and not Discrepancy.objects.exists()


# --- ledger findings ----------------------------------------------------------------------


def test_stuck_unknown_is_seen_again_then_auto_resolved_once_settled(
    fake, server, streamer, make_session, clock
):
    # given: a deposit transfer whose answers keep getting lost
    fake.fail("transfer", *["timeout_before"] * 3)
    position = join(streamer, make_session)
    deposit = Transaction.objects.get(position=position, kind="streamer_deposit")
    assert deposit.status == "unknown"
    clock.advance(minutes=16)
    # when
    [first] = reconciliation_run().runs
    clock.advance(minutes=15)
    [second] = reconciliation_run().runs
    # then: one open finding, seen twice; the claimed pool was not read
    [row] = open_discrepancies("stuck_unknown")
    assert (row.subject, row.transaction_id, row.times_seen, row.run_id) == (
        f"tx:{deposit.pk}",
        deposit.pk,
        2,
        second.pk,
    )
    assert row.last_seen_at == clock.now
    assert first.checked["pools_claimed_skipped"] == 1 and server.requests["streamer-balance"] == 0
    # when: the transfer is answered at last
    fake.faults["transfer"].clear()
    run_due()
    clock.advance(minutes=15)
    [third] = reconciliation_run().runs
    # then
    row.refresh_from_db()
    assert row.state == "resolved" and row.resolved_by is None
    assert (
        row.resolution_note
        == f"Auto-resolved: no longer observed by reconciliation run #{third.pk}."
    )
    assert third.auto_resolved == 1


def test_orphan_debit_is_found_once_and_stays_resolved(
    fake, server, streamer, make_session, django_user_model
):
    # given: a join whose saga finished with the BET taken and no deposit nor rollback
    position = join(streamer, make_session)
    saga = Saga.objects.get(position=position, kind="join")
    Transaction.objects.filter(saga=saga, kind="streamer_deposit").update(status="failed")
    Saga.objects.filter(pk=saga.pk).update(status="failed")
    debit = Transaction.objects.get(saga=saga, kind="follower_debit")
    # when
    reconciliation_run()
    # then
    [row] = open_discrepancies("orphan_debit")
    assert (row.subject, row.expected) == (f"tx:{debit.pk}", D(100))
    # when: staff settle it, later runs do not raise it again
    staff = django_user_model.objects.create_user("ops", password="x" * 12)
    discrepancy_resolve(discrepancy=row, by=staff, note="refunded by hand")
    [run] = reconciliation_run().runs
    assert run.found["orphan_debit"] == {"resolved_before": 1}
    assert Discrepancy.objects.filter(kind="orphan_debit").count() == 1


def test_win_overdue_after_24_hours(fake, server, streamer, make_session, clock):
    from apps.transactions.services import position_leave

    position = join(streamer, make_session)
    fake.fail("deposit", *["http_500"] * 100)
    position_leave(session=position.session, position_id=position.pk)
    win = Transaction.objects.get(position=position, kind="follower_credit")
    clock.advance(hours=23)
    reconciliation_run()
    assert not open_discrepancies("win_overdue")
    clock.advance(hours=2)
    reconciliation_run()
    [row] = open_discrepancies("win_overdue")
    assert row.transaction_id == win.pk and row.expected == win.amount


def test_unacknowledged_open_is_re_sent_and_the_pool_locked(
    fake, server, streamer, make_session, clock
):
    # given: a pool whose OPEN was sent long ago and never acknowledged, no saga waiting
    position = join(streamer, make_session)
    Pool.objects.filter(pk=position.pool_id).update(
        lock_state="pending", open_sent_at=timezone.now()
    )
    fake.pool_state.clear()
    clock.advance(minutes=3)
    # when
    reconciliation_run()
    # then: OPEN was sent again (through the sagas' gateway), the pool is locked, the finding
    # resolved at once
    assert fake.pool_state == {"streamer-1": "OPEN"}
    assert Pool.objects.get(pk=position.pool_id).lock_state == "locked"
    row = Discrepancy.objects.get(kind="lock_unacknowledged")
    assert row.subject == f"pool:{position.pool_id}:open"
    assert row.action_taken == "re-sent OPEN: acknowledged"
    assert row.state == "resolved" and "OPEN acknowledged" in row.resolution_note


def test_a_join_waiting_for_its_open_is_driven_to_send_it_again(
    fake, server, streamer, make_session, clock, settings
):
    # given: a join stopped right before its OPEN (no inline budget), which went unanswered
    settings.COPYPOOL_INLINE_SAGA_SECONDS = 0
    position = join(streamer, make_session)
    saga = Saga.objects.get(position=position)
    assert (position.status, saga.step) == ("joining", "open_pool")
    Pool.objects.filter(pk=position.pool_id).update(open_sent_at=timezone.now())
    settings.COPYPOOL_INLINE_SAGA_SECONDS = 5.0
    clock.advance(minutes=3)
    # when
    reconciliation_run()
    # then: the join saga itself sent OPEN again and went on; the finding resolved at once
    saga.refresh_from_db()
    assert saga.status == "done" and fake.pool_state == {"streamer-1": "OPEN"}
    assert Pool.objects.get(pk=position.pool_id).lock_state == "locked"
    row = Discrepancy.objects.get(kind="lock_unacknowledged")
    assert row.action_taken == f"join saga(s) {saga.pk} re-sending OPEN"
    assert row.state == "resolved"


def test_an_open_refused_again_is_reported_and_stays_open(
    fake, server, streamer, make_session, clock
):
    # given: a pool whose OPEN was never acknowledged, and an operator that now refuses it
    position = join(streamer, make_session)
    Pool.objects.filter(pk=position.pool_id).update(
        lock_state="pending", open_sent_at=timezone.now()
    )
    fake.fail("game-pool", "refuse:400:ERR_USER_NOT_FOUND")
    clock.advance(minutes=3)
    # when
    [run] = reconciliation_run().runs
    # then: the run goes on; the refusal is the finding's action, the pool stays pending
    assert run.status == "finished"
    assert Pool.objects.get(pk=position.pool_id).lock_state == "pending"
    row = Discrepancy.objects.get(kind="lock_unacknowledged")
    assert (row.action_taken, row.state) == ("re-sent OPEN: ERR_USER_NOT_FOUND", "open")


def test_a_pool_stuck_closing_without_its_saga_gets_one_and_closes(
    fake, server, streamer, make_session, clock
):
    # given: the last member left, the pool went closing, and a crash lost the close saga
    position = join(streamer, make_session)
    Position.objects.filter(pk=position.pk).update(status="closed", units=0)
    Pool.objects.filter(pk=position.pool_id).update(state="closing", updated_at=timezone.now())
    clock.advance(minutes=3)
    # when
    reconciliation_run()
    # then
    pool = Pool.objects.get(pk=position.pool_id)
    assert pool.state == "closed" and fake.pool_state["streamer-1"] == "CLOSE"
    assert Saga.objects.get(pool=pool, kind="close_pool").status == "done"
    row = Discrepancy.objects.get(kind="lock_unacknowledged", subject=f"pool:{pool.pk}:close")
    assert row.state == "resolved"


def test_an_empty_open_pool_is_closed(fake, server, streamer, make_session, clock):
    position = join(streamer, make_session)
    Position.objects.filter(pk=position.pk).update(status="failed", units=0)
    clock.advance(minutes=6)
    # when
    [run] = reconciliation_run().runs
    # then
    pool = Pool.objects.get(pk=position.pool_id)
    assert pool.state == "closed"
    row = Discrepancy.objects.get(kind="empty_open_pool")
    assert (row.subject, row.state) == (f"pool:{pool.pk}", "resolved")
    assert run.found["empty_open_pool"] == {"new": 1, "fixed": 1}


def test_answers_that_contradict_themselves_are_balance_mismatches(
    fake, server, streamer, make_session
):
    # given: a wallet answer 500 -> 450 for a BET of 100, and (offline) a transfer 1100 -> 1150
    position = join(streamer, make_session)
    debit = Transaction.objects.get(position=position, kind="follower_debit")
    Transaction.objects.filter(pk=debit.pk).update(balance_before=500, balance_after=450)
    deposit = Transaction.objects.get(position=position, kind="streamer_deposit")
    # when: the transfer was made while the streamer was live
    [run] = reconciliation_run().runs
    # then: only the wallet answer is a finding
    [row] = open_discrepancies("balance_mismatch")
    assert (row.subject, row.expected, row.actual) == (f"tx:{debit.pk}", D(400), D(450))
    assert run.checked["wallet_answers_checked"] == 1 and run.checked["transfers_checked"] == 0
    # when: a transfer made with no stream live answers a balance off by 50
    Stream.objects.filter(streamer=streamer).delete()
    Transaction.objects.filter(pk=deposit.pk).update(balance_after=D(1150))
    [run] = reconciliation_run().runs
    mismatch = Discrepancy.objects.get(kind="balance_mismatch", subject=f"tx:{deposit.pk}")
    assert (mismatch.expected, mismatch.actual) == (D(1100), D(1150))


# --- runs ---------------------------------------------------------------------------------


def test_a_run_records_what_it_checked_found_and_how_long(fake, server, streamer, make_session):
    join(streamer, make_session)
    [run] = reconciliation_run(trigger="command").runs
    run.refresh_from_db()
    assert run.status == "finished" and run.trigger == "command" and run.error == ""
    assert run.finished_at >= run.started_at and run.duration_ms is not None
    assert run.checked["open_pools"] == 1 and run.checked["balances_read"] == 1
    assert run.checked["calls_logged"] == 1 and run.checked["snapshots"] == 1
    assert run.findings == 0 and run.found == {}


def test_one_run_at_a_time_per_operator_and_abandoned_runs_expire(operator, server, clock):
    # given: a run in progress
    ReconciliationRun.objects.create(operator=operator)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReconciliationRun.objects.create(operator=operator)
    # when
    report = reconciliation_run()
    # then: skipped
    assert report.runs == [] and report.busy == [operator]
    # when: that run's process died an hour ago
    clock.advance(hours=2)
    [run] = reconciliation_run().runs
    assert run.status == "finished"
    assert (
        ReconciliationRun.objects.filter(status="failed", error__startswith="Abandoned").count()
        == 1
    )


def test_a_failing_operator_fails_its_own_run_only(operator, server, monkeypatch):
    other = OperatorFactory(
        name="Other",
        code="other",
        callback_url=server.callback_url,
        wallet_url=server.wallet_url,
        # the credentials the fake operator server checks
        operator_api_key="ok",
        secret_key="s",
    )
    real = reconciliation_runs.check_stuck_unknown

    def broken_for_op(*, operator_id, now):
        if operator_id == operator.pk:
            raise RuntimeError("boom")
        return real(operator_id=operator_id, now=now)

    monkeypatch.setattr(reconciliation_runs, "check_stuck_unknown", broken_for_op)
    runs = {run.operator_id: run for run in reconciliation_run().runs}
    assert runs[operator.pk].status == "failed" and "boom" in runs[operator.pk].error
    assert runs[other.pk].status == "finished"


# --- concurrency ----------------------------------------------------------------------------


def make_open_pools(operator, count, prefix):
    for i in range(count):
        streamer = Streamer.objects.create(
            operator=operator,
            operator_user_id=f"{prefix}{i}",
            display_name=f"{prefix}{i}",
            currency="USD",
        )
        Pool.objects.create(
            streamer=streamer,
            operator=operator,
            currency="USD",
            lock_state="locked",
            balance=D(1000),
            total_units=D(1000),
            streamer_units=D(1000),
        )


def test_balances_are_read_with_bounded_connections_and_a_slow_operator_blocks_nobody(
    operator,
):
    # given: a slow operator (0.3 s per answer) and a fast one, 6 pools each, 2 connections
    slow_server = FakeOperatorServer().start()
    fast_server = FakeOperatorServer().start()
    try:
        slow_server.latency["streamer-balance"] = 0.3
        Operator.objects.filter(pk=operator.pk).update(callback_url=slow_server.callback_url)
        fast = OperatorFactory(
            name="Fast",
            code="fast",
            callback_url=fast_server.callback_url,
            wallet_url=fast_server.wallet_url,
            # the credentials the fake operator server checks
            operator_api_key="ok",
            secret_key="s",
        )
        make_open_pools(operator, 6, "slow-")
        make_open_pools(fast, 6, "fast-")
        done, answers = [], []
        # when
        report = reconciliation_run(
            connections=2,
            hooks=Hooks(
                answer=lambda: answers.append(1),
                operator_done=lambda op, run: done.append((op.code, run.checked["fetch_seconds"])),
            ),
        )
    finally:
        slow_server.stop()
        fast_server.stop()
    # then: the fast operator's run was finished first; each operator saw at most 2 at once
    assert [code for code, _ in done] == ["fast", "op"]
    assert done[0][1] < 0.5 <= done[1][1]  # 6 answers over 2 connections at 0.3 s: ~0.9 s
    assert slow_server.max_in_flight == 2 and fast_server.max_in_flight <= 2
    assert len(answers) == 12
    assert all(run.checked["balances_read"] == 6 for run in report.runs)


def test_reading_budget_leaves_the_rest_for_next_time(operator):
    with FakeOperatorServer() as server:
        server.latency["streamer-balance"] = 0.2
        Operator.objects.filter(pk=operator.pk).update(callback_url=server.callback_url)
        make_open_pools(operator, 10, "s-")
        [run] = reconciliation_run(connections=1, budget=0.3).runs
    assert 1 <= run.checked["balances_read"] <= 3
    assert run.checked["balances_not_sent"] == 10 - run.checked["balances_read"]


def test_unreachable_operator_counts_failed_readings(operator):
    Operator.objects.filter(pk=operator.pk).update(
        callback_url="http://127.0.0.1:9/cb", request_timeout_seconds=0.5
    )
    make_open_pools(operator, 3, "s-")
    [run] = reconciliation_run().runs
    assert run.status == "finished"
    assert run.checked["balances_failed"] == 3
    assert run.checked["balance_errors"] == {"ERR_CONNECTION": 3}
    assert CallLog.objects.filter(outcome="unknown", endpoint="streamer-balance").count() == 3


# --- command ------------------------------------------------------------------------------


def test_reconcile_command_prints_a_summary(fake, server, streamer, make_session, operator):
    join(streamer, make_session)
    out = StringIO()
    call_command("reconcile", "--no-progress", stdout=out)
    text = out.getvalue()
    assert "Reconciliation runs" in text and operator.code in text
    assert ReconciliationRun.objects.get().trigger == "command"
    with pytest.raises(CommandError, match="Unknown operator"):
        call_command("reconcile", "--operator", "nope", stdout=StringIO())


def test_readings_are_signed_like_every_callback(operator, server):
    # given: the operator's server checks signatures; we sign with the wrong secret
    make_open_pools(operator, 2, "s-")
    [run] = reconciliation_run().runs
    assert run.checked["balances_read"] == 2
    Operator.objects.filter(pk=operator.pk).update(secret_key="not-the-secret")
    # when
    [run] = reconciliation_run().runs
    # then: refused, counted by error code, nothing recorded
    assert run.checked["balances_read"] == 0
    assert run.checked["balance_errors"] == {"ERR_UNAUTHORIZED": 2}


def test_a_run_reads_again_the_pools_priced_during_its_read(
    fake, server, streamer, make_session, monkeypatch
):
    # given: a join prices the pool while the operator answers the run's first read only
    position = join(streamer, make_session)
    real_fetch = clients.streamer_balances_fetch
    reads = []

    def fetch_while_a_join_prices(*args, **kwargs):
        for answers in real_fetch(*args, **kwargs):
            reads.append(answers)
            if len(reads) == 1:
                Pool.objects.filter(pk=position.pool_id).update(
                    balance=D("1200"), balance_at=timezone.now() + timedelta(seconds=1)
                )
            yield answers

    monkeypatch.setattr(clients, "streamer_balances_fetch", fetch_while_a_join_prices)
    server.balances["streamer-1"] = D("1250")
    # when
    [run] = reconciliation_run().runs
    # then: the dropped reading was taken again within the run, and recorded
    assert len(reads) == 2
    assert run.checked["pools_priced_during_read"] == 1
    assert run.checked["readings_retried"] == 1
    assert run.checked["pools_unread_after_retries"] == 0
    assert run.checked["balances_read"] == 1 and run.checked["snapshots"] == 1
    assert Pool.objects.get(pk=position.pool_id).balance == D("1250")


def test_a_pool_whose_claim_stays_held_is_counted_unread(fake, server, streamer, make_session):
    # given: a transfer in doubt holds the pool's pricing claim for the whole run
    fake.fail("transfer", *["timeout_before"] * 3)
    join(streamer, make_session)
    # when
    [run] = reconciliation_run().runs
    # then: asked nothing, said so
    assert server.requests["streamer-balance"] == 0
    assert run.checked["readings_retried"] == 0
    assert run.checked["pools_unread_after_retries"] == 1
