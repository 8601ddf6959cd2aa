"""Copy stop-loss and take-profit: the crossing rule, and the leave each kind of observed
balance triggers (a join's or a leave's pricing, the snapshot pass; a staff refresh:
apps/backoffice/tests/test_pool_services.py)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.followers.limits import (
    effective_stop_loss,
    effective_take_profit,
    limit_crossed,
)
from apps.followers.models import Position
from apps.operators.models import Operator
from apps.pools.models import Pool
from apps.transactions import copy_limits, sagas
from apps.transactions.models import Saga
from apps.transactions.reconciliation import pools_snapshot
from apps.transactions.services import position_join, position_leave
from conftest import run_due
from tests.broker.operator_server import FakeOperatorServer

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)

amounts = st.decimals(min_value=0, max_value=10**6, places=8, allow_nan=False)
maybe_amounts = st.none() | amounts


# --- the rule ---------------------------------------------------------------------------


@given(value=amounts, stop_loss=maybe_amounts, take_profit=maybe_amounts)
def test_a_limit_is_crossed_exactly_when_the_value_reaches_it(value, stop_loss, take_profit):
    reason = limit_crossed(value=value, stop_loss=stop_loss, take_profit=take_profit)
    hits_stop = stop_loss is not None and value <= stop_loss
    hits_take = take_profit is not None and value >= take_profit
    if hits_stop:
        assert reason == Position.LeaveReason.STOP_LOSS
    elif hits_take:
        assert reason == Position.LeaveReason.TAKE_PROFIT
    else:
        assert reason is None


@given(
    contributed=st.decimals(min_value=D("0.00000001"), max_value=10**6, places=8),
    percent=st.decimals(min_value=D("0.0001"), max_value=D("99.9999"), places=4),
)
def test_percent_limits_lie_on_either_side_of_the_contribution(contributed, percent):
    stop = effective_stop_loss(contributed=contributed, value=None, percent=percent)
    take = effective_take_profit(contributed=contributed, value=None, percent=percent)
    assert stop is not None and take is not None
    assert D(0) <= stop <= contributed <= take
    assert stop == stop.quantize(D("1e-8")) and take == take.quantize(D("1e-8"))
    # the position is not past its limits at its contribution, unless rounding makes it so
    if stop < contributed < take:
        assert limit_crossed(value=contributed, stop_loss=stop, take_profit=take) is None


def test_percent_notation():
    assert effective_stop_loss(contributed=D(100), value=None, percent=D(20)) == D(80)
    assert effective_take_profit(contributed=D(100), value=None, percent=D(20)) == D(120)
    assert effective_stop_loss(contributed=D(100), value=D("70.5"), percent=None) == D("70.5")
    assert effective_stop_loss(contributed=D(100), value=None, percent=None) is None


# --- the trigger ------------------------------------------------------------------------


def join(streamer, make_session, user="f1", amount="100"):
    return position_join(session=make_session(user), streamer_id=streamer.pk, amount=amount)


def protected(fake, streamer, make_session, **limits):
    """f1 in a pool of 1100 (the streamer's 1000 and f1's 100) with ``limits`` set."""
    position = join(streamer, make_session)
    assert position.status == "active"
    Position.objects.filter(pk=position.pk).update(**limits)
    return position


def halve_the_pool(fake):
    fake.streamer_balance["streamer-1"] = D(550)  # NAV 0.5: f1's 100 units are worth 50


def leaves_of(position):
    return Saga.objects.filter(kind=Saga.Kind.LEAVE, position_id=position.pk)


def test_a_joins_reading_triggers_the_stop_loss(fake, streamer, make_session):
    position = protected(fake, streamer, make_session, stop_loss=D(60))
    halve_the_pool(fake)
    # when: another follower joins, pricing on the lower balance
    other = join(streamer, make_session, "f2", "10")
    run_due()
    # then: f1 was paid out what the units were worth, for reason stop_loss
    position.refresh_from_db()
    assert (position.status, position.leave_reason, position.payout) == (
        "closed",
        "stop_loss",
        D(50),
    )
    assert leaves_of(position).count() == 1
    other.refresh_from_db()
    assert other.status == "active" and other.leave_reason == ""


def test_a_leaves_reading_triggers_the_take_profit(fake, streamer, make_session):
    position = protected(fake, streamer, make_session, take_profit_percent=D(50))
    other = join(streamer, make_session, "f2", "100")  # no limits
    fake.streamer_balance["streamer-1"] = D(2400)  # NAV 2: f1's 100 units are worth 200
    # when: f2 leaves, pricing on the higher balance
    position_leave(session=other.session, position_id=other.pk)
    run_due()
    # then
    position.refresh_from_db()
    assert (position.status, position.leave_reason) == ("closed", "take_profit")
    assert position.payout is not None and position.payout > D(150)
    other.refresh_from_db()
    assert other.leave_reason == "follower"


def test_a_transfers_answered_balance_triggers_the_stop_loss(fake, streamer, make_session):
    """The DEPOSIT was priced before the streamer lost; its re-send (no new reading) is
    answered with the lower balance, which the pool records: that is observed too."""
    position = protected(fake, streamer, make_session, stop_loss=D(60))
    fake.fail("transfer", *["timeout_before"] * 30)
    other = join(streamer, make_session, "f2", "10")
    assert other.status == "joining"  # priced on 1100, no answer yet
    halve_the_pool(fake)
    fake.faults["transfer"].clear()
    position.refresh_from_db()
    assert position.status == "active"
    # when: the DEPOSIT is sent again and answered with 560
    run_due()
    # then
    position.refresh_from_db()
    other.refresh_from_db()
    assert other.status == "active"
    assert (position.status, position.leave_reason) == ("closed", "stop_loss")


def test_a_position_inside_its_limits_stays(fake, streamer, make_session):
    position = protected(fake, streamer, make_session, stop_loss=D(40), take_profit=D(200))
    halve_the_pool(fake)
    join(streamer, make_session, "f2", "10")
    run_due()
    position.refresh_from_db()
    assert position.status == "active" and not leaves_of(position).exists()


def test_the_snapshot_pass_triggers_the_stop_loss(fake, operator, streamer, make_session):
    position = protected(fake, streamer, make_session, stop_loss_percent=D(30))
    with FakeOperatorServer() as server:
        Operator.objects.filter(pk=operator.pk).update(
            callback_url=server.callback_url, wallet_url=server.wallet_url
        )
        server.balances["streamer-1"] = D(550)
        halve_the_pool(fake)
        # when
        report = pools_snapshot()
    run_due()
    # then
    assert report.stats.limit_leaves == 1
    position.refresh_from_db()
    assert (position.status, position.leave_reason, position.payout) == (
        "closed",
        "stop_loss",
        D(50),
    )


def test_the_trigger_starts_one_leave_only(fake, streamer, make_session):
    position = protected(fake, streamer, make_session, stop_loss=D(80))
    halve_the_pool(fake)
    pool = Pool.objects.get(pk=position.pool_id)
    # when: two observations cross the limit before the leave has run
    first = copy_limits.copy_limits_start(pool=pool, balance=D(550))
    second = copy_limits.copy_limits_start(pool=pool, balance=D(550))
    # then: the second found the position leaving already
    assert len(first) == 1 and second == []
    assert leaves_of(position).count() == 1
    run_due()
    position.refresh_from_db()
    assert (position.status, position.payout) == ("closed", D(50))


def test_a_follower_leaving_first_keeps_their_reason(fake, streamer, make_session):
    position = protected(fake, streamer, make_session, stop_loss=D(80))
    sagas.leave_begin(position=position, reason=Position.LeaveReason.FOLLOWER)
    halve_the_pool(fake)
    pool = Pool.objects.get(pk=position.pool_id)
    assert copy_limits.copy_limits_start(pool=pool, balance=D(550)) == []
    run_due()
    position.refresh_from_db()
    assert position.leave_reason == "follower" and leaves_of(position).count() == 1


def test_a_bust_reading_is_left_to_the_bust_flow(fake, streamer, make_session):
    position = protected(fake, streamer, make_session, stop_loss=D(80))
    pool = Pool.objects.get(pk=position.pool_id)
    assert copy_limits.positions_crossing(pool, D(0)) == []
    assert [c.reason for c in copy_limits.positions_crossing(pool, D(550))] == ["stop_loss"]


def test_a_join_takes_the_operators_default_stop_loss(fake, operator, streamer, make_session):
    Operator.objects.filter(pk=operator.pk).update(default_stop_loss_percent=D(25))
    position = join(streamer, make_session)
    position.refresh_from_db()
    assert (position.stop_loss_percent, position.stop_loss) == (D(25), None)
    # and it fires: a value of 50 is a loss of 50 %
    halve_the_pool(fake)
    join(streamer, make_session, "f2", "10")
    run_due()
    position.refresh_from_db()
    assert position.leave_reason == "stop_loss"


def test_without_an_operator_default_a_join_has_no_stop_loss(fake, streamer, make_session):
    position = join(streamer, make_session)
    position.refresh_from_db()
    assert position.stop_loss_percent is None and position.stop_loss is None


# --- after a partial leave ---------------------------------------------------------------


def leave_half(position):
    from apps.transactions.services import position_leave_part

    position_leave_part(
        session=position.session, position_id=position.pk, units=None, fraction=D("0.5")
    )
    run_due()
    position.refresh_from_db()
    assert position.status == "active" and position.units == D(50)


@pytest.mark.parametrize(
    ("limits", "stop_loss", "take_profit"),
    [
        ({"stop_loss_percent": D(20)}, D(40), None),
        ({"stop_loss": D(80)}, D(40), None),
        ({"take_profit_percent": D(50)}, None, D(75)),
        ({"take_profit": D("150.00000001")}, None, D("75.00000000")),
        ({"stop_loss": D(90), "take_profit_percent": D(10)}, D(45), D(55)),
    ],
)
def test_a_partial_leave_keeps_the_rest_and_its_limits_at_the_same_nav(
    fake, streamer, make_session, limits, stop_loss, take_profit
):
    from apps.followers.limits import position_stop_loss, position_take_profit

    position = protected(fake, streamer, make_session, **limits)
    # when: half of it leaves, the price unchanged, and the next reading comes (a join)
    leave_half(position)
    join(streamer, make_session, "f2", "10")
    run_due()
    # then: the half that stayed is still in, its limits where they were in NAV terms
    position.refresh_from_db()
    assert (position.status, position.leave_reason) == ("active", "")
    assert leaves_of(position).count() == 1  # the partial leave only
    assert position_stop_loss(position) == stop_loss
    assert position_take_profit(position) == take_profit


def test_after_a_partial_leave_the_stop_loss_still_protects_the_rest(fake, streamer, make_session):
    position = protected(fake, streamer, make_session, stop_loss=D(60))
    leave_half(position)  # 50 units left, the stop-loss now at 30
    assert position.stop_loss == D(30)
    # when: the streamer loses enough that the 50 units are worth 25 (NAV 0.5)
    fake.streamer_balance["streamer-1"] = D(525)  # 1050 units after the leave
    join(streamer, make_session, "f2", "10")
    run_due()
    # then
    position.refresh_from_db()
    assert (position.status, position.leave_reason) == ("closed", "stop_loss")
