"""Top-up and partial leave over real HTTP against the sandbox operator, with its faults on
the routes they use: the position ends where it should, the follower's wallet says what it
should, and the sandbox's books equal our ledger (receipts included: one per applied price)."""

from decimal import Decimal

import pytest

from apps.followers.models import Position
from apps.transactions.models import Receipt, Saga, Transaction
from tests.e2e.conftest import assert_ledgers_match
from tests.e2e.test_faults import Case, Fault, _assert_fired, _drain, _finish, _install
from tests.e2e.world import Player, settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOP_UP_CASES = [
    # The BET: in doubt is rolled back, the top-up fails, the position stays as it was.
    Case("withdraw timeout_after", (Fault("withdraw", "timeout_after"),), "failed"),
    Case("withdraw drop", (Fault("withdraw", "drop"),), "failed"),
    Case("withdraw error", (Fault("withdraw", "error"),), "failed"),
    # The DEPOSIT: in doubt is asked again with the same id; a refusal refunds the BET.
    Case("deposit transfer timeout_after", (Fault("transfer", "timeout_after"),), "done"),
    Case("deposit transfer http_500", (Fault("transfer", "http_500", remaining=3),), "done"),
    Case("deposit transfer latency", (Fault("transfer", "latency"),), "done"),
    Case(
        "deposit transfer error",
        (Fault("transfer", "error", error_code="ERR_TRANSFER_FORBIDDEN"),),
        "failed",
    ),
    Case("streamer-balance http_500", (Fault("streamer-balance", "http_500", 2),), "done"),
    Case(
        "rollback http_500 after withdraw drop",
        (Fault("withdraw", "drop"), Fault("rollback", "http_500", remaining=2)),
        "failed",
    ),
]


@pytest.mark.parametrize("case", TOP_UP_CASES, ids=lambda case: case.name)
def test_top_up_with_fault(world, case: Case):
    # given: f1 in s1's pool with 40
    player = Player.init(world, "f1")
    joined = player.join("s1", "40")
    assert joined.status_code == 201, joined.text
    position_id = joined.json()["id"]
    installed = _install(world, case.faults)
    # when
    response = player.top_up(position_id, "25")
    settle()
    _drain(installed)
    # then
    _assert_fired(installed)
    saga = Saga.objects.get(kind="top_up")
    assert saga.status == case.expect, (response.status_code, response.text, saga.last_error)
    position = Position.objects.get(pk=position_id)
    assert position.status == "active"
    topped = case.expect == "done"
    assert position.contributed == Decimal(65 if topped else 40)
    assert world.balance("f1") == Decimal(435 if topped else 460)
    assert Receipt.objects.filter(kind="top_up").count() == (1 if topped else 0)
    if topped:
        receipt = Receipt.objects.get(kind="top_up")
        deposit = saga.transactions.get(kind="streamer_deposit", status="succeeded")
        assert receipt.deposit_external_id == deposit.external_id
        assert position.units == receipt.total_units_after - receipt.total_units_before + (
            Receipt.objects.get(kind="join").units
        )
    else:
        assert response.status_code >= 400 or response.status_code == 202
        assert position.units == Receipt.objects.get(kind="join").units
    assert_ledgers_match(world)
    _finish(world, player, position_id)
    assert world.balance("f1") == Decimal(500)


PARTIAL_CASES = [
    Case("withdrawal transfer timeout_after", (Fault("transfer", "timeout_after"),), "active"),
    Case("withdrawal transfer drop", (Fault("transfer", "drop"),), "active"),
    Case(
        "withdrawal transfer insufficient balance",
        (Fault("transfer", "error", error_code="ERR_INSUFFICIENT_BALANCE"),),
        "active",
    ),
    Case("win http_500", (Fault("deposit", "http_500", remaining=2),), "active"),
    Case("win timeout_after", (Fault("deposit", "timeout_after"),), "active"),
    Case("win latency", (Fault("deposit", "latency"),), "active"),
    Case(
        "leave streamer-balance timeout_before",
        (Fault("streamer-balance", "timeout_before"),),
        "active",
    ),
]


@pytest.mark.parametrize("case", PARTIAL_CASES, ids=lambda case: case.name)
def test_partial_leave_with_fault(world, case: Case):
    # given: f1 in s1's pool with 40 (40 units at NAV 1)
    player = Player.init(world, "f1")
    joined = player.join("s1", "40")
    assert joined.status_code == 201, joined.text
    position_id = joined.json()["id"]
    installed = _install(world, case.faults)
    # when: a quarter of it leaves
    response = player.leave_part(position_id, fraction="0.25")
    settle()
    _drain(installed)
    # then: 10 paid once, 30 units still in
    assert response.status_code in (200, 202), response.text
    _assert_fired(installed)
    position = Position.objects.get(pk=position_id)
    assert (position.status, position.units, position.payout) == (
        case.expect,
        Decimal(30),
        Decimal(10),
    )
    assert world.balance("f1") == Decimal(470)
    withdrawals = Transaction.objects.filter(kind="streamer_withdrawal", status="succeeded")
    assert [w.amount for w in withdrawals] == [Decimal(10)]
    receipt = Receipt.objects.get(kind="leave")
    assert receipt.withdrawal_external_id == withdrawals[0].external_id
    assert receipt.win_external_id == Transaction.objects.get(kind="follower_credit").external_id
    assert_ledgers_match(world)
    _finish(world, player, position_id)
    assert Position.objects.get(pk=position_id).payout == Decimal(40)
    assert world.balance("f1") == Decimal(500)
