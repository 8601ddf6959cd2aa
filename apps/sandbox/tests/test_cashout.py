"""The withdrawal lock: a streamer cannot cash out while the operator was told the pool is OPEN."""

from decimal import Decimal

import pytest

from apps.core import wire
from apps.sandbox.errors import SandboxWithdrawalLocked
from apps.sandbox.services import sandbox_cashout, sandbox_game_pool_set
from apps.sandbox.tests.conftest import post_callback

pytestmark = pytest.mark.django_db


def cash_out(client, operator, user_id="streamer-1", amount="50"):
    return client.post(
        f"/sandbox/{operator.slug}/cashout",
        data=wire.dumps({"userId": user_id, "amount": amount}),
        content_type="application/json",
    )


def test_service_refuses_while_open_and_moves_nothing(operator, streamer):
    # given
    sandbox_game_pool_set(operator=operator, user_id="streamer-1", state="OPEN")
    # when / then
    with pytest.raises(SandboxWithdrawalLocked) as raised:
        sandbox_cashout(account=streamer, amount=Decimal("50"))
    assert raised.value.code == "ERR_WITHDRAWAL_LOCKED"
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("805")


def test_service_allows_after_close(operator, streamer):
    # given
    sandbox_game_pool_set(operator=operator, user_id="streamer-1", state="OPEN")
    sandbox_game_pool_set(operator=operator, user_id="streamer-1", state="CLOSE")
    # when
    account = sandbox_cashout(account=streamer, amount=Decimal("50"))
    # then
    assert account.balance == Decimal("755")
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("755")


def test_service_reads_the_lock_from_the_database_not_the_stale_instance(operator, streamer):
    # given: the instance in hand predates the OPEN
    stale = streamer
    sandbox_game_pool_set(operator=operator, user_id="streamer-1", state="OPEN")
    # when / then
    with pytest.raises(SandboxWithdrawalLocked):
        sandbox_cashout(account=stale, amount=Decimal("1"))


def test_endpoint_refuses_while_open_then_allows_after_close(client, operator, streamer):
    # given: CopyStake opened the pool through the signed callback
    post_callback(client, operator, "game-pool", {"userId": "streamer-1", "state": "OPEN"})
    # when
    locked = cash_out(client, operator)
    post_callback(client, operator, "game-pool", {"userId": "streamer-1", "state": "CLOSE"})
    allowed = cash_out(client, operator)
    # then
    assert locked.status_code == 409
    assert wire.loads(locked.content)["errorCode"] == "ERR_WITHDRAWAL_LOCKED"
    assert allowed.status_code == 200
    assert allowed.content == b'{"balance":755,"currency":"USD"}'


def test_endpoint_insufficient_balance(client, operator, streamer):
    response = cash_out(client, operator, amount="805.00000001")
    assert response.status_code == 400
    assert wire.loads(response.content)["errorCode"] == "ERR_INSUFFICIENT_BALANCE"


def test_endpoint_unknown_user(client, operator, streamer):
    response = cash_out(client, operator, user_id="ghost")
    assert response.status_code == 400
    assert wire.loads(response.content)["errorCode"] == "ERR_INVALID_USER"


def test_endpoint_bad_amount(client, operator, streamer):
    response = cash_out(client, operator, amount="-5")
    assert response.status_code == 400
    assert wire.loads(response.content)["errorCode"] == "ERR_UNKNOWN"
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("805")


def test_transfers_still_work_while_open(client, operator, streamer):
    # given: the lock only stops the streamer's own cash-outs, not CopyStake's transfers
    post_callback(client, operator, "game-pool", {"userId": "streamer-1", "state": "OPEN"})
    # when
    response = post_callback(
        client,
        operator,
        "transfer",
        {"id": "t1", "userId": "streamer-1", "type": "WITHDRAWAL", "amount": 5, "currency": "USD"},
    )
    # then
    assert response.status_code == 200
    assert response.content == b'{"balance":800,"currency":"USD"}'
