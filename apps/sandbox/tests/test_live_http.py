"""The sandbox over a real socket: what a CopyStake HTTP client with a timeout sees."""

import json
import time
from decimal import Decimal

import httpx
import pytest

from apps.core import wire
from apps.operators.signatures import copystake_signature, wallet_signature, wallet_timestamp
from apps.sandbox.models import SandboxAccount
from apps.sandbox.services import (
    sandbox_account_create,
    sandbox_fault_set,
    sandbox_operator_create,
    sandbox_token_issue,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(live_server):
    operator = sandbox_operator_create(
        slug="live",
        name="Live",
        api_key="live-key",
        secret_key="live-secret",
        wallet_client_id="live-client",
        wallet_secret="live-wallet",
    )
    streamer = sandbox_account_create(
        operator=operator,
        user_id="s1",
        username="S",
        currency="USD",
        balance=Decimal("100"),
        is_streamer=True,
    )
    follower = sandbox_account_create(
        operator=operator, user_id="f1", username="F", currency="USD", balance=Decimal("50")
    )
    return operator, streamer, follower, live_server.url


def callback(base, name, payload, timeout=5.0):
    raw = wire.dumps(payload)
    return httpx.post(
        f"{base}/sandbox/live/copystake/{name}",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-API-KEY": "live-key",
            "X-REQUEST-SIGNATURE": copystake_signature("live-secret", raw),
        },
        timeout=timeout,
    )


def test_timeout_after_times_the_client_out_but_the_transfer_applied(world):
    # given
    operator, streamer, _, base = world
    sandbox_fault_set(
        operator=operator, route="transfer", mode="timeout_after", latency_ms=600, remaining=1
    )
    payload = {"id": "t1", "userId": "s1", "type": "DEPOSIT", "amount": 5, "currency": "USD"}
    # when
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        callback(base, "transfer", payload, timeout=0.2)
    balance_after_timeout = SandboxAccount.objects.get(pk=streamer.pk).balance
    retry = callback(base, "transfer", payload)
    # then
    assert balance_after_timeout == Decimal("105")
    assert retry.status_code == 200
    assert retry.json() == {"balance": 105, "currency": "USD"}
    assert SandboxAccount.objects.get(pk=streamer.pk).balance == Decimal("105")
    time.sleep(max(0.0, 0.7 - (time.monotonic() - started)))  # let the sleeping request finish


def test_drop_over_http_is_a_200_with_an_unparseable_body(world):
    operator, _, follower, base = world
    token = sandbox_token_issue(account=follower)
    sandbox_fault_set(operator=operator, route="withdraw", mode="drop", remaining=1)
    raw = wire.dumps(
        {
            "amount": 5,
            "currency": "USD",
            "userToken": token.token,
            "game": "g",
            "userId": "f1",
            "providerTxId": "bet-1",
        }
    )
    path = "/sandbox/live/wallet/withdraw"
    ts = wallet_timestamp()
    # when
    response = httpx.post(
        base + path,
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-VC-Client-ID": "live-client",
            "X-VC-Client-TS": ts,
            "X-VC-Client-Signature": wallet_signature("live-wallet", path, ts, raw),
        },
    )
    # then
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert SandboxAccount.objects.get(pk=follower.pk).balance == Decimal("45")


def test_game_pool_over_http_is_an_empty_200(world):
    _, streamer, _, base = world
    response = callback(base, "game-pool", {"userId": "s1", "state": "OPEN"})
    assert response.status_code == 200
    assert response.content == b""
    assert SandboxAccount.objects.get(pk=streamer.pk).pool_state == "OPEN"
