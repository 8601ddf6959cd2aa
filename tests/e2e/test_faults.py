"""Every fault the sandbox can inject, on each route a flow uses, over real HTTP.

Each scenario installs one or two faults, runs a join or a leave through the player API,
lets the sagas finish (``settle`` skips their backoff), checks where the position ended up
and that the sandbox's books equal our ledger; then the position leaves (if it is in) and
the books are compared again with the pool closed.
"""

import time
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.followers.models import Position
from apps.pools.models import Pool
from apps.sandbox.models import SandboxFault
from apps.sandbox.services import sandbox_fault_set
from apps.transactions.models import Saga, Transaction
from tests.e2e.conftest import assert_ledgers_match
from tests.e2e.world import FAULT_LATENCY_MS, Player, settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SLOW_MODES = {"timeout_before", "timeout_after", "latency"}


@dataclass(frozen=True)
class Fault:
    route: str
    mode: str
    remaining: int | None = 1
    error_code: str = ""


@dataclass(frozen=True)
class Case:
    name: str
    faults: tuple[Fault, ...]
    expect: str  # the position's status once everything settled
    failure_code: str = ""


def _install(world, faults: tuple[Fault, ...]) -> list[SandboxFault]:
    return [
        sandbox_fault_set(
            operator=world.sandbox,
            route=fault.route,
            mode=fault.mode,
            remaining=fault.remaining,
            error_code=fault.error_code,
            latency_ms=FAULT_LATENCY_MS if fault.mode in SLOW_MODES else 0,
        )
        for fault in faults
    ]


def _drain(installed: list[SandboxFault]) -> None:
    """Let a request delayed by a latency fault land (it runs *after* its client gave up), so
    that the books are compared with it applied or refused, and it cannot leak into the next
    test."""
    if any(fault.mode == "latency" for fault in installed):
        time.sleep(FAULT_LATENCY_MS / 1000 + 0.5)
        settle()


def _assert_fired(installed: list[SandboxFault]) -> None:
    for fault in installed:
        fault.refresh_from_db()
        assert fault.fired_count >= 1, f"{fault} never fired: the scenario tested nothing"


def _finish(world, player: Player, position_id: str) -> None:
    """Leave if still in, let everything settle, and compare the books with the pool closed."""
    if Position.objects.get(pk=position_id).status == Position.Status.ACTIVE:
        assert player.leave(position_id).status_code in (200, 202)
        settle()
    assert Position.objects.get(pk=position_id).status in ("closed", "failed")
    assert not Pool.objects.exclude(state=Pool.State.CLOSED).exists()
    assert world.account("s1").pool_state in ("", "CLOSE")
    assert_ledgers_match(world)


