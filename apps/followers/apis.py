"""The followers' endpoints. Thin: validate, call one service or selector, render.

* Player API (``/api/v1/``): the lobby and the follower's positions, and the base of every
  player endpoint (``PlayerApi``, ``PositionOutputSerializer``); joining and leaving start a
  saga, so they are ``apps.transactions.apis``.
* Operator API (``/api/v1/copystake/``): ``init`` and ``init-demo``, which open a player
  session.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.followers.authentication import IsPlayer, PlayerTokenAuthentication
from apps.followers.models import Position
from apps.followers.selectors import (
    position_get_for_follower,
    position_list_for_follower,
    position_value,
)
from apps.followers.services import demo_session_open, player_session_open
from apps.followers.throttles import PlayerRateThrottle
from apps.followers.tokens import player_url
from apps.operators.apis import (
    ERROR_RESPONSES,
    OperatorApiView,
    StrictCharField,
    UrlOutputSerializer,
)
from apps.pools.selectors import lobby_list


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
    throttle_classes = [PlayerRateThrottle]


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


# --- Operator API: init and init-demo ---------------------------------------------------


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
