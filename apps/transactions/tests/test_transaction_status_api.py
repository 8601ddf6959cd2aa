import json
from decimal import Decimal

import jsonschema_rs
import pytest
from django.db import connection

from apps.operators.models import CallLog
from apps.operators.tests.factories import encode, make_operator, post_signed
from apps.transactions.models import Transaction

pytestmark = pytest.mark.django_db

INIT = "/api/v1/copystake/init"
INIT_DEMO = "/api/v1/copystake/init-demo"
STATUS = "/api/v1/copystake/transaction-status"


def make_transaction(operator, **overrides) -> Transaction:
    values = {
        "operator": operator,
        "kind": Transaction.Kind.STREAMER_DEPOSIT,
        "status": Transaction.Status.SUCCEEDED,
        "amount": Decimal("1234567.12345678"),
        "currency": "USD",
    }
    values.update(overrides)
    return Transaction.objects.create(**values)


def test_transaction_status_answers_the_transaction_with_an_exact_amount(client):
    # given
    operator, credentials = make_operator()
    tx = make_transaction(operator)
    # when
    response = post_signed(client, credentials, STATUS, encode({"id": tx.external_id}))
    # then
    assert response.status_code == 200
    assert b'"amount":1234567.12345678,' in response.content
    body = json.loads(response.content, parse_float=Decimal)
    tx.refresh_from_db()
    assert body == {
        "id": tx.external_id,
        "type": "DEPOSIT",
        "status": "SUCCEEDED",
        "amount": Decimal("1234567.12345678"),
        "currency": "USD",
        "createdAt": tx.created_at.isoformat().replace("+00:00", "Z"),
        "updatedAt": tx.updated_at.isoformat().replace("+00:00", "Z"),
    }


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite keeps decimals as REAL (about 15 digits)"
)
def test_transaction_status_keeps_all_twenty_digits_of_an_amount(client):
    # given
    operator, credentials = make_operator()
    tx = make_transaction(operator, amount=Decimal("999999999999.99999999"))
    # when
    response = post_signed(client, credentials, STATUS, encode({"id": tx.external_id}))
    # then
    assert b'"amount":999999999999.99999999,' in response.content


@pytest.mark.parametrize(
    ("kind", "status", "wire_type", "wire_status"),
    [
        ("follower_debit", "pending", "BET", "PENDING"),
        ("streamer_deposit", "unknown", "DEPOSIT", "UNKNOWN"),
        ("streamer_withdrawal", "failed", "WITHDRAWAL", "FAILED"),
        ("follower_credit", "succeeded", "WIN", "SUCCEEDED"),
        ("follower_rollback", "rolled_back", "ROLLBACK", "ROLLED_BACK"),
    ],
)
def test_transaction_status_maps_kinds_and_statuses(client, kind, status, wire_type, wire_status):
    # given
    operator, credentials = make_operator()
    tx = make_transaction(operator, kind=kind, status=status, amount=Decimal("5"))
    # when
    response = post_signed(client, credentials, STATUS, encode({"id": tx.external_id}))
    # then
    assert response.status_code == 200
    assert response.json()["type"] == wire_type
    assert response.json()["status"] == wire_status
    assert b'"amount":5,' in response.content


def test_transaction_status_of_a_win_of_zero(client):
    # given
    operator, credentials = make_operator()
    tx = make_transaction(operator, kind="follower_credit", amount=Decimal("0"))
    # when
    response = post_signed(client, credentials, STATUS, encode({"id": tx.external_id}))
    # then
    assert response.status_code == 200
    assert response.json()["amount"] == 0


def test_transaction_status_of_an_unknown_id_answers_404(client):
    # given
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, STATUS, encode({"id": "no-such-id"}))
    # then
    assert response.status_code == 404
    assert response.json() == {
        "errorCode": "ERR_TRANSACTION_NOT_FOUND",
        "errorMessage": "Transaction not found",
    }


def test_transaction_status_of_another_operators_transaction_answers_404(client):
    # given
    _, credentials = make_operator()
    other, _ = make_operator()
    tx = make_transaction(other)
    # when
    response = post_signed(client, credentials, STATUS, encode({"id": tx.external_id}))
    # then
    assert response.status_code == 404
    assert response.json()["errorCode"] == "ERR_TRANSACTION_NOT_FOUND"


@pytest.mark.parametrize("payload", [{}, {"id": 5}, {"id": ""}, {"id": "x" * 65}, {"id": None}])
def test_transaction_status_validates_the_id(client, payload):
    # given
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, STATUS, encode(payload))
    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_VALIDATION"
    assert response.json()["errorMessage"].startswith("id: ")


def test_transaction_status_call_log_carries_the_external_id(client):
    # given
    operator, credentials = make_operator()
    tx = make_transaction(operator)
    # when
    post_signed(client, credentials, STATUS, encode({"id": tx.external_id}))
    # then
    row = CallLog.objects.get()
    assert row.endpoint == "transaction-status"
    assert row.external_id == tx.external_id


def test_transaction_status_with_a_lone_surrogate_is_answered_and_logged(client):
    # given an id holding a lone UTF-16 surrogate (valid JSON, no valid UTF-8)
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, STATUS, b'{"id": "tx-\\ud800"}')
    # then it is refused as invalid input, and the call is in the log, storable
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_VALIDATION"
    row = CallLog.objects.get(endpoint="transaction-status")
    assert row.response_status == 400
    row.request_body.encode("utf-8")


@pytest.mark.parametrize("value", ["", " ", "\u3000", "a\x00", "x" * 65])
def test_an_id_the_schema_refuses_is_refused_and_documented_so(client, value):
    # given
    _, credentials = make_operator()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    prop = schema["components"]["schemas"]["CopyStakeTransactionStatusRequest"]["properties"]["id"]
    # when
    response = post_signed(client, credentials, STATUS, encode({"id": value}))
    # then
    assert not jsonschema_rs.Draft4Validator(prop).is_valid(value)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_VALIDATION"
