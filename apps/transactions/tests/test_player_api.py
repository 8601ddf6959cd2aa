"""The player API over DRF's test client, with the sagas talking to the in-memory operator."""

import json
from decimal import Decimal

import jsonschema_rs
import pytest
from rest_framework.test import APIClient

from apps.followers.tokens import player_token_issue
from apps.operators.services import operator_set_enabled
from apps.streamers.models import Stream
from apps.transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(session) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}")
    return client


def test_join_returns_201_with_the_position(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    # when
    response = client.post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "100"}, format="json"
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {
        "id",
        "poolId",
        "streamerId",
        "status",
        "units",
        "contributed",
        "payout",
        "value",
        "currency",
        "createdAt",
        "updatedAt",
    }
    assert (
        body["status"],
        body["units"],
        body["contributed"],
        body["value"],
        body["currency"],
    ) == ("active", "100.000000000000000000", "100.00000000", "100.00000000", "USD")
    assert body["payout"] is None and body["streamerId"] == streamer.pk


def test_join_accepts_json_numbers_exactly(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    response = client.post(
        "/api/v1/pools/join",
        data=b'{"streamerId": %d, "amount": 12.34567891}' % streamer.pk,
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["contributed"] == "12.34567891"


def test_join_pending_answers_202(fake, streamer, make_session):
    fake.fail("transfer", *["timeout_before"] * 30)
    response = client_for(make_session("f1")).post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "10"}, format="json"
    )
    assert response.status_code == 202 and response.json()["status"] == "joining"


def test_idempotency_key_returns_the_first_answer_and_refuses_another_body(
    fake, streamer, make_session
):
    client = client_for(make_session("f1"))
    first = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    again = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    other = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "11"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert other.status_code == 422 and other.json()["errorCode"] == "ERR_IDEMPOTENCY_KEY_REUSED"
    assert Transaction.objects.filter(kind="follower_debit").count() == 1
    assert fake.wallet["f1"] == Decimal(490)


def test_idempotent_refusal_is_replayed_too(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    fake.wallet["f1"] = Decimal(1)
    first = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    fake.wallet["f1"] = Decimal(100)
    again = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert first.status_code == again.status_code == 402
    assert again.json()["errorCode"] == "ERR_INSUFFICIENT_BALANCE"
    assert fake.wallet["f1"] == Decimal(100)


@pytest.mark.parametrize(
    "amount",
    [
        "12345678901234567890123.000000001",  # a JSON number beyond 28 significant digits
        '"12345678901234567890123.000000001"',  # the same as a string
        '"1e3"',
        '"1_0"',
        '"\u0661\u0660"',  # Arabic-Indic digits
        "1e400",
    ],
)
def test_a_bad_amount_is_refused_and_leaves_the_idempotency_key_untouched(
    fake, streamer, make_session, amount
):
    client = client_for(make_session("f1"))
    # when
    refused = client.post(
        "/api/v1/pools/join",
        f'{{"streamerId": {streamer.pk}, "amount": {amount}}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-bad",
    )
    # then
    assert refused.status_code == 400, refused.content
    assert refused.json()["errorCode"] == "ERR_INVALID_AMOUNT"
    assert not Transaction.objects.exists()
    # and the key still serves a good request
    joined = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-bad",
    )
    assert joined.status_code == 201, joined.content


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"streamerId": 999999, "amount": "10"}, 404, "ERR_STREAMER_NOT_FOUND"),
        ({"amount": "10"}, 400, "ERR_VALIDATION"),
        ({"streamerId": "x", "amount": "10"}, 400, "ERR_VALIDATION"),
        ({"streamerId": None, "amount": "1e400"}, 400, "ERR_VALIDATION"),
    ],
)
def test_join_refusals_are_4xx_with_a_code(fake, streamer, make_session, body, status, code):
    response = client_for(make_session("f1")).post("/api/v1/pools/join", body, format="json")
    assert response.status_code == status and response.json()["errorCode"] == code


def test_join_refusal_codes(fake, streamer, make_session):
    client = client_for(make_session("f1"))

    def amount(value):
        return client.post(
            "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": value}, format="json"
        )

    assert amount("1e400").json()["errorCode"] == "ERR_INVALID_AMOUNT"
    assert amount("0").json()["errorCode"] == "ERR_INVALID_AMOUNT"
    assert amount("100000").json()["errorCode"] == "ERR_CONTRIBUTION_LIMIT"
    Stream.objects.update(status="ended")
    offline = amount("10")
    assert offline.status_code == 409 and offline.json()["errorCode"] == "ERR_STREAMER_OFFLINE"


