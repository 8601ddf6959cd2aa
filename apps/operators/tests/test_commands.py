import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.operators.models import Operator, api_key_digest
from apps.operators.signatures import copystake_signature
from apps.operators.tests.factories import OperatorFactory
from apps.streamers.models import Stream, Streamer

pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> dict:
    out = StringIO()
    call_command(command, *args, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def create_operator(*extra: str) -> dict:
    return run(
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
        run(
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


@pytest.mark.parametrize("operator_ref", ["Acme Casino", "acme-casino", "ACME-CASINO"])
def test_create_streamer_by_operator_name_or_code(operator_ref):
    # given
    operator = OperatorFactory(name="Acme Casino", code="acme-casino")
    # when
    printed = run(
        "create_streamer", "--operator", operator_ref, "--user-id", "s-1", "--currency", "usd"
    )
    # then
    streamer = Streamer.objects.get()
    assert printed == {
        "id": streamer.pk,
        "operatorUserId": "s-1",
        "currency": "USD",
        "name": "s-1",
        "operator": "acme-casino",
    }
    assert streamer.operator == operator
    assert Stream.objects.count() == 0


def test_create_streamer_live_prints_the_stream_id():
    # given
    OperatorFactory(name="Acme Casino", code="acme-casino")
    # when
    printed = run(
        "create_streamer",
        "--operator",
        "acme-casino",
        "--user-id",
        "s-1",
        "--currency",
        "EUR",
        "--name",
        "Lucky Luke",
        "--live",
    )
    # then
    stream = Stream.objects.get()
    assert printed["streamId"] == str(stream.uid)
    assert printed["name"] == "Lucky Luke"
    assert stream.status == Stream.Status.LIVE
    assert stream.streamer_id == printed["id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--operator", "nobody", "--user-id", "s", "--currency", "USD"], "No operator"),
        (["--operator", "acme", "--user-id", "s", "--currency", "US DOLLAR"], "currency"),
        (
            ["--operator", "acme", "--user-id", "  ", "--currency", "USD", "--live"],
            "operator_user_id",
        ),
        (["--operator", "acme", "--user-id", "x" * 129, "--currency", "USD"], "operator_user_id"),
    ],
)
def test_create_streamer_bad_input_creates_nothing(args, message):
    # given
    OperatorFactory(name="Acme", code="acme")
    # when
    with pytest.raises(CommandError) as error:
        call_command("create_streamer", *args, stdout=StringIO())
    # then
    assert message in str(error.value)
    assert Streamer.objects.count() == 0
    assert Stream.objects.count() == 0


def test_create_streamer_refuses_a_duplicate_user():
    # given
    OperatorFactory(name="Acme", code="acme")
    run("create_streamer", "--operator", "acme", "--user-id", "s-1", "--currency", "USD")
    # when / then
    with pytest.raises(CommandError, match="already exists"):
        run("create_streamer", "--operator", "acme", "--user-id", "s-1", "--currency", "USD")
    assert Streamer.objects.count() == 1
