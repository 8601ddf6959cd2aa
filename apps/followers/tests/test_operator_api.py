import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jsonschema_rs
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.followers.authentication import PlayerTokenAuthentication
from apps.followers.models import Follower, PlayerSession
from apps.operators.apis import NON_BLANK_TEXT_PATTERN, TEXT_PATTERN, WHITESPACE
from apps.operators.models import CallLog
from apps.operators.services import operator_rotate_credential, operator_set_enabled
from apps.operators.signatures import copystake_signature
from apps.operators.tests.factories import encode, make_operator, post_signed, signed_headers
from apps.streamers.tests.factories import StreamerFactory, StreamFactory

pytestmark = pytest.mark.django_db

INIT = "/api/v1/copystake/init"
INIT_DEMO = "/api/v1/copystake/init-demo"
STATUS = "/api/v1/copystake/transaction-status"


def init_body(**overrides) -> bytes:
    payload = {"operatorUserId": "333", "userToken": "wallet-token-XYZ", "currency": "USD"}
    payload.update(overrides)
    return encode(payload)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def authenticate_token(token: str):
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    return PlayerTokenAuthentication().authenticate(Request(request))


# --- init -----------------------------------------------------------------------------------


@override_settings(PUBLIC_BASE_URL="https://copystake.example")
def test_signed_init_returns_a_url_whose_token_authenticates_the_player(client):
    # given
    operator, credentials = make_operator(session_ttl_seconds=600)
    # when
    response = post_signed(client, credentials, INIT, init_body(language="en", username="Ann"))
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    url = response.json()["url"]
    assert set(response.json()) == {"url"}
    assert url.startswith("https://copystake.example/play/?token=")
    follower, session = authenticate_token(token_of(url))
    assert follower.operator == operator
    assert follower.operator_user_id == "333"
    assert follower.username == "Ann"
    assert follower.is_demo is False
    assert session.user_token == "wallet-token-XYZ"
    assert session.currency == "USD"
    assert session.language == "en"
    assert session.stream_uid is None
    lifetime = session.expires_at - session.created_at
    assert timedelta(seconds=599) < lifetime <= timedelta(seconds=601)


def test_init_twice_reuses_the_follower_and_opens_a_new_session(client):
    # given
    _, credentials = make_operator()
    post_signed(client, credentials, INIT, init_body())
    # when
    response = post_signed(client, credentials, INIT, init_body(username="renamed"))
    # then
    assert response.status_code == 200
    assert Follower.objects.count() == 1
    assert Follower.objects.get().username == "renamed"
    assert PlayerSession.objects.count() == 2


def test_a_returning_players_init_reads_two_rows_and_writes_two(client):
    # given: the operator's key is looked up, the follower found, the session and the call
    # log row written; nothing is read twice (benchmarks/operator_api.py measured 11 queries)
    _, credentials = make_operator()
    post_signed(client, credentials, INIT, init_body())
    # when
    with CaptureQueriesContext(connection) as captured:
        response = post_signed(client, credentials, INIT, init_body())
    # then
    assert response.status_code == 200
    statements = [
        " ".join(query["sql"].split()[:4])
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT"))
    ]
    assert len(statements) == 4, statements
    assert statements[0].startswith('SELECT "operators_operator"')
    assert statements[1].startswith('SELECT "followers_follower"')
    assert statements[2] == 'INSERT INTO "followers_playersession" ("uid",'
    assert statements[3] == 'INSERT INTO "operators_calllog" ("operator_id",'
    assert PlayerSession.objects.count() == 2
    assert CallLog.objects.filter(endpoint="init").count() == 2


def test_user_token_is_encrypted_at_rest(client):
    # given
    _, credentials = make_operator()
    # when
    post_signed(client, credentials, INIT, init_body())
    # then
    with connection.cursor() as cursor:
        cursor.execute("SELECT user_token FROM followers_playersession")
        (stored,) = cursor.fetchone()
    assert "wallet-token-XYZ" not in stored


