"""Fault injection: each mode, its scope, its probability and its countdown."""

import json
import time
from decimal import Decimal

import pytest

from apps.core import wire
from apps.sandbox.faults import fault_fire
from apps.sandbox.models import SandboxFault, SandboxTransfer, SandboxWalletTx
from apps.sandbox.services import sandbox_fault_set, sandbox_faults_clear
from apps.sandbox.tests.conftest import post_callback, post_wallet

pytestmark = pytest.mark.django_db

DEPOSIT = {"id": "t1", "userId": "streamer-1", "type": "DEPOSIT", "amount": 10, "currency": "USD"}


def withdraw(token, tx_id="bet-1"):
    return {
        "amount": 10,
        "currency": "USD",
        "userToken": token.token,
        "game": "copystake-pool",
        "userId": "follower-1",
        "providerTxId": tx_id,
    }


def balance_of(account) -> Decimal:
    account.refresh_from_db()
    return account.balance


def test_latency_sleeps_then_answers_normally(client, operator, streamer):
    # given
    sandbox_fault_set(operator=operator, route="transfer", mode="latency", latency_ms=60)
    # when
    started = time.monotonic()
    response = post_callback(client, operator, "transfer", DEPOSIT)
    elapsed = time.monotonic() - started
    # then
    assert elapsed >= 0.06
    assert response.status_code == 200
    assert response.content == b'{"balance":815,"currency":"USD"}'


def test_error_on_callback_is_a_definite_refusal_and_moves_nothing(client, operator, streamer):
    # given
    sandbox_fault_set(
        operator=operator, route="transfer", mode="error", error_code="ERR_TRANSFER_FORBIDDEN"
    )
    # when
    response = post_callback(client, operator, "transfer", DEPOSIT)
    # then
    assert response.status_code == 400
    assert wire.loads(response.content) == {
        "errorCode": "ERR_TRANSFER_FORBIDDEN",
        "errorMessage": "injected fault: request refused",
    }
    assert balance_of(streamer) == Decimal("805")
    assert SandboxTransfer.objects.count() == 0


def test_error_without_code_is_err_unknown(client, operator, streamer):
    sandbox_fault_set(operator=operator, route="streamer-balance", mode="error")
    response = post_callback(client, operator, "streamer-balance", {"userId": "streamer-1"})
    assert response.status_code == 400
    assert wire.loads(response.content)["errorCode"] == "ERR_UNKNOWN"


def test_error_on_wallet_is_403_and_moves_nothing(client, operator, follower, follower_token):
    sandbox_fault_set(operator=operator, route="withdraw", mode="error")
    response = post_wallet(client, operator, "withdraw", withdraw(follower_token))
    assert response.status_code == 403
    assert wire.loads(response.content) == {
        "code": 403,
        "message": "injected fault: access forbidden",
        "data": None,
    }
    assert balance_of(follower) == Decimal("100")
    assert SandboxWalletTx.objects.count() == 0


@pytest.mark.parametrize("mode, status", [("http_500", 500), ("timeout_before", 504)])
def test_http_500_and_timeout_before_move_nothing(client, operator, streamer, pauses, mode, status):
    # given
    sandbox_fault_set(operator=operator, route="transfer", mode=mode, latency_ms=25)
    # when
    response = post_callback(client, operator, "transfer", DEPOSIT)
    # then
    assert response.status_code == status
    assert wire.loads(response.content)["errorCode"] == "ERR_UNKNOWN"
    assert balance_of(streamer) == Decimal("805")
    assert SandboxTransfer.objects.count() == 0
    assert pauses == ([25] if mode == "timeout_before" else [])


