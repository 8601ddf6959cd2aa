"""The seed 003 seamless wallet as an operator answers it: /auth, /withdraw, /deposit, /rollback."""

from decimal import Decimal

import pytest

from apps.core import wire
from apps.operators.signatures import wallet_signature, wallet_timestamp
from apps.sandbox.models import SandboxAccount, SandboxWalletTx
from apps.sandbox.services import sandbox_account_create, sandbox_token_issue
from apps.sandbox.tests.conftest import WALLET_SECRET, post_wallet

pytestmark = pytest.mark.django_db


def body(response) -> dict:
    return wire.loads(response.content)


def balance_of(account) -> Decimal:
    account.refresh_from_db()
    return account.balance


def move(token, **overrides) -> dict:
    payload = {
        "amount": Decimal("10"),
        "currency": "USD",
        "userToken": token.token,
        "game": "copystake-pool",
        "userId": "follower-1",
        "providerTxId": "bet-1",
    }
    payload.update(overrides)
    return payload


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["auth", "withdraw", "deposit", "rollback"])
def test_wrong_client_id_is_403(client, operator, follower_token, name):
    response = post_wallet(client, operator, name, move(follower_token), client_id="intruder")
    assert response.status_code == 403
    assert body(response) == {"code": 403, "message": "Invalid client id", "data": None}


@pytest.mark.parametrize("name", ["auth", "withdraw", "deposit", "rollback"])
def test_bad_signature_is_403_and_moves_nothing(client, operator, follower, follower_token, name):
    # given: signed with the wrong secret
    raw = wire.dumps(move(follower_token))
    ts = wallet_timestamp()
    signature = wallet_signature("wrong", f"/sandbox/{operator.slug}/wallet/{name}", ts, raw)
    # when
    response = post_wallet(client, operator, name, raw, ts=ts, signature=signature)
    # then
    assert response.status_code == 403
    assert body(response)["code"] == 403
    assert balance_of(follower) == Decimal("100")
    assert SandboxWalletTx.objects.count() == 0


def test_signature_over_another_path_is_403(client, operator, follower_token):
    # given: a withdraw signature replayed against /deposit
    raw = wire.dumps(move(follower_token))
    ts = wallet_timestamp()
    signature = wallet_signature(
        WALLET_SECRET, f"/sandbox/{operator.slug}/wallet/withdraw", ts, raw
    )
    # when
    response = post_wallet(client, operator, "deposit", raw, ts=ts, signature=signature)
    # then
    assert response.status_code == 403


@pytest.mark.parametrize("skew_ms", [-301_000, 301_000])
def test_skewed_timestamp_is_403(client, operator, follower_token, skew_ms):
    ts = str(int(wallet_timestamp()) + skew_ms)
    response = post_wallet(client, operator, "auth", {"userToken": "x", "currency": "USD"}, ts=ts)
    assert response.status_code == 403


def test_timestamp_within_skew_is_accepted(client, operator, follower_token):
    ts = str(int(wallet_timestamp()) - 240_000)
    response = post_wallet(
        client, operator, "auth", {"userToken": follower_token.token, "currency": "USD"}, ts=ts
    )
    assert response.status_code == 200


