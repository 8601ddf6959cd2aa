"""The join, leave, stream-end and bust flows against an in-memory operator with faults."""

from decimal import Decimal

import pytest

from apps.core.errors import ApplicationError
from apps.followers.models import Position
from apps.pools.models import Pool
from apps.streamers.models import Stream
from apps.transactions.models import Saga, Transaction
from apps.transactions.services import position_join, position_leave, streams_end
from conftest import run_due

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


def tx_of(position, kind):
    return list(Transaction.objects.filter(position=position, kind=kind).order_by("pk"))


def test_join_prices_units_on_the_fresh_balance_and_locks_the_pool(fake, streamer, make_session):
    # given: the streamer holds 1000
    session = make_session("f1")
    # when
    position = position_join(session=session, streamer_id=streamer.pk, amount="100")
    # then: the streamer's 1000 became 1000 units at NAV 1; 100 joined at NAV 1
    assert position.status == "active"
    assert position.units == D("100")
    pool = Pool.objects.get(pk=position.pool_id)
    assert (pool.streamer_units, pool.total_units, pool.balance) == (D(1000), D(1100), D(1100))
    assert pool.lock_state == "locked" and fake.pool_state["streamer-1"] == "OPEN"
    assert fake.wallet["f1"] == D(400) and fake.streamer_balance["streamer-1"] == D(1100)
    [debit] = tx_of(position, "follower_debit")
    [deposit] = tx_of(position, "streamer_deposit")
    assert debit.status == deposit.status == "succeeded"
    assert debit.external_id != deposit.external_id
    assert (deposit.priced_balance, deposit.priced_total_units, deposit.units) == (
        D(1000),
        D(1000),
        D(100),
    )


def test_second_join_after_streamer_doubles_gets_half_the_units(fake, streamer, make_session):
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    fake.streamer_balance["streamer-1"] = D("2200")  # the streamer won
    # when
    second = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="100")
    # then: NAV 2 -> 50 units
    assert second.units == D("50")


def test_insufficient_wallet_balance_fails_the_join_cleanly(fake, streamer, make_session):
    fake.wallet["f1"] = D("10")
    # when
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    # then: nothing else happened, the pool (never opened at the operator) is closed again
    assert position.status == "failed" and position.failure_code == "ERR_INSUFFICIENT_BALANCE"
    assert [c for c, _ in fake.calls] == ["withdraw"]
    assert Pool.objects.get(pk=position.pool_id).state == "closed"
    assert fake.wallet["f1"] == D(10)


def test_bet_applied_but_answer_lost_is_rolled_back(fake, streamer, make_session):
    fake.fail("withdraw", "timeout_after")
    # when
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    # then: the rollback refunded the bet; the follower is whole again
    assert position.status == "failed" and position.failure_code == "ERR_WALLET_UNAVAILABLE"
    [debit] = tx_of(position, "follower_debit")
    [rollback] = tx_of(position, "follower_rollback")
    assert debit.status == "rolled_back" and rollback.status == "succeeded"
    assert rollback.rolls_back_id == debit.pk and rollback.external_id != debit.external_id
    assert fake.wallet["f1"] == D(500)
    assert fake.rollbacks == {rollback.external_id: debit.external_id}


def test_bet_never_applied_rollback_408_marks_it_failed_and_voids_the_id(
    fake, streamer, make_session
):
    fake.fail("withdraw", "timeout_before")
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    [debit] = tx_of(position, "follower_debit")
    [rollback] = tx_of(position, "follower_rollback")
    assert position.status == "failed"
    assert debit.status == "failed" and debit.last_error_code == "ERR_TRANSACTION_NOT_FOUND"
    assert rollback.status == "failed"
    assert debit.external_id in fake.voided and fake.wallet["f1"] == D(500)


def test_rollback_in_doubt_is_retried_with_the_same_id_until_answered(fake, streamer, make_session):
    fake.fail("withdraw", "timeout_after")
    fake.fail("rollback", "http_500", "timeout_after", "http_500")
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert position.status == "joining"
    # when
    run_due()
    # then: exactly one refund, under one id
    position.refresh_from_db()
    [rollback] = tx_of(position, "follower_rollback")
    assert position.status == "failed" and rollback.status == "succeeded"
    assert rollback.attempts == 4 and len(fake.rollbacks) == 1
    assert fake.wallet["f1"] == D(500)


