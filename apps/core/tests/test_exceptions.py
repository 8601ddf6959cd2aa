import json

import pytest
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.test import RequestFactory
from rest_framework import exceptions as drf
from rest_framework import serializers

from apps.core.errors import Conflict, CopyStakeOff, SessionExpired
from apps.core.exceptions import api_exception_handler, page_not_found, server_error


def handle(exc):
    response = api_exception_handler(exc, {})
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (
            CopyStakeOff(),
            400,
            {"errorCode": "ERR_COPYSTAKE_OFF", "errorMessage": "CopyStake is disabled"},
        ),
        (
            SessionExpired(),
            401,
            {"errorCode": "ERR_SESSION_EXPIRED", "errorMessage": "Player session expired"},
        ),
        (
            Conflict("busy", code="ERR_POOL_BUSY"),
            409,
            {"errorCode": "ERR_POOL_BUSY", "errorMessage": "busy"},
        ),
        (
            drf.ParseError("bad json"),
            400,
            {"errorCode": "ERR_MALFORMED_JSON", "errorMessage": "bad json"},
        ),
        (
            drf.NotAuthenticated(),
            401,
            {
                "errorCode": "ERR_UNAUTHORIZED",
                "errorMessage": "Authentication credentials were not provided.",
            },
        ),
        (
            drf.MethodNotAllowed("GET"),
            405,
            {"errorCode": "ERR_METHOD_NOT_ALLOWED", "errorMessage": 'Method "GET" not allowed.'},
        ),
        (
            drf.UnsupportedMediaType("text/xml"),
            415,
            {
                "errorCode": "ERR_UNSUPPORTED_MEDIA_TYPE",
                "errorMessage": 'Unsupported media type "text/xml" in request.',
            },
        ),
        (Http404(), 404, {"errorCode": "ERR_NOT_FOUND", "errorMessage": "Not found."}),
        (
            PermissionDenied(),
            403,
            {
                "errorCode": "ERR_FORBIDDEN",
                "errorMessage": "You do not have permission to perform this action.",
            },
        ),
        (
            RequestDataTooBig(),
            413,
            {"errorCode": "ERR_PAYLOAD_TOO_LARGE", "errorMessage": "Request body is too large"},
        ),
        (
            SuspiciousOperation("host"),
            400,
            {"errorCode": "ERR_BAD_REQUEST", "errorMessage": "The request could not be processed"},
        ),
        (
            RuntimeError("boom"),
            400,
            {"errorCode": "ERR_UNKNOWN", "errorMessage": "The request could not be processed"},
        ),
    ],
)
def test_every_error_becomes_error_code_and_message_with_a_4xx(exc, status, body):
    assert handle(exc) == (status, body)


def test_validation_error_names_the_first_field():
    # given
    exc = drf.ValidationError({"amount": ["A valid number is required."], "currency": ["x"]})
    # then
    assert handle(exc) == (
        400,
        {"errorCode": "ERR_VALIDATION", "errorMessage": "amount: A valid number is required."},
    )


def test_validation_error_may_pick_its_wire_code():
    # given
    exc = drf.ValidationError({"amount": [drf.ErrorDetail("too small", code="ERR_LIMIT")]})
    # then
    assert handle(exc) == (400, {"errorCode": "ERR_LIMIT", "errorMessage": "amount: too small"})


def test_the_code_is_the_first_errors_like_the_message():
    # given: the first field's error has no wire code, the second's has one
    exc = drf.ValidationError(
        {
            "streamerId": [drf.ErrorDetail("This field may not be null.", code="null")],
            "amount": [drf.ErrorDetail("Not plain notation", code="ERR_INVALID_AMOUNT")],
        }
    )
    # then: code and message both come from streamerId's error
    assert handle(exc) == (
        400,
        {"errorCode": "ERR_VALIDATION", "errorMessage": "streamerId: This field may not be null."},
    )


def test_api_exception_code_starting_with_err_is_the_wire_code():
    # given
    exc = drf.AuthenticationFailed("Player session expired", code="ERR_SESSION_EXPIRED")
    # then
    assert handle(exc) == (
        401,
        {"errorCode": "ERR_SESSION_EXPIRED", "errorMessage": "Player session expired"},
    )


def test_serializer_errors_of_a_non_object_body_are_a_validation_error():
    # given
    class Input(serializers.Serializer):
        name = serializers.CharField()

    serializer = Input(data=[1, 2])
    serializer.is_valid()
    # then
    status, body = handle(drf.ValidationError(serializer.errors))
    assert status == 400
    assert body["errorCode"] == "ERR_VALIDATION"
    assert body["errorMessage"].startswith("Invalid data. Expected a dictionary")


def test_django_validation_errors_map_to_validation():
    assert handle(DjangoValidationError({"name": ["Taken."]})) == (
        400,
        {"errorCode": "ERR_VALIDATION", "errorMessage": "name: Taken."},
    )
    assert handle(DjangoValidationError("Nope.")) == (
        400,
        {"errorCode": "ERR_VALIDATION", "errorMessage": "Nope."},
    )


def test_server_errors_never_leak_as_5xx_from_drf():
    # given
    exc = drf.APIException("upstream")
    # then
    assert handle(exc)[0] == 400


def test_www_authenticate_header_is_kept():
    # given
    exc = drf.NotAuthenticated()
    exc.auth_header = 'Bearer realm="api"'
    # when
    response = api_exception_handler(exc, {})
    # then
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db(transaction=True)
def test_handler_works_outside_any_atomic_block():
    # given: no transaction is open, as in a production request without ATOMIC_REQUESTS
    assert not transaction.get_connection().in_atomic_block
    # then
    assert handle(CopyStakeOff())[0] == 400


@pytest.mark.django_db
def test_handler_does_not_poison_an_enclosing_transaction():
    # given
    with transaction.atomic():
        handle(CopyStakeOff())
        # then: the transaction is still usable
        assert not transaction.get_rollback()


def test_404_and_500_handlers_answer_json_under_api_only():
    # given
    factory = RequestFactory()
    api, page = factory.get("/api/v1/nope"), factory.get("/nope")
    # when
    api_404, api_500 = page_not_found(api, Http404()), server_error(api)
    page_404 = page_not_found(page, Http404())
    # then
    assert (api_404.status_code, json.loads(api_404.content)) == (
        404,
        {"errorCode": "ERR_NOT_FOUND", "errorMessage": "Not found"},
    )
    assert (api_500.status_code, json.loads(api_500.content)) == (
        500,
        {"errorCode": "ERR_UNKNOWN", "errorMessage": "The request could not be processed"},
    )
    assert page_404.status_code == 404
    assert page_404["Content-Type"].startswith("text/html")
