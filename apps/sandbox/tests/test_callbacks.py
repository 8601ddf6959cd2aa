"""The seed 000 callbacks as an operator answers them: streamer-balance, transfer, game-pool."""

import json
from decimal import Decimal

import pytest

from apps.core import wire
from apps.operators.signatures import copystake_signature
from apps.sandbox.models import SandboxAccount, SandboxTransfer
from apps.sandbox.tests.conftest import SECRET_KEY, post_callback

pytestmark = pytest.mark.django_db


def body(response) -> dict:
    return wire.loads(response.content)


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["streamer-balance", "transfer", "game-pool"])
def test_wrong_api_key_is_401(client, operator, streamer, name):
    # when
    response = post_callback(client, operator, name, {"userId": "streamer-1"}, api_key="nope")
    # then
    assert response.status_code == 401
    assert body(response) == {"errorCode": "ERR_UNKNOWN", "errorMessage": "invalid API key"}


@pytest.mark.parametrize("name", ["streamer-balance", "transfer", "game-pool"])
def test_bad_signature_is_401(client, operator, streamer, name):
    # given: signed with another secret
    raw = b'{"userId":"streamer-1"}'
    # when
    response = post_callback(
        client, operator, name, raw, signature=copystake_signature("not-the-secret", raw)
    )
    # then
    assert response.status_code == 401
    assert body(response) == {"errorCode": "ERR_UNKNOWN", "errorMessage": "invalid signature"}


def test_missing_signature_is_401(client, operator, streamer):
    response = post_callback(client, operator, "streamer-balance", {"userId": "x"}, signature="")
    assert response.status_code == 401
    assert body(response)["errorMessage"] == "invalid signature"


def test_signature_covers_raw_bytes_not_the_json_value(client, operator, streamer):
    # given: the signature of the compact body, sent with a spaced body
    compact = b'{"userId":"streamer-1"}'
    spaced = b'{"userId": "streamer-1"}'
    # when
    response = post_callback(
        client,
        operator,
        "streamer-balance",
        spaced,
        signature=copystake_signature(SECRET_KEY, compact),
    )
    # then
    assert response.status_code == 401


def test_spaced_body_signed_over_its_own_bytes_is_accepted(client, operator, streamer):
    response = post_callback(client, operator, "streamer-balance", b'{ "userId" : "streamer-1" }')
    assert response.status_code == 200


def test_unknown_operator_is_404(client, operator):
    response = client.post(
        "/sandbox/nobody/copystake/streamer-balance", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert body(response)["errorCode"] == "ERR_UNKNOWN"


def test_get_is_not_allowed(client, operator):
    response = client.get(f"/sandbox/{operator.slug}/copystake/transfer")
    assert response.status_code == 405


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[1,2]", b'"text"', b'{"userId":', b'{"userId":null}']
)
def test_bad_json_or_missing_fields_is_400_err_unknown(client, operator, streamer, raw):
    response = post_callback(client, operator, "streamer-balance", raw)
    assert response.status_code == 400
    assert body(response)["errorCode"] == "ERR_UNKNOWN"


# --- streamer-balance --------------------------------------------------------------------


def test_streamer_balance_returns_balance_as_json_number(client, operator, streamer):
    # when
    response = post_callback(client, operator, "streamer-balance", {"userId": "streamer-1"})
    # then
    assert response.status_code == 200
    assert response.content == b'{"balance":805,"currency":"USD"}'


def test_streamer_balance_keeps_eight_decimals(client, operator, streamer):
    # given
    SandboxAccount.objects.filter(pk=streamer.pk).update(balance=Decimal("12.34567891"))
    # when
    response = post_callback(
        client, operator, "streamer-balance", {"userId": "streamer-1", "currency": "USD"}
    )
    # then
    assert response.content == b'{"balance":12.34567891,"currency":"USD"}'
    assert json.loads(response.content)["balance"] == 12.34567891


def test_streamer_balance_unknown_user(client, operator, streamer):
    response = post_callback(client, operator, "streamer-balance", {"userId": "ghost"})
    assert response.status_code == 400
    assert body(response) == {
        "errorCode": "ERR_INVALID_USER",
        "errorMessage": "user does not exist",
    }


def test_streamer_balance_other_currency_is_forbidden(client, operator, streamer):
    response = post_callback(
        client, operator, "streamer-balance", {"userId": "streamer-1", "currency": "EUR"}
    )
    assert response.status_code == 400
    assert body(response)["errorCode"] == "ERR_BALANCE_FORBIDDEN"


def test_streamer_balance_is_per_operator(client, operator, other_operator, streamer):
    response = post_callback(client, other_operator, "streamer-balance", {"userId": "streamer-1"})
    assert response.status_code == 400
    assert body(response)["errorCode"] == "ERR_INVALID_USER"