def test_init_with_stream_id_of_own_stream_adds_it_to_the_url(client):
    # given
    operator, credentials = make_operator()
    stream = StreamFactory(streamer=StreamerFactory(operator=operator))
    # when
    response = post_signed(client, credentials, INIT, init_body(streamId=str(stream.uid)))
    # then
    assert response.status_code == 200
    query = parse_qs(urlsplit(response.json()["url"]).query)
    assert query["stream"] == [str(stream.uid)]
    assert PlayerSession.objects.get().stream_uid == stream.uid


@pytest.mark.parametrize("stream_id", ["not-a-uuid", "7b699688-f4ad-407d-baf5-c006ba8d50e2"])
def test_init_with_unknown_stream_id_is_refused(client, stream_id):
    # given
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, INIT, init_body(streamId=stream_id))
    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_STREAM_NOT_FOUND"
    assert Follower.objects.count() == 0


def test_init_with_another_operators_stream_is_refused(client):
    # given
    _, credentials = make_operator()
    foreign = StreamFactory()
    # when
    response = post_signed(client, credentials, INIT, init_body(streamId=str(foreign.uid)))
    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_STREAM_NOT_FOUND"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"userToken": "t", "currency": "USD"}, "operatorUserId"),
        ({"operatorUserId": "", "userToken": "t", "currency": "USD"}, "operatorUserId"),
        ({"operatorUserId": "   ", "userToken": "t", "currency": "USD"}, "operatorUserId"),
        ({"operatorUserId": 333, "userToken": "t", "currency": "USD"}, "operatorUserId"),
        ({"operatorUserId": "x" * 129, "userToken": "t", "currency": "USD"}, "operatorUserId"),
        ({"operatorUserId": "1", "currency": "USD"}, "userToken"),
        ({"operatorUserId": "1", "userToken": "", "currency": "USD"}, "userToken"),
        ({"operatorUserId": "1", "userToken": ["t"], "currency": "USD"}, "userToken"),
        ({"operatorUserId": "1", "userToken": "t" * 100_000, "currency": "USD"}, "userToken"),
        ({"operatorUserId": "1", "userToken": "t", "currency": "usd"}, "currency"),
        ({"operatorUserId": "1", "userToken": "t", "currency": "US"}, "currency"),
        ({"operatorUserId": "1", "userToken": "t", "currency": "USDOLLARS"}, "currency"),
        ({"operatorUserId": "1", "userToken": "t"}, "currency"),
        (
            {"operatorUserId": "1", "userToken": "t", "currency": "USD", "language": "x" * 11},
            "language",
        ),
        ({"operatorUserId": "1", "userToken": "t", "currency": "USD", "language": 5}, "language"),
        ({"operatorUserId": "1\x00", "userToken": "t", "currency": "USD"}, "operatorUserId"),
    ],
)
def test_init_validation_errors_answer_400_with_a_code(client, payload, field):
    # given
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, INIT, encode(payload))
    # then
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "ERR_VALIDATION"
    assert body["errorMessage"].startswith(f"{field}: ")
    assert Follower.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"operatorUserId": "1",', "ERR_MALFORMED_JSON"),
        (b"not json at all", "ERR_MALFORMED_JSON"),
        (b'{"operatorUserId": "\xff\xfe"}', "ERR_MALFORMED_JSON"),
        (b'{"a": NaN}', "ERR_MALFORMED_JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "ERR_MALFORMED_JSON"),
        (b"[1, 2]", "ERR_VALIDATION"),
        (b'"a string"', "ERR_VALIDATION"),
        (b"null", "ERR_VALIDATION"),
        (b"42", "ERR_VALIDATION"),
        (b"", "ERR_VALIDATION"),
    ],
)
def test_bodies_that_are_not_a_json_object_answer_400(client, body, code):
    # given
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, INIT, body)
    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == code
    assert response.json()["errorMessage"]


@pytest.mark.parametrize("content_type", ["", "text/plain", "application/x-www-form-urlencoded"])
def test_json_body_is_read_whatever_the_content_type(client, content_type):
    # given: the signature covers the raw bytes, so the body is JSON whatever the header says
    _, credentials = make_operator()
    body = init_body()
    # when
    response = post_signed(client, credentials, INIT, body, content_type=content_type)
    # then
    assert response.status_code == 200