def test_definite_transfer_error_rolls_back_the_bet_and_closes_the_empty_pool(
    fake, streamer, make_session
):
    fake.fail("transfer", "refuse:400:ERR_TRANSFER_FORBIDDEN")
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert position.status == "failed" and position.failure_code == "ERR_TRANSFER_FORBIDDEN"
    assert fake.wallet["f1"] == D(500) and fake.streamer_balance["streamer-1"] == D(1000)
    pool = Pool.objects.get(pk=position.pool_id)
    assert pool.state == "closed" and pool.lock_state == "released"
    assert fake.pool_state["streamer-1"] == "CLOSE"


def test_transfer_in_doubt_is_retried_with_the_same_id_and_applied_once(
    fake, streamer, make_session
):
    fake.fail("transfer", "timeout_after", "http_500")
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    if position.status == "joining":
        run_due()
        position.refresh_from_db()
    assert position.status == "active" and position.units == D(100)
    [deposit] = tx_of(position, "streamer_deposit")
    assert deposit.attempts == 3
    assert fake.streamer_balance["streamer-1"] == D(1100)
    assert Pool.objects.get(pk=position.pool_id).pricing_saga is None


def test_pool_stays_claimed_while_a_transfer_is_in_doubt(fake, streamer, make_session):
    # given: the first join's transfer keeps timing out
    fake.fail("transfer", *["timeout_before"] * 20)
    first = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert first.status == "joining"
    pool = Pool.objects.get(pk=first.pool_id)
    first_saga = Saga.objects.get(position=first)
    assert pool.pricing_saga == first_saga.pk
    # when: a second join arrives
    second = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="50")
    # then: it waits; no second transfer was priced
    assert second.status == "joining"
    assert tx_of(second, "streamer_deposit") == []
    fake.faults["transfer"].clear()
    run_due()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == "active"
    assert fake.streamer_balance["streamer-1"] == D(1150)


def test_leave_pays_units_times_balance_over_units_then_closes(fake, streamer, make_session):
    session = make_session("f1")
    position = position_join(session=session, streamer_id=streamer.pk, amount="100")
    fake.streamer_balance["streamer-1"] = D("1650")  # the pool gained 50%
    # when
    left = position_leave(session=session, position_id=position.pk)
    # then: 100 units of 1100 at 1650 = 150
    assert left.status == "closed" and left.payout == D("150")
    [withdrawal] = tx_of(position, "streamer_withdrawal")
    [credit] = tx_of(position, "follower_credit")
    assert withdrawal.amount == credit.amount == D("150")
    assert len({withdrawal.external_id, credit.external_id}) == 2
    assert fake.wallet["f1"] == D(550) and fake.streamer_balance["streamer-1"] == D(1500)
    pool = Pool.objects.get(pk=position.pool_id)
    assert pool.state == "closed" and fake.pool_state["streamer-1"] == "CLOSE"
    assert pool.total_units == pool.streamer_units == D(1000)


def test_payout_rounds_down_and_dust_stays_with_the_streamer(fake, streamer, make_session):
    session = make_session("f1")
    position = position_join(session=session, streamer_id=streamer.pk, amount="100")
    fake.streamer_balance["streamer-1"] = D("1000.00000001")
    left = position_leave(session=session, position_id=position.pk)
    # 100 * 1000.00000001 / 1100 = 90.909090910 -> 90.90909091
    assert left.payout == D("90.90909091")


def test_leave_reprices_with_a_new_id_when_the_balance_moved(fake, streamer, make_session):
    session = make_session("f1")
    position = position_join(session=session, streamer_id=streamer.pk, amount="100")
    fake.fail("transfer", "refuse:400:ERR_INSUFFICIENT_BALANCE")
    left = position_leave(session=session, position_id=position.pk)
    failed, paid = tx_of(position, "streamer_withdrawal")
    assert failed.status == "failed" and failed.last_error_code == "ERR_INSUFFICIENT_BALANCE"
    assert paid.status == "succeeded" and paid.external_id != failed.external_id
    assert left.status == "closed" and left.payout == D(100)


