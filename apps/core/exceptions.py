"""The one DRF exception handler: every error becomes ``{errorCode, errorMessage}`` with a 4xx.

Also the JSON ``handler404``/``handler500`` views, so that paths under ``/api/`` that match no
view still answer in the same shape.
"""

import logging
import math

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.core.errors import ApplicationError, ErrorCode, is_error_code

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

_DRF_CODES = {
    drf.ParseError: (ErrorCode.MALFORMED_JSON, 400),
    drf.AuthenticationFailed: (ErrorCode.UNAUTHORIZED, 401),
    drf.NotAuthenticated: (ErrorCode.UNAUTHORIZED, 401),
    drf.PermissionDenied: (ErrorCode.FORBIDDEN, 403),
    drf.NotFound: (ErrorCode.NOT_FOUND, 404),
    drf.MethodNotAllowed: (ErrorCode.METHOD_NOT_ALLOWED, 405),
    drf.NotAcceptable: (ErrorCode.NOT_ACCEPTABLE, 406),
    drf.UnsupportedMediaType: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415),
    drf.Throttled: (ErrorCode.THROTTLED, 429),
    drf.ValidationError: (ErrorCode.VALIDATION, 400),
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
    # Only a request wrapped in ATOMIC_REQUESTS has a transaction of its own to roll back;
    # outside an atomic block Django refuses the rollback flag altogether.
    set_rollback()
    if isinstance(exc, ApplicationError):
        return error_response(exc.code, exc.message, exc.status)
    if isinstance(exc, RequestDataTooBig):
        return error_response(ErrorCode.PAYLOAD_TOO_LARGE, "Request body is too large", 413)
    if isinstance(exc, SuspiciousOperation):
        return error_response(ErrorCode.BAD_REQUEST, "The request could not be processed", 400)
    if isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.APIException):
        code, status = next(
            (pair for cls, pair in _DRF_CODES.items() if isinstance(exc, cls)),
            (ErrorCode.UNKNOWN, exc.status_code if exc.status_code < 500 else 400),
        )
        headers = {}
        # Set on the exception by APIView.handle_exception for authentication failures.
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None) if isinstance(exc, drf.Throttled) else None
        if wait is not None:  # DRF sets Throttled.wait (seconds) in its constructor
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return error_response(
            _detail_code(exc.detail) or code, _first_message(exc.detail), status, headers
        )
    logger.exception("Unhandled API error", exc_info=exc)
    return error_response(ErrorCode.UNKNOWN, "The request could not be processed", 400)


def _detail_code(detail) -> str | None:
    """An exception may pick its wire code: ``ValidationError(msg, code=ErrorCode.X)``. The code
    is the first error's, the one ``_first_message`` reports, so code and message agree."""
    if isinstance(detail, dict):
        return _detail_code(next(iter(detail.values()))) if detail else None
    if isinstance(detail, list):
        return _detail_code(detail[0]) if detail else None
    code = getattr(detail, "code", None)
    return code if is_error_code(code) else None


def _error_json(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"errorCode": code, "errorMessage": message}, status=status)


def page_not_found(request, exception=None):
    """``handler404``: JSON under ``/api/``, Django's page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return _error_json(ErrorCode.NOT_FOUND, "Not found", 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """``handler500``: reached only by errors outside DRF views (those never 500)."""
    if request.path.startswith(API_PREFIX):
        return _error_json(ErrorCode.UNKNOWN, "The request could not be processed", 500)
    return defaults.server_error(request)
