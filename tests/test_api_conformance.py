"""Schemathesis: both APIs answer as the OpenAPI schema they serve says, whatever they are sent.

The schema is loaded from ``/api/schema/`` of the Django WSGI application and every operation is
driven in-process on the test database with generated requests, valid and invalid (bodies,
path parameters, headers, other methods), a bounded and deterministic number per operation.
Every answer must be:

* no 5xx (``not_a_server_error``), and no unhandled exception hidden behind a 4xx (the
  exception handler answers those 400 ``ERR_UNKNOWN`` and logs an error);
* a status the operation documents, a documented content type, a body its schema describes;
* a 4xx for a request the schema calls invalid (``negative_data_rejection``), and never
  "malformed" (``ERR_VALIDATION``...) for one it calls valid; a refusal without credentials
  (``ignored_auth``), never 401 with the real ones.

Operator API: each request is signed as the contract says (``X-API-KEY`` the operator's inbound
key, ``X-REQUEST-SIGNATURE`` = Base64(HMAC-SHA512(secret, hex(MD5(raw body))))) over the exact
bytes sent: the JSON serializer below is the one schemathesis sends with, and the auth provider
signs what it produces. Cases that drop or garble a security header go unsigned.

Player API: the real token of a signed ``init``, a live streamer whose id is offered to
``pools/join``, one of the player's positions offered to ``positions/{id}`` and a private
streamer's invite code offered to ``invites/redeem``; the sagas talk to the in-memory operator
(the ``fake`` fixture), never over HTTP.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.core import NotSet
from schemathesis.transport.serialization import serialize_json

from apps.core.errors import ErrorCode
from apps.operators.signatures import copystake_signature
from apps.operators.tests.factories import encode, make_operator, post_signed
from apps.streamers.access import invite_create
from apps.streamers.models import Stream, Streamer
from apps.transactions.apis import UUID_PATTERN
from apps.transactions.idempotency import HEADER as IDEMPOTENCY_HEADER
from apps.transactions.idempotency import MAX_KEY_CHARS
from apps.transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)

APPLICATION = get_wsgi_application()
OPERATOR_PREFIX = "/api/v1/copystake/"
SEED = 20240601
EXAMPLES_PER_OPERATION = 25

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", APPLICATION, config=CONFIG)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


# --- the exact bytes on the wire ------------------------------------------------------------


def wire_body(body: object) -> bytes:
    """The bytes schemathesis sends for a JSON body (the serializer below), signed as they are."""
    if isinstance(body, NotSet):
        return b""
    serialized = serialize_json(body)  # type: ignore[arg-type]  # any JSON value schemathesis made
    if "data" in serialized:
        return serialized["data"]
    return json.dumps(serialized["json"]).encode()


# schemathesis's stubs type the hook decorator as a plain callable; ``apply_to`` is its own.
hook: Any = schema.hook


@schemathesis.serializer("application/json")
def _json_serializer(ctx, body) -> bytes:
    return wire_body(body)


# --- the world the generated requests meet --------------------------------------------------

STREAMER_USER_ID = "streamer-1"
UUID_TEXT = re.compile(UUID_PATTERN)

# Coverage cases are generated (and signed) when the tests are collected, before any fixture
# runs: the operator's credentials are fixed, the player's token is filled in at call time.
OPERATOR_CREDENTIALS = {"api_key": "conformance-api-key", "secret_key": "conformance-secret"}
PLAYER_TOKEN_PLACEHOLDER = "<player-token>"


@dataclass
class World:
    """An operator with a live streamer, and a player of theirs with one active position."""

    token: str
    streamer_id: int
    stream_id: str
    position_id: str
    transaction_id: str
    invite_code: str
    statuses: list[int] = field(default_factory=list)
    errors: list[logging.LogRecord] = field(default_factory=list)

    def prepare(self, case) -> None:
        """The player's real token in place of the placeholder (cases meant to carry it), and
        a valid ``Idempotency-Key`` made specific to the body (still valid, still
        deterministic): otherwise most generated joins would repeat a key with another body and
        stop at 422 before their body is looked at. A repeat of the same body still replays."""
        headers = case.headers or {}
        if headers.get("Authorization") == f"Bearer {PLAYER_TOKEN_PLACEHOLDER}":
            headers["Authorization"] = f"Bearer {self.token}"
        key = headers.get(IDEMPOTENCY_HEADER)
        if isinstance(key, str) and 1 <= len(key) <= MAX_KEY_CHARS:
            digest = hashlib.sha256(key.encode() + wire_body(case.body)).hexdigest()[:16]
            headers[IDEMPOTENCY_HEADER] = key[: MAX_KEY_CHARS - 16] + digest


WORLD: list[World] = []


def current() -> World:
    return WORLD[-1]


class ErrorLog(logging.Handler):
    """Collects the errors logged while a request is answered (an unhandled exception)."""

    def __init__(self, errors: list[logging.LogRecord]):
        super().__init__(level=logging.ERROR)
        self.errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        self.errors.append(record)


@pytest.fixture
def world(fake):
    # Limits and a wallet wide enough that most valid joins go through.
    fake.wallet.default_factory = lambda: Decimal(10**13)
    operator, credentials = make_operator(
        **OPERATOR_CREDENTIALS,
        min_contribution=Decimal("0.00000001"),
        max_contribution=Decimal(10**9),
    )
    # Streamer 1: the coverage phase tries the lowest valid ``streamerId`` (the database is
    # empty at the start of a transactional test, so the id is free).
    streamer = Streamer.objects.create(
        pk=1, operator=operator, operator_user_id=STREAMER_USER_ID, display_name="S", currency="USD"
    )
    stream = Stream.objects.create(
        streamer=streamer, status=Stream.Status.LIVE, started_at=timezone.now()
    )
    client = Client()
    init = post_signed(
        client,
        credentials,
        f"{OPERATOR_PREFIX}init",
        encode({"operatorUserId": "f1", "userToken": "wallet-token", "currency": "USD"}),
    )
    assert init.status_code == 200, init.content
    token = parse_qs(urlsplit(init.json()["url"]).query)["token"][0]
    joined = client.post(
        "/api/v1/pools/join",
        {"streamerId": streamer.pk, "amount": "10"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert joined.status_code == 201, joined.content
    position_id = joined.json()["id"]
    bet = Transaction.objects.get(position_id=position_id, kind=Transaction.Kind.FOLLOWER_DEBIT)
    private = Streamer.objects.create(
        operator=operator,
        operator_user_id="streamer-2",
        display_name="P",
        currency="USD",
        is_private=True,
    )
    invite = invite_create(streamer=private, valid_for=timedelta(days=1))
    world = World(token, streamer.pk, str(stream.uid), position_id, bet.external_id, invite.code)
    handler = ErrorLog(world.errors)
    logging.getLogger().addHandler(handler)
    WORLD.append(world)
    yield world
    WORLD.pop()
    logging.getLogger().removeHandler(handler)
    # Not a run of refusals only: the operation answered a success at least once.
    assert any(200 <= status < 300 for status in world.statuses), sorted(set(world.statuses))


@schema.auth(refresh_interval=None).apply_to(path_regex=f"^{OPERATOR_PREFIX}")
class OperatorSignature:
    """The operator's key and the signature of the exact body, as an operator sends them."""

    def get(self, case, ctx):
        return OPERATOR_CREDENTIALS

    def set(self, case, credentials, ctx):
        case.headers = {
            **(case.headers or {}),
            "X-API-KEY": credentials["api_key"],
            "X-REQUEST-SIGNATURE": copystake_signature(
                credentials["secret_key"], wire_body(case.body)
            ),
        }