def test_body_over_the_upload_limit_answers_413(client, settings):
    # given
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _, credentials = make_operator()
    body = init_body(userToken="t" * 2000)
    # when
    response = post_signed(client, credentials, INIT, body)
    # then
    assert response.status_code == 413
    assert response.json()["errorCode"] == "ERR_PAYLOAD_TOO_LARGE"


# --- authentication -------------------------------------------------------------------------


def test_wrong_signature_answers_401(client):
    # given
    _, credentials = make_operator()
    body = init_body()
    # when
    response = client.post(
        INIT,
        body,
        content_type="application/json",
        HTTP_X_API_KEY=credentials["api_key"],
        HTTP_X_REQUEST_SIGNATURE=copystake_signature("not-the-secret", body),
    )
    # then
    assert response.status_code == 401
    assert response.json() == {
        "errorCode": "ERR_UNAUTHORIZED",
        "errorMessage": "Missing or invalid X-REQUEST-SIGNATURE",
    }
    assert response["WWW-Authenticate"].startswith("CopyStake-Signature")
    assert Follower.objects.count() == 0


def test_signature_over_other_bytes_than_those_sent_answers_401(client):
    # given: same JSON value, different spacing
    _, credentials = make_operator()
    signed = init_body()
    sent = signed.replace(b", ", b",")
    # when
    response = client.post(
        INIT, sent, content_type="application/json", **signed_headers(credentials, signed)
    )
    # then
    assert response.status_code == 401


def test_unknown_api_key_answers_401(client):
    # given
    _, credentials = make_operator()
    body = init_body()
    # when
    response = client.post(
        INIT,
        body,
        content_type="application/json",
        **signed_headers({**credentials, "api_key": "unknown-key"}, body),
    )
    # then
    assert response.status_code == 401
    assert response.json() == {"errorCode": "ERR_UNAUTHORIZED", "errorMessage": "Invalid X-API-KEY"}


@pytest.mark.parametrize("missing", ["HTTP_X_API_KEY", "HTTP_X_REQUEST_SIGNATURE", "both"])
def test_missing_headers_answer_401(client, missing):
    # given
    _, credentials = make_operator()
    body = init_body()
    headers = signed_headers(credentials, body)
    for name in list(headers):
        if missing in (name, "both"):
            del headers[name]
    # when
    response = client.post(INIT, body, content_type="application/json", **headers)
    # then
    assert response.status_code == 401
    assert response.json()["errorCode"] == "ERR_UNAUTHORIZED"


def test_another_operators_secret_does_not_sign_for_this_key(client):
    # given
    _, mine = make_operator()
    _, theirs = make_operator()
    body = init_body()
    # when
    response = post_signed(client, {**mine, "secret_key": theirs["secret_key"]}, INIT, body)
    # then
    assert response.status_code == 401


def test_address_outside_the_allowlist_answers_403(client):
    # given
    _, credentials = make_operator(ip_allowlist="10.0.0.0/8\n192.168.1.7")
    # when
    response = post_signed(client, credentials, INIT, init_body(), REMOTE_ADDR="127.0.0.1")
    # then
    assert response.status_code == 403
    assert response.json() == {
        "errorCode": "ERR_FORBIDDEN",
        "errorMessage": "Address not allowed for this operator",
    }


@pytest.mark.parametrize("address", ["10.20.30.40", "192.168.1.7"])
def test_address_inside_the_allowlist_is_accepted(client, address):
    # given
    _, credentials = make_operator(ip_allowlist="10.0.0.0/8\n192.168.1.7")
    # when
    response = post_signed(client, credentials, INIT, init_body(), REMOTE_ADDR=address)
    # then
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [(INIT, init_body()), (INIT_DEMO, b"{}"), (STATUS, encode({"id": "abc"}))],
)
def test_disabled_operator_answers_copystake_off_on_every_endpoint(client, path, body):
    # given
    operator, credentials = make_operator()
    operator_set_enabled(operator=operator, enabled=False)
    # when
    response = post_signed(client, credentials, path, body)
    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "ERR_COPYSTAKE_OFF",
        "errorMessage": "CopyStake is disabled",
    }
    assert PlayerSession.objects.count() == 0


