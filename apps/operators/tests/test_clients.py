"""Outbound clients: what is sent (signed, exact bytes) and how every answer is classified.

These use httpx's MockTransport to script answers; the same clients are exercised over real
HTTP against the sandbox operator in the end-to-end tests.
"""

import json
from decimal import Decimal

import httpx
import pytest

from apps.operators import clients
from apps.operators.models import CallLog
from apps.operators.signatures import copystake_verify, wallet_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def answer(monkeypatch):
    """Script the operator: ``answer(handler)`` where handler(request) -> httpx.Response."""
    sent: list[httpx.Request] = []

    def install(handler):
        def record(request):
            sent.append(request)
            return handler(request)

        monkeypatch.setattr(clients, "_client", httpx.Client(transport=httpx.MockTransport(record)))
        return sent

    return install


def test_transfer_is_signed_over_the_exact_bytes_and_amounts_are_numbers(operator, answer):
    sent = answer(lambda r: httpx.Response(200, json={"balance": 1100.5, "currency": "USD"}))
    result = clients.transfer(
        operator,
        external_id="tx1",
        user_id="s1",
        type="DEPOSIT",
        amount=Decimal("100.5"),
        currency="USD",
    )
    [request] = sent
    assert str(request.url) == "http://operator.invalid/cb/transfer"
    assert (
        request.content
        == b'{"id":"tx1","userId":"s1","type":"DEPOSIT","amount":100.5,"currency":"USD"}'
    )
    assert request.headers["X-API-KEY"] == "ok"
    assert copystake_verify("s", request.content, request.headers["X-REQUEST-SIGNATURE"])
    assert result.ok and result.amount("balance") == Decimal("1100.5")


def test_game_pool_accepts_an_empty_200(operator, answer):
    answer(lambda r: httpx.Response(200, content=b""))
    assert clients.game_pool(operator, user_id="s1", state="OPEN").ok


@pytest.mark.parametrize(
    ("response", "outcome", "code"),
    [
        (
            httpx.Response(
                400, json={"errorCode": "ERR_INSUFFICIENT_BALANCE", "errorMessage": "no"}
            ),
            "error",
            "ERR_INSUFFICIENT_BALANCE",
        ),
        (httpx.Response(400, content=b"garbage"), "error", "ERR_UNKNOWN"),
        (httpx.Response(500, content=b"oops"), "unknown", "ERR_HTTP_500"),
        (httpx.Response(200, content=b"<html>"), "unknown", "ERR_BAD_RESPONSE"),
        (httpx.Response(200, json={"currency": "USD"}), "unknown", "ERR_BAD_RESPONSE"),
        (httpx.Response(200, json={"balance": "NaN"}), "unknown", "ERR_BAD_RESPONSE"),
        (httpx.Response(200, json={"balance": -1}), "unknown", "ERR_BAD_RESPONSE"),
    ],
)
def test_callback_answers_are_classified(operator, answer, response, outcome, code):
    answer(lambda r: response)
    result = clients.streamer_balance(operator, user_id="s1")
    assert (result.outcome, result.error_code) == (outcome, code)


def test_timeouts_and_connection_errors_are_unknown(operator, answer):
    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    answer(timeout)
    assert (
        clients.transfer(
            operator,
            external_id="t",
            user_id="s",
            type="WITHDRAWAL",
            amount=Decimal(1),
            currency="USD",
        ).outcome
        == "unknown"
    )

    def refused(request):
        raise httpx.ConnectError("refused", request=request)

    answer(refused)
    result = clients.wallet_deposit(
        operator, amount=Decimal(1), currency="USD", user_token="t", user_id="u", provider_tx_id="p"
    )
    assert (result.outcome, result.error_code) == ("unknown", "ERR_CONNECTION")


@pytest.mark.parametrize(
    ("status", "outcome", "code", "applied"),
    [
        (200, "success", "", False),
        (409, "success", "", True),
        (402, "error", "ERR_INSUFFICIENT_BALANCE", False),
        (401, "error", "ERR_INVALID_TOKEN", False),
        (403, "error", "ERR_FORBIDDEN", False),
        (408, "error", "ERR_TRANSACTION_NOT_FOUND", False),
        (502, "unknown", "ERR_HTTP_502", False),
    ],
)
def test_wallet_answers_are_classified(operator, answer, status, outcome, code, applied):
    data = {"newBalance": 90, "oldBalance": 100} if status == 200 else None
    answer(lambda r: httpx.Response(status, json={"code": status, "message": "", "data": data}))
    result = clients.wallet_withdraw(
        operator,
        amount=Decimal(10),
        currency="USD",
        user_token="t",
        user_id="u",
        provider_tx_id="p1",
    )
    assert (result.outcome, result.error_code, result.already_applied) == (outcome, code, applied)


