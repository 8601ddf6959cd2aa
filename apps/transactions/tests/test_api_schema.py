"""The OpenAPI schema of the transactions' endpoints says what they answer (statuses, bodies)."""

import pytest

from apps.core.tests.openapi import component_validator

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def responses(schema, method: str, path: str) -> dict:
    return schema["paths"][path][method]["responses"]


def body_ref(response: dict) -> str:
    return response["content"]["application/json"]["schema"]["$ref"]


def test_transaction_status_documents_404_and_the_operator_errors(schema):
    documented = responses(schema, "post", "/api/v1/copystake/transaction-status")
    assert set(documented) == {"200", "400", "401", "403", "404", "406", "413"}
    assert body_ref(documented["404"]) == "#/components/schemas/Error"
    assert "ERR_TRANSACTION_NOT_FOUND" in documented["404"]["description"]


def test_join_documents_every_status_it_answers(schema):
    # when
    documented = responses(schema, "post", "/api/v1/pools/join")
    # then: 201 active, 202 pending, every refusal of the view, the service and the
    # idempotency key
    assert set(documented) == {
        "201",
        "202",
        "400",
        "401",
        "402",
        "403",
        "404",
        "406",
        "409",
        "415",
        "422",
    }
    for status in ("201", "202"):
        assert body_ref(documented[status]) == "#/components/schemas/Position"
    # a failed join carries its position beside the code
    for status in ("400", "401", "402", "403", "404", "409"):
        assert body_ref(documented[status]) == "#/components/schemas/JoinError"
    for status in ("406", "415", "422"):
        assert body_ref(documented[status]) == "#/components/schemas/Error"
    join_error = schema["components"]["schemas"]["JoinError"]
    assert join_error["required"] == ["errorCode", "errorMessage"]
    assert join_error["properties"]["position"]["allOf"] == [
        {"$ref": "#/components/schemas/Position"}
    ]


def test_leave_documents_every_status_it_answers(schema):
    documented = responses(schema, "post", "/api/v1/positions/{position_id}/leave")
    assert set(documented) == {"200", "202", "400", "401", "404", "406", "409", "415"}
    assert "ERR_POSITION_NOT_ACTIVE" in documented["409"]["description"]
    assert "ERR_POSITION_BUSY" in documented["409"]["description"]
    assert "ERR_INVALID_UNITS" in documented["400"]["description"]


def test_top_up_documents_every_status_it_answers(schema):
    documented = responses(schema, "post", "/api/v1/positions/{position_id}/top-up")
    assert set(documented) == {
        "200",
        "202",
        "400",
        "401",
        "402",
        "403",
        "404",
        "406",
        "409",
        "415",
        "422",
    }
    assert "ERR_POSITION_BUSY" in documented["409"]["description"]
    assert "ERR_CONTRIBUTION_LIMIT" in documented["400"]["description"]


def test_a_failed_join_answers_a_documented_status_with_its_position(
    client, fake, streamer, make_session
):
    from apps.followers.tokens import player_token_issue

    # given: the wallet refuses the BET
    fake.fail("withdraw", "refuse:402:ERR_INSUFFICIENT_BALANCE")
    token = player_token_issue(make_session("f1"))
    # when
    response = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "10"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    # then
    assert response.status_code == 402
    body = response.json()
    assert set(body) == {"errorCode", "errorMessage", "position"}
    assert (body["errorCode"], body["position"]["status"]) == ("ERR_INSUFFICIENT_BALANCE", "failed")


@pytest.mark.parametrize(("length", "status"), [(0, 400), (1, 201), (128, 201), (129, 400)])
def test_the_idempotency_key_takes_the_lengths_the_schema_documents(
    client, schema, fake, streamer, make_session, length, status
):
    from apps.followers.tokens import player_token_issue

    # given
    (header,) = schema["paths"]["/api/v1/pools/join"]["post"]["parameters"]
    token = player_token_issue(make_session("f1"))
    # when
    response = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "10"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_IDEMPOTENCY_KEY="k" * length,
    )
    # then
    assert (header["name"], header["in"]) == ("Idempotency-Key", "header")
    assert not header.get("required", False)
    assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 128}
    assert response.status_code == status
    if status == 400:
        assert response.json()["errorCode"] == "ERR_INVALID_IDEMPOTENCY_KEY"


def test_transaction_status_documents_the_amount_as_a_json_number(schema):
    status = schema["components"]["schemas"]["CopyStakeTransactionStatus"]
    assert status["properties"]["amount"] == {
        "type": "number",
        "minimum": 0,
        "exclusiveMaximum": True,
        "maximum": 10**12,
        "multipleOf": 1e-08,
        "description": "A JSON number with its exact digits (8 decimal places); 0 only for a "
        "WIN of nothing.",
    }


