"""The money flows end to end over real HTTP: operator API -> player API -> our sagas ->
the sandbox operator's callbacks and wallet, all through the live server."""

import random
from decimal import Decimal

import httpx
import pytest

from apps.followers.models import Position
from apps.pools.models import Pool
from apps.sandbox.models import SandboxAccount, SandboxTransfer, SandboxWalletTx
from apps.sandbox.services import sandbox_play_round
from apps.transactions.models import Transaction
from apps.transactions.services import streams_end
from tests.e2e.conftest import assert_ledgers_match
from tests.e2e.world import Player, init_url, operator_call, settle, token_of

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_init_join_and_leave(world):
    # given: the operator opens a session for f1 through the signed operator API
    url = init_url(world, "f1")
    assert url.startswith(f"{world.base}/play/?token=")
    player = Player(world, token_of(url))
    # when: f1 joins s1's pool with 50, then leaves
    joined = player.join("s1", "50")
    # then
    assert joined.status_code == 201, joined.text
    position = joined.json()
    assert (position["status"], position["contributed"], position["value"]) == (
        "active",
        "50.00000000",
        "50.00000000",
    )
    assert world.balance("f1") == Decimal("450")
    assert world.balance("s1") == Decimal("1050")
    assert world.account("s1").pool_state == "OPEN"
    lobby = {entry["streamerId"]: entry for entry in player.lobby()}
    assert lobby[world.streamers["s1"].pk]["pool"]["followers"] == 1
    assert_ledgers_match(world)

    left = player.leave(position["id"])
    assert left.status_code == 200, left.text
    assert (left.json()["status"], left.json()["payout"]) == ("closed", "50.00000000")
    assert world.balance("f1") == Decimal("500")
    assert world.balance("s1") == Decimal("1000")
    assert world.account("s1").pool_state == "CLOSE"
    assert Pool.objects.get(pk=position["poolId"]).state == Pool.State.CLOSED
    assert_ledgers_match(world)


def test_two_followers_share_the_streamers_play(world):
    # given
    f1, f2 = Player.init(world, "f1"), Player.init(world, "f2")
    first = f1.join("s1", "100").json()
    second = f2.join("s1", "300").json()
    # when: the streamer plays with the pool's money
    rng = random.Random(7)
    for _ in range(5):
        sandbox_play_round(operator=world.sandbox, rng=rng)
    assert_ledgers_match(world)
    out_first = f1.leave(first["id"]).json()
    out_second = f2.leave(second["id"]).json()
    # then: both are paid at the balance of their leave, in proportion to their units
    assert out_first["status"] == out_second["status"] == "closed"
    payouts = [Decimal(out_first["payout"]), Decimal(out_second["payout"])]
    assert payouts != [Decimal(100), Decimal(300)]  # the play moved the pool's value
    assert world.balance("f1") == Decimal(400) + payouts[0]
    assert world.balance("f2") == Decimal(200) + payouts[1]
    assert_ledgers_match(world)


def test_stream_end_pays_every_follower_and_closes_the_pool(world):
    # given
    players = {user_id: Player.init(world, user_id) for user_id in ("f1", "f2", "f3")}
    positions = {
        user_id: player.join("s2", amount).json()["id"]
        for (user_id, player), amount in zip(players.items(), ("10", "20", "30"), strict=True)
    }
    assert world.balance("s2") == Decimal(560)
    # when
    streams_end(stream=world.streams["s2"], reason="e2e: the broadcast is over")
    settle()
    # then
    for user_id, position_id in positions.items():
        position = players[user_id].position(position_id)
        assert position["status"] == "closed"
        assert Decimal(position["payout"]) == Decimal(position["contributed"])
    assert world.account("s2").pool_state == "CLOSE"
    assert not Pool.objects.filter(streamer=world.streamers["s2"]).exclude(state="closed").exists()
    late = players["f1"].join("s2", "10")
    assert late.status_code == 409 and late.json()["errorCode"] == "ERR_STREAMER_OFFLINE"
    assert_ledgers_match(world)