def test_win_is_retried_with_the_same_id_until_paid_and_close_does_not_wait(
    fake, streamer, make_session
):
    session = make_session("f1")
    position = position_join(session=session, streamer_id=streamer.pk, amount="100")
    fake.fail("deposit", "http_500", "timeout_after", "http_500")
    left = position_leave(session=session, position_id=position.pk)
    # CLOSE went as soon as the WITHDRAWAL succeeded
    assert fake.pool_state["streamer-1"] == "CLOSE"
    run_due()
    left.refresh_from_db()
    [credit] = tx_of(position, "follower_credit")
    assert left.status == "closed" and credit.status == "succeeded"
    assert credit.attempts == 4 and fake.deposits == {credit.external_id: D(100)}
    assert fake.wallet["f1"] == D(500)


def test_stream_end_pays_everyone_and_closes_the_pool(fake, streamer, make_session):
    a = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    b = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="200")
    fake.streamer_balance["streamer-1"] = D("2600")  # 1300 units, NAV 2
    # when
    streams_end(stream=Stream.objects.get(streamer=streamer, status="live"), reason="test")
    # then
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.payout, b.status, b.payout) == ("closed", D(200), "closed", D(400))
    assert (a.leave_reason, b.leave_reason) == ("stream_end", "stream_end")
    pool = Pool.objects.get(pk=a.pool_id)
    assert pool.state == "closed" and fake.streamer_balance["streamer-1"] == D(2000)


def test_each_position_records_why_it_left(fake, streamer, make_session):
    from apps.transactions.services import pool_settle

    # given: two members of one pool
    own = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    settled = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="100")
    # when: one leaves, staff settle the pool
    position_leave(session=make_session("f1"), position_id=own.pk)
    pool_settle(pool=settled.pool, reason="settled by staff ops, test", leave_reason="staff")
    # then
    reasons = {p.follower.operator_user_id: p.leave_reason for p in Position.objects.all()}
    assert reasons == {"f1": "follower", "f2": "staff"}


def test_bust_pool_pays_zero_wins_refuses_joins_and_closes(fake, streamer, make_session):
    a = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    fake.streamer_balance["streamer-1"] = D("0")
    # when: a new join finds the pool bust
    late = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="10")
    # then: refused and refunded; the member leaves with a WIN of 0
    assert late.status == "failed" and late.failure_code == "ERR_POOL_BUST"
    assert fake.wallet["f2"] == D(500)
    run_due()
    a.refresh_from_db()
    assert a.leave_reason == "bust"
    [credit] = tx_of(a, "follower_credit")
    assert (
        a.status == "closed"
        and a.payout == D(0)
        and credit.amount == D(0)
        and credit.status == "succeeded"
    )
    assert tx_of(a, "streamer_withdrawal") == []
    assert Pool.objects.get(pk=a.pool_id).state == "closed"
    # and a new join opens a fresh pool at NAV 1
    fresh = position_join(session=make_session("f3"), streamer_id=streamer.pk, amount="10")
    assert fresh.status == "active" and fresh.pool_id != a.pool_id and fresh.units == D(10)


def test_crash_after_sending_the_deposit_resumes_with_the_same_id(
    fake, streamer, make_session, monkeypatch
):
    from apps.transactions import sagas

    # given: the process dies right after the transfer left (operator applied it)
    original = fake.transfer

    def crash(**kwargs):
        original(**kwargs)
        raise KeyboardInterrupt  # not an Exception: nothing in our code may swallow it

    monkeypatch.setattr(fake, "transfer", crash)
    with pytest.raises(KeyboardInterrupt):
        position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    monkeypatch.setattr(fake, "transfer", original)
    Saga.objects.update(lease_owner="", lease_expires_at=None)  # the dead worker's lease
    # when
    run_due()
    # then
    position = Position.objects.get()
    [deposit] = tx_of(position, "streamer_deposit")
    assert position.status == "active" and deposit.attempts == 2
    assert fake.streamer_balance["streamer-1"] == D(1100)
    assert sagas.sagas_due() == []


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount": "0.5"}, "ERR_CONTRIBUTION_LIMIT"),
        ({"amount": "5000"}, "ERR_CONTRIBUTION_LIMIT"),
        ({"amount": "-1"}, "ERR_INVALID_AMOUNT"),
        ({"amount": "NaN"}, "ERR_INVALID_AMOUNT"),
        ({"amount": "1.123456789"}, "ERR_INVALID_AMOUNT"),
        ({"amount": True}, "ERR_INVALID_AMOUNT"),
    ],
)
def test_bad_amounts_are_refused_before_any_money_moves(fake, streamer, make_session, kwargs, code):
    with pytest.raises(ApplicationError) as error:
        position_join(session=make_session("f1"), streamer_id=streamer.pk, **kwargs)
    assert error.value.code == code
    assert fake.calls == [] and Position.objects.count() == 0


