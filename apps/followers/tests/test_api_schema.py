"""The OpenAPI schema of the followers' endpoints says what they answer (statuses, bodies)."""

import pytest

from apps.core.tests.openapi import component_validator
from apps.operators.tests.factories import make_operator, post_signed

pytestmark = pytest.mark.django_db

OPERATOR_ERRORS = {"400", "401", "403", "406", "413"}
PLAYER_ERRORS = {"400", "401", "406"}


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def responses(schema, method: str, path: str) -> dict:
    return schema["paths"][path][method]["responses"]


def error_ref(response: dict) -> str:
    return response["content"]["application/json"]["schema"]["$ref"]


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/api/v1/copystake/init", {"200"} | OPERATOR_ERRORS),
        ("post", "/api/v1/copystake/init-demo", {"200"} | OPERATOR_ERRORS),
        ("get", "/api/v1/lobby", {"200"} | PLAYER_ERRORS),
        ("get", "/api/v1/positions", {"200"} | PLAYER_ERRORS),
        ("get", "/api/v1/positions/{position_id}", {"200", "404"} | PLAYER_ERRORS),
        ("post", "/api/v1/invites/redeem", {"200", "404", "415"} | PLAYER_ERRORS),
        ("get", "/api/v1/wallet", {"200", "409"} | PLAYER_ERRORS),
        ("get", "/api/v1/pools/{pool_id}/nav", {"200", "404"} | PLAYER_ERRORS),
        ("get", "/api/v1/streamers/{streamer_id}/stats", {"200", "404"} | PLAYER_ERRORS),
        ("get", "/api/v1/leaderboard", {"200"} | PLAYER_ERRORS),
    ],
)
def test_every_status_an_operation_answers_is_documented_with_an_error_body(
    schema, method, path, statuses
):
    # when
    documented = responses(schema, method, path)
    # then
    assert set(documented) == statuses
    for status in statuses - {"200"}:
        assert error_ref(documented[status]) == "#/components/schemas/Error"