def test_malformed_json_and_nan_are_400(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    bad = client.post("/api/v1/pools/join", data=b"{not json", content_type="application/json")
    nan = client.post(
        "/api/v1/pools/join",
        data=b'{"streamerId": 1, "amount": NaN}',
        content_type="application/json",
    )
    assert bad.status_code == nan.status_code == 400
    assert bad.json()["errorCode"] == nan.json()["errorCode"] == "ERR_MALFORMED_JSON"


def test_leave_and_positions(fake, streamer, make_session):
    session = make_session("f1")
    client = client_for(session)
    position_id = client.post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "100"}, format="json"
    ).json()["id"]
    fake.streamer_balance["streamer-1"] = Decimal("2200")
    # when
    left = client.post(f"/api/v1/positions/{position_id}/leave")
    # then
    assert left.status_code == 200
    assert (left.json()["status"], left.json()["payout"], left.json()["value"]) == (
        "closed",
        "200.00000000",
        "200.00000000",
    )
    listed = client.get("/api/v1/positions").json()
    assert [p["id"] for p in listed] == [position_id]
    assert client.get(f"/api/v1/positions/{position_id}").json()["status"] == "closed"


def test_other_followers_positions_are_not_found(fake, streamer, make_session, operator):
    owner = client_for(make_session("f1"))
    position_id = owner.post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "10"}, format="json"
    ).json()["id"]
    intruder = client_for(make_session("f2"))
    assert intruder.get(f"/api/v1/positions/{position_id}").status_code == 404
    assert intruder.post(f"/api/v1/positions/{position_id}/leave").status_code == 404
    assert intruder.get("/api/v1/positions").json() == []
    assert intruder.get("/api/v1/positions/not-a-uuid").status_code == 404


def test_missing_garbage_and_expired_tokens_are_401(fake, streamer, make_session):
    from django.utils import timezone

    assert APIClient().get("/api/v1/lobby").status_code == 401
    garbage = APIClient()
    garbage.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert garbage.get("/api/v1/lobby").status_code == 401
    session = make_session("f1")
    client = client_for(session)
    session.expires_at = timezone.now()
    session.save()
    response = client.get("/api/v1/lobby")
    assert response.status_code == 401 and response.json()["errorCode"] == "ERR_SESSION_EXPIRED"


def test_lobby_lists_live_streamers_with_their_pool(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    assert client.get("/api/v1/lobby").json()[0]["pool"] is None
    client.post("/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "100"}, format="json")
    [entry] = client.get("/api/v1/lobby").json()
    assert entry["streamerId"] == streamer.pk and entry["nav"] == "1.000000000000000000"
    assert entry["pool"]["followers"] == 1 and entry["pool"]["balance"] == "1100.00000000"


def test_demo_session_plays_with_play_money_and_touches_no_operator(
    streamer, make_session, monkeypatch
):
    from apps.followers.models import Follower
    from apps.operators import clients

    def no_http(*args, **kwargs):
        raise AssertionError("demo mode must not call the operator")

    for name in (
        "wallet_withdraw",
        "wallet_deposit",
        "wallet_rollback",
        "transfer",
        "streamer_balance",
        "game_pool",
    ):
        monkeypatch.setattr(clients, name, no_http)
    session = make_session("d1", demo=True)
    client = client_for(session)
    joined = client.post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "100"}, format="json"
    )
    assert joined.status_code == 201 and joined.json()["currency"] == "DEMO"
    assert Follower.objects.get(pk=session.follower_id).demo_balance == Decimal(900)
    left = client.post(f"/api/v1/positions/{joined.json()['id']}/leave")
    assert left.status_code == 200 and left.json()["status"] == "closed"
    payout = Decimal(left.json()["payout"])
    assert Follower.objects.get(pk=session.follower_id).demo_balance == Decimal(900) + payout


def test_interrupted_join_never_lets_its_key_start_another(
    fake, streamer, make_session, monkeypatch
):
    from apps.transactions import services

    client = client_for(make_session("f1"))
    client.raise_request_exception = False

    def crash(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "position_join", crash)
    first = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    monkeypatch.undo()
    again = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    assert first.status_code == 400 and first.json()["errorCode"] == "ERR_UNKNOWN"
    assert again.status_code == 409 and again.json()["errorCode"] == "ERR_REQUEST_INTERRUPTED"
    assert fake.calls == []