def test_refusals_before_money_moves(fake, streamer, make_session):
    with pytest.raises(ApplicationError) as error:
        position_join(session=make_session("streamer-1"), streamer_id=streamer.pk, amount="10")
    assert error.value.code == "ERR_SELF_FOLLOW"
    with pytest.raises(ApplicationError) as error:
        position_join(
            session=make_session("f9", currency="EUR"), streamer_id=streamer.pk, amount="10"
        )
    assert error.value.code == "ERR_CURRENCY_MISMATCH"
    Stream.objects.update(status="ended")
    with pytest.raises(ApplicationError) as error:
        position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="10")
    assert error.value.code == "ERR_STREAMER_OFFLINE"
    assert fake.calls == []


def test_a_wallet_new_balance_of_zero_is_recorded_as_zero(fake, streamer, make_session):
    fake.wallet["f1"] = D("100")
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    [debit] = tx_of(position, "follower_debit")
    assert (debit.balance_before, debit.balance_after) == (D(100), D(0))


def test_closing_a_pool_and_creating_its_close_saga_is_one_transaction(
    fake, streamer, make_session, monkeypatch
):
    from apps.transactions.sagas import close

    session = make_session("f1")
    position = position_join(session=session, streamer_id=streamer.pk, amount="10")

    def crash(pool):
        raise RuntimeError("process died")

    monkeypatch.setattr(close, "close_saga_for", crash)
    with pytest.raises(RuntimeError):
        Position.objects.filter(pk=position.pk).update(status="closed", units=0)
        close.close_begin(pool_id=position.pool_id)
    # then: the pool is not left closing without a saga to finish it
    assert Pool.objects.get(pk=position.pool_id).state == "open"
    monkeypatch.undo()


def test_every_flow_runs_each_step_but_the_final_ones_and_goes_only_where_declared():
    from apps.transactions.sagas import FLOWS

    # then: each kind has its flow, every step that is not final has a function
    assert set(FLOWS) == {"join", "top_up", "leave", "close_pool"}
    assert FLOWS["top_up"].transitions is FLOWS["join"].transitions
    for flow in FLOWS.values():
        final = {step for step in flow.steps.values if step in ("done", "failed")}
        assert set(flow.transitions) == set(flow.steps.values) - final
    assert FLOWS["join"].may_go("debit", "open_pool")
    assert not FLOWS["join"].may_go("open_pool", "done")
    assert not FLOWS["leave"].may_go("credit", "withdraw")


def test_a_step_may_not_move_its_saga_where_the_flow_does_not_go(fake, streamer, make_session):
    from apps.transactions.sagas import TransitionRefused
    from apps.transactions.sagas.engine import goto

    # given: a join saga waiting for its pool's OPEN
    fake.fail("game-pool", *["http_500"] * 10)
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="10")
    saga = Saga.objects.get(position=position)
    saga.refresh_from_db()
    # when / then: open_pool may not skip the DEPOSIT
    with pytest.raises(TransitionRefused):
        goto(saga, "done")
    assert (saga.step, Saga.objects.get(pk=saga.pk).step) == ("open_pool", "open_pool")


# --- no pool waits for another; a claim waiter yields at once and is woken ---------------