def test_player_operations_are_named_and_their_bodies_are_components(schema):
    operations = {
        (method, path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if not path.startswith("/api/v1/copystake/")
    }
    assert {op["operationId"] for op in operations.values()} == {
        "player_lobby",
        "player_positions",
        "player_position",
        "player_join",
        "player_leave",
        "player_top_up",
        "player_invite_redeem",
        "player_wallet",
        "player_pool_nav",
        "player_position_limits",
        "player_statement",
        "player_streamer_stats",
        "player_leaderboard",
    }
    assert all(op["tags"] == ["Player API"] for op in operations.values())
    lobby = responses(schema, "get", "/api/v1/lobby")["200"]["content"]["application/json"]
    assert lobby["schema"]["items"]["$ref"] == "#/components/schemas/LobbyEntry"
    position = responses(schema, "get", "/api/v1/positions/{position_id}")["200"]
    assert position["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/PositionDetail"
    )


def test_a_position_id_is_a_uuid(schema):
    (parameter,) = schema["paths"]["/api/v1/positions/{position_id}"]["get"]["parameters"]
    assert parameter["in"] == "path" and parameter["schema"] == {
        "type": "string",
        "format": "uuid",
    }


def test_an_accept_header_without_json_answers_406_as_documented(client):
    # given
    _, credentials = make_operator()
    # when
    operator = post_signed(
        client, credentials, "/api/v1/copystake/init-demo", b"{}", HTTP_ACCEPT="text/html"
    )
    player = client.get("/api/v1/lobby", HTTP_ACCEPT="text/html")
    # then
    for response in (operator, player):
        assert response.status_code == 406
        assert response.json() == {
            "errorCode": "ERR_NOT_ACCEPTABLE",
            "errorMessage": "Could not satisfy the request Accept header.",
        }


def test_a_position_documents_its_status_values_and_decimal_strings(schema):
    position = schema["components"]["schemas"]["Position"]
    status = schema["components"]["schemas"][
        position["properties"]["status"]["$ref"].rsplit("/", 1)[1]
    ]
    assert status["enum"] == ["joining", "active", "leaving", "closed", "failed"]
    assert position["properties"]["payout"]["nullable"] is True
    assert position["properties"]["value"]["pattern"] == r"^\d{1,12}\.\d{8}$"
    assert set(position["required"]) >= {
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


def test_the_performance_fee_is_documented_on_positions_receipts_and_the_lobby(schema):
    components = schema["components"]["schemas"]
    position = components["Position"]["properties"]
    assert position["highWaterMark"]["pattern"] == r"^\d{1,12}\.\d{8}$"
    assert position["feesPaid"]["format"] == "decimal"
    assert position["performanceFeePercent"]["format"] == "decimal"
    assert {"performanceFeePercent", "highWaterMark", "feesPaid"} <= set(
        components["Position"]["required"]
    )
    receipt = components["Receipt"]["properties"]
    assert {"grossAmount", "fee", "feePercent", "highWaterMark", "feeUnits", "feeId"} <= set(
        receipt
    )
    assert receipt["grossAmount"]["nullable"] is True
    assert receipt["highWaterMark"]["nullable"] is True
    lobby = components["LobbyEntry"]["properties"]["performanceFeePercent"]
    assert lobby["pattern"] == r"^\d{1,3}\.\d{4}$"
    statement = components["StatementReceipt"]["properties"]
    assert {"grossAmount", "fee", "feePercent", "highWaterMark", "feeUnits", "feeId"} <= set(
        statement
    )
    assert "fees" in components["StatementTotals"]["properties"]


def test_a_position_with_a_fee_answers_a_body_its_schema_describes(
    client, schema, fake, streamer, make_session
):
    from decimal import Decimal

    from apps.followers.tokens import player_token_issue
    from apps.streamers.services import streamer_update

    # given: a streamer charging 20 %, a position that left with a profit
    streamer_update(streamer=streamer, performance_fee_percent=Decimal(20))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {player_token_issue(make_session('f1'))}"}
    joined = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "100"},
        content_type="application/json",
        **auth,
    ).json()
    assert joined["performanceFeePercent"] == "20.0000"
    fake.streamer_balance[streamer.operator_user_id] *= 2
    client.post(f"/api/v1/positions/{joined['id']}/leave", **auth)
    # when
    detail = client.get(f"/api/v1/positions/{joined['id']}", **auth).json()
    lobby = client.get("/api/v1/lobby", **auth).json()
    # then
    leave = detail["receipts"][-1]
    assert Decimal(leave["fee"]) > 0 and leave["feeId"]
    assert Decimal(leave["amount"]) + Decimal(leave["fee"]) == Decimal(leave["grossAmount"])
    assert detail["feesPaid"] == leave["fee"]
    assert lobby[0]["performanceFeePercent"] == "20.0000"
    component_validator(schema, "PositionDetail").validate(detail)
    for entry in lobby:
        component_validator(schema, "LobbyEntry").validate(entry)


def test_lobby_and_positions_answer_bodies_their_schema_describes(
    client, schema, fake, streamer, make_session
):
    from apps.followers.tokens import player_token_issue

    # given: an open pool with one active and one closed position
    auth = {"HTTP_AUTHORIZATION": f"Bearer {player_token_issue(make_session('f1'))}"}
    for _ in range(2):
        joined = client.post(
            "/api/v1/pools/join",
            {"streamerId": streamer.pk, "amount": "10"},
            content_type="application/json",
            **auth,
        )
    client.post(f"/api/v1/positions/{joined.json()['id']}/leave", **auth)
    # when
    lobby = client.get("/api/v1/lobby", **auth).json()
    positions = client.get("/api/v1/positions", **auth).json()
    # then
    assert [p["status"] for p in positions] == ["closed", "active"]
    assert lobby[0]["pool"] is not None
    for body, component in [
        *((e, "LobbyEntry") for e in lobby),
        *((p, "Position") for p in positions),
    ]:
        component_validator(schema, component).validate(body)