def test_disabled_operator_with_a_bad_signature_still_answers_401(client):
    # given
    operator, credentials = make_operator(enabled=False)
    # when
    response = client.post(
        INIT, init_body(), content_type="application/json", HTTP_X_API_KEY=credentials["api_key"]
    )
    # then
    assert response.status_code == 401


def test_get_on_an_operator_endpoint_answers_405_once_signed(client):
    # given
    _, credentials = make_operator()
    # when
    response = client.get(INIT, **signed_headers(credentials, b""))
    # then
    assert response.status_code == 405
    assert response.json()["errorCode"] == "ERR_METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/copystake/init/", "/api/v1/copystake/nothing-here", "/api/nope"],
)
def test_unknown_api_paths_answer_json_404(client, path):
    # when
    response = client.post(path, b"{}", content_type="application/json")
    # then
    assert response.status_code == 404
    assert response.json() == {"errorCode": "ERR_NOT_FOUND", "errorMessage": "Not found"}


# --- init-demo ------------------------------------------------------------------------------


@override_settings(PUBLIC_BASE_URL="https://copystake.example")
def test_init_demo_opens_a_demo_session_for_a_fresh_demo_follower(client):
    # given
    operator, credentials = make_operator()
    stream = StreamFactory(streamer=StreamerFactory(operator=operator))
    body = encode({"language": "en", "streamId": str(stream.uid)})
    # when
    first = post_signed(client, credentials, INIT_DEMO, body)
    second = post_signed(client, credentials, INIT_DEMO, b"")
    # then
    assert first.status_code == 200
    assert second.status_code == 200
    url = first.json()["url"]
    assert url.startswith("https://copystake.example/play/?token=")
    assert parse_qs(urlsplit(url).query)["stream"] == [str(stream.uid)]
    follower, session = authenticate_token(token_of(url))
    assert follower.is_demo is True
    assert follower.operator_user_id.startswith("demo-")
    assert session.is_demo is True
    assert session.currency == "DEMO"
    assert session.user_token == ""
    assert session.language == "en"
    assert Follower.objects.filter(is_demo=True).count() == 2


def test_init_demo_with_unknown_stream_is_refused(client):
    # given
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, INIT_DEMO, encode({"streamId": "nope"}))
    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_STREAM_NOT_FOUND"


# --- transaction-status ---------------------------------------------------------------------


# --- call log -------------------------------------------------------------------------------


def _row_text(row: CallLog) -> str:
    return json.dumps(
        {field.name: str(getattr(row, field.attname)) for field in CallLog._meta.concrete_fields}
    )


def test_accepted_call_is_logged_with_every_secret_masked(client):
    # given
    operator, credentials = make_operator()
    body = init_body(userToken="super-secret-user-token-value")
    signature = signed_headers(credentials, body)["HTTP_X_REQUEST_SIGNATURE"]
    # when
    response = post_signed(client, credentials, INIT, body, REMOTE_ADDR="10.0.0.5")
    # then
    token = token_of(response.json()["url"])
    row = CallLog.objects.get()
    assert row.operator == operator
    assert row.direction == CallLog.Direction.INBOUND
    assert row.endpoint == "init"
    assert row.method == "POST"
    assert row.url == INIT
    assert row.response_status == 200
    assert row.outcome == CallLog.Outcome.SUCCESS
    assert row.signature_valid is True
    assert row.remote_addr == "10.0.0.5"
    assert row.latency_ms is not None
    assert json.loads(row.request_body)["operatorUserId"] == "333"
    assert json.loads(row.request_body)["userToken"] == "••••••alue"
    assert row.request_headers["X-API-KEY"] == "••••••" + credentials["api_key"][-4:]
    text = _row_text(row)
    for secret in ("super-secret-user-token-value", credentials["api_key"], signature, token):
        assert secret not in text


