"""The operator API's building blocks (``/api/v1/copystake/``).

Every endpoint of the operator API is an ``OperatorApiView``: signed-request authentication,
the disabled-operator check, a JSON body parsed whatever its declared content type (the
signature covers the raw bytes, and the contract only ever sends JSON), exact JSON numbers for
amounts, and a call log row for every call.

The endpoints live in the app whose data they serve (``init`` and ``init-demo`` in
``apps.followers.apis``, ``transaction-status`` in ``apps.transactions.apis``); the URL list
that mounts them all under one prefix is ``config.urls``.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from apps.core import wire
from apps.core.errors import ErrorCode
from apps.core.parsers import AnyContentJSONParser
from apps.core.sanitize import safe_text
from apps.operators.authentication import (
    InboundCallLogMixin,
    IsOperator,
    OperatorSignatureAuthentication,
)
from apps.operators.throttles import OperatorRateThrottle

# --- Wire plumbing -------------------------------------------------------------------------


class ExactJSONRenderer(JSONRenderer):
    """JSON where Decimals are written as numbers with their exact digits (never via float)."""

    _encoder = JSONEncoder()

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return wire.dumps(self._plain(data))

    def _plain(self, value):
        if isinstance(value, Decimal | bool | int | float) or value is None:
            return value
        if isinstance(value, str):
            return str(value)
        if isinstance(value, dict):
            return {str(key): self._plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._plain(item) for item in value]
        return self._plain(self._encoder.default(value))


# Whitespace as ``str.strip`` sees it (what "blank" means for a field), spelt out so that the
# schema's patterns and every JSON Schema validator read the same characters (ECMA-262's ``\s``
# lacks \x1c-\x1f and adds U+FEFF).
WHITESPACE = (
    r"\t\n\v\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Text without NUL, which no text field takes (DRF refuses it, PostgreSQL cannot store it). Not
# empty: a field that may be blank takes "" besides (drf-spectacular then documents
# ``oneOf: [pattern, maxLength 0]``, so the pattern must not match "" as well).
TEXT_PATTERN = r"^[^\u0000]+$"
# The same, with at least one character that is not whitespace.
NON_BLANK_TEXT_PATTERN = rf"^[^\u0000]*[^\u0000{WHITESPACE}][^\u0000]*$"
_PATTERN_MESSAGES = {
    TEXT_PATTERN: "Must not contain NUL characters.",
    NON_BLANK_TEXT_PATTERN: "Must contain a character other than whitespace, and no NUL.",
}


class FullMatchValidator(RegexValidator):
    """A ``RegexValidator`` that must match the whole value, as a JSON Schema ``pattern``
    anchored with ``^...$`` does in ECMA-262 (Python's ``$`` also matches before a final
    newline, so ``search`` would take ``"USD\\n"`` for ``^[A-Z]{3,8}$``). The schema shows the
    regex as written."""

    def __call__(self, value):
        if not self.regex.fullmatch(str(value)):
            raise ValidationError(self.message, code=self.code, params={"value": value})


class StrictCharField(serializers.CharField):
    """A string, and only a string: no numbers coerced to text, no NUL, no lone surrogate
    (valid JSON, but no text a database can store). Never trims.

    Not blank (unless ``allow_blank``): at least one character that is not whitespace. The
    schema states it as a ``pattern`` (``NON_BLANK_TEXT_PATTERN``, or ``TEXT_PATTERN`` when blank
    is allowed: DRF takes "" before any validator runs), which the field also enforces, so the
    two cannot disagree; a field with a pattern of its own (``pattern=``) takes that one instead.
    """

    default_error_messages = {"unstorable": "Must be valid text (no NUL, no lone surrogate)."}

    def __init__(self, *, pattern: str | None = None, pattern_message: str = "", **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        if not kwargs.get("allow_blank", False):
            kwargs.setdefault("min_length", 1)
        super().__init__(**kwargs)
        if pattern is None:
            pattern = TEXT_PATTERN if self.allow_blank else NON_BLANK_TEXT_PATTERN
        message = pattern_message or _PATTERN_MESSAGES.get(pattern, f"Must match {pattern}.")
        self.validators.append(FullMatchValidator(pattern, message))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if safe_text(data) != data:
            self.fail("unstorable")
        if not self.allow_blank and not data.strip():
            self.fail("blank")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, and only that: no strings, booleans or numbers with a fraction (``"5"``,
    ``true`` and ``5.0`` are refused, as the schema's ``type: integer`` says)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    errorCode = serializers.CharField()
    errorMessage = serializers.CharField()


@extend_schema_serializer(component_name="CopyStakeUrl")
class UrlOutputSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The CopyStake page, with the player token.")


# What each error status of the two APIs means; every one carries an ``Error`` body.
ERROR_STATUSES = {
    400: f"Invalid request: a field is missing or invalid (`{ErrorCode.VALIDATION}`), the body "
    f"is not JSON (`{ErrorCode.MALFORMED_JSON}`), or a rule refused it; "
    f"`{ErrorCode.COPYSTAKE_OFF}` when the operator is disabled.",
    401: f"Missing or wrong `X-API-KEY` or `X-REQUEST-SIGNATURE` (`{ErrorCode.UNAUTHORIZED}`).",
    402: f"Not enough money (`{ErrorCode.INSUFFICIENT_BALANCE}`).",
    403: f"Forbidden (`{ErrorCode.FORBIDDEN}`: an address outside the operator's allowlist).",
    404: "No such resource of this operator or follower.",
    406: f"The `Accept` header admits no JSON answer (`{ErrorCode.NOT_ACCEPTABLE}`).",
    409: "The request conflicts with the current state.",
    413: f"The request body is too large (`{ErrorCode.PAYLOAD_TOO_LARGE}`).",
    415: f"The body is not `application/json` (`{ErrorCode.UNSUPPORTED_MEDIA_TYPE}`).",
    422: "The request is well formed but cannot be processed.",
}


def error_responses(
    *statuses: int, descriptions: dict[int, str] | None = None, serializer=None
) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses=...)`` entries: an ``Error`` body (or ``serializer``) for each
    status, described by ``ERROR_STATUSES`` or by ``descriptions`` where an operation says more."""
    descriptions = descriptions or {}
    return {
        status: OpenApiResponse(
            serializer or ErrorSerializer,
            description=descriptions.get(status) or ERROR_STATUSES[status],
        )
        for status in statuses
    }


# Every operator endpoint may answer these: a refused body, key, signature or address, an
# ``Accept`` without JSON, a body over Django's upload limit.
OPERATOR_ERROR_RESPONSES = error_responses(400, 401, 403, 406, 413)


class OperatorApiView(InboundCallLogMixin, APIView):
    authentication_classes = [OperatorSignatureAuthentication]
    permission_classes = [IsOperator]
    throttle_classes = [OperatorRateThrottle]
    parser_classes = [AnyContentJSONParser]
    renderer_classes = [ExactJSONRenderer]

    def validated(self, serializer_class: type[serializers.Serializer]) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