def test_a_join_that_cannot_take_the_claim_yields_at_once_and_is_woken_by_the_release(
    fake, streamer, make_session
):
    import time

    from apps.transactions.services import sagas_resume

    # given a join whose transfer is in doubt: it keeps the pool's pricing claim
    fake.fail("transfer", *["timeout_before"] * 3)
    first = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert first.status == "joining"
    # when a second join arrives (with the request's inline budget of several seconds)
    started = time.monotonic()
    second = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="50")
    elapsed = time.monotonic() - started
    # then it answered at once, parked on the claim, not sleeping through the budget
    assert second.status == "joining" and elapsed < 1.0
    parked = Saga.objects.get(position=second)
    assert parked.awaiting_claim and parked.next_run_at is not None
    # when the first transfer's answer comes (its retry), releasing the claim
    fake.faults["transfer"].clear()
    Saga.objects.filter(position=first).update(next_run_at=None)
    sagas_resume(budget=5)
    # then the parked join was woken and driven in the same pass
    second.refresh_from_db()
    first.refresh_from_db()
    assert first.status == second.status == "active"
    assert not Saga.objects.get(position=second).awaiting_claim
    assert fake.streamer_balance["streamer-1"] == D(1150)


def test_a_resume_pass_is_not_held_by_one_pools_doubt(fake, operator, streamer, make_session):
    import time

    from apps.streamers.models import Streamer
    from apps.transactions.services import sagas_resume

    # given a follower of another streamer's pool whose WIN failed once: due again
    other = Streamer.objects.create(
        operator=operator, operator_user_id="streamer-2", display_name="T", currency="USD"
    )
    Stream.objects.create(streamer=other, status=Stream.Status.LIVE)
    elsewhere = position_join(session=make_session("f9"), streamer_id=other.pk, amount="10")
    fake.fail("deposit", "timeout_before")
    left = position_leave(session=make_session("f9"), position_id=elsewhere.pk)
    assert left.status == "leaving"
    # ...and a pool whose transfer stays in doubt, with joins parked behind it
    fake.fail("transfer", *["timeout_before"] * 50)
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="10")
    for user in ("f2", "f3", "f4"):
        position_join(session=make_session(user), streamer_id=streamer.pk, amount="10")
    Saga.objects.filter(status="running").update(next_run_at=None)
    # when one resume pass runs
    started = time.monotonic()
    sagas_resume(budget=30)
    elapsed = time.monotonic() - started
    # then the WIN was paid in that pass, and the pass did not wait on the blocked pool
    left.refresh_from_db()
    assert left.status == "closed"
    assert elapsed < 3.0


def test_a_step_that_raises_backs_off_and_is_flagged_after_repeated_failures(
    fake, streamer, make_session, monkeypatch
):
    from apps.transactions.sagas import engine

    # given a join whose deposit step raises every time
    def broken(saga, ctx):
        raise RuntimeError("unexpected")

    real = engine.step_function
    monkeypatch.setattr(
        engine,
        "step_function",
        lambda kind, step: broken if (kind, step) == ("join", "deposit") else real(kind, step),
    )
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="10")
    saga = Saga.objects.get(position=position)
    delays = []
    for _ in range(engine.STEP_FAILURES_BEFORE_REVIEW):
        saga.refresh_from_db()
        delays.append((saga.next_run_at - saga.updated_at).total_seconds())
        Saga.objects.filter(pk=saga.pk).update(next_run_at=None)
        engine.saga_advance(saga.pk, budget=5)
    saga.refresh_from_db()
    # then each retry waited longer, the saga was flagged, and nothing was priced
    assert delays == sorted(delays) and delays[-1] > delays[0]
    assert saga.needs_review and "keeps failing" in saga.review_reason
    assert saga.status == "running"
    assert Pool.objects.get(pk=position.pool_id).pricing_saga is None


def test_a_bet_refused_before_a_crash_is_never_sent_again(fake, streamer, make_session):
    from apps.transactions.sagas import engine

    # given a join whose BET was refused (402) and recorded, the process dying before the
    # join was marked failed
    fake.wallet["f1"] = D(5)
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="10")
    saga = Saga.objects.get(position=position)
    Saga.objects.filter(pk=saga.pk).update(status="running", step="debit", finished_at=None)
    Position.objects.filter(pk=position.pk).update(status="joining")
    calls = len(fake.calls)
    fake.wallet["f1"] = D(500)  # meanwhile the follower topped their wallet up
    # when the saga is resumed
    engine.saga_advance(saga.pk, budget=5)
    # then the BET was not sent again: the join fails as it was answered
    assert [route for route, _ in fake.calls[calls:]] == []
    position.refresh_from_db()
    assert position.status == "failed" and position.failure_code == "ERR_INSUFFICIENT_BALANCE"
    assert fake.wallet["f1"] == D(500)
