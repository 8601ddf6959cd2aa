from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.core.tests.commands import run_json_command
from apps.operators.models import Operator, api_key_digest
from apps.operators.signatures import copystake_signature

pytestmark = pytest.mark.django_db


def create_operator(*extra: str) -> dict:
    return run_json_command(
        "create_operator",
        "--name",
        "Acme Casino",
        "--callback-url",
        "http://acme.test/copystake/",
        "--wallet-url",
        "http://acme.test/wallet",
        *extra,
    )


def test_create_operator_prints_generated_credentials_the_operator_api_accepts(client):
    # when
    printed = create_operator()
    # then
    operator = Operator.objects.get()
    assert set(printed) == {
        "id",
        "name",
        "code",
        "callbackUrl",
        "walletUrl",
        "apiKey",
        "operatorApiKey",
        "secretKey",
        "walletClientId",
        "walletSecret",
    }
    assert printed["id"] == operator.pk
    assert printed["name"] == "Acme Casino"
    assert printed["code"] == "acme-casino"
    assert printed["callbackUrl"] == "http://acme.test/copystake"
    assert printed["walletUrl"] == "http://acme.test/wallet"
    assert printed["operatorApiKey"] == operator.operator_api_key
    assert printed["secretKey"] == operator.secret_key
    assert printed["walletClientId"] == operator.wallet_client_id
    assert printed["walletSecret"] == operator.wallet_secret
    assert operator.api_key_digest == api_key_digest(printed["apiKey"])
    assert operator.api_key_hint == printed["apiKey"][-4:]
    assert len({printed[k] for k in ("apiKey", "operatorApiKey", "secretKey", "walletSecret")}) == 4

    # and the printed key and secret sign an init the API accepts
    body = b'{"operatorUserId":"42","userToken":"tok","currency":"EUR"}'
    response = client.post(
        "/api/v1/copystake/init",
        body,
        content_type="application/json",
        HTTP_X_API_KEY=printed["apiKey"],
        HTTP_X_REQUEST_SIGNATURE=copystake_signature(printed["secretKey"], body),
    )
    assert response.status_code == 200
    assert "token=" in response.json()["url"]


def test_create_operator_keeps_given_credentials():
    # when
    printed = create_operator(
        "--api-key",
        "d922bd1c-e7ac-4c98-9b1a-baa724440b0e",
        "--operator-api-key",
        "e58d1990-31b9-41f5-aa39-fd150643a8fe",
        "--secret-key",
        "secret",
        "--wallet-client-id",
        "acme",
        "--wallet-secret",
        "wallet-secret",
    )
    # then
    assert printed["apiKey"] == "d922bd1c-e7ac-4c98-9b1a-baa724440b0e"
    assert printed["operatorApiKey"] == "e58d1990-31b9-41f5-aa39-fd150643a8fe"
    assert printed["secretKey"] == "secret"
    assert printed["walletClientId"] == "acme"
    assert printed["walletSecret"] == "wallet-secret"


def test_secrets_are_not_stored_in_plain_text():
    # when
    printed = create_operator()
    # then
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM operators_operator")
        row = " ".join(str(value) for value in cursor.fetchone())
    for key in ("apiKey", "operatorApiKey", "secretKey", "walletSecret"):
        assert printed[key] not in row


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--name", "X", "--callback-url", "not a url", "--wallet-url", "http://w.test"],
            "callback_url",
        ),
        (
            ["--name", "X", "--callback-url", "http://c.test", "--wallet-url", "ftp:/w"],
            "wallet_url",
        ),
        (
            ["--name", "!!!", "--callback-url", "http://c.test", "--wallet-url", "http://w.test"],
            "code",
        ),
        (
            [
                "--name",
                "X",
                "--callback-url",
                "http://c.test",
                "--wallet-url",
                "http://w.test",
                "--secret-key",
                " ",
            ],
            "secret_key",
        ),
    ],
)
def test_create_operator_bad_input_creates_nothing(args, message):
    # when
    with pytest.raises(CommandError) as error:
        call_command("create_operator", *args, stdout=StringIO())
    # then
    assert message in str(error.value)
    assert Operator.objects.count() == 0


def test_create_operator_refuses_a_duplicate_name_or_api_key():
    # given
    create_operator("--api-key", "the-only-key")
    # when / then
    with pytest.raises(CommandError, match="name"):
        create_operator()
    with pytest.raises(CommandError, match="api_key"):
        run_json_command(
            "create_operator",
            "--name",
            "Other",
            "--callback-url",
            "http://o.test",
            "--wallet-url",
            "http://o.test",
            "--api-key",
            "the-only-key",
        )
    assert Operator.objects.count() == 1


# --- create_streamer ------------------------------------------------------------------------
