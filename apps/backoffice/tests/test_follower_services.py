"""Staff services that pay followers out: block with or without paying out now, force one
position out; always through the normal leave flow."""

from decimal import Decimal

import pytest

from apps.backoffice.followers import follower_block_by_staff, position_force_leave
from apps.core.errors import ApplicationError
from apps.followers.models import Follower, Position
from apps.followers.services import follower_unblock
from apps.pools.models import Pool
from apps.streamers.models import Stream, Streamer
from apps.transactions import gateways
from apps.transactions.models import Saga, Transaction
from apps.transactions.services import position_join, position_leave
from conftest import run_due

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def second_streamer(operator):
    streamer = Streamer.objects.create(
        operator=operator, operator_user_id="streamer-2", display_name="S2", currency="USD"
    )
    Stream.objects.create(streamer=streamer, status=Stream.Status.LIVE)
    return streamer


def join(make_session, streamer, user, amount="100", **kwargs) -> Position:
    position = position_join(
        session=make_session(user, **kwargs), streamer_id=streamer.pk, amount=amount
    )
    assert position.status == "active"
    return position


def test_a_blocked_follower_may_not_join_until_unblocked(fake, streamer, make_session):
    follower = make_session("f1").follower
    follower_block_by_staff(follower=follower, pay_out_now=False, who="a", reason="fraud")
    with pytest.raises(ApplicationError) as error:
        position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="10")
    assert error.value.code == "ERR_FOLLOWER_BLOCKED"
    assert fake.calls == [] and not Position.objects.exists()
    # when
    follower_unblock(follower=follower, reason="Cleared, ticket 42")
    # then
    assert join(make_session, streamer, "f1", "10").status == "active"


def test_block_with_pay_out_now_pays_every_active_position_out(
    fake, streamer, second_streamer, make_session
):
    # given: f1 in two pools, f2 alongside in the first
    a = join(make_session, streamer, "f1", "100")
    b = join(make_session, second_streamer, "f1", "50")
    other = join(make_session, streamer, "f2", "30")
    fake.streamer_balance["streamer-1"] = D("1430")  # the streamer won 300 on 1130: NAV ~1.265
    # when
    outcome = follower_block_by_staff(
        follower=a.follower, pay_out_now=True, who="alice", reason="Self-exclusion request"
    )
    # then: blocked, with who and why
    follower = Follower.objects.get(pk=a.follower_id)
    assert follower.is_blocked
    assert follower.blocked_reason == "blocked by staff alice, Self-exclusion request"
    assert outcome.newly_blocked and len(outcome.leaves_started) == 2
    assert outcome.describe() == "blocked; 2 position(s) paid out"
    # both positions left through the leave flow: WITHDRAWAL priced on a fresh balance, WIN
    for position in (a, b):
        position.refresh_from_db()
        assert position.status == "closed"
        kinds = set(position.transactions.values_list("kind", "status"))
        assert {("streamer_withdrawal", "succeeded"), ("follower_credit", "succeeded")} <= kinds
    assert a.payout == D("126.54867256")  # 100 units of 1130 at 1430
    assert b.payout == D("50")
    assert fake.wallet["f1"] == D(500) - 150 + a.payout + b.payout
    # the other follower stays; the second pool, now empty, closed
    other.refresh_from_db()
    assert other.status == "active"
    assert Pool.objects.get(streamer=second_streamer).state == "closed"
    assert Pool.objects.get(streamer=streamer).state == "open"


def test_block_without_pay_out_leaves_positions_where_they_are(fake, streamer, make_session):
    position = join(make_session, streamer, "f1")
    calls = len(fake.calls)
    # when
    outcome = follower_block_by_staff(
        follower=position.follower, pay_out_now=False, who="alice", reason="Under review"
    )
    # then: no money moved, the position stays active until the follower or the stream ends it
    assert len(fake.calls) == calls
    position.refresh_from_db()
    assert position.status == "active"
    assert (outcome.leaves_started, outcome.kept) == ([], 1)
    assert outcome.describe() == (
        "blocked; 1 open position(s) stay until the follower or the stream ends"
    )
    # and a blocked follower may still leave
    assert position_leave(session=position.session, position_id=position.pk).status == "closed"


def test_blocking_again_with_pay_out_pays_out_and_keeps_the_first_reason(
    fake, streamer, make_session
):
    position = join(make_session, streamer, "f1")
    follower_block_by_staff(follower=position.follower, pay_out_now=False, who="a", reason="one")
    # when
    outcome = follower_block_by_staff(
        follower=position.follower, pay_out_now=True, who="b", reason="two"
    )
    # then
    assert not outcome.newly_blocked
    assert outcome.describe() == "already blocked; 1 position(s) paid out"
    assert Follower.objects.get(pk=position.follower_id).blocked_reason == (
        "blocked by staff a, one"
    )
    position.refresh_from_db()
    assert position.status == "closed"