JOIN_CASES = [
    # The BET: any answer in doubt is rolled back, and the join fails.
    Case(
        "withdraw timeout_after",
        (Fault("withdraw", "timeout_after"),),
        "failed",
        "ERR_WALLET_UNAVAILABLE",
    ),
    Case(
        "withdraw timeout_before",
        (Fault("withdraw", "timeout_before"),),
        "failed",
        "ERR_WALLET_UNAVAILABLE",
    ),
    Case("withdraw http_500", (Fault("withdraw", "http_500"),), "failed", "ERR_WALLET_UNAVAILABLE"),
    Case("withdraw drop", (Fault("withdraw", "drop"),), "failed", "ERR_WALLET_UNAVAILABLE"),
    Case("withdraw latency", (Fault("withdraw", "latency"),), "failed", "ERR_WALLET_UNAVAILABLE"),
    Case("withdraw error", (Fault("withdraw", "error"),), "failed", "ERR_FORBIDDEN"),
    # The DEPOSIT transfer: in doubt is asked again with the same id; a refusal rolls back.
    Case("deposit transfer timeout_after", (Fault("transfer", "timeout_after"),), "active"),
    Case("deposit transfer timeout_before", (Fault("transfer", "timeout_before"),), "active"),
    Case("deposit transfer http_500", (Fault("transfer", "http_500", remaining=3),), "active"),
    Case("deposit transfer drop", (Fault("transfer", "drop"),), "active"),
    # Latency beyond the client's timeout: the transfer lands after we gave up on the answer.
    Case("deposit transfer latency", (Fault("transfer", "latency"),), "active"),
    Case(
        "deposit transfer error",
        (Fault("transfer", "error", error_code="ERR_TRANSFER_FORBIDDEN"),),
        "failed",
        "ERR_TRANSFER_FORBIDDEN",
    ),
    # game-pool OPEN and the balance reads.
    Case("game-pool OPEN http_500", (Fault("game-pool", "http_500"),), "active"),
    Case("game-pool OPEN timeout_after", (Fault("game-pool", "timeout_after"),), "active"),
    Case("game-pool OPEN drop", (Fault("game-pool", "drop"),), "active"),
    Case(
        "game-pool OPEN error",
        (Fault("game-pool", "error", error_code="ERR_INVALID_USER"),),
        "failed",
        "ERR_INVALID_USER",
    ),
    Case(
        "streamer-balance http_500", (Fault("streamer-balance", "http_500", remaining=2),), "active"
    ),
    Case(
        "streamer-balance timeout_before", (Fault("streamer-balance", "timeout_before"),), "active"
    ),
    Case("streamer-balance drop", (Fault("streamer-balance", "drop", remaining=2),), "active"),
    Case(
        "streamer-balance error",
        (Fault("streamer-balance", "error", None, "ERR_BALANCE_FORBIDDEN"),),
        "failed",
        "ERR_BALANCE_FORBIDDEN",
    ),
    # The rollback of a BET in doubt: retried until answered.
    Case(
        "rollback http_500 after withdraw drop",
        (Fault("withdraw", "drop"), Fault("rollback", "http_500", remaining=2)),
        "failed",
        "ERR_WALLET_UNAVAILABLE",
    ),
    Case(
        "rollback timeout_after after withdraw timeout_after",
        (Fault("withdraw", "timeout_after"), Fault("rollback", "timeout_after")),
        "failed",
        "ERR_WALLET_UNAVAILABLE",
    ),
    Case(
        "rollback drop after withdraw http_500",
        (Fault("withdraw", "http_500"), Fault("rollback", "drop")),
        "failed",
        "ERR_WALLET_UNAVAILABLE",
    ),
    Case(
        "rollback timeout_before after withdraw drop",
        (Fault("withdraw", "drop"), Fault("rollback", "timeout_before")),
        "failed",
        "ERR_WALLET_UNAVAILABLE",
    ),
    Case(
        "rollback latency after withdraw drop",
        (Fault("withdraw", "drop"), Fault("rollback", "latency")),
        "failed",
        "ERR_WALLET_UNAVAILABLE",
    ),
    Case(
        "rollback error after withdraw drop",
        (Fault("withdraw", "drop"), Fault("rollback", "error")),
        "failed",
        "ERR_WALLET_UNAVAILABLE",
    ),
    Case(
        "rollback after a refused deposit, rollback http_500",
        (Fault("transfer", "error", error_code="ERR_UNKNOWN"), Fault("rollback", "http_500")),
        "failed",
        "ERR_UNKNOWN",
    ),
]


@pytest.mark.parametrize("case", JOIN_CASES, ids=lambda case: case.name)
def test_join_with_fault(world, case: Case):
    # given
    player = Player.init(world, "f1")
    installed = _install(world, case.faults)
    # when
    response = player.join("s1", "40")
    settle()
    _drain(installed)
    # then
    _assert_fired(installed)
    body = response.json()
    position_id = body.get("id") or body["position"]["id"]
    position = Position.objects.get(pk=position_id)
    assert position.status == case.expect, (response.status_code, body, position.failure_code)
    if case.failure_code:
        assert position.failure_code == case.failure_code
        assert response.status_code >= 400 or body["status"] == "joining"
    expected_f1 = Decimal(460) if case.expect == "active" else Decimal(500)
    assert world.balance("f1") == expected_f1
    assert_ledgers_match(world)
    _finish(world, player, position_id)