def test_bust_pool_pays_zero_and_refuses_new_money(world):
    # given: f1 in s2's pool, then the streamer loses everything at the operator
    f1, f2 = Player.init(world, "f1"), Player.init(world, "f2")
    first = f1.join("s2", "100").json()
    lost = world.balance("s2")
    SandboxAccount.objects.filter(operator=world.sandbox, user_id="s2").update(balance=0)
    # when: f2 tries to join the bust pool
    refused = f2.join("s2", "50")
    settle()
    # then: f2's BET is refunded, f1 is paid out 0 (a WIN of 0 closes the round)
    assert refused.status_code == 409, refused.text
    assert refused.json()["errorCode"] == "ERR_POOL_BUST"
    assert world.balance("f2") == Decimal(500)
    closed = f1.position(first["id"])
    assert (closed["status"], closed["payout"]) == ("closed", "0.00000000")
    assert world.balance("f1") == Decimal(400)
    win = SandboxWalletTx.objects.get(operator=world.sandbox, kind="deposit", user_id="f1")
    assert win.amount == 0
    pool = Pool.objects.get(pk=first["poolId"])
    assert pool.is_bust and pool.state == Pool.State.CLOSED
    assert world.account("s2").pool_state == "CLOSE"
    assert not SandboxTransfer.objects.filter(transfer_type="WITHDRAWAL").exists()
    assert_ledgers_match(world, adjustments={"s2": -lost})


def test_insufficient_wallet_balance_moves_nothing(world):
    player = Player.init(world, "f3")
    # when
    response = player.join("s1", "600")
    # then
    assert response.status_code == 402, response.text
    assert response.json()["errorCode"] == "ERR_INSUFFICIENT_BALANCE"
    assert response.json()["position"]["status"] == "failed"
    assert world.balance("f3") == Decimal(500) and world.balance("s1") == Decimal(1000)
    assert not SandboxTransfer.objects.exists()
    assert_ledgers_match(world)


def test_transaction_status_and_demo_mode_over_http(world):
    # given: a real join, so there is a BET to ask about
    player = Player.init(world, "f1")
    position = player.join("s1", "25").json()
    bet = Transaction.objects.get(position_id=position["id"], kind="follower_debit")
    # when
    status = operator_call(world, "transaction-status", {"id": bet.external_id})
    demo = operator_call(world, "init-demo", {"language": "en"})
    # then
    assert status.status_code == 200, status.text
    assert status.json() | {"createdAt": None, "updatedAt": None} == {
        "id": bet.external_id,
        "type": "BET",
        "status": "SUCCEEDED",
        "amount": 25,
        "currency": "USD",
        "createdAt": None,
        "updatedAt": None,
    }
    assert demo.status_code == 200, demo.text
    demo_player = Player(world, token_of(demo.json()["url"]))
    before = (SandboxTransfer.objects.count(), SandboxWalletTx.objects.count())
    joined = demo_player.join("s1", "10")
    assert joined.status_code == 201 and joined.json()["currency"] == "DEMO"
    left = demo_player.leave(joined.json()["id"])
    assert left.status_code == 200 and left.json()["status"] == "closed"
    # Play money never reaches the operator.
    assert (SandboxTransfer.objects.count(), SandboxWalletTx.objects.count()) == before
    player.leave(position["id"])
    assert_ledgers_match(world)


def test_page_url_from_init_serves_the_player_page(world):
    url = init_url(world, "f1", stream=world.streams["s1"])
    # when: the browser opens it, and follows the redirect with the cookie it was given
    exchange = httpx.get(url, timeout=10)
    assert exchange.status_code == 302
    location = exchange.headers["Location"]
    assert location == f"/play/?stream={world.streams['s1'].uid}"
    cookie = f"copypool_play={exchange.cookies['copypool_play']}"
    page = httpx.get(f"{world.base}{location}", headers={"Cookie": cookie}, timeout=10)
    # then
    assert page.status_code == 200
    assert "X-Frame-Options" not in page.headers
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert 'id="play-config"' in page.text and str(world.streams["s1"].uid) in page.text
    script = httpx.get(f"{world.base}/static/play/play.js", timeout=10)
    assert script.status_code == 200 and "Authorization" in script.text
    expired = httpx.get(f"{world.base}/play/?token=garbage", timeout=10)
    assert expired.status_code == 401 and "ERR_UNAUTHORIZED" in expired.text
    assert not Position.objects.exists()


def test_the_ledger_check_catches_a_difference(world):
    # given: books that match
    player = Player.init(world, "f1")
    position = player.join("s1", "10").json()
    player.leave(position["id"])
    assert_ledgers_match(world)
    # when the sandbox holds one hundred-millionth more than our ledger explains
    SandboxAccount.objects.filter(user_id="f1").update(balance=Decimal("500.00000001"))
    # then
    with pytest.raises(AssertionError, match="f1: sandbox balance 500.00000001"):
        assert_ledgers_match(world)
    # and when one of our transfers disagrees with the amount the sandbox applied
    SandboxAccount.objects.filter(user_id="f1").update(balance=Decimal("500"))
    Transaction.objects.filter(kind="streamer_deposit").update(amount=Decimal("10.5"))
    with pytest.raises(AssertionError):
        assert_ledgers_match(world)