def test_wallet_request_is_signed_with_path_and_millisecond_timestamp(operator, answer):
    sent = answer(lambda r: httpx.Response(200, json={"code": 200, "message": "", "data": {}}))
    clients.wallet_rollback(
        operator,
        amount=Decimal("10.25"),
        currency="USD",
        user_token="t",
        user_id="u",
        provider_tx_id="r1",
        rollback_provider_tx_id="p1",
    )
    [request] = sent
    body = json.loads(request.content)
    assert body == {
        "amount": 10.25,
        "currency": "USD",
        "userToken": "t",
        "game": "copystake-pool",
        "userId": "u",
        "providerTxId": "r1",
        "rollbackProviderTxId": "p1",
    }
    ts = request.headers["X-VC-Client-TS"]
    assert len(ts) == 13 and request.headers["X-VC-Client-ID"] == "c"
    assert wallet_verify(
        "ws", "/wallet/rollback", ts, request.content, request.headers["X-VC-Client-Signature"]
    )


def test_every_call_is_logged_masked(operator, answer):
    answer(
        lambda r: httpx.Response(200, json={"code": 200, "message": "", "data": {"newBalance": 1}})
    )
    clients.wallet_deposit(
        operator,
        amount=Decimal(1),
        currency="USD",
        user_token="secret-user-token",
        user_id="u",
        provider_tx_id="p9",
    )
    [log] = CallLog.objects.all()
    assert (log.direction, log.endpoint, log.outcome, log.response_status, log.external_id) == (
        "out",
        "wallet/deposit",
        "success",
        200,
        "p9",
    )
    stored = json.dumps([log.request_headers, log.request_body, log.response_body])
    assert "secret-user-token" not in stored
    signature = log.request_headers["X-VC-Client-Signature"]
    assert signature.startswith("\u2022" * 6) and len(signature) == 10  # six dots, the last four


# --- malformed answers: logged (made storable), classified, never raised ---------------------

SURROGATE_BODY = b'{"balance": 900, "currency": "USD", "note": "\\ud800"}'
NUL_BODY = b'{"balance": 900, "currency": "US\\u0000D", "x": "\\u0000"}'
RAW_NUL_BODY = b'{"balance": 900, "currency": "USD", "x": "\x00"}'


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        # More significant digits than the default decimal context holds.
        (b'{"balance": 1234567890123456789012345678901.5, "currency": "USD"}', "unknown"),
        (b'{"balance": "1e999999999", "currency": "USD"}', "unknown"),
        (NUL_BODY, "success"),
        (RAW_NUL_BODY, "unknown"),  # a raw control character: not JSON
        (b"\x00\x01\xff\xfe not json at all", "unknown"),
        (SURROGATE_BODY, "success"),
        (b'{"balance": 900, "currency": "USD", "\\udfff": 1}', "success"),
        (b"[" * 100_000, "unknown"),
    ],
)
def test_a_malformed_transfer_answer_is_logged_and_classified(operator, answer, body, outcome):
    # given an operator answering 200 with broken bytes
    answer(lambda r: httpx.Response(200, content=body))
    # when
    result = clients.transfer(
        operator,
        external_id="tx-m",
        user_id="s1",
        type="DEPOSIT",
        amount=Decimal(1),
        currency="USD",
    )
    # then it is classified, and the call is in the log, in storable text
    assert result.outcome == outcome
    assert result.ok == (result.amount("balance") == Decimal(900))
    row = CallLog.objects.get(external_id="tx-m")
    assert row.outcome == outcome
    assert "\x00" not in row.response_body
    row.response_body.encode("utf-8")  # no lone surrogate survives
    assert json.dumps(result.data).encode("utf-8")


def test_a_malformed_wallet_refusal_is_logged_and_classified(operator, answer):
    # given a wallet refusing with a message holding a lone surrogate and a NUL
    answer(lambda r: httpx.Response(402, content=b'{"message": "\\ud800 no\\u0000 money"}'))
    # when
    result = clients.wallet_withdraw(
        operator,
        amount=Decimal(5),
        currency="USD",
        user_token="t",
        user_id="f1",
        provider_tx_id="bet-m",
    )
    # then
    assert result.refused and result.error_code == "ERR_INSUFFICIENT_BALANCE"
    result.error_message.encode("utf-8")
    assert "\x00" not in result.error_message
    assert CallLog.objects.filter(external_id="bet-m", outcome="error").exists()


def test_a_classifier_that_raises_makes_the_answer_unknown(operator, answer, monkeypatch):
    # given any answer whose reading fails unexpectedly
    answer(lambda r: httpx.Response(200, json={"balance": 1, "currency": "USD"}))

    def broken(response):
        raise KeyError("surprise")

    # when
    result = clients.classify_answer(broken, httpx.Response(200, content=b"{}"))
    # then
    assert result.unknown and result.error_code == "ERR_BAD_RESPONSE"