def test_a_disabled_operator_stops_joins_but_never_traps_money(fake, streamer, make_session):
    # given a follower in a pool
    session = make_session("f1")
    client = client_for(session)
    joined = client.post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "100"}, format="json"
    )
    position_id = joined.json()["id"]
    # when the operator is disabled
    operator_set_enabled(operator=streamer.operator, enabled=False)
    # then new joins and the lobby are refused...
    refused = client.post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "10"}, format="json"
    )
    assert (refused.status_code, refused.json()["errorCode"]) == (400, "ERR_COPYSTAKE_OFF")
    assert client.get("/api/v1/lobby").json()["errorCode"] == "ERR_COPYSTAKE_OFF"
    # ...but the follower still sees and leaves the position, and is paid
    assert client.get(f"/api/v1/positions/{position_id}").status_code == 200
    assert client.get("/api/v1/positions").status_code == 200
    left = client.post(f"/api/v1/positions/{position_id}/leave")
    assert left.status_code == 200, left.content
    assert left.json()["status"] == "closed"
    assert fake.wallet["f1"] == Decimal(500)


# --- the schema says what pools/join takes ------------------------------------------------


def join_request_property(field: str) -> dict:
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    return schema["components"]["schemas"]["PoolJoinRequest"]["properties"][field]


@pytest.mark.parametrize(
    "amount_json",
    [
        # valid: a JSON number or a plain decimal string, positive, at most 8 places
        '"10"',
        '"10.5"',
        '"10.00000001"',
        '"1.5"',
        "10",
        "10.5",
        "1e1",
        "10.00000001",
        # invalid
        '" 10"',
        '"10 "',
        '"+10"',
        '"1e1"',
        '"010"',
        '"10."',
        '".5"',
        '"10.000000001"',
        '"-10"',
        '"0"',
        '"0.00"',
        '"\\u0661\\u0660"',
        '"NaN"',
        '"Infinity"',
        '""',
        "0",
        "-1",
        "0.000000001",
        "true",
        "null",
        "[10]",
    ],
)
def test_join_takes_exactly_the_amounts_its_schema_documents(
    fake, streamer, make_session, amount_json
):
    # given
    client = client_for(make_session("f1"))
    amount = join_request_property("amount")
    documented = jsonschema_rs.Draft4Validator(amount).is_valid(json.loads(amount_json))
    body = b'{"streamerId": %d, "amount": %s}' % (streamer.pk, amount_json.encode())
    # when
    response = client.post("/api/v1/pools/join", data=body, content_type="application/json")
    # then: joined exactly when the schema calls the amount valid, else refused as invalid
    if documented:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 400, response.content
        assert response.json()["errorCode"] in ("ERR_INVALID_AMOUNT", "ERR_VALIDATION")


def test_an_amount_in_exponent_notation_is_refused_with_the_amount_code(
    fake, streamer, make_session
):
    response = client_for(make_session("f1")).post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "1e1"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "ERR_INVALID_AMOUNT",
        "errorMessage": 'amount: Must be a number or a decimal string such as "10.5".',
    }
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    "streamer_id_json", ["%d", '"%d"', "%d.0", "%de0", "true", "0", "4611686018427387905"]
)
def test_join_takes_exactly_the_streamer_ids_its_schema_documents(
    fake, streamer, make_session, streamer_id_json
):
    # given: the real id, as a JSON integer or something else
    client = client_for(make_session("f1"))
    text = streamer_id_json % streamer.pk if "%d" in streamer_id_json else streamer_id_json
    documented = jsonschema_rs.Draft4Validator(join_request_property("streamerId")).is_valid(
        json.loads(text)
    )
    body = b'{"streamerId": %s, "amount": "10"}' % text.encode()
    # when
    response = client.post("/api/v1/pools/join", data=body, content_type="application/json")
    # then: only a JSON integer in range is a streamer id ("1", 1.0, true are not)
    assert (response.status_code == 201) == (streamer_id_json == "%d"), response.content
    if response.status_code != 201:
        assert response.status_code == 400
        assert response.json()["errorCode"] == "ERR_VALIDATION"
        assert response.json()["errorMessage"].startswith("streamerId: ")
    assert documented == (streamer_id_json == "%d")