@pytest.mark.parametrize("mode, status", [("http_500", 500), ("timeout_before", 504)])
def test_wallet_http_500_and_timeout_before_move_nothing(
    client, operator, follower, follower_token, pauses, mode, status
):
    sandbox_fault_set(operator=operator, route="deposit", mode=mode, latency_ms=5)
    payload = {**withdraw(follower_token), "providerTxId": "win-1"}
    response = post_wallet(client, operator, "deposit", payload)
    assert response.status_code == status
    assert wire.loads(response.content)["code"] == status
    assert balance_of(follower) == Decimal("100")
    assert SandboxWalletTx.objects.count() == 0


def test_timeout_after_moves_money_once_then_a_retry_replays(client, operator, streamer, pauses):
    # given: only the first transfer times out after applying
    sandbox_fault_set(
        operator=operator, route="transfer", mode="timeout_after", latency_ms=40, remaining=1
    )
    # when
    first = post_callback(client, operator, "transfer", DEPOSIT)
    retry = post_callback(client, operator, "transfer", DEPOSIT)
    # then: the money moved before the sleep, and only once across the retry
    assert pauses == [40]
    assert first.status_code == retry.status_code == 200
    assert first.content == retry.content == b'{"balance":815,"currency":"USD"}'
    assert balance_of(streamer) == Decimal("815")
    assert SandboxTransfer.objects.count() == 1


def test_timeout_after_on_withdraw_then_rollback_refunds(
    client, operator, follower, follower_token, pauses
):
    # given: the BET is applied but the caller never saw the answer
    sandbox_fault_set(operator=operator, route="withdraw", mode="timeout_after", latency_ms=1)
    post_wallet(client, operator, "withdraw", withdraw(follower_token))
    assert balance_of(follower) == Decimal("90")
    # when: the caller rolls it back, as the contract says it must
    response = post_wallet(
        client,
        operator,
        "rollback",
        {**withdraw(follower_token), "providerTxId": "rb-1", "rollbackProviderTxId": "bet-1"},
    )
    # then
    assert response.status_code == 200
    assert balance_of(follower) == Decimal("100")


def test_drop_moves_money_and_returns_an_unparseable_200(client, operator, streamer):
    # given
    sandbox_fault_set(operator=operator, route="transfer", mode="drop", remaining=1)
    # when
    dropped = post_callback(client, operator, "transfer", DEPOSIT)
    retry = post_callback(client, operator, "transfer", DEPOSIT)
    # then
    assert dropped.status_code == 200
    assert dropped.content == b'{"balance":815,"'
    with pytest.raises(json.JSONDecodeError):
        json.loads(dropped.content)
    assert retry.content == b'{"balance":815,"currency":"USD"}'
    assert balance_of(streamer) == Decimal("815")


def test_drop_on_wallet_moves_money(client, operator, follower, follower_token):
    sandbox_fault_set(operator=operator, route="withdraw", mode="drop")
    response = post_wallet(client, operator, "withdraw", withdraw(follower_token))
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert balance_of(follower) == Decimal("90")


def test_drop_on_empty_game_pool_body_is_still_unparseable(client, operator, streamer):
    sandbox_fault_set(operator=operator, route="game-pool", mode="drop")
    response = post_callback(
        client, operator, "game-pool", {"userId": "streamer-1", "state": "OPEN"}
    )
    assert response.status_code == 200
    assert response.content == b"{"
    streamer.refresh_from_db()
    assert streamer.pool_state == "OPEN"


def test_remaining_counts_down_and_the_fault_goes_quiet(client, operator, streamer):
    # given
    sandbox_fault_set(operator=operator, route="streamer-balance", mode="http_500", remaining=2)
    # when
    statuses = [
        post_callback(client, operator, "streamer-balance", {"userId": "streamer-1"}).status_code
        for _ in range(3)
    ]
    # then
    assert statuses == [500, 500, 200]
    fault = SandboxFault.objects.get()
    assert fault.remaining == 0
    assert fault.fired_count == 2
    assert fault.is_active is False


