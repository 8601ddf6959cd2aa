"""The transactions' endpoints.

* Operator API (``/api/v1/copystake/``): ``transaction-status``.
* Player API (``/api/v1/``): ``pools/join`` and ``positions/{id}/leave``, the two that start a
  saga; the player API's reads (lobby, positions) are ``apps.followers.apis``.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import ErrorCode, TransactionNotFound
from apps.core.money import AMOUNT_DIGITS, AMOUNT_PLACES
from apps.followers.apis import PlayerApi, PositionOutputSerializer
from apps.followers.authentication import player_session
from apps.followers.models import Position
from apps.operators.apis import (
    ERROR_RESPONSES,
    ErrorSerializer,
    OperatorApiView,
    StrictCharField,
)
from apps.transactions import idempotency, services
from apps.transactions.models import Transaction
from apps.transactions.selectors import transaction_get_for_operator

TRANSACTION_TYPES: dict[str, str] = {  # Kind members are the ``kind`` column's strings
    Transaction.Kind.FOLLOWER_DEBIT: "BET",
    Transaction.Kind.STREAMER_DEPOSIT: "DEPOSIT",
    Transaction.Kind.STREAMER_WITHDRAWAL: "WITHDRAWAL",
    Transaction.Kind.FOLLOWER_CREDIT: "WIN",
    Transaction.Kind.FOLLOWER_ROLLBACK: "ROLLBACK",
}
TRANSACTION_STATUSES = [status.upper() for status in Transaction.Status.values]


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


# --- Player API: join and leave -------------------------------------------------------

# How a failed join is answered: the failure's own code with a fitting 4xx.
FAILURE_STATUS: dict[str, int] = {
    ErrorCode.INSUFFICIENT_BALANCE: 402,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.SESSION_EXPIRED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.TRANSFER_FORBIDDEN: 403,
}


@extend_schema_field({"oneOf": [{"type": "string", "example": "10.5"}, {"type": "number"}]})
class _RawValue(serializers.Field):
    """Passed through untouched: the service parses amounts strictly (numbers or strings)."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class PoolJoinApi(PlayerApi):
    class InputSerializer(serializers.Serializer):
        streamerId = serializers.IntegerField(min_value=1, max_value=2**62)
        amount = _RawValue()

    @extend_schema(
        request=InputSerializer,
        responses={201: PositionOutputSerializer, 202: PositionOutputSerializer},
        parameters=[idempotency.SCHEMA_PARAMETER],
    )
    @idempotency.idempotent
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        position = services.position_join(
            session=player_session(request),
            streamer_id=serializer.validated_data["streamerId"],
            amount=serializer.validated_data["amount"],
        )
        if position.status == Position.Status.FAILED:
            code = position.failure_code or ErrorCode.JOIN_FAILED
            body = {
                "errorCode": code,
                "errorMessage": position.failure_message or "The join failed",
                "position": PositionOutputSerializer(position).data,
            }
            return Response(body, status=FAILURE_STATUS.get(code, 409))
        http = (
            status.HTTP_201_CREATED
            if position.status == Position.Status.ACTIVE
            else status.HTTP_202_ACCEPTED
        )
        return Response(PositionOutputSerializer(position).data, status=http)


class PositionLeaveApi(PlayerApi):
    open_while_operator_disabled = True  # money out is never trapped

    @extend_schema(
        request=None, responses={200: PositionOutputSerializer, 202: PositionOutputSerializer}
    )
    def post(self, request: Request, position_id: str) -> Response:
        position = services.position_leave(session=player_session(request), position_id=position_id)
        http = (
            status.HTTP_200_OK
            if position.status == Position.Status.CLOSED
            else status.HTTP_202_ACCEPTED
        )
        return Response(PositionOutputSerializer(position).data, status=http)
