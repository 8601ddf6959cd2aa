"""The operator API (``/api/v1/copystake/``): ``init``, ``init-demo``, ``transaction-status``.

Every view here is an ``OperatorApiView``: signed-request authentication, the disabled-operator
check, a JSON body parsed whatever its declared content type (the signature covers the raw
bytes, and the contract only ever sends JSON), exact JSON numbers for amounts, and a call log
row for every call.
"""

from decimal import Decimal

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from apps.core import wire
from apps.core.errors import NotFound
from apps.core.money import AMOUNT_DIGITS, AMOUNT_PLACES
from apps.core.parsers import AnyContentJSONParser
from apps.followers.services import demo_session_open, player_session_open
from apps.followers.tokens import player_url
from apps.operators.authentication import (
    InboundCallLogMixin,
    IsOperator,
    OperatorSignatureAuthentication,
)
from apps.transactions.models import Transaction
from apps.transactions.selectors import transaction_get_for_operator

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
    parser_classes = [AnyContentJSONParser]
    renderer_classes = [ExactJSONRenderer]

    def validated(self, serializer_class: type[serializers.Serializer]) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# --- Views ---------------------------------------------------------------------------------


class PlayerInitApi(OperatorApiView):
    """Register or find the operator's user as a follower and open a player session.

    Answers the CopyStake page URL carrying a signed player token (valid for the operator's
    session TTL); with ``streamId`` the page opens that broadcast directly.
    """

    @extend_schema_serializer(component_name="CopyStakeInitRequest")
    class InputSerializer(serializers.Serializer):
        operatorUserId = StrictCharField(source="operator_user_id", max_length=128)
        userToken = StrictCharField(source="user_token", max_length=4096)
        currency = StrictCharField(
            max_length=8,
            validators=[RegexValidator(r"^[A-Z]{3,8}$", "Must be 3 to 8 capital letters.")],
        )
        language = StrictCharField(max_length=10, required=False, allow_blank=True)
        streamId = StrictCharField(
            source="stream_uid", max_length=64, required=False, allow_blank=True, allow_null=True
        )
        username = StrictCharField(max_length=150, required=False, allow_blank=True)

    OutputSerializer = UrlOutputSerializer

    @extend_schema(
        tags=["operator"],
        operation_id="copystake_init",
        summary="Open a player session",
        request={"application/json": InputSerializer},
        responses={200: OutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        session = player_session_open(operator=request.auth, **data)
        return Response(self.OutputSerializer({"url": player_url(session)}).data)


class PlayerInitDemoApi(OperatorApiView):
    """Open a demo session: a fresh anonymous follower with play money and no wallet."""

    @extend_schema_serializer(component_name="CopyStakeInitDemoRequest")
    class InputSerializer(serializers.Serializer):
        language = StrictCharField(max_length=10, required=False, allow_blank=True)
        streamId = StrictCharField(
            source="stream_uid", max_length=64, required=False, allow_blank=True, allow_null=True
        )

    OutputSerializer = UrlOutputSerializer

    @extend_schema(
        tags=["operator"],
        operation_id="copystake_init_demo",
        summary="Open a demo session (play money, no wallet)",
        request={"application/json": InputSerializer},
        responses={200: OutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        session = demo_session_open(operator=request.auth, **data)
        return Response(self.OutputSerializer({"url": player_url(session)}).data)


TRANSACTION_TYPES = {
    Transaction.Kind.FOLLOWER_DEBIT: "BET",
    Transaction.Kind.STREAMER_DEPOSIT: "DEPOSIT",
    Transaction.Kind.STREAMER_WITHDRAWAL: "WITHDRAWAL",
    Transaction.Kind.FOLLOWER_CREDIT: "WIN",
    Transaction.Kind.FOLLOWER_ROLLBACK: "ROLLBACK",
}
TRANSACTION_STATUSES = [status.upper() for status in Transaction.Status.values]


class TransactionNotFound(NotFound):
    code = "ERR_TRANSACTION_NOT_FOUND"
    message = "Transaction not found"


class TransactionStatusApi(OperatorApiView):
    """The type, status, amount and currency of a transaction by the id the operator was sent.

    Types: BET (wallet withdraw), DEPOSIT and WITHDRAWAL (transfers), WIN (wallet deposit),
    ROLLBACK (wallet rollback).
    """

    @extend_schema_serializer(component_name="CopyStakeTransactionStatusRequest")
    class InputSerializer(serializers.Serializer):
        id = StrictCharField(source="external_id", max_length=64)

    @extend_schema_serializer(component_name="CopyStakeTransactionStatus")
    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField(source="external_id")
        type = serializers.SerializerMethodField()
        status = serializers.SerializerMethodField()
        amount = serializers.DecimalField(
            max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, coerce_to_string=False
        )
        currency = serializers.CharField()
        createdAt = serializers.DateTimeField(source="created_at")
        updatedAt = serializers.DateTimeField(source="updated_at")

        @extend_schema_field({"type": "string", "enum": list(TRANSACTION_TYPES.values())})
        def get_type(self, transaction: Transaction) -> str:
            return TRANSACTION_TYPES[transaction.kind]

        @extend_schema_field({"type": "string", "enum": TRANSACTION_STATUSES})
        def get_status(self, transaction: Transaction) -> str:
            return transaction.status.upper()

    @extend_schema(
        tags=["operator"],
        operation_id="copystake_transaction_status",
        summary="The type, status and amount of one of the operator's transactions",
        request={"application/json": InputSerializer},
        responses={200: OutputSerializer, 404: ErrorSerializer, **ERROR_RESPONSES},
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        self.call_log_external_id = data["external_id"]
        transaction = transaction_get_for_operator(
            operator=request.auth, external_id=data["external_id"]
        )
        if transaction is None:
            raise TransactionNotFound()
        return Response(self.OutputSerializer(transaction).data)
