"""The followers' endpoints. Thin: validate, call one service or selector, render.

* Player API (``/api/v1/``): the lobby and the follower's positions, and the base of every
  player endpoint (``PlayerApi``, ``PositionOutputSerializer``); joining and leaving start a
  saga, so they are ``apps.transactions.apis``.
* Operator API (``/api/v1/copystake/``): ``init`` and ``init-demo``, which open a player
  session.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ErrorCode
from apps.core.money import round_amount_down
from apps.followers import api_examples as examples
from apps.followers.authentication import (
    IsPlayer,
    PlayerTokenAuthentication,
    player_follower,
    player_session,
)
from apps.followers.limits import position_stop_loss, position_take_profit
from apps.followers.models import Position
from apps.followers.selectors import (
    position_get_for_follower,
    position_list_for_follower,
    position_value,
    wallet_balance,
)
from apps.followers.services import (
    demo_session_open,
    player_session_open,
    position_limits_set,
)
from apps.followers.throttles import PlayerRateThrottle
from apps.followers.tokens import player_url
from apps.operators.apis import (
    OPERATOR_ERROR_RESPONSES,
    OperatorApiView,
    StrictCharField,
    UrlOutputSerializer,
    error_responses,
)
from apps.pools.models import Pool
from apps.pools.selectors import (
    NAV_POINTS_DEFAULT,
    NAV_POINTS_MAX,
    lobby_list,
    pool_nav_history,
)
from apps.streamers.access import MAX_INVITE_CODE_CHARS, invite_redeem
from apps.streamers.selectors import streamer_fee_percent

CURRENCY_PATTERN = r"^[A-Z]{3,8}$"


# A decimal in plain notation, as the serializers write them (``DecimalField`` and ``value``).
AMOUNT_STRING = {
    "type": "string",
    "format": "decimal",
    "pattern": r"^\d{1,12}\.\d{8}$",
    "example": "100.00000000",
}
# A percent to 4 places, as ``DecimalField(decimal_places=4)`` writes it.
PERCENT_STRING = {
    "type": "string",
    "format": "decimal",
    "pattern": r"^\d{1,3}\.\d{4}$",
    "example": "20.0000",
}


LEAVE_REASON_COMPONENT = "PositionLeaveReasonEnum"


class LeaveReasonField(serializers.ChoiceField):
    """A position's ``leaveReason``: a ``Position.LeaveReason``, or "" while it has not left."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=["", *Position.LeaveReason.values], **kwargs)


