"""No secret in the logs or the call log: not the operator's keys and secrets, not the wallet
secret, not the follower's wallet token, not the player token. Checked on everything logged
(every logger, DEBUG and up) and every call-log row of a signed init and a join and a leave,
against the in-memory operator and over real HTTP against the sandbox. (Masking itself:
apps/operators/tests/test_calllog.py, test_clients.py::test_every_call_is_logged_masked,
apps/followers/tests/test_operator_api.py::test_accepted_call_is_logged_with_every_secret_masked.)
"""

import logging
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.forms.models import model_to_dict
from rest_framework.test import APIClient

from apps.operators.models import CallLog
from apps.operators.tests.factories import OperatorFactory, encode, post_signed
from apps.transactions.models import Transaction
from tests.e2e.world import API_KEY, Player, init_url, token_of

SECRETS = {
    "api_key": "inbound-api-key-LOGS-0001",
    "operator_api_key": "operator-issued-key-LOGS-0002",
    "secret_key": "signature-secret-LOGS-0003",
    "wallet_secret": "wallet-secret-LOGS-0004",
}
USER_TOKEN = "wallet-user-token-LOGS-0005"


@pytest.fixture
def operator(db):
    """The shared fixture's operator, with secrets long enough to be searched for."""
    return OperatorFactory(
        code="op",
        callback_url="https://operator.invalid/cb",
        wallet_url="https://operator.invalid/wallet",
        min_contribution=Decimal("1"),
        max_contribution=Decimal("1000"),
        **SECRETS,
    )


def everything_recorded(caplog) -> str:
    """Every log line and every call-log row, as text."""
    rows = [repr(model_to_dict(row)) for row in CallLog.objects.all()]
    lines = [record.getMessage() for record in caplog.records]
    lines += [repr(getattr(record, "args", "")) for record in caplog.records]
    return "\n".join(lines + rows)


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} was recorded"


@pytest.mark.django_db
def test_a_signed_init_and_a_join_and_leave_record_no_secret(
    client, caplog, fake, operator, streamer
):
    caplog.set_level(logging.DEBUG)
    credentials = {**SECRETS, "wallet_client_id": operator.wallet_client_id}
    # when: the operator opens a session for its player, with the player's wallet token
    body = encode({"operatorUserId": "f1", "userToken": USER_TOKEN, "currency": "USD"})
    response = post_signed(client, credentials, "/api/v1/copystake/init", body)
    assert response.status_code == 200
    url = response.json()["url"]
    player_token = parse_qs(urlsplit(url).query)["token"][0]
    # and: the player opens the page, joins and leaves (the sagas talk to the in-memory fake)
    assert client.get(url).status_code == 302
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {player_token}")
    joined = api.post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "10"}, format="json"
    )
    assert joined.status_code == 201, joined.content
    left = api.post(f"/api/v1/positions/{joined.json()['id']}/leave")
    assert left.status_code == 200, left.content
    # and: a refused call with a wrong signature, whose body carries the token again
    bad = {**credentials, "secret_key": "not-the-secret"}
    assert post_signed(client, bad, "/api/v1/copystake/init", body).status_code == 401
    # then
    assert CallLog.objects.filter(endpoint="init").count() == 2
    assert Transaction.objects.filter(kind="follower_credit", status="succeeded").exists()
    recorded = everything_recorded(caplog)
    assert_no_secret(recorded, *SECRETS.values(), USER_TOKEN, player_token)
    # and the search did look at the bodies: the token is there, masked to its tail
    assert "••••••0005" in recorded


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_over_http_against_the_sandbox_no_secret_is_recorded(world, caplog):
    caplog.set_level(logging.DEBUG)
    # when: init, the page, a join and a leave, every call to the sandbox on the wire
    url = init_url(world, "f1")
    player_token = token_of(url)
    player = Player(world, player_token)
    joined = player.join("s1", "10")
    assert joined.status_code == 201, joined.text
    assert player.leave(joined.json()["id"]).status_code == 200
    # then: the wallet, transfer and init calls are all logged, none with a secret in it
    endpoints = set(CallLog.objects.values_list("endpoint", flat=True))
    assert {"init", "wallet/withdraw", "transfer", "wallet/deposit"} <= endpoints
    sandbox = world.sandbox
    assert_no_secret(
        everything_recorded(caplog),
        API_KEY,
        sandbox.api_key,
        sandbox.secret_key,
        sandbox.wallet_secret,
        world.tokens["f1"],
        player_token,
    )