def test_refused_calls_are_logged_with_their_verdict(client):
    # given
    operator, credentials = make_operator()
    body = init_body(userToken="super-secret-user-token-value")
    # when
    client.post(INIT, body, content_type="application/json", HTTP_X_API_KEY="nobody")
    client.post(
        INIT,
        body,
        content_type="application/json",
        HTTP_X_API_KEY=credentials["api_key"],
        HTTP_X_REQUEST_SIGNATURE="bad",
    )
    # then
    unknown, bad_signature = CallLog.objects.order_by("id")
    assert unknown.operator is None
    assert unknown.signature_valid is None
    assert unknown.response_status == 401
    assert unknown.outcome == CallLog.Outcome.ERROR
    assert unknown.error_code == "ERR_UNAUTHORIZED"
    assert bad_signature.operator == operator
    assert bad_signature.signature_valid is False
    assert bad_signature.error_code == "ERR_UNAUTHORIZED"
    for row in (unknown, bad_signature):
        assert "super-secret-user-token-value" not in _row_text(row)
        assert credentials["api_key"] not in _row_text(row)


def test_malformed_body_is_logged_with_its_secrets_masked(client):
    # given: not JSON, so the call log cannot parse it to mask fields
    _, credentials = make_operator()
    body = b'{"userToken": "super-secret-user-token-value", \xff'
    # when
    response = post_signed(client, credentials, INIT, body)
    # then
    assert response.status_code == 400
    row = CallLog.objects.get()
    assert row.error_code == "ERR_MALFORMED_JSON"
    assert "super-secret-user-token-value" not in _row_text(row)
    assert "\\xff" in row.request_body


@pytest.mark.parametrize("body", [b'{"a": "\x00', b'{"a": "\\u0000"}'])
def test_bodies_with_nul_characters_are_logged(client, body):
    # given: PostgreSQL text columns cannot hold NUL
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, INIT, body)
    # then
    assert response.status_code == 400
    assert "\x00" not in CallLog.objects.get().request_body


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"operatorUserId": "\\ud800", "userToken": "t", "currency": "USD"}', 400),
        (
            b'{"operatorUserId": "u", "userToken": "t", "currency": "USD", "username": "\\udfff"}',
            400,
        ),
        # An unknown field is ignored, whatever its name.
        (b'{"operatorUserId": "u-1", "userToken": "t", "currency": "USD", "\\ud800": 1}', 200),
    ],
)
def test_an_init_with_a_lone_surrogate_is_answered_and_logged(client, body, status):
    # given a field (or a key) holding a lone UTF-16 surrogate, valid JSON but no valid UTF-8
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, INIT, body)
    # then a field holding one is refused as invalid input; the call is in the log, storable
    assert response.status_code == status
    assert status == 200 or response.json()["errorCode"] == "ERR_VALIDATION"
    row = CallLog.objects.get(endpoint="init")
    assert row.response_status == response.status_code
    row.request_body.encode("utf-8")


def test_deeply_nested_body_is_still_logged(client):
    # given
    _, credentials = make_operator()
    body = b"[" * 100_000 + b"]" * 100_000
    # when
    response = post_signed(client, credentials, INIT, body)
    # then
    assert response.status_code == 400
    row = CallLog.objects.get()
    assert row.request_body == "<200000 bytes of JSON nested too deeply to parse>"
    assert row.error_code == "ERR_MALFORMED_JSON"


@pytest.mark.django_db(transaction=True)
def test_errors_outside_any_atomic_block_still_answer_json(client):
    # given: no test transaction wraps the request, as in production
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, STATUS, encode({"id": "missing"}))
    # then
    assert response.status_code == 404
    assert CallLog.objects.get().response_status == 404


# --- schema and docs ------------------------------------------------------------------------


def test_openapi_schema_documents_the_operator_api(client):
    # when
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    # then
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (INIT, INIT_DEMO, STATUS):
        assert "post" in paths[path]


