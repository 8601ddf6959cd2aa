"""The one DRF exception handler: every error becomes ``{errorCode, errorMessage}`` with a 4xx."""

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from apps.core.errors import ApplicationError

logger = logging.getLogger(__name__)

_DRF_CODES = {
    drf.ParseError: ("ERR_MALFORMED_JSON", 400),
    drf.AuthenticationFailed: ("ERR_UNAUTHORIZED", 401),
    drf.NotAuthenticated: ("ERR_UNAUTHORIZED", 401),
    drf.PermissionDenied: ("ERR_FORBIDDEN", 403),
    drf.NotFound: ("ERR_NOT_FOUND", 404),
    drf.MethodNotAllowed: ("ERR_METHOD_NOT_ALLOWED", 405),
    drf.NotAcceptable: ("ERR_NOT_ACCEPTABLE", 406),
    drf.UnsupportedMediaType: ("ERR_UNSUPPORTED_MEDIA_TYPE", 415),
    drf.Throttled: ("ERR_THROTTLED", 429),
    drf.ValidationError: ("ERR_VALIDATION", 400),
}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            message = _first_message(value)
            return message if field == "non_field_errors" else f"{field}: {message}"
        return "Invalid request"
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "Invalid request"
    return str(detail)


def error_response(code: str, message: str, status: int, headers: dict | None = None) -> Response:
    return Response({"errorCode": code, "errorMessage": message}, status=status, headers=headers)


def api_exception_handler(exc, context) -> Response:
    transaction.set_rollback(True)
    if isinstance(exc, ApplicationError):
        return error_response(exc.code, exc.message, exc.status)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.APIException):
        code, status = next(
            (pair for cls, pair in _DRF_CODES.items() if isinstance(exc, cls)),
            ("ERR_UNKNOWN", exc.status_code if exc.status_code < 500 else 400),
        )
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, drf.ValidationError) and isinstance(exc.detail, dict):
            detail_code = _validation_code(exc.detail)
            code = detail_code or code
        return error_response(code, _first_message(exc.detail), status, headers)
    logger.exception("Unhandled API error", exc_info=exc)
    return error_response("ERR_UNKNOWN", "The request could not be processed", 400)


def _validation_code(detail: dict) -> str | None:
    """Serializer fields may raise ``ValidationError(msg, code="ERR_...")`` to pick the code."""
    for value in detail.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            code = getattr(item, "code", None)
            if isinstance(code, str) and code.startswith("ERR_"):
                return code
    return None