# --- transfer ----------------------------------------------------------------------------


def transfer_body(**overrides) -> dict:
    payload = {
        "id": "tx-1",
        "userId": "streamer-1",
        "type": "DEPOSIT",
        "amount": Decimal("20.5"),
        "currency": "USD",
    }
    payload.update(overrides)
    return payload


def test_transfer_deposit_credits_and_answers_new_balance(client, operator, streamer):
    # when
    response = post_callback(client, operator, "transfer", transfer_body())
    # then
    assert response.status_code == 200
    assert response.content == b'{"balance":825.5,"currency":"USD"}'
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("825.5")
    record = SandboxTransfer.objects.get(transfer_id="tx-1")
    assert record.succeeded is True
    assert record.balance_after == Decimal("825.5")


def test_transfer_withdrawal_debits(client, operator, streamer):
    response = post_callback(
        client, operator, "transfer", transfer_body(type="WITHDRAWAL", amount=Decimal("5"))
    )
    assert response.status_code == 200
    assert body(response) == {"balance": Decimal("800"), "currency": "USD"}
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("800")


def test_transfer_amount_as_string_is_accepted(client, operator, streamer):
    response = post_callback(client, operator, "transfer", transfer_body(amount="1.25"))
    assert response.status_code == 200
    assert body(response)["balance"] == Decimal("806.25")


def test_transfer_repeat_replays_the_same_answer_and_moves_once(client, operator, streamer):
    # given
    first = post_callback(client, operator, "transfer", transfer_body())
    # when
    second = post_callback(client, operator, "transfer", transfer_body())
    # then
    assert second.status_code == first.status_code == 200
    assert second.content == first.content == b'{"balance":825.5,"currency":"USD"}'
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("825.5")
    assert SandboxTransfer.objects.count() == 1


def test_transfer_repeat_replays_the_original_balance_even_after_later_moves(
    client, operator, streamer
):
    # given: tx-1 then tx-2 moved the balance
    post_callback(client, operator, "transfer", transfer_body())
    post_callback(client, operator, "transfer", transfer_body(id="tx-2", amount=Decimal("1")))
    # when
    replay = post_callback(client, operator, "transfer", transfer_body())
    # then: the stored answer of tx-1, not the current balance
    assert replay.content == b'{"balance":825.5,"currency":"USD"}'
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("826.5")


def test_transfer_repeat_with_equal_amount_in_other_notation_is_the_same(
    client, operator, streamer
):
    # given
    post_callback(client, operator, "transfer", transfer_body(amount=Decimal("20.5")))
    raw = (
        b'{"id":"tx-1","userId":"streamer-1","type":"DEPOSIT","amount":"20.50000","currency":"USD"}'
    )
    # when
    replay = post_callback(client, operator, "transfer", raw)
    # then
    assert replay.status_code == 200
    assert replay.content == b'{"balance":825.5,"currency":"USD"}'
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("825.5")


@pytest.mark.parametrize(
    "change",
    [
        {"amount": Decimal("20.6")},
        {"type": "WITHDRAWAL"},
        {"userId": "streamer-2"},
        {"currency": "EUR"},
    ],
)
def test_transfer_same_id_different_payload_is_refused_and_moves_nothing(
    client, operator, streamer, change
):
    # given
    post_callback(client, operator, "transfer", transfer_body())
    # when
    response = post_callback(client, operator, "transfer", transfer_body(**change))
    # then
    assert response.status_code == 400
    assert body(response) == {
        "errorCode": "ERR_UNKNOWN",
        "errorMessage": "transfer tx-1 was already used with a different payload",
    }
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("825.5")


def test_transfer_to_non_streamer_is_forbidden_and_replayed(client, operator, follower):
    # when
    first = post_callback(client, operator, "transfer", transfer_body(userId="follower-1"))
    second = post_callback(client, operator, "transfer", transfer_body(userId="follower-1"))
    # then
    assert first.status_code == second.status_code == 400
    assert body(first)["errorCode"] == "ERR_TRANSFER_FORBIDDEN"
    assert second.content == first.content
    follower.refresh_from_db()
    assert follower.balance == Decimal("100")
    assert SandboxTransfer.objects.get().succeeded is False


def test_transfer_withdrawal_above_balance_is_insufficient_and_stored(client, operator, streamer):
    # given
    payload = transfer_body(type="WITHDRAWAL", amount=Decimal("805.00000001"))
    # when
    first = post_callback(client, operator, "transfer", payload)
    # a deposit in between does not turn the stored refusal into a success
    post_callback(client, operator, "transfer", transfer_body(id="tx-2", amount=Decimal("10")))
    replay = post_callback(client, operator, "transfer", payload)
    # then
    assert first.status_code == 400
    assert body(first)["errorCode"] == "ERR_INSUFFICIENT_BALANCE"
    assert replay.content == first.content
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("815")