LEAVE_CASES = [
    # The WITHDRAWAL transfer: in doubt is asked again with the same id.
    Case("withdrawal transfer timeout_after", (Fault("transfer", "timeout_after"),), "closed"),
    Case("withdrawal transfer timeout_before", (Fault("transfer", "timeout_before"),), "closed"),
    Case("withdrawal transfer http_500", (Fault("transfer", "http_500", remaining=3),), "closed"),
    Case("withdrawal transfer drop", (Fault("transfer", "drop"),), "closed"),
    # A refusal: insufficient balance re-prices with a new id; anything else waits for review.
    Case(
        "withdrawal transfer insufficient balance",
        (Fault("transfer", "error", error_code="ERR_INSUFFICIENT_BALANCE"),),
        "closed",
    ),
    Case(
        "withdrawal transfer refused",
        (Fault("transfer", "error", error_code="ERR_UNKNOWN"),),
        "closed",
    ),
    # The WIN: retried with the same id until paid; a 409 on a retry means already paid.
    Case("win http_500", (Fault("deposit", "http_500", remaining=2),), "closed"),
    Case("win timeout_after", (Fault("deposit", "timeout_after"),), "closed"),
    Case("win timeout_before", (Fault("deposit", "timeout_before"),), "closed"),
    Case("win drop", (Fault("deposit", "drop"),), "closed"),
    Case("win latency", (Fault("deposit", "latency"),), "closed"),
    Case("win error", (Fault("deposit", "error"),), "closed"),
    # game-pool CLOSE and the balance read of the leave.
    Case("game-pool CLOSE http_500", (Fault("game-pool", "http_500"),), "closed"),
    Case("game-pool CLOSE timeout_after", (Fault("game-pool", "timeout_after"),), "closed"),
    Case("game-pool CLOSE error", (Fault("game-pool", "error"),), "closed"),
    Case(
        "leave streamer-balance timeout_before",
        (Fault("streamer-balance", "timeout_before"),),
        "closed",
    ),
    Case(
        "leave streamer-balance error",
        (Fault("streamer-balance", "error", error_code="ERR_BALANCE_FORBIDDEN"),),
        "closed",
    ),
]


@pytest.mark.parametrize("case", LEAVE_CASES, ids=lambda case: case.name)
def test_leave_with_fault(world, case: Case):
    # given: f1 in s1's pool
    player = Player.init(world, "f1")
    joined = player.join("s1", "40")
    assert joined.status_code == 201, joined.text
    position_id = joined.json()["id"]
    installed = _install(world, case.faults)
    # when
    response = player.leave(position_id)
    settle()
    _drain(installed)
    # then
    assert response.status_code in (200, 202), response.text
    _assert_fired(installed)
    position = Position.objects.get(pk=position_id)
    assert position.status == case.expect
    assert position.payout == Decimal("40")
    assert world.balance("f1") == Decimal(500)
    withdrawals = Transaction.objects.filter(kind="streamer_withdrawal", status="succeeded")
    assert withdrawals.count() == 1
    assert_ledgers_match(world)
    _finish(world, player, position_id)


def test_a_refused_win_is_flagged_for_review_and_paid_once_the_wallet_accepts(world):
    # given: a wallet that refuses the WIN until staff fix it
    player = Player.init(world, "f1")
    position_id = player.join("s1", "40").json()["id"]
    (fault,) = _install(world, (Fault("deposit", "error", remaining=None),))
    # when
    response = player.leave(position_id)
    # then: the follower is told it is on its way; staff see it in review
    assert response.status_code == 202 and response.json()["status"] == "leaving"
    win = Transaction.objects.get(kind="follower_credit")
    assert win.needs_review and win.status == "pending"
    assert Saga.objects.get(kind="leave").needs_review
    assert_ledgers_match(world, settled=False)
    # when the wallet accepts again, the resume pays it (once)
    fault.enabled = False
    fault.save(update_fields=["enabled"])
    settle()
    assert Position.objects.get(pk=position_id).status == "closed"
    assert world.balance("f1") == Decimal(500)
    assert_ledgers_match(world)
