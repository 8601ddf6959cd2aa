"""The player API (``/api/v1/``): lobby, join, leave, positions. Thin: validate, call, render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApplicationError
from apps.followers.authentication import IsPlayer, PlayerTokenAuthentication
from apps.followers.models import Position
from apps.followers.selectors import (
    position_get_for_follower,
    position_list_for_follower,
    position_value,
)
from apps.pools.selectors import lobby_list
from apps.transactions import services

# How a failed join is answered: the failure's own code with a fitting 4xx.
FAILURE_STATUS = {
    "ERR_INSUFFICIENT_BALANCE": 402,
    "ERR_INVALID_TOKEN": 401,
    "ERR_SESSION_EXPIRED": 401,
    "ERR_FORBIDDEN": 403,
    "ERR_TRANSFER_FORBIDDEN": 403,
}


INTERRUPTED = {
    "errorCode": "ERR_REQUEST_INTERRUPTED",
    "errorMessage": "The request was interrupted; check GET positions before retrying with a new key",
}


class PositionOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    poolId = serializers.IntegerField(source="pool_id")
    streamerId = serializers.IntegerField(source="pool.streamer_id")
    status = serializers.CharField()
    units = serializers.DecimalField(max_digits=40, decimal_places=18)
    contributed = serializers.DecimalField(max_digits=20, decimal_places=8)
    payout = serializers.DecimalField(max_digits=20, decimal_places=8, allow_null=True)
    value = serializers.SerializerMethodField()
    currency = serializers.CharField(source="pool.currency")
    failureCode = serializers.CharField(source="failure_code", allow_blank=True)
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_value(self, position: Position) -> str:
        return f"{position_value(position):.8f}"


class PlayerApi(APIView):
    authentication_classes = [PlayerTokenAuthentication]
    permission_classes = [IsPlayer]


class LobbyPoolSerializer(serializers.Serializer):
    poolId = serializers.IntegerField(source="pk")
    state = serializers.CharField()
    balance = serializers.DecimalField(max_digits=20, decimal_places=8)
    totalUnits = serializers.DecimalField(source="total_units", max_digits=40, decimal_places=18)
    followers = serializers.IntegerField(source="members")
    isBust = serializers.BooleanField(source="is_bust")


class LobbyApi(PlayerApi):
    class OutputSerializer(serializers.Serializer):
        streamerId = serializers.IntegerField(source="streamer.pk")
        name = serializers.CharField(source="streamer.display_name")
        currency = serializers.CharField(source="streamer.currency")
        streamId = serializers.UUIDField(source="stream.uid")
        title = serializers.CharField(source="stream.title")
        nav = serializers.DecimalField(max_digits=40, decimal_places=18, allow_null=True)
        pool = serializers.SerializerMethodField()

        @extend_schema_field(LobbyPoolSerializer(allow_null=True))
        def get_pool(self, entry):
            return LobbyPoolSerializer(entry.pool).data if entry.pool else None

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        session = request.auth
        entries = lobby_list(operator=session.follower.operator, is_demo=session.is_demo)
        return Response(self.OutputSerializer(entries, many=True).data)


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
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)
        ],
    )
    def post(self, request: Request) -> Response:
        follower = request.user
        key = request.headers.get("Idempotency-Key")
        if key is not None:
            fingerprint = services.request_fingerprint({"path": request.path, "body": request.data})
            earlier = services.idempotency_begin(
                follower=follower, key=key, fingerprint=fingerprint
            )
            if earlier is not None:
                return Response(earlier.response_body, status=earlier.response_status)
        try:
            body, code = self._join(request)
        except BaseException:
            # The join may have started (a BET may be out): never let this key start another.
            if key is not None:
                services.idempotency_finish(
                    follower=follower, key=key, status=409, body=INTERRUPTED
                )
            raise
        if key is not None:
            services.idempotency_finish(follower=follower, key=key, status=code, body=body)
        return Response(body, status=code)

    def _join(self, request: Request) -> tuple[dict, int]:
        serializer = self.InputSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
            position = services.position_join(
                session=request.auth,
                streamer_id=serializer.validated_data["streamerId"],
                amount=serializer.validated_data["amount"],
            )
        except ApplicationError as error:
            return {"errorCode": error.code, "errorMessage": error.message}, error.status
        except serializers.ValidationError as error:
            from apps.core.exceptions import api_exception_handler

            response = api_exception_handler(error, {})
            return dict(response.data), response.status_code
        if position.status == Position.Status.FAILED:
            code = position.failure_code or "ERR_JOIN_FAILED"
            return {
                "errorCode": code,
                "errorMessage": position.failure_message or "The join failed",
                "position": PositionOutputSerializer(position).data,
            }, FAILURE_STATUS.get(code, 409)
        http = (
            status.HTTP_201_CREATED
            if position.status == Position.Status.ACTIVE
            else status.HTTP_202_ACCEPTED
        )
        return PositionOutputSerializer(position).data, http


class PositionLeaveApi(PlayerApi):
    @extend_schema(
        request=None, responses={200: PositionOutputSerializer, 202: PositionOutputSerializer}
    )
    def post(self, request: Request, position_id: str) -> Response:
        position = services.position_leave(session=request.auth, position_id=position_id)
        http = (
            status.HTTP_200_OK
            if position.status == Position.Status.CLOSED
            else status.HTTP_202_ACCEPTED
        )
        return Response(PositionOutputSerializer(position).data, status=http)


class PositionListApi(PlayerApi):
    @extend_schema(responses=PositionOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        positions = position_list_for_follower(follower=request.user)[:500]
        return Response(PositionOutputSerializer(positions, many=True).data)


class PositionDetailApi(PlayerApi):
    @extend_schema(responses=PositionOutputSerializer)
    def get(self, request: Request, position_id: str) -> Response:
        position = position_get_for_follower(follower=request.user, position_id=position_id)
        return Response(PositionOutputSerializer(position).data)
