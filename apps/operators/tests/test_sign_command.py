"""``manage.py sign``: the headers our side sends for a body, and how they were computed."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.operators.signatures import wallet_signature
from apps.operators.tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db

# Seed 000's test vector: the secret "secret" and this exact body.
SEED_BODY = (
    '{"id":"103193","action":"CREDIT","amount":4.123,"currency":"USD",'
    '"exchangeRate":0.00203250655485,"tokenAmount":2500,"operatorId":123,"operatorUserId":"333"}'
)
SEED_SIGNATURE = (
    "IifPVbfXptagZ6qSXH9vYrQiqSP4sKIC+hV+39z2K+FlLzRoEboPGTTymjmeuAhN1i0ICDyyrrufYspgAJmxHQ=="
)


def sign(*args: str) -> str:
    out = StringIO()
    call_command("sign", *args, stdout=out)
    return out.getvalue()


def test_sign_prints_the_callback_headers_for_the_exact_body():
    # given
    OperatorFactory(
        code="acme",
        callback_url="https://acme.example/copystake",
        operator_api_key="acme-key",
        secret_key="secret",
    )
    # when
    output = sign("--operator", "acme", "--body", SEED_BODY)
    # then
    lines = output.splitlines()
    assert lines[:4] == [
        "POST https://acme.example/copystake/transfer",
        "Content-Type: application/json",
        "X-API-KEY: acme-key",
        f"X-REQUEST-SIGNATURE: {SEED_SIGNATURE}",
    ]
    assert "  MD5(body), lowercase hex: " in output
    assert f"body: {len(SEED_BODY)} bytes" in output


def test_sign_a_wallet_body_with_a_given_timestamp():
    # given
    OperatorFactory(
        code="acme",
        wallet_url="https://acme.example/api/wallet",
        wallet_client_id="client-1",
        wallet_secret="wallet-secret",
    )
    body = '{"userToken":"t","currency":"USD"}'
    # when
    output = sign(
        "--operator",
        "acme",
        "--endpoint",
        "wallet/auth",
        "--body",
        body,
        "--timestamp",
        "1700000000000",
    )
    # then
    expected = wallet_signature("wallet-secret", "/api/wallet/auth", "1700000000000", body)
    assert "POST https://acme.example/api/wallet/auth" in output
    assert "X-VC-Client-ID: client-1" in output
    assert "X-VC-Client-TS: 1700000000000" in output
    assert f"X-VC-Client-Signature: {expected}" in output
    assert f"  1700000000000/api/wallet/auth{body}" in output


def test_sign_refuses_an_unknown_operator_or_endpoint():
    OperatorFactory(code="acme")
    with pytest.raises(CommandError, match="no operator"):
        sign("--operator", "nope", "--body", "{}")
    with pytest.raises(CommandError, match="endpoint must be one of"):
        sign("--operator", "acme", "--endpoint", "init", "--body", "{}")
