"""GET wallet: the player's balance from the wallet's ``/auth`` (seed 003), signed and logged
like every wallet call; a demo session's play money; a wallet that fails is a clear 409."""

import json
from decimal import Decimal

import httpx
import pytest

from apps.core.tests.openapi import component_validator
from apps.followers.models import Follower
from apps.followers.tokens import player_token_issue
from apps.operators import clients
from apps.operators.models import CallLog
from apps.operators.signatures import wallet_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def answer(monkeypatch):
    """Script the wallet: ``answer(handler)``; returns the requests it was sent."""
    sent: list[httpx.Request] = []

    def install(handler):
        def record(request):
            sent.append(request)
            return handler(request)

        monkeypatch.setattr(clients, "_client", httpx.Client(transport=httpx.MockTransport(record)))
        return sent

    return install


def get_wallet(client, session):
    return client.get("/api/v1/wallet", HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}")


def auth_answer(balance, currency="USD"):
    data = {"userId": "f1", "username": "F", "balance": balance, "currency": currency}
    return lambda request: httpx.Response(200, json={"code": 200, "message": "", "data": data})


def test_the_balance_comes_from_a_signed_auth_call_as_seed_003_writes_it(
    client, make_session, answer
):
    # given
    session = make_session("f1")
    sent = answer(auth_answer(1234.5))
    # when
    response = get_wallet(client, session)
    # then: the request is seed 003's /auth, signed over path, millisecond timestamp and body
    assert response.status_code == 200, response.content
    assert response.json() == {"balance": "1234.50000000", "currency": "USD"}
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    component_validator(schema, "WalletBalance").validate(response.json())
    [request] = sent
    assert (request.method, str(request.url)) == ("POST", "http://operator.invalid/wallet/auth")
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(request.content) == {"userToken": "token-f1", "currency": "USD"}
    ts = request.headers["X-VC-Client-TS"]
    assert request.headers["X-VC-Client-ID"] == "c" and len(ts) == 13 and ts.isdigit()
    assert wallet_verify(
        "ws", "/wallet/auth", ts, request.content, request.headers["X-VC-Client-Signature"]
    )


def test_the_auth_call_is_in_the_call_log_with_the_token_masked(client, make_session, answer):
    # given
    session = make_session("f1")
    answer(auth_answer(10))
    # when
    get_wallet(client, session)
    # then
    [log] = CallLog.objects.all()
    assert (log.direction, log.endpoint, log.outcome, log.response_status) == (
        "out",
        "wallet/auth",
        "success",
        200,
    )
    stored = json.dumps([log.request_headers, log.request_body, log.response_body])
    assert "token-f1" not in stored
    assert "X-VC-Client-Signature" in log.request_headers


def test_a_demo_session_answers_its_play_money_and_calls_nothing(client, make_session, answer):
    # given
    session = make_session("d1", demo=True)
    Follower.objects.filter(pk=session.follower_id).update(demo_balance=Decimal("987.65"))
    sent = answer(auth_answer(1))
    # when
    response = get_wallet(client, session)
    # then
    assert response.status_code == 200
    assert response.json() == {"balance": "987.65000000", "currency": "DEMO"}
    assert sent == [] and not CallLog.objects.exists()


def _refused(status):
    return lambda request: httpx.Response(
        status, json={"code": status, "message": "Invalid token", "data": None}
    )


def _unreachable(request):
    raise httpx.ConnectError("refused", request=request)


@pytest.mark.parametrize(
    ("handler", "code"),
    [
        (_refused(401), "ERR_INVALID_TOKEN"),
        (_refused(403), "ERR_FORBIDDEN"),
        (lambda r: httpx.Response(502, content=b"bad gateway"), "ERR_WALLET_UNAVAILABLE"),
        (lambda r: httpx.Response(200, content=b"<html>"), "ERR_WALLET_UNAVAILABLE"),
        (auth_answer("lots"), "ERR_WALLET_UNAVAILABLE"),
        (auth_answer(-5), "ERR_WALLET_UNAVAILABLE"),
        (_unreachable, "ERR_WALLET_UNAVAILABLE"),
    ],
)
def test_a_wallet_that_refuses_or_fails_answers_a_clear_409(
    client, make_session, answer, handler, code
):
    # given
    session = make_session("f1")
    answer(handler)
    # when
    response = get_wallet(client, session)
    # then: never a 5xx, never the player API's 401 (the page would take it as signed out)
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["errorCode"] == code and body["errorMessage"]
    assert CallLog.objects.get().endpoint == "wallet/auth"


def test_without_a_player_token_it_is_401(client):
    assert client.get("/api/v1/wallet").status_code == 401