def test_interactive_docs_are_served_from_local_assets(client):
    # when
    response = client.get("/api/docs/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()


# --- credential rotation --------------------------------------------------------------------


def test_rotated_api_key_replaces_the_old_one(client):
    # given
    operator, credentials = make_operator()
    # when
    new_key = operator_rotate_credential(operator=operator, which="api_key")
    # then
    old = post_signed(client, credentials, INIT, init_body())
    new = post_signed(client, {**credentials, "api_key": new_key}, INIT, init_body())
    assert (old.status_code, new.status_code) == (401, 200)
    operator.refresh_from_db()
    assert operator.api_key_hint == new_key[-4:]


def test_rotated_secret_key_replaces_the_old_one(client):
    # given
    operator, credentials = make_operator()
    # when
    new_secret = operator_rotate_credential(operator=operator, which="secret_key")
    # then
    old = post_signed(client, credentials, INIT, init_body())
    new = post_signed(client, {**credentials, "secret_key": new_secret}, INIT, init_body())
    assert (old.status_code, new.status_code) == (401, 200)


@pytest.mark.parametrize("which", ["operator_api_key", "wallet_secret"])
def test_rotating_an_outbound_credential_stores_the_new_value(which):
    # given
    operator, credentials = make_operator()
    # when
    value = operator_rotate_credential(operator=operator, which=which)
    # then
    operator.refresh_from_db()
    assert getattr(operator, which) == value
    assert value != credentials[which]


def test_rotating_an_unknown_credential_is_refused():
    # given
    operator, _ = make_operator()
    # then
    with pytest.raises(ValidationError):
        operator_rotate_credential(operator=operator, which="name")


# --- the schema says what the fields take -------------------------------------------------


def documented_valid(prop: dict, value) -> bool:
    """Whether the request schema's property takes ``value`` (OpenAPI 3.0 ``nullable``)."""
    if value is None:
        return bool(prop.get("nullable"))
    return jsonschema_rs.Draft4Validator(
        {k: v for k, v in prop.items() if k != "nullable"}
    ).is_valid(value)


TEXT_SAMPLES = ["", " ", "\t\n", "\u3000", "\x1c", "\ufeff", "a", " a ", "a\x00", "\x00", "é"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        *[("operatorUserId", value) for value in TEXT_SAMPLES],
        *[("userToken", value) for value in TEXT_SAMPLES],
        *[("language", value) for value in [*TEXT_SAMPLES, "x" * 10, "x" * 11]],
        *[("username", value) for value in TEXT_SAMPLES],
        *[("streamId", value) for value in ["", None, "\x00"]],
        *[("currency", value) for value in ["USD", "USD\n", "\nUSD", "US", "DEMOCOIN", "usd"]],
    ],
)
def test_init_takes_exactly_what_its_schema_documents(client, field, value):
    # given
    _, credentials = make_operator()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    prop = schema["components"]["schemas"]["CopyStakeInitRequest"]["properties"][field]
    # when
    response = post_signed(client, credentials, INIT, init_body(**{field: value}))
    # then: accepted exactly when the schema says the value is valid
    assert response.status_code in (200, 400), response.content
    assert (response.status_code == 200) == documented_valid(prop, value), response.content


def test_a_currency_with_a_trailing_newline_is_refused(client):
    # given: Python's `$` matches before a final newline; the pattern must match it all
    _, credentials = make_operator()
    # when
    response = post_signed(client, credentials, INIT, init_body(currency="USD\n"))
    # then
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "currency: Must be 3 to 8 capital letters."
    assert PlayerSession.objects.count() == 0


def test_text_fields_document_their_length_and_pattern(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    props = schema["components"]["schemas"]["CopyStakeInitRequest"]["properties"]
    assert (props["operatorUserId"]["minLength"], props["operatorUserId"]["maxLength"]) == (1, 128)
    assert props["operatorUserId"]["pattern"] == NON_BLANK_TEXT_PATTERN
    assert props["currency"]["pattern"] == "^[A-Z]{3,8}$"
    # blank allowed: either a NUL-free text or "", never both (oneOf)
    assert props["language"]["oneOf"] == [
        {"type": "string", "maxLength": 10, "pattern": TEXT_PATTERN},
        {"type": "string", "maxLength": 0},
    ]


def test_whitespace_is_what_str_strip_strips():
    # "blank" is `not value.strip()`; the schema's pattern spells the same characters out
    whitespace = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    spelt_out = {chr(c) for c in range(0x10000) if re.fullmatch(f"[{WHITESPACE}]", chr(c))}
    assert spelt_out == whitespace
