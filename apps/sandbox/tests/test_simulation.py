"""The deterministic fault simulation, as CI runs it: a few seeds of a hundred-odd operations
with faults and crashes on every outbound route; after recovery every invariant holds."""

import random
from decimal import Decimal

import pytest
from django.test import override_settings

from apps.followers.models import Position
from apps.operators import clients
from apps.pools.models import Pool
from apps.sandbox.models import SandboxAccount, SandboxWalletTx
from apps.sandbox.services import sandbox_play_bet
from apps.sandbox.simulation import SimulationConfig, invariants, simulate
from apps.sandbox.simulation.moves import Step, StopLoss
from apps.sandbox.simulation.runner import SETTINGS, operator_network, recover
from apps.sandbox.simulation.transport import FaultPlan, FaultyTransport, SimulatedCrash
from apps.sandbox.simulation.world import world_build
from apps.streamers.models import Streamer
from apps.transactions.services import position_join

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SMALL = {"operators": 2, "streamers": 2, "followers": 4}


class Always(FaultPlan):
    """Every call meets ``fault``."""

    def __init__(self, fault: str):
        super().__init__()
        self.fault = fault

    def pick(self, rng, route):
        return self.fault


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_faulty_history_recovers_with_every_invariant_holding(seed):
    # when
    report = simulate(SimulationConfig(seed=seed, operations=120, prefix=f"s{seed}", **SMALL))
    # then
    assert report.ok, f"{report.replay}\n" + "\n".join(report.violations)
    assert report.moves["join"] > 0 and report.calls > 50
    # the staff moves are part of the history (staff paying out, blocking and unblocking)
    assert report.moves["block"] + report.moves["force_leave"] + report.moves["suspend"] > 0
    assert sum(report.faults.values()) > 0


def test_the_same_seed_plays_the_same_history():
    # given two runs of one seed (each world under its own prefix)
    first = simulate(SimulationConfig(seed=7, operations=60, prefix="a", **SMALL))
    second = simulate(SimulationConfig(seed=7, operations=60, prefix="b", **SMALL))
    # then the same moves met the same faults, crashes and refusals
    assert first.moves == second.moves
    assert first.faults == second.faults
    assert first.crashes == second.crashes
    assert first.refusals == second.refusals


def test_the_invariants_see_money_that_went_missing():
    # given a world in which everything holds
    world = world_build(rng=random.Random(1), prefix="m", operators=1, streamers=1, followers=1)
    assert invariants.violations(world) == []
    # when the sandbox loses one hundred-millionth of a follower's money
    tenant = world.tenants[0]
    user_id = next(iter(tenant.sessions))
    SandboxAccount.objects.filter(operator=tenant.sandbox, user_id=user_id).update(
        balance=tenant.initial[user_id] - Decimal("0.00000001")
    )
    # then the ledger and the follower invariants both say so
    found = invariants.violations(world)
    assert any(v.startswith("ledgers_agree") and user_id in v for v in found)
    assert any(v.startswith("followers_paid_what_they_are_owed") for v in found)


def test_the_invariants_see_a_pool_over_its_follower_limit():
    # given: a streamer taking one follower, and two in its pool (written past the join)
    world = world_build(rng=random.Random(3), prefix="l", operators=1, streamers=1, followers=2)
    tenant = world.tenants[0]
    streamer = tenant.streamers[0]
    Streamer.objects.filter(pk=streamer.pk).update(max_followers=1)
    pool = Pool.objects.create(streamer=streamer, operator=tenant.operator, currency="USD")
    for session in tenant.sessions.values():
        Position.objects.create(
            pool=pool, follower=session.follower, session=session, contributed=1, status="active"
        )
    # then
    found = invariants.pools_within_their_follower_limit(world)
    assert found == [f"pool {pool.pk}: 2 followers, limit 1"]