class LeaveReasonFieldSchema(OpenApiSerializerFieldExtension):
    """``leaveReason`` as one named enum whose values include the blank. drf-spectacular's enum
    hook would split it into ``LeaveReasonEnum`` and a nameless ``BlankEnum`` (or, with
    ``ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE`` off, drop the "" the API answers)."""

    target_class = LeaveReasonField

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name=LEAVE_REASON_COMPONENT,
            type=ResolvedComponent.SCHEMA,
            object=LEAVE_REASON_COMPONENT,
            schema={
                "type": "string",
                "enum": list(self.target.choices),
                "description": "\n".join(
                    ['* `""` (empty) - not left yet']
                    + [f"* `{value}` - {label}" for value, label in Position.LeaveReason.choices]
                ),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


@extend_schema_serializer(component_name="Position")
class PositionOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    poolId = serializers.IntegerField(source="pool_id")
    streamerId = serializers.IntegerField(source="pool.streamer_id")
    streamerName = serializers.CharField(
        source="pool.streamer.display_name",
        help_text="The streamer's name, kept when their stream has ended.",
    )
    status = serializers.ChoiceField(choices=Position.Status.values)
    units = serializers.DecimalField(max_digits=40, decimal_places=18)
    contributed = serializers.DecimalField(max_digits=20, decimal_places=8)
    payout = serializers.DecimalField(
        max_digits=20,
        decimal_places=8,
        allow_null=True,
        help_text="What the position's leaves paid out so far (a partial leave adds its "
        "payout, the full leave its last); null until the first leave's WITHDRAWAL is applied.",
    )
    # Not ``get_value``, the default: that would override ``Field.get_value`` of the serializer.
    value = serializers.SerializerMethodField(
        method_name="get_position_value",
        help_text="What the position would pay if it left now, at the pool's last known balance.",
    )
    currency = serializers.CharField(source="pool.currency")
    failureCode = serializers.CharField(
        source="failure_code",
        allow_blank=True,
        help_text="The code a failed join failed with; empty otherwise.",
    )
    leaveReason = LeaveReasonField(
        source="leave_reason",
        help_text="Who or what paid the position out: `follower`, `stop_loss`, `take_profit`, "
        "`stream_end`, `bust` or `staff`; empty while it has not left.",
    )
    stopLoss = serializers.SerializerMethodField(
        method_name="get_stop_loss",
        help_text="The value at or below which the position leaves on its own (set as a value "
        "or as `stopLossPercent`; a partial leave scales it to the units that stay); null: no "
        "stop-loss.",
    )
    stopLossPercent = serializers.DecimalField(
        source="stop_loss_percent",
        max_digits=7,
        decimal_places=4,
        allow_null=True,
        help_text="The stop-loss as the percent of the contribution the position may lose "
        "(`20.0000`: it leaves at 80 % of what it put in, less what partial leaves took out); "
        "null unless set as a percent.",
    )
    takeProfit = serializers.SerializerMethodField(
        method_name="get_take_profit",
        help_text="The value at or above which the position leaves on its own (set as a value "
        "or as `takeProfitPercent`; a partial leave scales it to the units that stay); null: "
        "no take-profit.",
    )
    takeProfitPercent = serializers.DecimalField(
        source="take_profit_percent",
        max_digits=9,
        decimal_places=4,
        allow_null=True,
        help_text="The take-profit as the percent of the contribution to gain (`50.0000`: it "
        "leaves at 150 % of what it put in, less what partial leaves took out); null unless "
        "set as a percent.",
    )
    performanceFeePercent = serializers.DecimalField(
        source="performance_fee_percent",
        max_digits=7,
        decimal_places=4,
        help_text="The streamer's performance fee this position pays, fixed when it opened: "
        "the percent of the value above its high-water mark that every leave keeps back.",
    )
    highWaterMark = serializers.SerializerMethodField(
        method_name="get_high_water_mark",
        help_text="The position's high-water mark now: what it contributed (join and "
        "top-ups), less the share every partial leave carried away; 0 once it has left. A "
        "leave pays the fee only on the value above the share of it its units carry.",
    )
    feesPaid = serializers.DecimalField(
        source="fees_paid",
        max_digits=20,
        decimal_places=8,
        help_text="The performance fees the position's leaves paid so far.",
    )
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    @extend_schema_field(AMOUNT_STRING)
    def get_position_value(self, position: Position) -> str:
        return f"{position_value(position):.8f}"

    @extend_schema_field(AMOUNT_STRING)
    def get_high_water_mark(self, position: Position) -> str:
        return f"{round_amount_down(position.high_water_mark):.8f}"

    @extend_schema_field({**AMOUNT_STRING, "nullable": True})
    def get_stop_loss(self, position: Position) -> str | None:
        level = position_stop_loss(position)
        return None if level is None else f"{level:.8f}"

    @extend_schema_field({**AMOUNT_STRING, "nullable": True})
    def get_take_profit(self, position: Position) -> str | None:
        level = position_take_profit(position)
        return None if level is None else f"{level:.8f}"


@extend_schema_serializer(component_name="Receipt")
class ReceiptSerializer(serializers.Serializer):
    """One price of the position: a join, top-up or leave, what it was priced on and what it
    issued or redeemed (``Receipt``, reached as ``position.receipts``)."""

    kind = serializers.ChoiceField(choices=["join", "top_up", "leave"])
    amount = serializers.DecimalField(
        max_digits=20,
        decimal_places=8,
        help_text="Paid in (join, top-up) or out (leave: the WITHDRAWAL and the WIN, the "
        "value less the performance fee; 0 when nothing was worth paying).",
    )
    grossAmount = serializers.DecimalField(
        source="gross_amount",
        max_digits=20,
        decimal_places=8,
        allow_null=True,
        help_text="A leave: what its units were worth (`amount` + `fee`); null for a join or "
        "top-up.",
    )
    fee = serializers.DecimalField(
        max_digits=20,
        decimal_places=8,
        help_text="A leave: the streamer's performance fee kept back, `feePercent` % of "
        "`grossAmount` above `highWaterMark`, rounded down to 8 places; 0 otherwise.",
    )
    feePercent = serializers.DecimalField(
        source="fee_percent",
        max_digits=7,
        decimal_places=4,
        help_text="A leave: the position's performance fee percent.",
    )
    highWaterMark = serializers.SerializerMethodField(
        method_name="get_high_water_mark",
        help_text="A leave: the share of the position's high-water mark its units carried; "
        "null for a join or top-up.",
    )
    feeUnits = serializers.DecimalField(
        source="fee_units",
        max_digits=40,
        decimal_places=18,
        help_text="A leave: the units the fee was worth, which passed to the streamer "
        "instead of being redeemed.",
    )
    feeId = serializers.CharField(
        source="fee_external_id",
        allow_blank=True,
        help_text="A leave that charged a fee: the id of its performance fee row.",
    )
    currency = serializers.CharField()
    balance = serializers.DecimalField(
        max_digits=20, decimal_places=8, help_text="The streamer balance the price was read on."
    )
    totalUnitsBefore = serializers.DecimalField(
        source="total_units_before", max_digits=40, decimal_places=18
    )
    totalUnitsAfter = serializers.DecimalField(
        source="total_units_after", max_digits=40, decimal_places=18
    )
    nav = serializers.DecimalField(
        max_digits=40,
        decimal_places=18,
        help_text="The value of one unit at that balance (balance / total units before, "
        "rounded down to 18 places).",
    )
    units = serializers.DecimalField(
        max_digits=40, decimal_places=18, help_text="Units issued (join, top-up) or redeemed."
    )
    betId = serializers.CharField(source="bet_external_id", allow_blank=True)
    depositId = serializers.CharField(source="deposit_external_id", allow_blank=True)
    withdrawalId = serializers.CharField(source="withdrawal_external_id", allow_blank=True)
    winId = serializers.CharField(
        source="win_external_id", allow_blank=True, help_text="Set once the WIN is sent."
    )
    pricedAt = serializers.DateTimeField(source="priced_at")

    @extend_schema_field({**AMOUNT_STRING, "nullable": True})
    def get_high_water_mark(self, receipt: Any) -> str | None:  # a Receipt (transactions)
        mark = receipt.high_water_mark
        return None if mark is None else f"{round_amount_down(mark):.8f}"


@extend_schema_serializer(component_name="PositionDetail")
class PositionDetailOutputSerializer(PositionOutputSerializer):
    receipts = ReceiptSerializer(
        source="receipts.all",
        many=True,
        help_text="Every price of the position, oldest first: its join, top-ups and leaves.",
    )


class PlayerApi(APIView):
    authentication_classes = [PlayerTokenAuthentication]
    permission_classes = [IsPlayer]
    throttle_classes = [PlayerRateThrottle]


# What every player endpoint may answer: the operator disabled (400), no valid token (401), an
# ``Accept`` without JSON (406).
PLAYER_ERROR_RESPONSES = error_responses(
    400,
    401,
    406,
    descriptions={
        400: f"`{ErrorCode.COPYSTAKE_OFF}`: CopyStake is disabled for the player's operator.",
        401: f"No valid player token: missing, garbage, tampered (`{ErrorCode.UNAUTHORIZED}`) "
        f"or expired (`{ErrorCode.SESSION_EXPIRED}`).",
    },
)


@extend_schema_serializer(component_name="LobbyPool")
class LobbyPoolSerializer(serializers.Serializer):
    poolId = serializers.IntegerField(source="pk")
    state = serializers.ChoiceField(choices=[Pool.State.OPEN, Pool.State.CLOSING])
    balance = serializers.DecimalField(max_digits=20, decimal_places=8)
    totalUnits = serializers.DecimalField(source="total_units", max_digits=40, decimal_places=18)
    followers = serializers.IntegerField(source="members")
    isBust = serializers.BooleanField(source="is_bust")


@extend_schema_serializer(component_name="LobbyLimits")
class LobbyLimitsSerializer(serializers.Serializer):
    """What a join into this streamer's pool must keep: the streamer's limits, else the
    operator's."""

    minContribution = serializers.DecimalField(
        source="min_contribution", max_digits=20, decimal_places=8
    )
    maxContribution = serializers.DecimalField(
        source="max_contribution", max_digits=20, decimal_places=8
    )
    maxFollowers = serializers.IntegerField(
        source="max_followers", help_text="Distinct followers the pool takes at once."
    )
    maxPoolValue = serializers.DecimalField(
        source="max_pool_value",
        max_digits=20,
        decimal_places=8,
        allow_null=True,
        help_text="Capacity: a join may not take the pool's value above this; null: none.",
    )


@extend_schema_serializer(component_name="LobbyRecord")
class LobbyRecordSerializer(serializers.Serializer):
    """The streamer's track record over the last 7 days, as last computed (the leaderboard's
    figures; ``GET streamers/{id}/stats`` for the rest)."""

    roi = serializers.DecimalField(
        max_digits=24,
        decimal_places=12,
        allow_null=True,
        help_text="The NAV's growth, chained across pools, as a fraction to 12 places; null "
        "without a reading in the window.",
    )
    maxDrawdown = serializers.DecimalField(
        source="max_drawdown",
        max_digits=24,
        decimal_places=12,
        allow_null=True,
        help_text="The largest fall from a peak, 0 to 1 (1: a bust).",
    )
    followers = serializers.IntegerField(source="followers_now", help_text="Followers now.")
    isNew = serializers.BooleanField(
        source="is_new", help_text="Younger than the minimum history: not ranked."
    )


class LobbyApi(PlayerApi):
    """The lobby: one entry per stream, the live ones first (by streamer name), then the
    upcoming ones (scheduled within the next 7 days, soonest first, at most 50). An upcoming
    entry has `status: upcoming`, its `scheduledStart`, and no pool or NAV (`null`).

    The page's first call, and the source of the `streamerId` to join with and the limits a
    join must keep. Read-only; a private streamer shows only to players on its allowlist.
    """

    @extend_schema_serializer(component_name="LobbyEntry")
    class OutputSerializer(serializers.Serializer):
        streamerId = serializers.IntegerField(source="streamer.pk")
        name = serializers.CharField(source="streamer.display_name")
        currency = serializers.CharField(source="streamer.currency")
        status = serializers.ChoiceField(
            choices=["live", "upcoming"],
            help_text="`live`: joinable now; `upcoming`: scheduled, see `scheduledStart`.",
        )
        streamId = serializers.UUIDField(source="stream.uid")
        title = serializers.CharField(source="stream.title", allow_blank=True)
        game = serializers.CharField(source="stream.game", allow_blank=True)
        embedUrl = serializers.SerializerMethodField(
            method_name="get_embed_url",
            help_text="The broadcast's video player (https), to frame; null when none.",
        )
        scheduledStart = serializers.DateTimeField(source="stream.scheduled_start", allow_null=True)
        scheduledEnd = serializers.DateTimeField(source="stream.scheduled_end", allow_null=True)
        nav = serializers.DecimalField(max_digits=40, decimal_places=18, allow_null=True)
        pool = serializers.SerializerMethodField(
            help_text="The open pool; null when none is (always for an upcoming stream)."
        )
        limits = LobbyLimitsSerializer()
        performanceFeePercent = serializers.SerializerMethodField(
            method_name="get_performance_fee_percent",
            help_text="The streamer's performance fee a position joining now would pay: the "
            "percent of its value above its high-water mark (what it put in) kept back on "
            "every leave.",
        )
        record = LobbyRecordSerializer(
            allow_null=True,
            help_text="The streamer's 7-day track record; null before it is first computed.",
        )

        @extend_schema_field(PERCENT_STRING)
        def get_performance_fee_percent(self, entry) -> str:
            return f"{streamer_fee_percent(entry.streamer):.4f}"

        @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
        def get_embed_url(self, entry) -> str | None:
            return entry.stream.embed_url or None

        @extend_schema_field(LobbyPoolSerializer(allow_null=True))
        def get_pool(self, entry):
            return LobbyPoolSerializer(entry.pool).data if entry.pool else None

    @extend_schema(
        tags=["player"],
        operation_id="player_lobby",
        summary="Live streamers with their open pools, then upcoming streams",
        examples=examples.LOBBY,
        responses={200: OutputSerializer(many=True), **PLAYER_ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        session = player_session(request)
        follower = session.follower
        entries = lobby_list(
            operator=follower.operator,
            operator_user_id=follower.operator_user_id,
            is_demo=session.is_demo,
        )
        return Response(self.OutputSerializer(entries, many=True).data)


# Position ids are UUIDs; anything else is simply not found (404), like another's position.
POSITION_ID = OpenApiParameter(
    "position_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The position's `id`.",
)


class PositionListApi(PlayerApi):
    open_while_operator_disabled = True  # money out is never trapped

    @extend_schema(
        tags=["player"],
        operation_id="player_positions",
        summary="The player's positions, newest first (at most 500)",
        description="Every position of the player, newest first (at most 500), each with its "
        "`value` now (at the pool's last known balance), `units`, `contributed` and `payout`: "
        "the page's portfolio. Read-only; open while CopyStake is disabled for the operator, so "
        "the player can always see (and leave) what they hold.",
        examples=examples.POSITIONS,
        responses={200: PositionOutputSerializer(many=True), **PLAYER_ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        positions = position_list_for_follower(follower=player_follower(request))[:500]
        return Response(PositionOutputSerializer(positions, many=True).data)


class PositionDetailApi(PlayerApi):
    open_while_operator_disabled = True  # money out is never trapped

    @extend_schema(
        tags=["player"],
        operation_id="player_position",
        summary="One of the player's positions",
        description="One position of the player, as in `GET positions`, with its `receipts`: "
        "the price of its join, every top-up and every leave (the balance and NAV it was "
        "priced on, the units issued or redeemed, the fee kept). Poll it after a `202` of a "
        "join, top-up or leave to see it settle. Read-only; another player's position, or an "
        "id that is not a UUID, is `404`.",
        examples=examples.POSITION_DETAIL,
        parameters=[POSITION_ID],
        responses={
            200: PositionDetailOutputSerializer,
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                404,
                descriptions={
                    404: f"`{ErrorCode.POSITION_NOT_FOUND}`: no such position of this player."
                },
            ),
        },
    )
    def get(self, request: Request, position_id: str) -> Response:
        position = position_get_for_follower(
            follower=player_follower(request), position_id=position_id
        )
        return Response(PositionDetailOutputSerializer(position).data)


# --- Operator API: init and init-demo ---------------------------------------------------


class PlayerInitApi(OperatorApiView):
    """Register or find the operator's user as a follower and open a player session.

    Call it when the player opens CopyStake at the casino, then send them to the `url` it
    answers: the CopyStake page with a signed player token (valid for the operator's session
    TTL); with `streamId` the page opens that broadcast directly, skipping the lobby.

    The first call for an `operatorUserId` registers the follower (a later `username`
    renames them); every call opens a new session, which keeps the `userToken` (encrypted) for
    the wallet calls it makes (seed 003). No money moves.
    """

    @extend_schema_serializer(component_name="CopyStakeInitRequest")
    class InputSerializer(serializers.Serializer):
        operatorUserId = StrictCharField(source="operator_user_id", max_length=128)
        userToken = StrictCharField(source="user_token", max_length=4096)
        currency = StrictCharField(
            max_length=8,
            pattern=CURRENCY_PATTERN,
            pattern_message="Must be 3 to 8 capital letters.",
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
        examples=examples.INIT,
        request={"application/json": InputSerializer},
        responses={200: OutputSerializer, **OPERATOR_ERROR_RESPONSES},
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        session = player_session_open(operator=request.auth, **data)
        return Response(self.OutputSerializer({"url": player_url(session)}).data)


class PlayerInitDemoApi(OperatorApiView):
    """Open a demo session: a fresh anonymous follower with play money and no wallet.

    Call it for a visitor who is not signed in at the casino, then send them to the `url`.
    Every call makes a new anonymous follower and session; demo pools are apart from the real
    ones, and nothing ever reaches the operator's wallet or the streamer's balance.
    """

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
        examples=examples.INIT_DEMO,
        request={"application/json": InputSerializer},
        responses={200: OutputSerializer, **OPERATOR_ERROR_RESPONSES},
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        session = demo_session_open(operator=request.auth, **data)
        return Response(self.OutputSerializer({"url": player_url(session)}).data)


# --- Player API: invite links -------------------------------------------------------------


class InviteRedeemApi(PlayerApi):
    """Open an invite link to a private streamer: the player joins its allowlist.

    The page calls it when it was opened with an `invite` code. Using the link takes one of
    its uses; a player on the allowlist already gets the same answer and uses nothing up, so a
    repeat is harmless. No money moves.
    """

    @extend_schema_serializer(component_name="InviteRedeemRequest")
    class InputSerializer(serializers.Serializer):
        code = StrictCharField(max_length=MAX_INVITE_CODE_CHARS, help_text="The link's code.")

    @extend_schema_serializer(component_name="InviteRedeemed")
    class OutputSerializer(serializers.Serializer):
        streamerId = serializers.IntegerField(source="pk")
        name = serializers.CharField(source="display_name")

    @extend_schema(
        tags=["player"],
        operation_id="player_invite_redeem",
        summary="Redeem an invite link to a private streamer's pool",
        examples=examples.INVITE_REDEEM,
        request=InputSerializer,
        responses={
            200: OpenApiResponse(
                OutputSerializer,
                description="The player is on the streamer's allowlist (again: a player "
                "listed already uses nothing up).",
            ),
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                404,
                415,
                descriptions={
                    404: f"`{ErrorCode.INVITE_INVALID}`: no invite link of this operator has "
                    "the code, or it was revoked, has expired or has been used up, or the "
                    "player is in a demo session; the message says which."
                },
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = player_session(request)
        follower = session.follower
        streamer = invite_redeem(
            code=serializer.validated_data["code"],
            operator=follower.operator,
            operator_user_id=follower.operator_user_id,
            is_demo=session.is_demo,
        )
        return Response(self.OutputSerializer(streamer).data)


# --- Player API: the wallet's balance ----------------------------------------------------


class WalletApi(PlayerApi):
    """The player's balance in their casino wallet (seed 003 `/auth`); a demo session's
    play money. Shown in the page's header; it decides nothing.

    Read-only: every call asks the wallet afresh (nothing is stored); open while CopyStake is
    disabled for the operator.
    """

    open_while_operator_disabled = True  # the player may still see their money

    @extend_schema_serializer(component_name="WalletBalance")
    class OutputSerializer(serializers.Serializer):
        balance = serializers.DecimalField(max_digits=20, decimal_places=8)
        currency = serializers.CharField()

    @extend_schema(
        tags=["player"],
        operation_id="player_wallet",
        summary="The player's wallet balance at the casino",
        examples=examples.WALLET,
        responses={
            200: OutputSerializer,
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                409,
                descriptions={
                    409: f"The wallet did not answer (`{ErrorCode.WALLET_UNAVAILABLE}`) or "
                    f"refused (its code, e.g. `{ErrorCode.INVALID_TOKEN}`: the casino "
                    "session is over); nothing changed, ask again later."
                },
            ),
        },
    )
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(wallet_balance(session=player_session(request))).data)


# --- Player API: a pool's NAV over time -------------------------------------------------


class PoolNavApi(PlayerApi):
    """The pool's NAV over its last snapshots, oldest first: the broadcast's chart.

    Read-only; poll it to draw the chart of a pool from the lobby (`pool.poolId`). A pool of
    another operator, or of the other kind (demo or real) than the session, is `404`.
    """

    open_while_operator_disabled = True

    @extend_schema_serializer(component_name="NavPoint")
    class OutputSerializer(serializers.Serializer):
        takenAt = serializers.DateTimeField(source="taken_at")
        nav = serializers.DecimalField(max_digits=40, decimal_places=18)
        balance = serializers.DecimalField(max_digits=20, decimal_places=8)

    @extend_schema(
        tags=["player"],
        operation_id="player_pool_nav",
        summary="A pool's NAV over time (its last snapshots, oldest first)",
        examples=examples.POOL_NAV,
        parameters=[
            OpenApiParameter("pool_id", OpenApiTypes.INT, OpenApiParameter.PATH),
            OpenApiParameter(
                "points",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                required=False,
                description=f"How many (1 to {NAV_POINTS_MAX}; default {NAV_POINTS_DEFAULT}); "
                "anything else is the default.",
            ),
        ],
        responses={
            200: OutputSerializer(many=True),
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                404,
                descriptions={404: f"`{ErrorCode.NOT_FOUND}`: no such pool of this operator."},
            ),
        },
    )
    def get(self, request: Request, pool_id: int) -> Response:
        raw = request.query_params.get("points", "")
        points = (
            int(raw) if raw.isdigit() and 0 < int(raw) <= NAV_POINTS_MAX else NAV_POINTS_DEFAULT
        )
        session = player_session(request)
        snapshots = pool_nav_history(
            pool_id=pool_id,
            operator=session.follower.operator,
            is_demo=session.is_demo,
            points=points,
        )
        return Response(self.OutputSerializer(snapshots, many=True).data)


# --- Player API: copy limits (stop-loss, take-profit) ---------------------------------------

LIMIT_NOTATION = (
    'A value of the position as a plain decimal string of at most 8 places (`"80.5"`), or a '
    'percent of its contribution of at most 4 places (`"20%"`); `null` clears it; left out, '
    "it is kept."
)


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "pattern": r"^(?:(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,8})?|-?(?:0|[1-9][0-9]{0,4})"
        r"(?:\.[0-9]{1,4})?%)$",
        "description": f"The stop-loss: the position leaves once its value is at or below it. "
        f'{LIMIT_NOTATION} A percent is a loss: `"20%"` and `"-20%"` both mean '
        "lose at most 20 % (0 < p < 100). It must be below the current value.",
    }
)
class StopLossField(serializers.Field):
    """Passed on untouched: the service parses the notation (``limit_parse``)."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "pattern": r"^(?:(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,8})?|\+?(?:0|[1-9][0-9]{0,4})"
        r"(?:\.[0-9]{1,4})?%)$",
        "description": f"The take-profit: the position leaves once its value is at or above "
        f'it. {LIMIT_NOTATION} A percent is a gain: `"50%"` or `"+50%"` (p > 0). It '
        "must be above the current value.",
    }
)
class TakeProfitField(StopLossField):
    pass


class PositionLimitsApi(PlayerApi):
    """Set or clear the position's stop-loss and take-profit: when an observed balance takes
    its value to one of them, the position leaves on its own (`leaveReason` `stop_loss` or
    `take_profit`). Idempotent: the same body again answers the same position. No money moves
    until a limit is reached."""

    @extend_schema_serializer(component_name="PositionLimitsRequest")
    class InputSerializer(serializers.Serializer):
        stopLoss = StopLossField(source="stop_loss", required=False, allow_null=True)
        takeProfit = TakeProfitField(source="take_profit", required=False, allow_null=True)

    @extend_schema(
        tags=["player"],
        operation_id="player_position_limits",
        summary="Set the position's stop-loss and take-profit",
        examples=examples.POSITION_LIMITS,
        parameters=[POSITION_ID],
        request=InputSerializer,
        responses={
            200: OpenApiResponse(
                PositionOutputSerializer, description="The position with its limits."
            ),
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                400,
                404,
                409,
                415,
                descriptions={
                    400: f"`{ErrorCode.INVALID_LIMIT}`: a limit is malformed, out of range "
                    "or already reached by the position's current value (the message says "
                    f"which); `{ErrorCode.VALIDATION}`, `{ErrorCode.MALFORMED_JSON}`, "
                    f"`{ErrorCode.COPYSTAKE_OFF}`.",
                    404: f"`{ErrorCode.POSITION_NOT_FOUND}`: no such position of this player.",
                    409: f"`{ErrorCode.POSITION_NOT_ACTIVE}`: the position is joining, "
                    "leaving, closed or failed.",
                },
            ),
        },
    )
    def put(self, request: Request, position_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        position = position_limits_set(
            follower=player_follower(request),
            position_id=position_id,
            changes=serializer.validated_data,
        )
        return Response(PositionOutputSerializer(position).data)
