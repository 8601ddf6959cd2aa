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

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from apps.core import wire
from apps.core.parsers import AnyContentJSONParser
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


class StrictCharField(serializers.CharField):
    """A string, and only a string: no numbers coerced to text. Never trims."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not self.allow_blank and not data.strip():
            self.fail("blank")
        return super().to_internal_value(data)


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    errorCode = serializers.CharField()
    errorMessage = serializers.CharField()


@extend_schema_serializer(component_name="CopyStakeUrl")
class UrlOutputSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The CopyStake page, with the player token.")


ERROR_RESPONSES = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
}


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