def test_faults_are_checked_after_authentication(client, operator, streamer):
    # given
    sandbox_fault_set(operator=operator, route="transfer", mode="http_500", remaining=1)
    # when: a request with a bad key does not consume the fault
    rejected = post_callback(client, operator, "transfer", DEPOSIT, api_key="bad")
    faulted = post_callback(client, operator, "transfer", DEPOSIT)
    # then
    assert rejected.status_code == 401
    assert faulted.status_code == 500
    assert SandboxFault.objects.get().remaining == 0


def test_fault_is_per_route(client, operator, streamer):
    sandbox_fault_set(operator=operator, route="transfer", mode="http_500")
    response = post_callback(client, operator, "streamer-balance", {"userId": "streamer-1"})
    assert response.status_code == 200


def test_fault_is_per_operator(operator, other_operator):
    sandbox_fault_set(operator=other_operator, route="transfer", mode="http_500")
    assert fault_fire(operator=operator, route="transfer") is None
    assert fault_fire(operator=other_operator, route="transfer").mode == "http_500"


def test_global_fault_applies_to_every_operator_and_own_fault_wins(operator, other_operator):
    # given
    sandbox_fault_set(operator=None, route="auth", mode="http_500")
    sandbox_fault_set(operator=operator, route="auth", mode="error")
    # when / then
    assert fault_fire(operator=operator, route="auth").mode == "error"
    assert fault_fire(operator=other_operator, route="auth").mode == "http_500"


def test_probability_zero_never_fires_and_is_not_counted(operator):
    sandbox_fault_set(operator=operator, route="auth", mode="http_500", probability=0.0)
    assert [fault_fire(operator=operator, route="auth") for _ in range(20)] == [None] * 20
    assert SandboxFault.objects.get().fired_count == 0


def test_probability_uses_the_given_rng(operator):
    # given: a fault at 50% and rolls of 0.4 then 0.6
    class Rolls:
        def __init__(self, values):
            self.values = list(values)

        def random(self):
            return self.values.pop(0)

    sandbox_fault_set(operator=operator, route="auth", mode="error", probability=0.5)
    rng = Rolls([0.4, 0.6])
    # when
    first = fault_fire(operator=operator, route="auth", rng=rng)
    second = fault_fire(operator=operator, route="auth", rng=rng)
    # then
    assert first is not None and first.mode == "error"
    assert second is None


def test_disabled_fault_does_not_fire(operator):
    fault = sandbox_fault_set(operator=operator, route="auth", mode="error")
    fault.enabled = False
    fault.save(update_fields=["enabled"])
    assert fault_fire(operator=operator, route="auth") is None


def test_fault_set_replaces_the_previous_fault_of_the_route(operator):
    sandbox_fault_set(operator=operator, route="auth", mode="error", remaining=1)
    sandbox_fault_set(operator=operator, route="auth", mode="latency", latency_ms=5)
    fault = SandboxFault.objects.get()
    assert (fault.mode, fault.latency_ms, fault.remaining) == ("latency", 5, None)


def test_fault_set_validates(operator):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        sandbox_fault_set(operator=operator, route="auth", mode="explode")
    with pytest.raises(ValidationError):
        sandbox_fault_set(operator=operator, route="auth", mode="error", probability=1.5)
    with pytest.raises(ValidationError):
        sandbox_fault_set(operator=operator, route="nowhere", mode="error")
    assert SandboxFault.objects.count() == 0


def test_faults_clear(operator, other_operator):
    # given
    sandbox_fault_set(operator=operator, route="auth", mode="error")
    sandbox_fault_set(operator=other_operator, route="auth", mode="error")
    sandbox_fault_set(operator=None, route="auth", mode="error")
    # when
    cleared_own = sandbox_faults_clear(operator=operator)
    remaining_after_own = SandboxFault.objects.count()
    cleared_all = sandbox_faults_clear()
    # then
    assert (cleared_own, remaining_after_own, cleared_all) == (1, 2, 2)
    assert SandboxFault.objects.count() == 0