def test_seconds_timestamp_is_rejected_as_skewed(client, operator, follower_token):
    ts = str(int(wallet_timestamp()) // 1000)
    response = post_wallet(
        client, operator, "auth", {"userToken": follower_token.token, "currency": "USD"}, ts=ts
    )
    assert response.status_code == 403


def test_signature_includes_the_query_string(client, operator, follower_token):
    # given: a request with a query string, signed over path + "?" + query
    raw = wire.dumps({"userToken": follower_token.token, "currency": "USD"})
    path = f"/sandbox/{operator.slug}/wallet/auth?trace=1"
    ts = wallet_timestamp()
    headers = {
        "X-VC-Client-ID": operator.wallet_client_id,
        "X-VC-Client-TS": ts,
        "X-VC-Client-Signature": wallet_signature(WALLET_SECRET, path, ts, raw),
    }
    # when
    response = client.post(path, data=raw, content_type="application/json", headers=headers)
    # then
    assert response.status_code == 200


@pytest.mark.parametrize("raw", [b"", b"nope", b"[]", b'{"userToken": 5'])
def test_malformed_body_is_400(client, operator, raw):
    response = post_wallet(client, operator, "withdraw", raw)
    assert response.status_code == 400
    assert body(response)["code"] == 400
    assert body(response)["data"] is None


# --- /auth -------------------------------------------------------------------------------


def test_auth_returns_the_account(client, operator, follower, follower_token):
    # when
    response = post_wallet(
        client, operator, "auth", {"userToken": follower_token.token, "currency": "USD"}
    )
    # then
    assert response.status_code == 200
    assert response.content == (
        b'{"code":200,"message":"","data":{"userId":"follower-1","username":"Follower One",'
        b'"balance":100,"currency":"USD"}}'
    )


def test_auth_unknown_token_is_401(client, operator, follower):
    response = post_wallet(client, operator, "auth", {"userToken": "nope", "currency": "USD"})
    assert response.status_code == 401
    assert body(response) == {"code": 401, "message": "Invalid token", "data": None}


def test_auth_expired_token_is_403(client, operator, expired_token):
    response = post_wallet(
        client, operator, "auth", {"userToken": expired_token.token, "currency": "USD"}
    )
    assert response.status_code == 403
    assert body(response) == {"code": 403, "message": "Expired token", "data": None}


def test_auth_token_of_another_operator_is_401(client, operator, other_operator, follower_token):
    response = post_wallet(
        client, other_operator, "auth", {"userToken": follower_token.token, "currency": "USD"}
    )
    assert response.status_code == 401


# --- /withdraw ---------------------------------------------------------------------------


def test_withdraw_debits_and_answers(client, operator, follower, follower_token):
    # when
    response = post_wallet(client, operator, "withdraw", move(follower_token))
    # then
    assert response.status_code == 200
    data = body(response)["data"]
    tx = SandboxWalletTx.objects.get(provider_tx_id="bet-1")
    assert data == {
        "clientTxId": str(tx.client_tx_id),
        "providerTxId": "bet-1",
        "newBalance": Decimal("90"),
        "oldBalance": Decimal("100"),
        "userId": "follower-1",
        "currency": "USD",
    }
    assert body(response)["code"] == 200
    assert balance_of(follower) == Decimal("90")
    assert tx.kind == "withdraw"
    assert tx.status == "ok"


def test_withdraw_duplicate_is_409_without_data_and_moves_once(
    client, operator, follower, follower_token
):
    # given
    post_wallet(client, operator, "withdraw", move(follower_token))
    # when
    response = post_wallet(client, operator, "withdraw", move(follower_token))
    # then
    assert response.status_code == 409
    assert body(response) == {
        "code": 409,
        "message": "The transaction already exists",
        "data": None,
    }
    assert balance_of(follower) == Decimal("90")


def test_withdraw_insufficient_is_402(client, operator, follower, follower_token):
    response = post_wallet(
        client, operator, "withdraw", move(follower_token, amount=Decimal("100.00000001"))
    )
    assert response.status_code == 402
    assert body(response)["code"] == 402
    assert balance_of(follower) == Decimal("100")
    assert SandboxWalletTx.objects.count() == 0


def test_withdraw_whole_balance(client, operator, follower, follower_token):
    response = post_wallet(client, operator, "withdraw", move(follower_token, amount="100"))
    assert response.status_code == 200
    assert body(response)["data"]["newBalance"] == Decimal("0")


def test_withdraw_unknown_token_is_401(client, operator, follower, follower_token):
    payload = move(follower_token, userToken="forged")
    response = post_wallet(client, operator, "withdraw", payload)
    assert response.status_code == 401
    assert balance_of(follower) == Decimal("100")


def test_withdraw_with_another_users_token_is_401(client, operator, follower, streamer):
    # given: a valid token, but of the streamer
    token = sandbox_token_issue(account=streamer)
    # when
    response = post_wallet(client, operator, "withdraw", move(token))
    # then
    assert response.status_code == 401
    assert balance_of(follower) == Decimal("100")
    assert balance_of(streamer) == Decimal("805")


def test_withdraw_unknown_user_is_401(client, operator, follower_token):
    response = post_wallet(client, operator, "withdraw", move(follower_token, userId="ghost"))
    assert response.status_code == 401


def test_withdraw_expired_token_is_403(client, operator, follower, expired_token):
    response = post_wallet(client, operator, "withdraw", move(expired_token))
    assert response.status_code == 403
    assert body(response)["message"] == "Expired token"
    assert balance_of(follower) == Decimal("100")


def test_withdraw_other_currency_is_403(client, operator, follower, follower_token):
    response = post_wallet(client, operator, "withdraw", move(follower_token, currency="ETB"))
    assert response.status_code == 403
    assert balance_of(follower) == Decimal("100")


@pytest.mark.parametrize("amount", ["0", "-1", "0.000000001", None])
def test_withdraw_bad_amount_is_400(client, operator, follower, follower_token, amount):
    response = post_wallet(client, operator, "withdraw", move(follower_token, amount=amount))
    assert response.status_code == 400
    assert balance_of(follower) == Decimal("100")


# --- /deposit ----------------------------------------------------------------------------


def test_deposit_credits(client, operator, follower, follower_token):
    response = post_wallet(
        client, operator, "deposit", move(follower_token, providerTxId="win-1", amount="12.5")
    )
    assert response.status_code == 200
    data = body(response)["data"]
    assert data["oldBalance"] == Decimal("100")
    assert data["newBalance"] == Decimal("112.5")
    assert data["providerTxId"] == "win-1"
    assert balance_of(follower) == Decimal("112.5")


def test_deposit_with_expired_token_is_accepted(client, operator, follower, expired_token):
    response = post_wallet(
        client, operator, "deposit", move(expired_token, providerTxId="win-1", amount="5")
    )
    assert response.status_code == 200
    assert balance_of(follower) == Decimal("105")


def test_deposit_with_unknown_or_missing_token_is_accepted(client, operator, follower):
    # given
    payload = {
        "amount": 5,
        "currency": "USD",
        "game": "copystake-pool",
        "userId": "follower-1",
        "providerTxId": "win-1",
    }
    # when
    first = post_wallet(client, operator, "deposit", {**payload, "userToken": "long-gone"})
    second = post_wallet(client, operator, "deposit", {**payload, "providerTxId": "win-2"})
    # then
    assert first.status_code == second.status_code == 200
    assert balance_of(follower) == Decimal("110")


def test_deposit_of_zero_closes_the_round(client, operator, follower, follower_token):
    response = post_wallet(
        client, operator, "deposit", move(follower_token, providerTxId="win-0", amount=0)
    )
    assert response.status_code == 200
    assert body(response)["data"]["newBalance"] == Decimal("100")
    assert SandboxWalletTx.objects.get(provider_tx_id="win-0").amount == Decimal("0")


def test_deposit_duplicate_is_409_and_moves_once(client, operator, follower, follower_token):
    payload = move(follower_token, providerTxId="win-1", amount="5")
    post_wallet(client, operator, "deposit", payload)
    response = post_wallet(client, operator, "deposit", payload)
    assert response.status_code == 409
    assert body(response)["data"] is None
    assert balance_of(follower) == Decimal("105")


def test_deposit_reusing_a_withdraw_id_is_409(client, operator, follower, follower_token):
    post_wallet(client, operator, "withdraw", move(follower_token))
    response = post_wallet(client, operator, "deposit", move(follower_token))
    assert response.status_code == 409
    assert balance_of(follower) == Decimal("90")


def test_deposit_unknown_user_is_401(client, operator, follower_token):
    response = post_wallet(
        client, operator, "deposit", move(follower_token, userId="ghost", providerTxId="w")
    )
    assert response.status_code == 401


def test_deposit_negative_is_400(client, operator, follower, follower_token):
    response = post_wallet(
        client, operator, "deposit", move(follower_token, providerTxId="w", amount="-1")
    )
    assert response.status_code == 400
    assert balance_of(follower) == Decimal("100")


# --- /rollback ---------------------------------------------------------------------------


def rollback(token, **overrides) -> dict:
    payload = move(token, providerTxId="rb-1", rollbackProviderTxId="bet-1")
    payload.update(overrides)
    return payload


def test_rollback_refunds_the_withdraw(client, operator, follower, follower_token):
    # given
    post_wallet(client, operator, "withdraw", move(follower_token))
    # when
    response = post_wallet(client, operator, "rollback", rollback(follower_token))
    # then
    assert response.status_code == 200
    data = body(response)["data"]
    assert data["providerTxId"] == "rb-1"
    assert data["oldBalance"] == Decimal("90")
    assert data["newBalance"] == Decimal("100")
    assert balance_of(follower) == Decimal("100")
    assert SandboxWalletTx.objects.get(provider_tx_id="bet-1").status == "rolled_back"
    assert SandboxWalletTx.objects.get(provider_tx_id="rb-1").rollback_of == "bet-1"


def test_rollback_with_expired_token_is_accepted(client, operator, follower, follower_token):
    # given: the BET went through, then the session expired
    post_wallet(client, operator, "withdraw", move(follower_token))
    follower_token.expires_at = follower_token.created_at
    follower_token.save(update_fields=["expires_at"])
    # when
    response = post_wallet(client, operator, "rollback", rollback(follower_token))
    # then
    assert response.status_code == 200
    assert balance_of(follower) == Decimal("100")


def test_rollback_duplicate_id_is_409_and_refunds_once(client, operator, follower, follower_token):
    post_wallet(client, operator, "withdraw", move(follower_token))
    post_wallet(client, operator, "rollback", rollback(follower_token))
    response = post_wallet(client, operator, "rollback", rollback(follower_token))
    assert response.status_code == 409
    assert body(response)["data"] is None
    assert balance_of(follower) == Decimal("100")


def test_rollback_of_an_already_rolled_back_withdraw_is_409(
    client, operator, follower, follower_token
):
    post_wallet(client, operator, "withdraw", move(follower_token))
    post_wallet(client, operator, "rollback", rollback(follower_token))
    response = post_wallet(
        client, operator, "rollback", rollback(follower_token, providerTxId="rb-2")
    )
    assert response.status_code == 409
    assert body(response)["message"] == "The transaction was already rolled back"
    assert balance_of(follower) == Decimal("100")
    assert not SandboxWalletTx.objects.filter(provider_tx_id="rb-2").exists()


@pytest.mark.parametrize(
    "change", [{"amount": Decimal("9")}, {"userId": "streamer-1"}, {"currency": "ETB"}]
)
def test_rollback_with_other_user_or_amount_is_403(
    client, operator, streamer, follower, follower_token, change
):
    post_wallet(client, operator, "withdraw", move(follower_token))
    response = post_wallet(client, operator, "rollback", rollback(follower_token, **change))
    assert response.status_code == 403
    assert balance_of(follower) == Decimal("90")
    assert balance_of(streamer) == Decimal("805")
    assert SandboxWalletTx.objects.get(provider_tx_id="bet-1").status == "ok"


def test_rollback_of_unknown_withdraw_is_408_and_leaves_a_tombstone(
    client, operator, follower, follower_token
):
    # when
    response = post_wallet(client, operator, "rollback", rollback(follower_token))
    # then
    assert response.status_code == 408
    assert body(response) == {"code": 408, "message": "Transaction not found", "data": None}
    void = SandboxWalletTx.objects.get(provider_tx_id="bet-1")
    assert (void.kind, void.status, void.amount) == ("void", "void", Decimal("10"))
    assert not SandboxWalletTx.objects.filter(provider_tx_id="rb-1").exists()
    assert balance_of(follower) == Decimal("100")


def test_rollback_retry_after_408_answers_408_again(client, operator, follower, follower_token):
    post_wallet(client, operator, "rollback", rollback(follower_token))
    response = post_wallet(client, operator, "rollback", rollback(follower_token))
    assert response.status_code == 408
    assert SandboxWalletTx.objects.count() == 1
    assert balance_of(follower) == Decimal("100")


def test_late_withdraw_after_void_is_refused_and_moves_nothing(
    client, operator, follower, follower_token
):
    # given: the rollback overtook its withdraw
    post_wallet(client, operator, "rollback", rollback(follower_token))
    # when
    response = post_wallet(client, operator, "withdraw", move(follower_token))
    # then
    assert response.status_code == 403
    assert body(response)["data"] is None
    assert balance_of(follower) == Decimal("100")
    assert SandboxWalletTx.objects.get(provider_tx_id="bet-1").kind == "void"


def test_rollback_naming_a_deposit_is_408(client, operator, follower, follower_token):
    post_wallet(client, operator, "deposit", move(follower_token, providerTxId="win-1"))
    response = post_wallet(
        client, operator, "rollback", rollback(follower_token, rollbackProviderTxId="win-1")
    )
    assert response.status_code == 408
    assert balance_of(follower) == Decimal("110")


def test_rollback_reusing_its_target_id_is_400(client, operator, follower, follower_token):
    post_wallet(client, operator, "withdraw", move(follower_token))
    response = post_wallet(
        client, operator, "rollback", rollback(follower_token, providerTxId="bet-1")
    )
    assert response.status_code == 400
    assert balance_of(follower) == Decimal("90")


def test_wallet_ids_are_per_operator(client, operator, other_operator, follower, follower_token):
    # given: the same providerTxId already used at another operator
    twin = sandbox_account_create(
        operator=other_operator,
        user_id="follower-1",
        username="Twin",
        currency="USD",
        balance=Decimal("50"),
    )
    twin_token = sandbox_token_issue(account=twin)
    post_wallet(client, other_operator, "withdraw", move(twin_token))
    # when
    response = post_wallet(client, operator, "withdraw", move(follower_token))
    # then
    assert response.status_code == 200
    assert balance_of(follower) == Decimal("90")
    assert SandboxAccount.objects.get(pk=twin.pk).balance == Decimal("40")


@pytest.mark.parametrize("token", ["", None])
def test_auth_and_withdraw_without_token_are_401(client, operator, follower, follower_token, token):
    auth = post_wallet(client, operator, "auth", {"userToken": token, "currency": "USD"})
    bet = post_wallet(client, operator, "withdraw", move(follower_token, userToken=token))
    assert (auth.status_code, bet.status_code) == (401, 401)
    assert balance_of(follower) == Decimal("100")


@pytest.mark.parametrize("token", ["", None])
def test_deposit_and_rollback_with_empty_token_are_accepted(
    client, operator, follower, follower_token, token
):
    # given
    post_wallet(client, operator, "withdraw", move(follower_token))
    # when
    refund = post_wallet(client, operator, "rollback", rollback(follower_token, userToken=token))
    win = post_wallet(
        client, operator, "deposit", move(follower_token, providerTxId="win-1", userToken=token)
    )
    # then
    assert (refund.status_code, win.status_code) == (200, 200)
    assert balance_of(follower) == Decimal("110")
