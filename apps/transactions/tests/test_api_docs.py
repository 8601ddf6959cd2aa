"""The API docs (the OpenAPI schema behind /api/docs/): every operation of both APIs is tagged,
summarised and described, with examples of its request, its success and its errors; every
example is what its own schema says, so the docs cannot drift from the wire; and the components
are named for what they are."""

import re

import pytest
from drf_spectacular.utils import OpenApiExample

from apps.core.errors import ErrorCode
from apps.core.schema import AUTH
from apps.core.tests.openapi import strict_validator
from apps.followers import api_examples as followers
from apps.transactions import api_examples as transactions
from apps.transactions import apis

pytestmark = pytest.mark.django_db

TAGS = {"Operator API", "Player API"}
METHODS = {"get", "post", "put", "patch", "delete"}
# Every operation and the examples its view declares.
DECLARED: dict[str, list[OpenApiExample]] = {
    "copystake_init": followers.INIT,
    "copystake_init_demo": followers.INIT_DEMO,
    "copystake_transaction_status": transactions.TRANSACTION_STATUS,
    "copystake_streams_start": transactions.STREAMS_START,
    "copystake_streams_end": transactions.STREAMS_END,
    "player_lobby": followers.LOBBY,
    "player_positions": followers.POSITIONS,
    "player_position": followers.POSITION_DETAIL,
    "player_wallet": followers.WALLET,
    "player_pool_nav": followers.POOL_NAV,
    "player_invite_redeem": followers.INVITE_REDEEM,
    "player_position_limits": followers.POSITION_LIMITS,
    "player_join": transactions.JOIN,
    "player_top_up": transactions.TOP_UP,
    "player_leave": transactions.LEAVE,
    "player_statement": [*transactions.STATEMENT, apis.STATEMENT_CSV_EXAMPLE],
    "player_streamer_stats": transactions.STREAMER_STATS,
    "player_leaderboard": transactions.LEADERBOARD,
}
# Enum names that say only which field carries them (drf-spectacular's defaults).
GENERIC_ENUMS = {"BlankEnum", "NullEnum", "StateEnum", "TypeEnum", "StatusEnum", "KindEnum"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()


def operations(schema) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def examples_of(content: dict) -> list[tuple[str, str, dict, dict]]:
    """(media type, name, example, media schema) of every example of a ``content`` map."""
    return [
        (media_type, name, example, media["schema"])
        for media_type, media in content.items()
        for name, example in media.get("examples", {}).items()
    ]


def success_status(operation: dict) -> str:
    return min(status for status in operation["responses"] if status.startswith("2"))


def test_every_operation_of_both_apis_is_documented(schema):
    documented = {operation["operationId"] for _, _, operation in operations(schema)}
    assert documented == set(DECLARED)
    for method, path, operation in operations(schema):
        where = f"{method.upper()} {path}"
        assert len(operation["tags"]) == 1 and operation["tags"][0] in TAGS, where
        assert operation.get("summary"), where
        # the description says more than how to authenticate (which every one ends with)
        description = operation.get("description", "")
        assert description.endswith(tuple(AUTH.values())), where
        for auth in AUTH.values():
            description = description.removesuffix(auth)
        assert len(description.strip()) >= 60, where


def test_every_operation_has_examples_of_its_request_success_and_an_error(schema):
    for method, path, operation in operations(schema):
        where = f"{method.upper()} {path}"
        if "requestBody" in operation:
            assert examples_of(operation["requestBody"]["content"]), where
        success = operation["responses"][success_status(operation)]
        assert examples_of({"application/json": success["content"]["application/json"]}), where
        errors = [
            example
            for status, answer in operation["responses"].items()
            if status.startswith("4")
            for example in examples_of(answer.get("content", {}))
        ]
        assert errors, where


def test_every_declared_example_is_in_the_docs(schema):
    """drf-spectacular drops an example whose status the operation does not document."""
    for _, _, operation in operations(schema):
        shown = [
            name
            for _, name, _, _ in examples_of(operation.get("requestBody", {}).get("content", {}))
        ] + [
            name
            for answer in operation["responses"].values()
            for _, name, _, _ in examples_of(answer.get("content", {}))
        ]
        declared = [example.name for example in DECLARED[operation["operationId"]]]
        assert sorted(shown) == sorted(declared), operation["operationId"]


def test_every_example_is_what_its_schema_says(schema):
    checked = 0
    for method, path, operation in operations(schema):
        contents = [("request", operation.get("requestBody", {}).get("content", {}))] + [
            (status, answer.get("content", {})) for status, answer in operation["responses"].items()
        ]
        for status, content in contents:
            for media_type, name, example, media_schema in examples_of(content):
                where = f"{method.upper()} {path} {status} {media_type} {name}"
                errors = [
                    f"{error.instance_path}: {error.message}"
                    for error in strict_validator(schema, media_schema).iter_errors(
                        example["value"]
                    )
                ]
                assert not errors, (where, errors)
                checked += 1
    assert checked >= 3 * len(DECLARED)


def test_error_examples_carry_a_catalogue_code_under_the_status_it_is_answered_with(schema):
    codes = {code.value: code for code in ErrorCode}
    for method, path, operation in operations(schema):
        for status, answer in operation["responses"].items():
            for _, name, example, _ in examples_of(answer.get("content", {})):
                if not status.startswith("4"):
                    continue
                where = f"{method.upper()} {path} {status} {name}"
                code = codes[example["value"]["errorCode"]]
                assert example["value"]["errorMessage"], where
                # the status the catalogue gives it; streams/end answers an unknown stream 404
                expected = 404 if code is ErrorCode.STREAM_NOT_FOUND else code.status
                assert int(status) == expected, where
                # and the response's description names the code (or is the generic one)
                assert code.value in answer["description"] or status in {"401", "403"}, where


def test_failed_joins_are_documented_with_their_position(schema):
    join = schema["paths"]["/api/v1/pools/join"]["post"]["responses"]
    (failed,) = join["402"]["content"]["application/json"]["examples"].values()
    assert failed["value"]["errorCode"] == ErrorCode.INSUFFICIENT_BALANCE.value
    assert failed["value"]["position"]["status"] == "failed"
    assert failed["value"]["position"]["failureCode"] == ErrorCode.INSUFFICIENT_BALANCE.value
    statuses = {
        status: [
            e["value"]["status"]
            for e in join[status]["content"]["application/json"]["examples"].values()
        ]
        for status in ("201", "202")
    }
    assert statuses == {"201": ["active"], "202": ["joining"]}


def test_components_are_named_for_what_they_are(schema):
    names = set(schema["components"]["schemas"])
    assert not {name for name in names if re.search("Input|Output", name)}
    assert not names & GENERIC_ENUMS
    assert {
        "PoolStateEnum",
        "TransactionTypeEnum",
        "TransactionStatusEnum",
        "PositionLeaveReasonEnum",
    } <= names
    # the blank leave reason an active position answers is one of the enum's values
    assert "" in schema["components"]["schemas"]["PositionLeaveReasonEnum"]["enum"]


def test_real_answers_have_no_field_the_examples_lack(schema, client, fake, streamer, make_session):
    """The strict check the examples pass holds for the API's own answers too: the examples
    have every field the API writes, spelt as it writes them."""
    from apps.followers.tokens import player_token_issue

    # given
    auth = {"HTTP_AUTHORIZATION": f"Bearer {player_token_issue(make_session('f1'))}"}
    # when
    joined = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "50.00"},
        content_type="application/json",
        **auth,
    )
    position_id = joined.json()["id"]
    topped_up = client.post(
        f"/api/v1/positions/{position_id}/top-up",
        {"amount": "28.00"},
        content_type="application/json",
        **auth,
    )
    detail = client.get(f"/api/v1/positions/{position_id}", **auth)
    lobby = client.get("/api/v1/lobby", **auth)
    left = client.post(f"/api/v1/positions/{position_id}/leave", **auth)
    statement = client.get("/api/v1/statement", **auth)
    refused = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "5000"},
        content_type="application/json",
        **auth,
    )
    # then
    answers = [
        (joined, "post", "/api/v1/pools/join"),
        (topped_up, "post", "/api/v1/positions/{position_id}/top-up"),
        (detail, "get", "/api/v1/positions/{position_id}"),
        (lobby, "get", "/api/v1/lobby"),
        (left, "post", "/api/v1/positions/{position_id}/leave"),
        (statement, "get", "/api/v1/statement"),
        (refused, "post", "/api/v1/pools/join"),
    ]
    assert [answer.status_code for answer, _, _ in answers] == [201, 200, 200, 200, 200, 200, 400]
    for answer, method, path in answers:
        documented = schema["paths"][path][method]["responses"][str(answer.status_code)]
        media_schema = documented["content"]["application/json"]["schema"]
        errors = [
            e.message for e in strict_validator(schema, media_schema).iter_errors(answer.json())
        ]
        assert not errors, (method, path, errors)