@pytest.mark.parametrize(
    ("fault", "applied", "raised"),
    [
        ("timeout_after", True, None),
        ("timeout_before", False, None),
        ("http_500_after", True, None),
        ("drop_after", True, None),
        ("malformed_after", True, None),
        ("crash_before", False, SimulatedCrash),
        ("crash_after", True, SimulatedCrash),
    ],
)
def test_each_fault_strikes_before_or_after_the_operator_applied_the_call(fault, applied, raised):
    # given a follower's wallet at the sandbox, and a network where every call meets the fault
    world = world_build(rng=random.Random(2), prefix="f", operators=1, streamers=1, followers=1)
    tenant = world.tenants[0]
    session = next(iter(tenant.sessions.values()))
    transport = FaultyTransport(rng=random.Random(0), plan=Always(fault))
    # when the BET is sent
    with operator_network(transport):
        try:
            result = clients.wallet_withdraw(
                tenant.operator,
                amount=Decimal("5"),
                currency="USD",
                user_token=session.user_token,
                user_id=session.follower.operator_user_id,
                provider_tx_id=f"bet-{fault}",
            )
        except SimulatedCrash:
            result = None
    # then the sandbox applied it exactly when the fault strikes after, and we never know
    assert SandboxWalletTx.objects.filter(provider_tx_id=f"bet-{fault}").exists() == applied
    assert (result is None) == (raised is not None)
    assert result is None or result.unknown


class Draws:
    """A generator whose draws a test decides: ``random()`` answers ``randoms`` in turn."""

    def __init__(self, *randoms: float):
        self.randoms = list(randoms)

    def choice(self, options):
        return options[0]

    def randint(self, low, high):
        return low

    def random(self):
        return self.randoms.pop(0)


@pytest.mark.parametrize(
    ("draws", "reason"),
    [((0.1, 0.9), "stop_loss"), ((0.1, 0.1), "stop_loss"), ((0.9, 0.9), "take_profit")],
)
def test_a_limit_the_stop_loss_move_sets_fires_on_the_next_observed_balance(draws, reason):
    # given: a follower in a pool at the sandbox
    world = world_build(rng=random.Random(4), prefix="sl", operators=1, streamers=1, followers=2)
    tenant = world.tenants[0]
    first, second = sorted(tenant.sessions)
    streamer = tenant.streamers[0]
    account = SandboxAccount.objects.get(operator=tenant.sandbox, user_id=streamer.operator_user_id)
    with (
        override_settings(**SETTINGS),
        operator_network(FaultyTransport(rng=random.Random(0), plan=FaultPlan())),
    ):
        position = position_join(
            session=tenant.sessions[first], streamer_id=streamer.pk, amount="50"
        )
        assert position.status == "active"
        # when: the move sets a limit 1 % from the value (a stop-loss as a value or a
        # percent, or a take-profit), the streamer loses or wins a tenth of the balance,
        # and another follower's join reads the balance
        assert StopLoss().run(Step(world=world, rng=Draws(*draws)))  # type: ignore[arg-type]
        position.refresh_from_db()
        assert position.status == "active"
        assert sandbox_play_bet(account=account, percent=Decimal("0.1"), wins=reason != "stop_loss")
        position_join(session=tenant.sessions[second], streamer_id=streamer.pk, amount="20")
        recover(max_rounds=10)
    # then: the position left for its limit, and every invariant holds
    position.refresh_from_db()
    assert (position.status, position.leave_reason) == ("closed", reason)
    assert invariants.violations(world) == []


def test_the_invariants_see_an_active_position_past_its_limit():
    world = world_build(rng=random.Random(4), prefix="pl", operators=1, streamers=1, followers=1)
    tenant = world.tenants[0]
    streamer = tenant.streamers[0]
    pool = Pool.objects.create(
        streamer=streamer,
        operator=tenant.operator,
        currency="USD",
        balance=Decimal(100),
        total_units=Decimal(100),
    )
    session = next(iter(tenant.sessions.values()))
    Position.objects.create(
        pool=pool,
        follower=session.follower,
        session=session,
        status="active",
        units=Decimal(10),
        contributed=Decimal(20),  # worth 10: half lost
        stop_loss_percent=Decimal(40),
    )
    found = invariants.violations(world)
    assert any(v.startswith("no_active_position_past_its_limit") for v in found), found