def test_transfer_whole_balance_withdrawal_leaves_zero(client, operator, streamer):
    response = post_callback(
        client, operator, "transfer", transfer_body(type="WITHDRAWAL", amount=Decimal("805"))
    )
    assert response.content == b'{"balance":0,"currency":"USD"}'


def test_transfer_unknown_user(client, operator, streamer):
    response = post_callback(client, operator, "transfer", transfer_body(userId="ghost"))
    assert response.status_code == 400
    assert body(response)["errorCode"] == "ERR_INVALID_USER"


def test_transfer_currency_mismatch_is_refused(client, operator, streamer):
    response = post_callback(client, operator, "transfer", transfer_body(currency="EUR"))
    assert response.status_code == 400
    assert body(response)["errorCode"] == "ERR_UNKNOWN"
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("805")


@pytest.mark.parametrize(
    "amount",
    ["0", "-1", "1.000000001", "NaN", "Infinity", "1e30", True, None, "abc"],
)
def test_transfer_bad_amount_is_err_unknown_and_not_stored(client, operator, streamer, amount):
    response = post_callback(client, operator, "transfer", transfer_body(amount=amount))
    assert response.status_code == 400
    assert body(response)["errorCode"] == "ERR_UNKNOWN"
    assert SandboxTransfer.objects.count() == 0
    streamer.refresh_from_db()
    assert streamer.balance == Decimal("805")


def test_transfer_too_many_decimals_as_json_number_is_refused(client, operator, streamer):
    raw = b'{"id":"t","userId":"streamer-1","type":"DEPOSIT","amount":1.123456789,"currency":"USD"}'
    response = post_callback(client, operator, "transfer", raw)
    assert response.status_code == 400
    assert SandboxTransfer.objects.count() == 0


def test_transfer_unknown_type_is_refused(client, operator, streamer):
    response = post_callback(client, operator, "transfer", transfer_body(type="CREDIT"))
    assert response.status_code == 400
    assert body(response)["errorCode"] == "ERR_UNKNOWN"
    assert SandboxTransfer.objects.count() == 0


def test_transfer_ids_are_per_operator(client, operator, other_operator, streamer):
    # given: the same id used at another operator
    from apps.sandbox.services import sandbox_account_create

    sandbox_account_create(
        operator=other_operator,
        user_id="streamer-1",
        username="Twin",
        currency="USD",
        balance=Decimal("1"),
        is_streamer=True,
    )
    post_callback(client, other_operator, "transfer", transfer_body())
    # when
    response = post_callback(client, operator, "transfer", transfer_body())
    # then
    assert response.content == b'{"balance":825.5,"currency":"USD"}'


# --- game-pool ---------------------------------------------------------------------------


def test_game_pool_open_answers_empty_200_and_locks(client, operator, streamer):
    # when
    response = post_callback(
        client, operator, "game-pool", {"userId": "streamer-1", "state": "OPEN"}
    )
    # then
    assert response.status_code == 200
    assert response.content == b""
    streamer.refresh_from_db()
    assert streamer.pool_state == "OPEN"
    assert streamer.is_withdrawal_locked is True
    assert streamer.pool_state_changed_at is not None


def test_game_pool_close_releases(client, operator, streamer):
    post_callback(client, operator, "game-pool", {"userId": "streamer-1", "state": "OPEN"})
    response = post_callback(
        client, operator, "game-pool", {"userId": "streamer-1", "state": "CLOSE"}
    )
    assert response.status_code == 200
    streamer.refresh_from_db()
    assert streamer.pool_state == "CLOSE"
    assert streamer.is_withdrawal_locked is False


def test_game_pool_unknown_user(client, operator, streamer):
    response = post_callback(client, operator, "game-pool", {"userId": "ghost", "state": "OPEN"})
    assert response.status_code == 400
    assert body(response) == {
        "errorCode": "ERR_INVALID_USER",
        "errorMessage": "user does not exist",
    }


@pytest.mark.parametrize("state", ["open", "CLOSED", "", None])
def test_game_pool_bad_state(client, operator, streamer, state):
    response = post_callback(
        client, operator, "game-pool", {"userId": "streamer-1", "state": state}
    )
    assert response.status_code == 400
    assert body(response)["errorCode"] == "ERR_UNKNOWN"
    streamer.refresh_from_db()
    assert streamer.pool_state == ""


def test_overlong_currency_is_refused_before_anything_is_stored(client, operator, streamer):
    response = post_callback(client, operator, "transfer", transfer_body(currency="USDOLLARS!!"))
    assert response.status_code == 400
    assert body(response) == {
        "errorCode": "ERR_UNKNOWN",
        "errorMessage": "currency is longer than 10 characters",
    }
    assert SandboxTransfer.objects.count() == 0
