"""The streamer's performance fee over real HTTP against the sandbox operator (issue 13): the
follower's WITHDRAWAL and WIN at the sandbox are the value less the fee to the last of 8
decimals, the fee is a ledger row of its own (never sent), the receipt and the position say
it, and the fee's units pass to the streamer's, so the pool stays conserved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from apps.followers.models import Position
from apps.pools.accounting import leave_price
from apps.pools.models import Pool
from apps.sandbox.models import SandboxTransfer, SandboxWalletTx
from apps.sandbox.services import sandbox_play_bet
from apps.streamers.services import streamer_update
from apps.transactions.models import JournalEntry, Receipt, Saga, Transaction
from apps.transactions.services import streams_end
from tests.e2e.conftest import assert_ledgers_match
from tests.e2e.world import Player, settle

pytestmark = [pytest.mark.django_db(transaction=True)]

D = Decimal
Kind = Transaction.Kind
CENT = D("0.00000001")
UNIT_DUST = D("1e-9")


def same(a: Decimal | None, b: Decimal | None, *, dust: Decimal = UNIT_DUST) -> bool:
    """Equal: exactly on PostgreSQL; on SQLite (development only), whose decimal columns keep
    about 15 significant digits, within ``dust``."""
    if a is None or b is None:
        return a is b
    return a == b if connection.vendor != "sqlite" else abs(a - b) <= dust


@pytest.fixture
def fee_world(world):
    """s1 charges 20 % above the mark, s2 nothing (the operator's default, 0)."""
    streamer_update(streamer=world.streamers["s1"], performance_fee_percent=D(20))
    return world


def _wins(world, user_id: str, percent: str) -> None:
    """The streamer's balance grows by ``percent`` (a bet of that share of it, paid 2x)."""
    assert sandbox_play_bet(account=world.account(user_id), percent=D(percent), wins=True)


def _loses(world, user_id: str, percent: str) -> None:
    assert sandbox_play_bet(account=world.account(user_id), percent=D(percent), wins=False)


def _leave_of(saga: Saga) -> tuple[Transaction, Transaction | None, Receipt]:
    withdrawal = saga.transactions.get(kind=Kind.STREAMER_WITHDRAWAL, status="succeeded")
    fee = saga.transactions.filter(kind=Kind.PERFORMANCE_FEE).first()
    return withdrawal, fee, Receipt.objects.get(saga=saga)


def _assert_sandbox_paid(world, withdrawal: Transaction, *, user_id: str) -> None:
    """The sandbox saw the WITHDRAWAL and the WIN of the net payout, to 8 places."""
    transfer = SandboxTransfer.objects.get(transfer_id=withdrawal.external_id)
    assert (transfer.transfer_type, transfer.amount) == ("WITHDRAWAL", withdrawal.amount)
    assert withdrawal.saga is not None
    win = withdrawal.saga.transactions.get(kind=Kind.FOLLOWER_CREDIT)
    deposit = SandboxWalletTx.objects.get(provider_tx_id=win.external_id)
    assert (deposit.kind, deposit.user_id, deposit.amount) == ("deposit", user_id, win.amount)
    assert win.amount == withdrawal.amount


def _assert_full_leave_priced_by_the_rule(withdrawal: Transaction, receipt: Receipt) -> None:
    """A full leave's figures are ``leave_price`` on what it was priced on, exactly: all its
    units, all the mark."""
    assert receipt.high_water_mark is not None
    price = leave_price(
        units=receipt.units,
        position_units=receipt.units,
        mark=receipt.high_water_mark,
        fee_percent=receipt.fee_percent,
        balance=receipt.balance,
        total_units=receipt.total_units_before,
    )
    assert same(withdrawal.amount, price.payout, dust=CENT)
    assert same(withdrawal.fee, price.fee, dust=CENT)
    assert same(withdrawal.fee_units, price.fee_units) and same(withdrawal.fee_mark, price.mark)
    assert same(receipt.gross_amount, price.value, dust=CENT)
    assert receipt.amount == withdrawal.amount and receipt.fee == withdrawal.fee
    assert receipt.gross_amount == receipt.amount + receipt.fee
    assert same(receipt.fee_units, price.fee_units)
    assert same(receipt.total_units_after, receipt.total_units_before - price.redeemed)


def test_a_full_leave_with_profit_pays_the_value_less_twenty_percent_above_the_mark(fee_world):
    world = fee_world
    # given: f1 joins s1's pool with 100 beside s1's 1000, and s1 wins 10 %
    f1 = Player.init(world, "f1")
    joined = f1.join("s1", "100").json()
    assert (joined["performanceFeePercent"], joined["highWaterMark"]) == (
        "20.0000",
        "100.00000000",
    )
    _wins(world, "s1", "0.1")  # 1100 -> 1210
    # when: f1 leaves
    left = f1.leave(joined["id"])
    # then: the units are worth 110, 10 above the mark; 20 % of it, 2, stays with s1
    assert left.status_code == 200, left.text
    body = left.json()
    assert (body["status"], body["payout"], body["feesPaid"], body["highWaterMark"]) == (
        "closed",
        "108.00000000",
        "2.00000000",
        "0.00000000",
    )
    saga = Saga.objects.get(kind="leave")
    withdrawal, fee, receipt = _leave_of(saga)
    assert (withdrawal.amount, withdrawal.fee, withdrawal.fee_mark) == (D(108), D(2), D(100))
    _assert_sandbox_paid(world, withdrawal, user_id="f1")
    assert world.balance("f1") == D("508")
    assert world.balance("s1") == D("1102")  # 1210 less the net 108: the fee never left
    # and the fee is a row of its own, succeeded, never sent, posted to the journal
    assert fee is not None
    assert (fee.status, fee.amount, fee.units) == ("succeeded", D(2), withdrawal.fee_units)
    assert same(fee.units, D("1.818181818181818181"))  # 2 at NAV 1.1, rounded down to 18
    assert (fee.priced_balance, fee.priced_total_units) == (D(1210), D(1100))
    assert (fee.follower_id, fee.streamer_id, fee.pool_id) == (
        withdrawal.follower_id,
        withdrawal.streamer_id,
        withdrawal.pool_id,
    )
    assert not SandboxTransfer.objects.filter(transfer_id=fee.external_id).exists()
    entry = JournalEntry.objects.get(transaction=fee)
    assert sorted(line.amount for line in entry.lines.all()) == [D(-2), D(2)]
    # and the receipt says it all
    assert (
        receipt.amount,
        receipt.gross_amount,
        receipt.fee,
        receipt.fee_percent,
        receipt.high_water_mark,
        receipt.fee_units,
        receipt.fee_external_id,
    ) == (D(108), D(110), D(2), D(20), D(100), fee.units, fee.external_id)
    # and the fee's units are the streamer's now: the pool keeps them
    pool = Pool.objects.get(pk=joined["poolId"])
    assert same(pool.streamer_units, D(1000) + fee.units)
    assert same(pool.total_units, pool.streamer_units)
    assert same(pool.total_units, receipt.total_units_after)
    # and the player API shows it on the position and its receipt
    detail = f1.position(joined["id"])
    leave = detail["receipts"][-1]
    assert (
        leave["amount"],
        leave["grossAmount"],
        leave["fee"],
        leave["feePercent"],
        leave["highWaterMark"],
        leave["feeId"],
    ) == (
        "108.00000000",
        "110.00000000",
        "2.00000000",
        "20.0000",
        "100.00000000",
        fee.external_id,
    )
    assert same(D(leave["feeUnits"]), D("1.818181818181818181"))
    assert detail["receipts"][0]["grossAmount"] is None  # the join
    # and the statement lists the fee beside the WIN, and totals it apart from the wallet
    statement = f1.client.get("statement").json()
    assert [(m["kind"], m["amount"]) for m in statement["movements"]][:2] in (
        [("FEE", "2.00000000"), ("WIN", "108.00000000")],
        [("WIN", "108.00000000"), ("FEE", "2.00000000")],
    )
    assert statement["totals"] == [
        {
            "currency": "USD",
            "moneyIn": "108.00000000",
            "moneyOut": "100.00000000",
            "net": "8.00000000",
            "fees": "2.00000000",
        }
    ]
    assert_ledgers_match(world)


def test_a_partial_leave_carries_its_share_of_the_mark(fee_world):
    world = fee_world
    # given: f1 in s1's pool with 100, s1 wins 10 %
    f1 = Player.init(world, "f1")
    joined = f1.join("s1", "100").json()
    _wins(world, "s1", "0.1")
    # when: f1 takes half out
    part = f1.leave_part(joined["id"], fraction="0.5")
    assert part.status_code == 200, part.text
    # then: 50 units worth 55 carry half the mark, 50: the fee is 20 % of 5
    saga = Saga.objects.get(kind="leave")
    withdrawal, fee, receipt = _leave_of(saga)
    assert (receipt.gross_amount, receipt.high_water_mark, receipt.fee, receipt.amount) == (
        D(55),
        D(50),
        D(1),
        D(54),
    )
    _assert_sandbox_paid(world, withdrawal, user_id="f1")
    assert fee is not None and fee.amount == D(1)
    position = Position.objects.get(pk=joined["id"])
    assert (position.status, position.high_water_mark, position.fees_paid) == (
        "active",
        D(50),
        D(1),
    )
    assert same(position.units, D(50))
    assert f1.position(joined["id"])["highWaterMark"] == "50.00000000"
    # when: the rest leaves at the balance left (1210 - 54)
    pool = Pool.objects.get(pk=joined["poolId"])
    expected = leave_price(
        units=position.units,
        position_units=position.units,
        mark=position.high_water_mark,
        fee_percent=D(20),
        balance=D(1156),
        total_units=pool.total_units,
    )
    assert f1.leave(joined["id"]).status_code == 200
    # then: the second leave is the rule applied to what remained, to the last decimal
    second = Saga.objects.filter(kind="leave").order_by("-pk").first()
    withdrawal, fee, receipt = _leave_of(second)
    assert same(withdrawal.amount, expected.payout, dust=CENT)
    assert same(withdrawal.fee, expected.fee, dust=CENT)
    assert same(withdrawal.fee_units, expected.fee_units)
    _assert_sandbox_paid(world, withdrawal, user_id="f1")
    position.refresh_from_db()
    assert position.fees_paid == D(1) + withdrawal.fee
    assert position.payout == D(54) + withdrawal.amount
    assert position.high_water_mark == 0 and position.units == 0
    # the follower's money: paid + fees == what the units were worth
    gross = sum(r.gross_amount for r in Receipt.objects.filter(kind="leave"))
    assert position.payout + position.fees_paid == gross
    assert_ledgers_match(world)


def test_a_leave_at_a_loss_pays_no_fee(fee_world):
    world = fee_world
    f1 = Player.init(world, "f1")
    joined = f1.join("s1", "100").json()
    _loses(world, "s1", "0.1")  # 1100 -> 990: f1's 100 units are worth 90
    left = f1.leave(joined["id"]).json()
    assert (left["payout"], left["feesPaid"]) == ("90.00000000", "0.00000000")
    withdrawal, fee, receipt = _leave_of(Saga.objects.get(kind="leave"))
    assert fee is None
    assert (withdrawal.amount, withdrawal.fee, withdrawal.fee_units) == (D(90), D(0), D(0))
    assert (receipt.gross_amount, receipt.fee, receipt.high_water_mark) == (D(90), D(0), D(100))
    assert receipt.fee_external_id == ""
    _assert_sandbox_paid(world, withdrawal, user_id="f1")
    assert not Transaction.objects.filter(kind=Kind.PERFORMANCE_FEE).exists()
    assert_ledgers_match(world)


def test_a_top_up_raises_the_mark(fee_world):
    world = fee_world
    # given: f1 in with 100, s1 wins 10 % (f1's worth 110), then f1 tops up 50
    f1 = Player.init(world, "f1")
    joined = f1.join("s1", "100").json()
    _wins(world, "s1", "0.1")
    topped = f1.top_up(joined["id"], "50")
    assert topped.status_code in (200, 201), topped.text
    position = Position.objects.get(pk=joined["id"])
    assert (position.contributed, position.high_water_mark) == (D(150), D(150))
    assert f1.position(joined["id"])["highWaterMark"] == "150.00000000"
    # when: f1 leaves at that balance
    pool = Pool.objects.get(pk=joined["poolId"])
    expected = leave_price(
        units=position.units,
        position_units=position.units,
        mark=D(150),
        fee_percent=D(20),
        balance=D(1260),
        total_units=pool.total_units,
    )
    f1.leave(joined["id"])
    # then: the fee is on the 10 above 150, not on 60 above 100
    withdrawal, fee, receipt = _leave_of(Saga.objects.get(kind="leave"))
    assert receipt.high_water_mark == D(150)
    assert D("1.99") < expected.fee <= D(2)  # 20 % of about 10 (without the top-up: of 60)
    assert same(withdrawal.amount, expected.payout, dust=CENT)
    assert same(withdrawal.fee, expected.fee, dust=CENT)
    assert fee is not None and fee.amount == withdrawal.fee
    _assert_sandbox_paid(world, withdrawal, user_id="f1")
    assert_ledgers_match(world)


def test_a_take_profit_and_a_stop_loss_leave_pay_the_fee_rule(fee_world):
    world = fee_world
    # given: f1 with a take-profit at +5 %, f2 with a stop-loss at -5 %, both in s1's pool
    f1, f2, f3 = Player.init(world, "f1"), Player.init(world, "f2"), Player.init(world, "f3")
    first = f1.join("s1", "100").json()
    limits = f1.client.put(f"positions/{first['id']}/limits", json={"takeProfit": "+5%"})
    assert limits.status_code == 200, limits.text
    # when: s1 wins 10 % and f3's join reads the balance: f1's take-profit fires
    _wins(world, "s1", "0.1")
    assert f3.join("s1", "10").status_code == 201
    settle()
    # then: f1 was paid the value less 20 % of the profit above the mark
    taken = Saga.objects.get(kind="leave", position_id=first["id"])
    withdrawal, fee, receipt = _leave_of(taken)
    assert Position.objects.get(pk=first["id"]).leave_reason == "take_profit"
    assert receipt.high_water_mark == D(100) and D("1.99") < receipt.fee <= D(2)
    _assert_full_leave_priced_by_the_rule(withdrawal, receipt)
    _assert_sandbox_paid(world, withdrawal, user_id="f1")
    # given: f2 joins with a stop-loss; when: s1 loses a quarter, f3's top-up reads it
    second = f2.join("s1", "100").json()
    limits = f2.client.put(f"positions/{second['id']}/limits", json={"stopLoss": "-5%"})
    assert limits.status_code == 200, limits.text
    _loses(world, "s1", "0.25")
    f3.top_up(f3.client.get("positions").json()[0]["id"], "5")
    settle()
    # then: the stop-loss leave is at a loss: no fee
    stopped = Saga.objects.get(kind="leave", position_id=second["id"])
    withdrawal, fee, receipt = _leave_of(stopped)
    assert Position.objects.get(pk=second["id"]).leave_reason == "stop_loss"
    assert fee is None and receipt.fee == 0 and receipt.gross_amount == withdrawal.amount
    assert receipt.gross_amount < receipt.high_water_mark
    _assert_full_leave_priced_by_the_rule(withdrawal, receipt)
    _assert_sandbox_paid(world, withdrawal, user_id="f2")
    assert_ledgers_match(world)


def test_the_stream_end_pays_every_follower_net_of_the_fee(fee_world):
    world = fee_world
    # given: f1 and f2 in s1's pool (20 %), f3 in s2's (no fee); both streamers win 10 %
    f1, f2, f3 = Player.init(world, "f1"), Player.init(world, "f2"), Player.init(world, "f3")
    ids = {
        "f1": f1.join("s1", "100").json()["id"],
        "f2": f2.join("s1", "300").json()["id"],
        "f3": f3.join("s2", "100").json()["id"],
    }
    _wins(world, "s1", "0.1")  # 1400 -> 1540
    _wins(world, "s2", "0.1")  # 600 -> 660
    # when: both streams end
    streams_end(stream=world.streams["s1"], reason="e2e: over")
    streams_end(stream=world.streams["s2"], reason="e2e: over")
    settle()
    # then: each leave is the rule applied to its price, the WITHDRAWAL and WIN net of it
    fees, paid = {}, D(0)
    for user_id, position_id in ids.items():
        saga = Saga.objects.get(kind="leave", position_id=position_id)
        withdrawal, fee, receipt = _leave_of(saga)
        _assert_full_leave_priced_by_the_rule(withdrawal, receipt)
        _assert_sandbox_paid(world, withdrawal, user_id=user_id)
        fees[user_id] = receipt.fee
        paid += withdrawal.amount if user_id != "f3" else 0
        assert Position.objects.get(pk=position_id).leave_reason == "stream_end"
    # 20 % of 10 and of 30 (the second priced after the first: to the last decimal or so)
    assert abs(fees["f1"] - D(2)) <= D("0.00000002") and abs(fees["f2"] - D(6)) <= D("0.00000002")
    assert fees["f3"] == 0  # s2 charges no fee
    # and each pool's units are the streamer's, the fees' included
    pool = Pool.objects.get(streamer=world.streamers["s1"])
    fee_units = sum(
        Transaction.objects.filter(kind=Kind.PERFORMANCE_FEE, pool=pool).values_list(
            "units", flat=True
        )
    )
    assert same(pool.streamer_units, D(1000) + fee_units)
    assert same(pool.total_units, pool.streamer_units)
    assert world.balance("s1") == D(1540) - paid
    assert_ledgers_match(world)