def test_a_pay_out_the_wallet_has_not_answered_yet_is_said_to_be_leaving(
    fake, streamer, make_session
):
    position = join(make_session, streamer, "f1")
    fake.fail("deposit", *["timeout_before"] * 30)  # the WIN does not get through yet
    outcome = follower_block_by_staff(
        follower=position.follower, pay_out_now=True, who="a", reason="fraud"
    )
    assert (outcome.paid_out, outcome.leaving) == (0, 1)
    assert outcome.describe() == "blocked; 1 position(s) leaving (retried on schedule)"
    fake.faults.clear()
    run_due()
    position.refresh_from_db()
    assert position.status == "closed" and fake.wallet["f1"] == D(500)


def test_a_pending_join_is_not_paid_out_and_is_said_so(fake, streamer, make_session):
    fake.fail("transfer", *["timeout_before"] * 30)
    pending = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="10")
    assert pending.status == "joining"
    outcome = follower_block_by_staff(
        follower=pending.follower, pay_out_now=True, who="a", reason="fraud"
    )
    assert outcome.leaves_started == [] and outcome.joining == 1
    assert "1 join(s) still pending are not paid out" in outcome.describe()


def test_block_by_staff_needs_a_reason(fake, streamer, make_session):
    position = join(make_session, streamer, "f1")
    with pytest.raises(ApplicationError) as error:
        follower_block_by_staff(follower=position.follower, pay_out_now=True, who="a", reason=" ")
    assert error.value.code == "ERR_REASON_REQUIRED"
    assert not Follower.objects.get(pk=position.follower_id).is_blocked
    position.refresh_from_db()
    assert position.status == "active"


def test_demo_positions_are_paid_out_too(fake, streamer, make_session, monkeypatch):
    # given: demo pools on play money, the real ones on the in-memory operator
    monkeypatch.setattr(
        gateways,
        "gateway_for",
        lambda pool: gateways.DemoGateway() if pool.is_demo else fake,
    )
    position = join(make_session, streamer, "d1", "100", demo=True)
    follower = Follower.objects.get(pk=position.follower_id)
    assert follower.demo_balance == D(900)
    # when
    follower_block_by_staff(follower=follower, pay_out_now=True, who="a", reason="abuse")
    # then
    position.refresh_from_db()
    assert position.status == "closed" and position.payout is not None
    follower.refresh_from_db()
    assert follower.demo_balance == D(900) + position.payout
    assert fake.calls == []  # play money only: the operator was never called


# --- force leave ------------------------------------------------------------------------


def test_force_leave_pays_the_position_out_through_the_leave_flow(fake, streamer, make_session):
    position = join(make_session, streamer, "f1")
    keep = join(make_session, streamer, "f2")
    # when
    left = position_force_leave(position=position, who="alice", reason="Operator asked")
    # then
    assert (left.status, left.payout, left.leave_reason) == ("closed", D(100), "staff")
    assert Saga.objects.get(position=position, kind="leave").status == "done"
    withdrawal = Transaction.objects.get(position=position, kind="streamer_withdrawal")
    assert (withdrawal.status, withdrawal.priced_balance) == ("succeeded", D(1200))
    assert fake.wallet["f1"] == D(500)
    keep.refresh_from_db()
    assert keep.status == "active"


def test_force_leave_answers_a_leaving_or_closed_position_as_it_is(fake, streamer, make_session):
    position = join(make_session, streamer, "f1")
    fake.fail("deposit", *["timeout_before"] * 30)  # the WIN does not get through
    leaving = position_force_leave(position=position, who="a", reason="r")
    assert leaving.status == "leaving"
    sagas_before = Saga.objects.count()
    # when: asked again, while leaving
    again = position_force_leave(position=position, who="a", reason="r")
    # then: the same answer, nothing new started
    assert again.status == "leaving" and Saga.objects.count() == sagas_before
    fake.faults.clear()
    run_due()
    closed = position_force_leave(position=position, who="a", reason="r")
    assert closed.status == "closed" and Saga.objects.count() == sagas_before


@pytest.mark.parametrize("status", ["joining", "failed"])
def test_force_leave_refuses_a_position_that_never_became_active(
    fake, streamer, make_session, status
):
    position = join(make_session, streamer, "f1")
    Position.objects.filter(pk=position.pk).update(status=status)
    calls = len(fake.calls)
    with pytest.raises(ApplicationError) as error:
        position_force_leave(position=position, who="a", reason="r")
    assert (error.value.code, error.value.status) == ("ERR_POSITION_NOT_ACTIVE", 409)
    assert len(fake.calls) == calls
    assert not Saga.objects.filter(kind="leave").exists()


def test_force_leave_needs_a_reason(fake, streamer, make_session):
    position = join(make_session, streamer, "f1")
    with pytest.raises(ApplicationError) as error:
        position_force_leave(position=position, who="a", reason="")
    assert error.value.code == "ERR_REASON_REQUIRED"
    position.refresh_from_db()
    assert position.status == "active"
