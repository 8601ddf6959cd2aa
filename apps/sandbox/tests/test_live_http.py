"""The sandbox over a real socket: what a CopyStake HTTP client with a timeout sees."""

import json
import time
from decimal import Decimal

import httpx
import pytest
from django.db import connection

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
    # given: a warm server, and a transfer that sleeps 600 ms after applying
    operator, streamer, _, base = world
    assert callback(base, "streamer-balance", {"userId": "s1"}).status_code == 200
    sandbox_fault_set(
        operator=operator, route="transfer", mode="timeout_after", latency_ms=600, remaining=1
    )
    payload = {"id": "t1", "userId": "s1", "type": "DEPOSIT", "amount": 5, "currency": "USD"}
    # when
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        callback(base, "transfer", payload, timeout=0.2)
    time.sleep(max(0.0, 0.9 - (time.monotonic() - started)))  # the server finishes its sleep
    balance_after_timeout = SandboxAccount.objects.get(pk=streamer.pk).balance
    retry = callback(base, "transfer", payload)
    # then: applied once, and the retry replays the stored answer
    assert balance_after_timeout == Decimal("105")
    assert retry.status_code == 200
    assert retry.json() == {"balance": 105, "currency": "USD"}
    assert SandboxAccount.objects.get(pk=streamer.pk).balance == Decimal("105")


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


@pytest.mark.slow
def test_concurrent_repeats_of_one_transfer_and_one_withdraw_move_money_once(world):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("in-memory SQLite shares one connection between the live server's threads")
    # given
    from concurrent.futures import ThreadPoolExecutor

    _, streamer, follower, base = world
    token = sandbox_token_issue(account=follower)
    transfer = {
        "id": "t-race",
        "userId": "s1",
        "type": "WITHDRAWAL",
        "amount": 7,
        "currency": "USD",
    }
    withdraw = wire.dumps(
        {
            "amount": 3,
            "currency": "USD",
            "userToken": token.token,
            "game": "g",
            "userId": "f1",
            "providerTxId": "bet-race",
        }
    )

    def send_withdraw(_):
        path = "/sandbox/live/wallet/withdraw"
        ts = wallet_timestamp()
        return httpx.post(
            base + path,
            content=withdraw,
            headers={
                "Content-Type": "application/json",
                "X-VC-Client-ID": "live-client",
                "X-VC-Client-TS": ts,
                "X-VC-Client-Signature": wallet_signature("live-wallet", path, ts, withdraw),
            },
            timeout=30,
        ).status_code

    # when
    with ThreadPoolExecutor(max_workers=6) as pool:
        transfers = list(pool.map(lambda _: callback(base, "transfer", transfer, 30), range(6)))
        withdraws = sorted(pool.map(send_withdraw, range(6)))
    # then
    assert {response.status_code for response in transfers} == {200}
    assert {response.content for response in transfers} == {b'{"balance":93,"currency":"USD"}'}
    assert withdraws == [200, 409, 409, 409, 409, 409]
    assert SandboxAccount.objects.get(pk=streamer.pk).balance == Decimal("93")
    assert SandboxAccount.objects.get(pk=follower.pk).balance == Decimal("47")


@pytest.mark.slow
def test_a_withdraw_racing_its_rollback_never_leaves_money_moved(world):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("in-memory SQLite shares one connection between the live server's threads")
    # given
    from concurrent.futures import ThreadPoolExecutor

    _, _, follower, base = world
    token = sandbox_token_issue(account=follower)

    def wallet(name, payload):
        raw = wire.dumps(payload)
        path = f"/sandbox/live/wallet/{name}"
        ts = wallet_timestamp()
        return httpx.post(
            base + path,
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-VC-Client-ID": "live-client",
                "X-VC-Client-TS": ts,
                "X-VC-Client-Signature": wallet_signature("live-wallet", path, ts, raw),
            },
            timeout=30,
        ).status_code

    outcomes = set()
    # when: ten BETs, each racing the rollback that refunds it
    for index in range(10):
        bet = {
            "amount": 1,
            "currency": "USD",
            "userToken": token.token,
            "game": "g",
            "userId": "f1",
            "providerTxId": f"bet-{index}",
        }
        refund = {**bet, "providerTxId": f"rb-{index}", "rollbackProviderTxId": f"bet-{index}"}
        with ThreadPoolExecutor(max_workers=2) as pool:
            withdrawn = pool.submit(wallet, "withdraw", bet)
            rolled_back = pool.submit(wallet, "rollback", refund)
            outcomes.add((withdrawn.result(), rolled_back.result()))
    # then: either the BET came first and was refunded, or it was voided and refused
    assert outcomes <= {(200, 200), (403, 408)}
    assert SandboxAccount.objects.get(pk=follower.pk).balance == Decimal("50")