def test_a_win_of_nothing_is_answered_as_its_schema_describes(client, schema):
    from apps.operators.tests.factories import encode, make_operator, post_signed
    from apps.transactions.models import Transaction

    # given: a bust pool's WIN of 0
    operator, credentials = make_operator()
    win = Transaction.objects.create(
        operator=operator, kind=Transaction.Kind.FOLLOWER_CREDIT, amount=0, currency="USD"
    )
    # when
    response = post_signed(
        client, credentials, "/api/v1/copystake/transaction-status", encode({"id": win.external_id})
    )
    # then
    assert response.status_code == 200
    assert (response.json()["type"], response.json()["amount"]) == ("WIN", 0)
    component_validator(schema, "CopyStakeTransactionStatus").validate(response.json())


@pytest.mark.parametrize(
    ("path", "operation_id", "request_component", "statuses"),
    [
        (
            "/api/v1/copystake/streams/start",
            "copystake_streams_start",
            "CopyStakeStreamStartRequest",
            {"200", "400", "401", "403", "404", "406", "409", "413"},
        ),
        (
            "/api/v1/copystake/streams/end",
            "copystake_streams_end",
            "CopyStakeStreamEndRequest",
            {"200", "400", "401", "403", "404", "406", "413"},
        ),
    ],
)
def test_stream_operations_are_documented(schema, path, operation_id, request_component, statuses):
    operation = schema["paths"][path]["post"]
    assert (operation["operationId"], operation["tags"]) == (operation_id, ["Operator API"])
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    assert request["$ref"] == f"#/components/schemas/{request_component}"
    documented = operation["responses"]
    assert set(documented) == statuses
    assert body_ref(documented["200"]) == "#/components/schemas/CopyStakeStream"
    for status in statuses - {"200"}:
        assert body_ref(documented[status]) == "#/components/schemas/Error"
    assert "ERR_STREAM" in documented["404"]["description"]


def test_stream_requests_say_what_they_take(schema):
    components = schema["components"]["schemas"]
    start = components["CopyStakeStreamStartRequest"]
    end = components["CopyStakeStreamEndRequest"]
    assert start["required"] == ["operatorUserId"]
    assert start["properties"]["streamId"]["pattern"].startswith("^[0-9a-fA-F]{8}-")
    # streams/end: at least one of the two
    assert "required" not in end
    assert end["anyOf"] == [{"required": ["operatorUserId"]}, {"required": ["streamId"]}]
    for path in ("/api/v1/copystake/streams/start", "/api/v1/copystake/streams/end"):
        assert schema["paths"][path]["post"]["requestBody"]["required"] is True
    for conflict in ("ERR_STREAM_ALREADY_LIVE", "ERR_STREAM_ID_TAKEN", "ERR_STREAMER_SUSPENDED"):
        assert (
            conflict
            in schema["paths"]["/api/v1/copystake/streams/start"]["post"]["responses"]["409"][
                "description"
            ]
        )


@pytest.mark.parametrize(
    ("path", "operation_id", "component", "statuses", "codes"),
    [
        (
            "/api/v1/streamers/{streamer_id}/stats",
            "player_streamer_stats",
            "TrackRecord",
            {"200", "400", "401", "404", "406"},
            ["ERR_INVALID_WINDOW", "ERR_COPYSTAKE_OFF"],
        ),
        (
            "/api/v1/leaderboard",
            "player_leaderboard",
            "LeaderboardRow",
            {"200", "400", "401", "406"},
            ["ERR_INVALID_WINDOW", "ERR_INVALID_SORT", "ERR_VALIDATION", "ERR_COPYSTAKE_OFF"],
        ),
    ],
)
def test_statistics_operations_are_documented(
    schema, path, operation_id, component, statuses, codes
):
    operation = schema["paths"][path]["get"]
    assert (operation["operationId"], operation["tags"]) == (operation_id, ["Player API"])
    documented = operation["responses"]
    assert set(documented) == statuses
    body = documented["200"]["content"]["application/json"]["schema"]
    assert (
        body.get("$ref", body.get("items", {}).get("$ref")) == f"#/components/schemas/{component}"
    )
    assert all(code in documented["400"]["description"] for code in codes)
    window = next(p for p in operation["parameters"] if p["name"] == "window")
    assert set(window["schema"]["enum"]) == {"24h", "7d", "30d", "90d", "all"}
    assert not any("Input" in name or "Output" in name for name in schema["components"]["schemas"])
