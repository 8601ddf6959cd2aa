"""Inbound operator authentication: ``X-API-KEY`` + ``X-REQUEST-SIGNATURE`` + IP allowlist.

The signature is verified over the raw request bytes (seed 000 scheme), read before DRF parses
anything. Every inbound call, accepted or refused, is written to the call log by
``InboundCallLogMixin``: one place, for every operator endpoint.
"""

import ipaddress
import json
import logging
import re
import time
from contextlib import nullcontext

from django.core.exceptions import RequestDataTooBig
from django.db import connection, transaction
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from apps.core.errors import CopyStakeOff, ErrorCode
from apps.operators.calllog import call_log_record
from apps.operators.models import CallLog, Operator
from apps.operators.selectors import operator_get_by_api_key
from apps.operators.signatures import copystake_verify

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-KEY"
SIGNATURE_HEADER = "X-REQUEST-SIGNATURE"
MAX_HEADER_CHARS = 512

# What the authenticator learnt, kept on the Django request for the call log (DRF's
# ``request.user`` must not be touched after a refusal: it would authenticate again).
_OPERATOR_ATTR = "copystake_operator"
_SIGNATURE_ATTR = "copystake_signature_valid"
_BODY_ATTR = "copystake_raw_body"


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "Request body is too large"
    default_code = ErrorCode.PAYLOAD_TOO_LARGE


class OperatorPrincipal:
    """``request.user`` of an operator call; ``request.auth`` is the Operator itself."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, operator: Operator):
        self.operator = operator

    def __str__(self) -> str:
        return f"operator:{self.operator.code}"


def _header(request, name: str) -> str:
    value = request.META.get("HTTP_" + name.upper().replace("-", "_"), "")
    return value.strip() if len(value) <= MAX_HEADER_CHARS else ""


def client_ip(request) -> str | None:
    """``REMOTE_ADDR`` when it is an IP address (put a trusted proxy in front to set it)."""
    address = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class OperatorSignatureAuthentication(BaseAuthentication):
    """401 ``ErrorCode.UNAUTHORIZED`` for a missing or wrong key or signature, 403 ``FORBIDDEN``
    for an address outside the operator's allowlist."""

    def authenticate(self, request):
        django_request = request._request
        setattr(django_request, _SIGNATURE_ATTR, None)
        try:
            raw_body = django_request.body
        except RequestDataTooBig as error:
            raise PayloadTooLarge() from error
        setattr(django_request, _BODY_ATTR, raw_body)

        api_key = _header(django_request, API_KEY_HEADER)
        if not api_key:
            raise exceptions.AuthenticationFailed(
                f"Missing {API_KEY_HEADER} header", code=ErrorCode.UNAUTHORIZED
            )
        operator = operator_get_by_api_key(api_key=api_key)
        if operator is None:
            raise exceptions.AuthenticationFailed(
                f"Invalid {API_KEY_HEADER}", code=ErrorCode.UNAUTHORIZED
            )
        setattr(django_request, _OPERATOR_ATTR, operator)

        signature = _header(django_request, SIGNATURE_HEADER)
        # During a rotation's overlap window the replaced secret signs validly too.
        valid = any(
            copystake_verify(secret, raw_body, signature) for secret in operator.inbound_secrets()
        )
        setattr(django_request, _SIGNATURE_ATTR, valid)
        if not valid:
            raise exceptions.AuthenticationFailed(
                f"Missing or invalid {SIGNATURE_HEADER}", code=ErrorCode.UNAUTHORIZED
            )
        if not operator.allows_ip(client_ip(django_request)):
            raise exceptions.PermissionDenied(
                "Address not allowed for this operator", code=ErrorCode.FORBIDDEN
            )
        return OperatorPrincipal(operator), operator

    def authenticate_header(self, request) -> str:
        return f'CopyStake-Signature realm="api", headers="{API_KEY_HEADER} {SIGNATURE_HEADER}"'


class IsOperator(BasePermission):
    """An authenticated operator; a disabled one answers ``ErrorCode.COPYSTAKE_OFF``."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, Operator):
            return False
        if not request.auth.enabled:
            raise CopyStakeOff()
        return True


LOGGED_HEADERS = (
    "Content-Type",
    "Content-Length",
    "User-Agent",
    API_KEY_HEADER,
    SIGNATURE_HEADER,
    "X-Forwarded-For",
)
# Masks secret fields in bodies that are not valid JSON (the call log masks parsed JSON).
_SECRET_IN_TEXT = re.compile(
    r'("(?:userToken|token|apiKey|secretKey|walletSecret|password)"\s*:\s*")([^"]*)',
    re.IGNORECASE,
)


def _loggable_body(raw: bytes | None) -> str:
    """JSON bodies as they came (the call log masks their fields); anything else made safe."""
    if not raw:
        return ""
    text = raw.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
    try:
        json.loads(text)
    except RecursionError:
        return f"<{len(raw)} bytes of JSON nested too deeply to parse>"
    except ValueError:
        return _SECRET_IN_TEXT.sub(lambda m: m.group(1) + "••••••", text)
    return text


class InboundCallLogMixin:
    """Writes one ``CallLog`` row per inbound call, whatever its outcome.

    Set ``call_log_external_id`` on the view to tie the row to a transaction.
    """

    call_log_external_id = ""

    def dispatch(self, request, *args, **kwargs):
        self._call_started = time.monotonic()
        return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        try:
            self._record_call(request, response)
        except Exception:  # the call log must never turn an answer into a 500
            logger.exception("Could not write the inbound call log")
        return response

    def _record_call(self, request, response) -> None:
        django_request = request._request if hasattr(request, "_request") else request
        raw_body = getattr(django_request, _BODY_ATTR, None)
        if raw_body is None:
            try:
                raw_body = django_request.body
            except Exception:
                raw_body = b""
        response.render()
        data = response.data if isinstance(getattr(response, "data", None), dict) else {}
        failed = response.status_code >= 400
        match = getattr(django_request, "resolver_match", None)
        started = getattr(self, "_call_started", None)
        # One INSERT: in autocommit it needs no transaction of its own (a BEGIN and a COMMIT
        # more per call); inside one, a savepoint keeps a failed write from spoiling it.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            call_log_record(
                operator=getattr(django_request, _OPERATOR_ATTR, None),
                direction=CallLog.Direction.INBOUND,
                endpoint=(match.url_name if match and match.url_name else django_request.path),
                url=django_request.get_full_path(),
                method=django_request.method or "",
                request_headers={
                    name: django_request.headers[name]
                    for name in LOGGED_HEADERS
                    if name in django_request.headers
                },
                request_body=_loggable_body(raw_body),
                outcome=CallLog.Outcome.ERROR if failed else CallLog.Outcome.SUCCESS,
                response_status=response.status_code,
                response_body=response.content,
                latency_ms=None if started is None else int((time.monotonic() - started) * 1000),
                error_code=str(data.get("errorCode", "")) if failed else "",
                error_message=str(data.get("errorMessage", "")) if failed else "",
                signature_valid=getattr(django_request, _SIGNATURE_ATTR, None),
                external_id=self.call_log_external_id,
                remote_addr=client_ip(django_request),
            )


class OperatorSignatureScheme(OpenApiAuthenticationExtension):
    target_class = OperatorSignatureAuthentication
    name = ["operatorApiKey", "operatorSignature"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": API_KEY_HEADER,
                "description": "The API key CopyStake issued to the operator.",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": SIGNATURE_HEADER,
                "description": "Base64(HMAC-SHA512(secretKey, lowercase hex MD5(raw body))).",
            },
        ]