@schema.auth(refresh_interval=None).skip_for(path_regex=f"^{OPERATOR_PREFIX}")
class PlayerToken:
    def get(self, case, ctx):
        return PLAYER_TOKEN_PLACEHOLDER

    def set(self, case, token, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


# Generated ids are almost never real: the fuzzing phase is offered the real ones too, in place
# of a generated value the schema calls valid only (swapping an invalid one would turn a
# negative case valid behind schemathesis's back). The body is signed after this.


def offer(real, generated, valid: bool):
    return st.sampled_from([real(), generated]) if valid else st.just(generated)


def _text(value, max_length: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_length and "\x00" not in value


def offer_in_body(field: str, real, valid):
    def hook(ctx, body):
        if not isinstance(body, dict) or field not in body:
            return st.just(body)
        return offer(lambda: {**body, field: real()}, body, valid(body[field]))

    return hook


hook("flatmap_body").apply_to(path="/api/v1/pools/join")(
    offer_in_body(
        "streamerId",
        lambda: current().streamer_id,
        lambda value: type(value) is int and 1 <= value <= 2**62,
    )
)
hook("flatmap_body").apply_to(path_regex=f"^{OPERATOR_PREFIX}init")(
    offer_in_body("streamId", lambda: current().stream_id, lambda value: _text(value, 64))
)
hook("flatmap_body").apply_to(path="/api/v1/invites/redeem")(
    offer_in_body("code", lambda: current().invite_code, lambda value: _text(value, 40))
)
hook("flatmap_body").apply_to(path=f"{OPERATOR_PREFIX}transaction-status")(
    offer_in_body("id", lambda: current().transaction_id, lambda value: _text(value, 64))
)


def offer_the_streamer_and_stream(ctx, body):
    """The live streamer's user id and its stream's id, each in place of a valid generated
    one (either, both or neither): otherwise every start and end would be 404."""
    if not isinstance(body, dict):
        return st.just(body)
    real = {"operatorUserId": STREAMER_USER_ID, "streamId": current().stream_id}
    valid = {
        "operatorUserId": lambda value: _text(value, 128) and bool(value.strip()),
        "streamId": lambda value: isinstance(value, str) and bool(UUID_TEXT.fullmatch(value)),
    }
    swappable = [name for name in real if name in body and valid[name](body[name])]
    if not swappable:
        return st.just(body)
    return st.sets(st.sampled_from(swappable)).map(
        lambda names: {**body, **{name: real[name] for name in names}}
    )


hook("flatmap_body").apply_to(path_regex=f"^{OPERATOR_PREFIX}streams/")(
    offer_the_streamer_and_stream
)


@hook("flatmap_path_parameters").apply_to(path_regex=r"\{position_id\}")
def offer_the_players_position(ctx, path_parameters):
    generated = path_parameters.get("position_id")
    if not WORLD:  # coverage cases made at collection, before any world exists: as generated
        return st.just(path_parameters)
    try:
        uuid.UUID(generated)
    except (TypeError, ValueError, AttributeError):
        return st.just(path_parameters)
    return st.sampled_from(
        [{**path_parameters, "position_id": current().position_id}, path_parameters]
    )


# --- checks of our own ----------------------------------------------------------------------


def authenticated_requests_are_not_refused_as_unauthenticated(ctx, response, case):
    """A request that carries the real credentials is never answered 401: the signature covered
    the bytes that were sent and the token is the player's (otherwise every check above would
    pass on nothing but 401s)."""
    world = current()
    headers = response.request.headers
    if case.path.startswith(OPERATOR_PREFIX):
        body = response.request.body or b""
        body = body.encode() if isinstance(body, str) else body
        genuine = headers.get("X-API-KEY") == OPERATOR_CREDENTIALS["api_key"] and headers.get(
            "X-REQUEST-SIGNATURE"
        ) == copystake_signature(OPERATOR_CREDENTIALS["secret_key"], body)
    else:
        genuine = headers.get("Authorization") == f"Bearer {world.token}"
    if genuine:
        assert response.status_code != 401, "authenticated request answered 401"


# The answers that mean "this request is malformed": never for a request the schema calls valid.
MALFORMED = {
    ErrorCode.VALIDATION,
    ErrorCode.MALFORMED_JSON,
    ErrorCode.INVALID_AMOUNT,
    ErrorCode.INVALID_IDEMPOTENCY_KEY,
    ErrorCode.BAD_REQUEST,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.PAYLOAD_TOO_LARGE,
}


def no_unhandled_exception_behind_the_answer(ctx, response, case):
    """The exception handler answers any unexpected exception 400 ``ERR_UNKNOWN`` (never a
    500) and logs it: such an answer is a crash all the same."""
    errors, current().errors[:] = list(current().errors), []
    assert not errors, "\n".join(f"{r.name}: {r.getMessage()}" for r in errors)


def valid_requests_are_not_refused_as_malformed(ctx, response, case):
    """What the schema calls valid passes the API's validation: it may still be refused by a
    rule (a limit, an unknown id), never as malformed (the schema's half of "says exactly what
    the API enforces"; ``negative_data_rejection`` is the other half)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code < 400:
        return
    try:
        code = response.json().get("errorCode")
    except (ValueError, AttributeError):
        code = None
    assert code not in MALFORMED, f"a request valid by the schema was refused with {code}"


ALL_CHECKS = [
    *CHECKS,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.ignored_auth,
    no_unhandled_exception_behind_the_answer,
    authenticated_requests_are_not_refused_as_unauthenticated,
    valid_requests_are_not_refused_as_malformed,
]


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_answers_as_its_schema_says(case, world):
    world.prepare(case)
    response = case.call_and_validate(checks=ALL_CHECKS)
    world.statuses.append(response.status_code)
