"""Signed operator calls, on every operator endpoint: a missing, wrong or borrowed signature,
or a body changed after signing, is 401 ``ERR_UNAUTHORIZED`` and does nothing; so is a call
without or with an unknown ``X-API-KEY``. (init's own cases: apps/followers/tests/
test_operator_api.py; the signature scheme and seed vector: apps/operators/tests/
test_signatures.py.)"""

import pytest

from apps.followers.models import PlayerSession
from apps.operators.models import CallLog
from apps.operators.signatures import copystake_signature
from apps.operators.tests.factories import encode, make_operator, signed_headers

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/copystake/init": {"operatorUserId": "u1", "userToken": "t-1", "currency": "USD"},
    "/api/v1/copystake/init-demo": {"language": "en"},
    "/api/v1/copystake/transaction-status": {"id": "some-id"},
    "/api/v1/copystake/streams/start": {"operatorUserId": "no-such-streamer"},
    "/api/v1/copystake/streams/end": {"operatorUserId": "no-such-streamer"},
}
every_endpoint = pytest.mark.parametrize("path", list(ENDPOINTS))


def post(client, path: str, body: bytes, headers: dict):
    return client.post(path, body, content_type="application/json", **headers)


def assert_refused(response) -> None:
    assert response.status_code == 401
    assert response.json()["errorCode"] == "ERR_UNAUTHORIZED"
    assert "WWW-Authenticate" in response
    assert not PlayerSession.objects.exists()


@every_endpoint
def test_a_correctly_signed_call_is_accepted(client, path):
    # the control: the same helpers do get through
    _, credentials = make_operator()
    body = encode(ENDPOINTS[path])
    response = post(client, path, body, signed_headers(credentials, body))
    assert response.status_code in (200, 404)  # 404: an unknown transaction or streamer


@every_endpoint
def test_a_missing_signature_is_refused(client, path):
    _, credentials = make_operator()
    body = encode(ENDPOINTS[path])
    response = post(client, path, body, {"HTTP_X_API_KEY": credentials["api_key"]})
    assert_refused(response)


@every_endpoint
@pytest.mark.parametrize("signature", ["", "not-base64!", "A" * 88, "x" * 600])
def test_a_wrong_signature_is_refused(client, path, signature):
    _, credentials = make_operator()
    body = encode(ENDPOINTS[path])
    headers = {**signed_headers(credentials, body), "HTTP_X_REQUEST_SIGNATURE": signature}
    assert_refused(post(client, path, body, headers))


@every_endpoint
def test_a_body_altered_after_signing_is_refused(client, path):
    # given: a correctly signed body, then one byte of it changed on the way
    _, credentials = make_operator()
    signed = encode(ENDPOINTS[path])
    headers = signed_headers(credentials, signed)
    tampered = signed.replace(b'"', b' "', 1)  # even only whitespace: the bytes are signed
    # when / then
    assert_refused(post(client, path, tampered, headers))
    assert_refused(post(client, path, signed + b" ", headers))


@every_endpoint
def test_a_signature_made_with_another_operators_secret_is_refused(client, path):
    _, mine = make_operator()
    _, theirs = make_operator()
    body = encode(ENDPOINTS[path])
    headers = {
        "HTTP_X_API_KEY": mine["api_key"],
        "HTTP_X_REQUEST_SIGNATURE": copystake_signature(theirs["secret_key"], body),
    }
    assert_refused(post(client, path, body, headers))


@every_endpoint
@pytest.mark.parametrize("api_key", [None, "", "no-such-key", "x" * 600])
def test_a_missing_or_unknown_api_key_is_refused(client, path, api_key):
    _, credentials = make_operator()
    body = encode(ENDPOINTS[path])
    headers = signed_headers(credentials, body)
    if api_key is None:
        del headers["HTTP_X_API_KEY"]
    else:
        headers["HTTP_X_API_KEY"] = api_key
    assert_refused(post(client, path, body, headers))


@every_endpoint
def test_a_refused_call_is_logged_with_its_verdict(client, path):
    operator, credentials = make_operator()
    body = encode(ENDPOINTS[path])
    headers = {**signed_headers(credentials, body), "HTTP_X_REQUEST_SIGNATURE": "A" * 88}
    post(client, path, body, headers)
    row = CallLog.objects.get()
    assert (row.operator, row.signature_valid, row.response_status) == (operator, False, 401)
    assert row.error_code == "ERR_UNAUTHORIZED"
