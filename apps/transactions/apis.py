"""The transactions' endpoints.

* Operator API (``/api/v1/copystake/``): ``transaction-status``, and ``streams/start`` and
  ``streams/end`` (ending a stream pays its pools out).
* Player API (``/api/v1/``): ``pools/join``, ``positions/{id}/top-up`` and
  ``positions/{id}/leave`` (all of it, or part), the ones that start a saga, and
  ``statement`` (the wallet's movements), ``streamers/{id}/stats`` (a streamer's track
  record) and ``leaderboard``; the player API's other reads (lobby, positions) are
  ``apps.followers.apis``.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC
from decimal import Decimal
from typing import Any, NamedTuple

from django.http.multipartparser import MultiPartParserError
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import ErrorCode, TransactionNotFound, ValidationFailed
from apps.core.exports import FORMULA_PREFIXES
from apps.core.money import AMOUNT_DIGITS, AMOUNT_PLACES
from apps.followers.apis import (
    PLAYER_ERROR_RESPONSES,
    POSITION_ID,
    PlayerApi,
    PositionOutputSerializer,
)
from apps.followers.authentication import player_follower, player_session
from apps.followers.models import Position
from apps.operators.apis import (
    OPERATOR_ERROR_RESPONSES,
    ErrorSerializer,
    OperatorApiView,
    StrictCharField,
    StrictIntegerField,
    error_responses,
)
from apps.pools.selectors import (
    LEADERBOARD_LIMIT_DEFAULT,
    LEADERBOARD_LIMIT_MAX,
    LEADERBOARD_SORTS,
    leaderboard_list,
    streamer_get_visible,
)
from apps.streamers.models import Stream, Streamer
from apps.streamers.services import stream_start_for_operator
from apps.transactions import api_examples as examples
from apps.transactions import idempotency, services, statements
from apps.transactions.models import Receipt, Saga, Transaction
from apps.transactions.selectors import transaction_get_for_operator
from apps.transactions.statistics.figures import DEFAULT_WINDOW, WINDOWS
from apps.transactions.statistics.records import TrackRecord, track_record

TRANSACTION_TYPES: dict[str, str] = {  # Kind members are the ``kind`` column's strings
    Transaction.Kind.FOLLOWER_DEBIT: "BET",
    Transaction.Kind.STREAMER_DEPOSIT: "DEPOSIT",
    Transaction.Kind.STREAMER_WITHDRAWAL: "WITHDRAWAL",
    Transaction.Kind.FOLLOWER_CREDIT: "WIN",
    Transaction.Kind.FOLLOWER_ROLLBACK: "ROLLBACK",
}
TRANSACTION_STATUSES = [status.upper() for status in Transaction.Status.values]


@extend_schema_field(
    {
        "type": "number",
        "minimum": 0,
        "exclusiveMaximum": True,
        "maximum": 10**12,
        "multipleOf": float(Decimal(1).scaleb(-AMOUNT_PLACES)),
        "description": "A JSON number with its exact digits (8 decimal places); 0 only for a "
        "WIN of nothing.",
    }
)
class WireAmountField(serializers.DecimalField):
    """An amount written as a JSON number with its exact digits (``ExactJSONRenderer``)."""


class TransactionStatusApi(OperatorApiView):
    """The type, status, amount and currency of a transaction by the id the operator was sent.

    Types: BET (wallet withdraw), DEPOSIT and WITHDRAWAL (transfers), WIN (wallet deposit),
    ROLLBACK (wallet rollback). The `id` is the `id` of a `transfer` or the `providerTxId` of
    a wallet call.

    Call it to reconcile: when an answer to a `transfer` or wallet call was lost on the
    operator's side, or a transaction looks stuck. Read-only; an id CopyStake never sent this
    operator is `404`.
    """

    @extend_schema_serializer(component_name="CopyStakeTransactionStatusRequest")
    class InputSerializer(serializers.Serializer):
        id = StrictCharField(source="external_id", max_length=64)

    @extend_schema_serializer(component_name="CopyStakeTransactionStatus")
    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField(source="external_id")
        type = serializers.SerializerMethodField()
        status = serializers.SerializerMethodField()
        amount = WireAmountField(
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
        examples=examples.TRANSACTION_STATUS,
        request={"application/json": InputSerializer},
        responses={
            200: OutputSerializer,
            **OPERATOR_ERROR_RESPONSES,
            **error_responses(
                404,
                descriptions={
                    404: f"`{ErrorCode.TRANSACTION_NOT_FOUND}`: the operator was never sent a "
                    "transaction with this id."
                },
            ),
        },
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


# --- Operator API: streams/start and streams/end ------------------------------------------

# A UUID as the operator writes one: 32 hex digits in the 8-4-4-4-12 groups (any case).
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class StreamIdField(StrictCharField):
    """A stream's id: a UUID in its canonical form (as the schema's pattern says), or null."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("max_length", 36)
        kwargs.setdefault(
            "help_text", "The stream's id (`streamId` of `init` and of the answer): a UUID."
        )
        super().__init__(
            pattern=UUID_PATTERN,
            pattern_message="Must be a UUID (8-4-4-4-12 hex digits).",
            **kwargs,
        )

    def run_validation(self, data=serializers.empty) -> uuid.UUID | None:
        # After the string's own validators (length, pattern), which want the text.
        value = super().run_validation(data)
        return None if value is None else uuid.UUID(value)


@extend_schema_serializer(component_name="CopyStakeStream")
class StreamOutputSerializer(serializers.Serializer):
    streamId = serializers.UUIDField(source="uid")
    streamerId = serializers.IntegerField(
        source="streamer_id", help_text="The player API's `streamerId`."
    )
    operatorUserId = serializers.CharField(source="streamer.operator_user_id")
    status = serializers.ChoiceField(
        choices=Stream.Status.values,
        help_text="`live` once started; `ended` once ended (its pools are paid out, possibly "
        "still in progress); `cancelled` when it ended before it started.",
    )
    title = serializers.CharField(allow_blank=True)
    game = serializers.CharField(allow_blank=True)
    scheduledStart = serializers.DateTimeField(source="scheduled_start", allow_null=True)
    scheduledEnd = serializers.DateTimeField(source="scheduled_end", allow_null=True)
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    endedAt = serializers.DateTimeField(source="ended_at", allow_null=True)


STREAMER_NOT_FOUND_404 = (
    f"`{ErrorCode.STREAMER_NOT_FOUND}`: no streamer of this operator has that `operatorUserId`."
)


class StreamStartApi(OperatorApiView):
    """Start the streamer's broadcast: followers may join their pool while it is live.

    Idempotent. When the streamer is live already, the answer is that stream, as it is (when no
    `streamId` is given, or it is that stream's). With a `streamId`: the streamer's scheduled
    stream of that id starts; a new id becomes the id of the stream started (so a retry with
    the same id is harmless). Without one, the streamer's scheduled stream that is due (its
    start within the next hour or past, its end ahead) starts rather than a new one.
    """

    @extend_schema_serializer(component_name="CopyStakeStreamStartRequest")
    class InputSerializer(serializers.Serializer):
        operatorUserId = StrictCharField(source="operator_user_id", max_length=128)
        title = StrictCharField(max_length=200, required=False, allow_blank=True)
        streamId = StreamIdField(source="stream_uid")

    OutputSerializer = StreamOutputSerializer

    @extend_schema(
        tags=["operator"],
        operation_id="copystake_streams_start",
        summary="Start a streamer's broadcast (idempotent)",
        examples=examples.STREAMS_START,
        request={"application/json": InputSerializer},
        responses={
            200: OutputSerializer,
            **OPERATOR_ERROR_RESPONSES,
            **error_responses(
                404,
                409,
                descriptions={
                    404: STREAMER_NOT_FOUND_404,
                    409: f"`{ErrorCode.STREAMER_SUSPENDED}`: the streamer is suspended; "
                    f"`{ErrorCode.STREAM_ALREADY_LIVE}`: another stream of the streamer is "
                    f"live; `{ErrorCode.STREAM_ID_TAKEN}`: the `streamId` is another "
                    f"streamer's; `{ErrorCode.STREAM_ENDED}`: that stream has ended or was "
                    "cancelled (or its scheduled end has passed).",
                },
            ),
        },
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        stream = stream_start_for_operator(
            operator=request.auth,
            operator_user_id=data["operator_user_id"],
            stream_uid=data.get("stream_uid"),
            title=data.get("title", ""),
        )
        return Response(self.OutputSerializer(stream).data)


class BodyRequiredSchema(AutoSchema):
    """A request body is required although no one field of it is (``streams/end`` takes
    either of two): drf-spectacular would otherwise document the body as optional, and a
    call without one is refused."""

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, _ = super()._get_request_for_media_type(serializer, direction)
        return schema, schema is not None


class StreamEndApi(OperatorApiView):
    """End a broadcast and pay its pools out: every follower leaves at the pool's value.

    By `operatorUserId` (the streamer's live stream) or `streamId` (that stream); when both are
    given they must name the same streamer's stream. The answer comes at once with `status:
    ended`, while the payouts carry on. Idempotent: ending an ended stream answers it as it is;
    a streamer with no live stream gets their latest ended stream. A scheduled stream that is
    ended is `cancelled`.
    """

    schema = BodyRequiredSchema()

    @extend_schema_serializer(component_name="CopyStakeStreamEndRequest")
    class InputSerializer(serializers.Serializer):
        operatorUserId = StrictCharField(source="operator_user_id", max_length=128, required=False)
        # Not null here: ``{"streamId": null}`` alone would name no stream.
        streamId = StreamIdField(source="stream_uid", allow_null=False)

        def validate(self, attrs):
            if not attrs.get("operator_user_id") and attrs.get("stream_uid") is None:
                raise serializers.ValidationError("Give an operatorUserId or a streamId")
            return attrs

    OutputSerializer = StreamOutputSerializer

    @extend_schema(
        tags=["operator"],
        operation_id="copystake_streams_end",
        summary="End a broadcast and pay its pools out (idempotent)",
        examples=examples.STREAMS_END,
        request={"application/json": InputSerializer},
        responses={
            200: OutputSerializer,
            **OPERATOR_ERROR_RESPONSES,
            **error_responses(
                400,
                404,
                descriptions={
                    400: f"`{ErrorCode.VALIDATION}`: a field is invalid, neither "
                    "`operatorUserId` nor `streamId` is given, or the two name different "
                    f"streamers; `{ErrorCode.MALFORMED_JSON}`: the body is not JSON; "
                    f"`{ErrorCode.COPYSTAKE_OFF}`: the operator is disabled.",
                    404: f"{STREAMER_NOT_FOUND_404} `{ErrorCode.STREAM_NOT_FOUND}`: no stream "
                    "of this operator has that `streamId`, or the streamer never streamed.",
                },
            ),
        },
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        stream = services.streams_end_for_operator(
            operator=request.auth,
            operator_user_id=data.get("operator_user_id", ""),
            stream_uid=data.get("stream_uid"),
        )
        return Response(self.OutputSerializer(stream).data)


class StreamEndRequestSchema(OpenApiSerializerExtension):
    """The schema says what ``validate`` refuses: a body without either field is invalid."""

    target_class = StreamEndApi.InputSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["anyOf"] = [{"required": ["operatorUserId"]}, {"required": ["streamId"]}]
        return schema


# --- Player API: join and leave -------------------------------------------------------

# How a failed join is answered: the failure's own code with a fitting 4xx.
FAILURE_STATUS: dict[str, int] = {
    ErrorCode.INSUFFICIENT_BALANCE: 402,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.SESSION_EXPIRED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.TRANSFER_FORBIDDEN: 403,
}


# A positive amount of at most 8 places below 10^12, as a JSON number or a string in plain
# notation (no sign, exponent, spaces or leading zeros). Either way it is parsed exactly.
AMOUNT_TEXT = re.compile(r"^(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,8})?$")
AMOUNT_SCHEMA = {
    "oneOf": [
        {
            "type": "string",
            "pattern": AMOUNT_TEXT.pattern,
            "not": {"pattern": r"^0(?:\.0+)?$"},
            "example": "10.5",
        },
        {
            "type": "number",
            "exclusiveMinimum": True,
            "minimum": 0,
            "exclusiveMaximum": True,
            "maximum": 10**12,
            "multipleOf": float(Decimal(1).scaleb(-AMOUNT_PLACES)),
        },
    ],
    "description": "A positive amount with at most 8 decimal places, below 10^12: a JSON "
    'number or a string in plain notation (`"10.5"`).',
}


@extend_schema_field(AMOUNT_SCHEMA)
class AmountField(serializers.Field):
    """A JSON number or a plain-notation string, passed on untouched: the service parses it
    exactly (``parse_amount``) and refuses what is not a positive amount of 8 places."""

    default_error_messages = {"invalid": 'Must be a number or a decimal string such as "10.5".'}

    def to_internal_value(self, data):
        if isinstance(data, str) and not AMOUNT_TEXT.fullmatch(data):
            raise serializers.ValidationError(
                self.error_messages["invalid"], code=ErrorCode.INVALID_AMOUNT
            )
        return data

    def to_representation(self, value):
        return value


@extend_schema_serializer(component_name="JoinError")
class JoinErrorSerializer(ErrorSerializer):
    position = PositionOutputSerializer(
        required=False, help_text="The failed position, when the join got as far as the wallet."
    )


class PoolJoinApi(PlayerApi):
    @extend_schema_serializer(component_name="PoolJoinRequest")
    class InputSerializer(serializers.Serializer):
        streamerId = StrictIntegerField(min_value=1, max_value=2**62)
        amount = AmountField()

    @extend_schema(
        tags=["player"],
        operation_id="player_join",
        summary="Join a live streamer's pool",
        description="Put `amount` of the player's wallet into the pool of streamer "
        "`streamerId`, live now, at the pool's NAV of the moment: the wallet's `/withdraw` "
        "(the BET), the operator's `game-pool` OPEN when the pool opens, then `transfer` "
        "DEPOSIT into the streamer's balance, which issues the position's units. Call it "
        "when the player confirms a join on a broadcast.\n\n"
        "Answers `201` with the `active` position, or `202` with the `joining` one while the "
        "operator has not answered the DEPOSIT (poll `GET positions/{id}`). A join the "
        "wallet or operator refuses answers its code with the `failed` position; after a "
        "BET the join is rolled back (the wallet's `/rollback`), so no money is kept.\n\n"
        "Not idempotent by itself: every call is a new join. Send an `Idempotency-Key` to "
        "retry safely: a repeat with the same key and body answers the first answer, never "
        "a second BET.",
        examples=examples.JOIN,
        request=InputSerializer,
        parameters=[idempotency.SCHEMA_PARAMETER],
        responses={
            201: OpenApiResponse(
                PositionOutputSerializer, description="Joined: the position is active."
            ),
            202: OpenApiResponse(
                PositionOutputSerializer,
                description="Still joining: the operator has not answered yet; the position is "
                "`joining`.",
            ),
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                400,
                401,
                402,
                403,
                404,
                409,
                serializer=JoinErrorSerializer,
                descriptions={
                    400: "Invalid request or a rule of the join: "
                    f"`{ErrorCode.VALIDATION}`, `{ErrorCode.MALFORMED_JSON}`, "
                    f"`{ErrorCode.INVALID_AMOUNT}`, `{ErrorCode.CONTRIBUTION_LIMIT}` (below the "
                    "pool's minimum or above its maximum contribution; the message names the "
                    f"bound), `{ErrorCode.CURRENCY_MISMATCH}`, "
                    f"`{ErrorCode.INVALID_IDEMPOTENCY_KEY}`, `{ErrorCode.COPYSTAKE_OFF}`.",
                    401: f"No valid player token (`{ErrorCode.UNAUTHORIZED}`, "
                    f"`{ErrorCode.SESSION_EXPIRED}`), or the wallet refused the player's token "
                    f"(`{ErrorCode.INVALID_TOKEN}`, with the failed `position`).",
                    402: f"`{ErrorCode.INSUFFICIENT_BALANCE}`: the wallet refused the BET; "
                    "with the failed `position`.",
                    403: f"`{ErrorCode.FOLLOWER_BLOCKED}` (the player may not join pools), "
                    f"`{ErrorCode.STREAMER_PRIVATE}` (the pool is invite-only and the player "
                    f"is not on its allowlist), `{ErrorCode.SELF_FOLLOW}`, or the wallet or "
                    f"operator forbade it (`{ErrorCode.FORBIDDEN}`, "
                    f"`{ErrorCode.TRANSFER_FORBIDDEN}`, with the failed `position`).",
                    404: f"`{ErrorCode.STREAMER_NOT_FOUND}`: no such streamer at this operator.",
                    409: f"`{ErrorCode.STREAMER_SUSPENDED}`, `{ErrorCode.STREAMER_OFFLINE}`, "
                    f"the pool cannot take the join (`{ErrorCode.FOLLOWER_LIMIT}`: it has its "
                    f"maximum of distinct followers; `{ErrorCode.POOL_CAPACITY}`: the join "
                    "would take its value (last known balance plus joins still pending) above "
                    "its capacity, the message says how much it can still take; "
                    f"`{ErrorCode.POOL_BUSY}`, `{ErrorCode.POOL_CLOSING}`, "
                    f"`{ErrorCode.POOL_BUST}`), the `Idempotency-Key` is in use "
                    f"(`{ErrorCode.REQUEST_IN_PROGRESS}`, `{ErrorCode.REQUEST_INTERRUPTED}`), or "
                    "the join failed after the BET and was rolled back (its own code, with the "
                    "failed `position`).",
                },
            ),
            **error_responses(
                415,
                422,
                descriptions={
                    422: f"`{ErrorCode.IDEMPOTENCY_KEY_REUSED}`: the `Idempotency-Key` was used "
                    "before for another request."
                },
            ),
        },
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


# A partial leave's units or fraction: a JSON number or a plain-notation string of at most 18
# places (the service parses it exactly and answers ``ErrorCode.INVALID_UNITS`` otherwise).
UNITS_SCHEMA = {
    "oneOf": [
        {"type": "string", "pattern": r"^(?:0|[1-9][0-9]{0,21})(?:\.[0-9]{1,18})?$"},
        {"type": "number", "exclusiveMinimum": True, "minimum": 0},
    ],
}


@extend_schema_field(
    {
        **UNITS_SCHEMA,
        "description": "Units to redeem: more than 0, at most the position's, at most 18 "
        'decimal places (`"12.5"`).',
    }
)
class UnitsField(serializers.Field):
    """Passed on untouched: ``services.position_leave_part`` parses and checks it."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        **UNITS_SCHEMA,
        "description": 'The part of the position\'s units to redeem: 0 < f <= 1 (`"0.5"`).',
    }
)
class FractionField(UnitsField):
    pass


@extend_schema_serializer(component_name="PositionError")
class PositionErrorSerializer(ErrorSerializer):
    position = PositionOutputSerializer(
        required=False,
        help_text="The position as it is: a failed top-up refunded its BET and left it as it was.",
    )


class PositionTopUpApi(PlayerApi):
    """Add money to an active position, priced at the pool's NAV of the moment.

    A new BET and DEPOSIT, with the faults and rollbacks of a join; the position's units grow
    by the units issued and its `contributed` by the amount (a receipt of the price is in
    `GET positions/{id}`). One top-up or leave of a position at a time.

    Not idempotent by itself: every call is a new BET. Send an `Idempotency-Key` to retry
    safely: a repeat with the same key and body answers the first answer.
    """

    @extend_schema_serializer(component_name="PositionTopUpRequest")
    class InputSerializer(serializers.Serializer):
        amount = AmountField()

    @extend_schema(
        tags=["player"],
        operation_id="player_top_up",
        summary="Add money to an active position",
        examples=examples.TOP_UP,
        parameters=[POSITION_ID, idempotency.SCHEMA_PARAMETER],
        request=InputSerializer,
        responses={
            200: OpenApiResponse(
                PositionOutputSerializer,
                description="Topped up: the position holds the new units and its `contributed` "
                "grew by the amount.",
            ),
            202: OpenApiResponse(
                PositionOutputSerializer,
                description="Still topping up: the operator has not answered yet; the position "
                "is as it was until the DEPOSIT is applied.",
            ),
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                400,
                401,
                402,
                403,
                404,
                409,
                serializer=PositionErrorSerializer,
                descriptions={
                    400: f"`{ErrorCode.VALIDATION}`, `{ErrorCode.MALFORMED_JSON}`, "
                    f"`{ErrorCode.INVALID_AMOUNT}`, `{ErrorCode.CONTRIBUTION_LIMIT}` (the "
                    "position's contribution with the amount would pass the pool's maximum; "
                    f"the message says how much it can still take), "
                    f"`{ErrorCode.INVALID_IDEMPOTENCY_KEY}`, `{ErrorCode.COPYSTAKE_OFF}`.",
                    401: f"No valid player token (`{ErrorCode.UNAUTHORIZED}`, "
                    f"`{ErrorCode.SESSION_EXPIRED}`), or the wallet refused the player's token "
                    f"(`{ErrorCode.INVALID_TOKEN}`, with the `position`).",
                    402: f"`{ErrorCode.INSUFFICIENT_BALANCE}`: the wallet refused the BET; "
                    "with the `position`, unchanged.",
                    403: f"`{ErrorCode.FOLLOWER_BLOCKED}`, `{ErrorCode.STREAMER_PRIVATE}`, or "
                    f"the wallet or operator forbade it (`{ErrorCode.FORBIDDEN}`, "
                    f"`{ErrorCode.TRANSFER_FORBIDDEN}`, with the `position`).",
                    404: f"`{ErrorCode.POSITION_NOT_FOUND}`: no such position of this player.",
                    409: f"`{ErrorCode.POSITION_NOT_ACTIVE}`, `{ErrorCode.POSITION_BUSY}` (a "
                    f"top-up or leave of it is running), `{ErrorCode.STREAMER_SUSPENDED}`, "
                    f"`{ErrorCode.STREAMER_OFFLINE}`, `{ErrorCode.POOL_CAPACITY}`, "
                    f"`{ErrorCode.POOL_CLOSING}`, `{ErrorCode.POOL_BUST}`, the "
                    f"`Idempotency-Key` is in use (`{ErrorCode.REQUEST_IN_PROGRESS}`, "
                    f"`{ErrorCode.REQUEST_INTERRUPTED}`), or the top-up failed after the BET "
                    "and was refunded (its own code, with the `position`, unchanged).",
                },
            ),
            **error_responses(
                415,
                422,
                descriptions={
                    422: f"`{ErrorCode.IDEMPOTENCY_KEY_REUSED}`: the `Idempotency-Key` was used "
                    "before for another request."
                },
            ),
        },
    )
    @idempotency.idempotent
    def post(self, request: Request, position_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        position, saga = services.position_top_up(
            session=player_session(request),
            position_id=position_id,
            amount=serializer.validated_data["amount"],
        )
        if saga.status == Saga.Status.FAILED:
            code = saga.failure_code or ErrorCode.TOP_UP_FAILED
            body = {
                "errorCode": code,
                "errorMessage": saga.failure_message or "The top-up failed",
                "position": PositionOutputSerializer(position).data,
            }
            return Response(body, status=FAILURE_STATUS.get(code, 409))
        http = status.HTTP_200_OK if saga.status == Saga.Status.DONE else status.HTTP_202_ACCEPTED
        return Response(PositionOutputSerializer(position).data, status=http)


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _leave_body(request: Request) -> object:
    """The leave's JSON body; no body, or an empty form (what clients send with no body), is a
    full leave, as it was before a leave had a body. A form with fields is refused (415), and
    so is a JSON body that is not an object (``[]``, ``null``, ``0``, ``""``: 400), rather than
    taken for no body and paying the position out in full."""
    if not request.body:
        return {}
    try:
        data = request.data
    except UnsupportedMediaType:
        django_request = request._request
        if django_request.content_type in FORM_TYPES:
            try:
                if not django_request.POST and not django_request.FILES:
                    return {}
            except MultiPartParserError:
                pass  # not even a form: the media type is refused as it is
        raise
    if not isinstance(data, dict):
        raise ValidationFailed(
            f"The body must be a JSON object (or no body), not {_json_kind(data)}",
            code=ErrorCode.VALIDATION,
        )
    return data


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"


class PositionLeaveApi(PlayerApi):
    """Pay a position out: all of it (no body, or an empty one), or part of it (`units` or
    `fraction`, exactly one), the rest staying `active`: `{"fraction": "0.5"}` leaves with
    half of the units, `{"units": "20"}` redeems 20 of them.

    Prices the units on the streamer's balance of the moment (`streamer-balance`), then
    `transfer` WITHDRAWAL of their value less the performance fee, then the wallet's
    `/deposit` of it to the player (the WIN, retried until paid); when the last follower has
    left, `game-pool` CLOSE. Answers `200` once the WITHDRAWAL is applied, `202` before.

    A full leave of a position that is leaving or closed already answers it as it is (a
    repeat is harmless); a partial leave is a new leave every time. Open while CopyStake is
    disabled for the operator: money out is never trapped.
    """

    open_while_operator_disabled = True  # money out is never trapped

    @extend_schema_serializer(component_name="PositionLeaveRequest")
    class InputSerializer(serializers.Serializer):
        units = UnitsField(required=False, allow_null=True)
        fraction = FractionField(required=False, allow_null=True)

    @extend_schema(
        tags=["player"],
        operation_id="player_leave",
        summary="Leave a pool: pay the position out, all of it or part",
        examples=examples.LEAVE,
        parameters=[POSITION_ID],
        request=InputSerializer,
        responses={
            200: OpenApiResponse(
                PositionOutputSerializer,
                description="Paid out: the position is `closed` with its `payout` (a full "
                "leave), or `active` with the rest of its units (a partial leave; `payout` "
                "counts every leave's).",
            ),
            202: OpenApiResponse(
                PositionOutputSerializer,
                description="Still leaving: the position is `leaving` (or `active`, a partial "
                "leave); its `payout` grows once the WITHDRAWAL is applied.",
            ),
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                400,
                404,
                409,
                descriptions={
                    400: f"`{ErrorCode.INVALID_UNITS}`: both `units` and `fraction`, or one "
                    "out of range (0 or less, above the position's units, a fraction above 1, "
                    f"more than 18 places); `{ErrorCode.VALIDATION}`, "
                    f"`{ErrorCode.MALFORMED_JSON}`.",
                    404: f"`{ErrorCode.POSITION_NOT_FOUND}`: no such position of this player.",
                    409: f"`{ErrorCode.POSITION_NOT_ACTIVE}`: the position is still joining, "
                    f"or failed (or, for a partial leave, leaving or closed); "
                    f"`{ErrorCode.POSITION_BUSY}`: a top-up or leave of it is running.",
                },
            ),
            **error_responses(415),
        },
    )
    def post(self, request: Request, position_id: str) -> Response:
        data = _leave_body(request)
        serializer = self.InputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        units = serializer.validated_data.get("units")
        fraction = serializer.validated_data.get("fraction")
        session = player_session(request)
        if units is None and fraction is None:
            position = services.position_leave(session=session, position_id=position_id)
            done = position.status == Position.Status.CLOSED
        else:
            position, saga = services.position_leave_part(
                session=session, position_id=position_id, units=units, fraction=fraction
            )
            done = saga.status == Saga.Status.DONE
        http = status.HTTP_200_OK if done else status.HTTP_202_ACCEPTED
        return Response(PositionOutputSerializer(position).data, status=http)


# --- Player API: the statement ------------------------------------------------------------


class CsvRenderer(BaseRenderer):
    """``text/csv``: the statement's rows, rendered by the view (``statement_csv``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return data.encode() if isinstance(data, str) else b""


@extend_schema_serializer(component_name="StatementReceipt")
class StatementReceiptSerializer(serializers.Serializer):
    """The price of the join, top-up or leave the movement paid for (``Receipt``)."""

    kind = serializers.ChoiceField(choices=Receipt.Kind.values)
    amount = serializers.DecimalField(max_digits=20, decimal_places=8)
    currency = serializers.CharField()
    balance = serializers.DecimalField(
        max_digits=20, decimal_places=8, help_text="The streamer balance priced on."
    )
    totalUnitsBefore = serializers.DecimalField(
        source="total_units_before", max_digits=40, decimal_places=18
    )
    totalUnitsAfter = serializers.DecimalField(
        source="total_units_after", max_digits=40, decimal_places=18
    )
    nav = serializers.DecimalField(max_digits=40, decimal_places=18)
    units = serializers.DecimalField(max_digits=40, decimal_places=18)
    grossAmount = serializers.DecimalField(
        source="gross_amount",
        max_digits=20,
        decimal_places=8,
        allow_null=True,
        help_text="A leave: what its units were worth (`amount` + `fee`); null otherwise.",
    )
    fee = serializers.DecimalField(
        max_digits=20,
        decimal_places=8,
        help_text="A leave: the streamer's performance fee kept back; 0 otherwise.",
    )
    feePercent = serializers.DecimalField(source="fee_percent", max_digits=7, decimal_places=4)
    highWaterMark = serializers.DecimalField(
        source="high_water_mark",
        max_digits=40,
        decimal_places=18,
        allow_null=True,
        help_text="A leave: the share of the position's high-water mark its units carried.",
    )
    feeUnits = serializers.DecimalField(source="fee_units", max_digits=40, decimal_places=18)
    feeId = serializers.CharField(source="fee_external_id", allow_blank=True)
    pricedAt = serializers.DateTimeField(source="priced_at")


@extend_schema_serializer(component_name="StatementMovement")
class StatementMovementSerializer(serializers.Serializer):
    positionId = serializers.UUIDField(source="position_id")
    streamerName = serializers.CharField(source="streamer_name")
    kind = serializers.ChoiceField(
        choices=["BET", "WIN", "ROLLBACK", "FEE"],
        help_text="`BET`: money out of the wallet into a pool; `WIN`: a payout into it; "
        "`ROLLBACK`: a BET refunded; `FEE`: the performance fee the streamer kept of a leave "
        "(not a wallet movement: the leave's WIN is its value less the fee; its receipt is the "
        "leave's).",
    )
    amount = serializers.DecimalField(source="transaction.amount", max_digits=20, decimal_places=8)
    currency = serializers.CharField(source="transaction.currency")
    externalId = serializers.CharField(source="transaction.external_id")
    time = serializers.DateTimeField(
        source="transaction.completed_at", help_text="When the wallet answered it."
    )
    receipt = StatementReceiptSerializer(allow_null=True)


@extend_schema_serializer(component_name="StatementTotals")
class StatementTotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    moneyIn = serializers.DecimalField(
        source="money_in", max_digits=20, decimal_places=8, help_text="WINs and refunds."
    )
    moneyOut = serializers.DecimalField(
        source="money_out", max_digits=20, decimal_places=8, help_text="BETs."
    )
    net = serializers.DecimalField(max_digits=21, decimal_places=8, help_text="In less out.")
    fees = serializers.DecimalField(
        max_digits=20,
        decimal_places=8,
        help_text="Performance fees kept of the leaves (`FEE`; not in the money in or out).",
    )


@extend_schema_serializer(component_name="Statement")
class StatementSerializer(serializers.Serializer):
    start = serializers.DateTimeField(source="period.start", help_text="Inclusive.")
    end = serializers.DateTimeField(source="period.end", help_text="Exclusive.")
    movements = StatementMovementSerializer(many=True)
    totals = StatementTotalsSerializer(many=True)


STATEMENT_CSV_HEADER = [
    "time",
    "positionId",
    "streamerName",
    "kind",
    "amount",
    "currency",
    "externalId",
    "receiptKind",
    "receiptAmount",
    "receiptBalance",
    "receiptNav",
    "receiptUnits",
    "receiptGrossAmount",
    "receiptFee",
]


def _statement_csv_example() -> OpenApiExample:
    """The movements of the statement's JSON example as CSV, column for column as
    ``statement_csv`` writes them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(STATEMENT_CSV_HEADER)
    for movement in examples.STATEMENT_BODY["movements"]:
        receipt = movement["receipt"]
        writer.writerow(
            [
                movement["time"].replace("Z", "+00:00"),
                *(movement[key] for key in ("positionId", "streamerName", "kind", "amount")),
                *(movement[key] for key in ("currency", "externalId")),
                *(receipt[key] for key in ("kind", "amount", "balance", "nav", "units")),
                receipt["grossAmount"] or "",
                receipt["fee"],
            ]
        )
    return OpenApiExample(
        "Csv",
        value=buffer.getvalue(),
        summary="The same movements as CSV (`Accept: text/csv` or `?format=csv`)",
        media_type="text/csv",
        response_only=True,
        status_codes=["200"],
    )


def statement_csv(statement: statements.Statement) -> str:
    """The movements as CSV, newest first: a header row, exact decimals, times in UTC."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(STATEMENT_CSV_HEADER)
    for movement in statement.movements:
        tx, receipt = movement.transaction, movement.receipt
        name = movement.streamer_name
        writer.writerow(
            [
                tx.completed_at.astimezone(UTC).isoformat() if tx.completed_at else "",
                str(movement.position_id),
                "'" + name if name.startswith(FORMULA_PREFIXES) else name,
                movement.kind,
                f"{tx.amount:.8f}",
                tx.currency,
                tx.external_id,
                *(
                    [
                        receipt.kind,
                        f"{receipt.amount:.8f}",
                        f"{receipt.balance:.8f}",
                        f"{receipt.nav:.18f}",
                        f"{receipt.units:.18f}",
                        "" if receipt.gross_amount is None else f"{receipt.gross_amount:.8f}",
                        f"{receipt.fee:.8f}",
                    ]
                    if receipt is not None
                    else [""] * 7
                ),
            ]
        )
    return buffer.getvalue()


PERIOD_PATTERN = statements.PERIOD_BOUND.pattern
STATEMENT_CSV_EXAMPLE = _statement_csv_example()


class StatementApi(PlayerApi):
    """Every money movement of the player's wallet in a period (BETs, WINs, refunds of BETs),
    and the performance fees kept of their leaves (FEEs), newest first (at most 10000), each
    with its position, streamer and the receipt of the price it paid for; and per currency
    the totals in, out, net and fees over the whole period.
    JSON, or CSV (the movements, with a header row) with `Accept: text/csv` or
    `?format=csv`. Errors are always JSON.

    Read-only; open while CopyStake is disabled for the operator (a player may always see
    their money)."""

    open_while_operator_disabled = True  # a player may always see their money
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        tags=["player"],
        operation_id="player_statement",
        summary="The player's money movements in a period, with totals",
        examples=[*examples.STATEMENT, STATEMENT_CSV_EXAMPLE],
        parameters=[
            OpenApiParameter(
                "from",
                str,
                OpenApiParameter.QUERY,
                pattern=PERIOD_PATTERN,
                description="Start, inclusive: an ISO 8601 date (`2026-01-31`: midnight UTC) "
                "or date and time (UTC without an offset). Default: 30 days before `to`.",
            ),
            OpenApiParameter(
                "to",
                str,
                OpenApiParameter.QUERY,
                pattern=PERIOD_PATTERN,
                description="End, exclusive; as `from`. Default: now. At most 366 days after "
                "`from`.",
            ),
            OpenApiParameter(
                "format",
                str,
                OpenApiParameter.QUERY,
                enum=["json", "csv"],
                description="`csv` for CSV, as `Accept: text/csv`.",
            ),
        ],
        responses={
            (200, "application/json"): StatementSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The movements, one a row after a header row: "
                + ", ".join(STATEMENT_CSV_HEADER)
                + ".",
            ),
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                400,
                404,
                descriptions={
                    404: f"`{ErrorCode.NOT_FOUND}`: a `format` other than `json` or `csv`.",
                    400: f"`{ErrorCode.INVALID_PERIOD}`: `from` or `to` is not a valid date, "
                    "`from` is not before `to`, or the period is longer than 366 days (a "
                    "statement is open while CopyStake is disabled too).",
                },
            ),
        },
    )
    def get(self, request: Request) -> Response:
        period = statements.statement_period(
            start=request.query_params.get("from"), end=request.query_params.get("to")
        )
        statement = statements.statement_for_follower(
            follower=player_follower(request), period=period
        )
        if isinstance(request.accepted_renderer, CsvRenderer):
            return Response(
                statement_csv(statement),
                headers={"Content-Disposition": 'attachment; filename="statement.csv"'},
            )
        return Response(StatementSerializer(statement).data)

    def finalize_response(self, request, response, *args, **kwargs):
        """An error is answered as JSON even when CSV was asked for."""
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), CsvRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# --- Player API: track records and the leaderboard ----------------------------------------


def _ratio(**options: Any) -> serializers.DecimalField:
    """A ratio as ``StreamerRecord`` keeps them: a decimal string to 12 places."""
    return serializers.DecimalField(max_digits=24, decimal_places=12, **options)


def _money(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, **options
    )


LEADERBOARD_DEFAULT_WINDOW = "7d"


def _query_choice(default: str) -> serializers.CharField:
    """A query parameter taken as sent: an empty or padded value is refused, not defaulted."""
    return serializers.CharField(
        required=False, default=default, allow_blank=True, trim_whitespace=False
    )


def _window_valid(value: str) -> str:
    if value not in WINDOWS:
        raise serializers.ValidationError(
            f"must be one of {', '.join(WINDOWS)}", code=ErrorCode.INVALID_WINDOW
        )
    return value


def _window_parameter(default: str) -> OpenApiParameter:
    return OpenApiParameter(
        "window",
        str,
        OpenApiParameter.QUERY,
        enum=list(WINDOWS),
        default=default,
        description="The window the figures cover: `24h` and `7d` in whole UTC hours, `30d`, "
        "`90d` and `all` in whole UTC days, each up to now. Anything else is "
        f"`{ErrorCode.INVALID_WINDOW}` (400).",
    )


RATIO_HELP = "A fraction to 12 places (`0.125000000000` is 12.5 %)"


class StreamerStats(NamedTuple):
    streamer: Streamer
    record: TrackRecord


@extend_schema_serializer(component_name="TrackRecordPoint")
class TrackRecordPointSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="The start of the rollup bucket (hour or day).")
    index = _ratio(
        help_text="The NAV index chained across the streamer's pools, 1 at the window's start: "
        "what 1 copied then was worth at the bucket's close.",
    )
    nav = serializers.DecimalField(
        max_digits=40, decimal_places=18, help_text="The pool's own NAV at the bucket's close."
    )
    balance = _money(help_text="The pooled value then.")
    members = serializers.IntegerField(help_text="The pool's members then.")


class StreamerStatsApi(PlayerApi):
    """A streamer's track record over a window, computed now from the rollups and the ledger
    (never from the operator): its return, drawdown, pooled value, followers and money in
    and out, and the chained NAV index for a chart. Demo pools never count.

    Call it for a streamer's page before a join. Read-only."""

    class InputSerializer(serializers.Serializer):
        window = _query_choice(DEFAULT_WINDOW)

        def validate_window(self, value: str) -> str:
            return _window_valid(value)

    @extend_schema_serializer(component_name="TrackRecord")
    class OutputSerializer(serializers.Serializer):
        streamerId = serializers.IntegerField(source="streamer.pk")
        name = serializers.CharField(source="streamer.display_name")
        currency = serializers.CharField(source="record.currency")
        window = serializers.ChoiceField(source="record.window", choices=list(WINDOWS))
        windowStart = serializers.DateTimeField(
            source="record.window_start",
            allow_null=True,
            help_text="The first bucket's start; null for `all`.",
        )
        asOf = serializers.DateTimeField(
            source="record.computed_at", help_text="When the figures were computed."
        )
        isNew = serializers.BooleanField(
            source="record.is_new",
            help_text="The record is younger than the minimum history: shown, never ranked.",
        )
        historyStart = serializers.DateTimeField(
            source="record.history_start",
            allow_null=True,
            help_text="The first reading of the streamer's first pool; null: none yet.",
        )
        roi = _ratio(
            source="record.roi",
            allow_null=True,
            help_text=f"The NAV's growth over the window, chained across pools. {RATIO_HELP}; "
            "null without a reading in the window.",
        )
        maxDrawdown = _ratio(
            source="record.max_drawdown",
            allow_null=True,
            help_text="The largest fall of the chained NAV from a peak to a later trough, 0 to "
            f"1 (1: a bust). {RATIO_HELP}; null without a reading in the window.",
        )
        aum = _money(source="record.aum", help_text="The open pool's value now (0: none).")
        aumPeak = _money(source="record.aum_peak", help_text="The highest pooled value.")
        followersNow = serializers.IntegerField(source="record.followers_now")
        followersDistinct = serializers.IntegerField(
            source="record.followers_distinct",
            help_text="Followers in a pool of the streamer at any time in the window.",
        )
        joined = _money(source="record.joined", help_text="Followers' joins and top-ups.")
        paidOut = _money(source="record.paid_out", help_text="Followers' payouts (WINs).")
        netResult = serializers.DecimalField(
            source="record.net_result",
            max_digits=AMOUNT_DIGITS + 1,
            decimal_places=AMOUNT_PLACES,
            help_text="What the followers gained (negative: lost) over the window.",
        )
        streams = serializers.IntegerField(
            source="record.streams", help_text="Streams started in the window."
        )
        hoursLive = serializers.DecimalField(
            source="record.hours_live", max_digits=12, decimal_places=2
        )
        streamerShare = _ratio(
            source="record.streamer_share",
            allow_null=True,
            help_text=f"The streamer's own part of the open pool's units. {RATIO_HELP}; null "
            "without an open pool.",
        )
        series = TrackRecordPointSerializer(
            source="record.series",
            many=True,
            help_text="The chained NAV index at each bucket's close, oldest first (hours for "
            "`24h` and `7d`, days beyond).",
        )

    @extend_schema(
        tags=["player"],
        operation_id="player_streamer_stats",
        summary="A streamer's track record over a window, with its NAV index",
        examples=examples.STREAMER_STATS,
        parameters=[
            OpenApiParameter("streamer_id", OpenApiTypes.INT, OpenApiParameter.PATH),
            _window_parameter(DEFAULT_WINDOW),
        ],
        responses={
            200: OutputSerializer,
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                400,
                404,
                descriptions={
                    400: f"`{ErrorCode.INVALID_WINDOW}`: `window` is not one of "
                    f"{', '.join(WINDOWS)}; `{ErrorCode.COPYSTAKE_OFF}`: CopyStake is disabled "
                    "for the player's operator.",
                    404: f"`{ErrorCode.NOT_FOUND}`: no such streamer of this operator that the "
                    "player may see (a private streamer's pool shows only to its allowlist).",
                },
            ),
        },
    )
    def get(self, request: Request, streamer_id: int) -> Response:
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        session = player_session(request)
        streamer = streamer_get_visible(
            operator=session.follower.operator,
            streamer_id=streamer_id,
            operator_user_id=session.follower.operator_user_id,
            is_demo=session.is_demo,
        )
        record = track_record(streamer, query.validated_data["window"])
        return Response(self.OutputSerializer(StreamerStats(streamer, record)).data)


class LeaderboardApi(PlayerApi):
    """The operator's streamers ranked by their track record over a window, as last computed
    (every few minutes): by `sort` descending, then by the others of
    ROI (null last), pooled value and followers now, then by name. Streamers whose record is
    new (younger than the minimum history) follow the ranked ones with `rank: null`.

    Read-only: it reads the stored records and computes nothing."""

    class InputSerializer(serializers.Serializer):
        window = _query_choice(LEADERBOARD_DEFAULT_WINDOW)
        sort = _query_choice("roi")
        limit = serializers.IntegerField(
            required=False,
            default=LEADERBOARD_LIMIT_DEFAULT,
            min_value=1,
            max_value=LEADERBOARD_LIMIT_MAX,
        )

        def validate_window(self, value: str) -> str:
            return _window_valid(value)

        def validate_sort(self, value: str) -> str:
            if value not in LEADERBOARD_SORTS:
                raise serializers.ValidationError(
                    f"must be one of {', '.join(LEADERBOARD_SORTS)}", code=ErrorCode.INVALID_SORT
                )
            return value

    @extend_schema_serializer(component_name="LeaderboardRow")
    class OutputSerializer(serializers.Serializer):
        rank = serializers.IntegerField(
            allow_null=True, help_text="1 for the first; null for a new record (not ranked)."
        )
        streamerId = serializers.IntegerField(source="streamer_id")
        name = serializers.CharField()
        currency = serializers.CharField()
        isNew = serializers.BooleanField(source="is_new")
        live = serializers.BooleanField(help_text="The streamer has a live stream now.")
        roi = _ratio(
            allow_null=True,
            help_text=f"{RATIO_HELP}; null without a reading in the window.",
        )
        maxDrawdown = _ratio(source="max_drawdown", allow_null=True, help_text=RATIO_HELP)
        aum = _money()
        followersNow = serializers.IntegerField(source="followers_now")
        asOf = serializers.DateTimeField(
            source="computed_at", help_text="When the record was computed."
        )

    @extend_schema(
        tags=["player"],
        operation_id="player_leaderboard",
        summary="The operator's streamers ranked by their track record",
        examples=examples.LEADERBOARD,
        parameters=[
            _window_parameter(LEADERBOARD_DEFAULT_WINDOW),
            OpenApiParameter(
                "sort",
                str,
                OpenApiParameter.QUERY,
                enum=list(LEADERBOARD_SORTS),
                default="roi",
                description="`roi`, `aum` (pooled value now) or `followers` (now), descending. "
                f"Anything else is `{ErrorCode.INVALID_SORT}` (400).",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": LEADERBOARD_LIMIT_MAX},
                OpenApiParameter.QUERY,
                default=LEADERBOARD_LIMIT_DEFAULT,
                description=f"At most this many rows, 1 to {LEADERBOARD_LIMIT_MAX}; anything "
                f"else is `{ErrorCode.VALIDATION}` (400).",
            ),
        ],
        responses={
            200: OutputSerializer(many=True),
            **PLAYER_ERROR_RESPONSES,
            **error_responses(
                400,
                descriptions={
                    400: f"`{ErrorCode.INVALID_WINDOW}`, `{ErrorCode.INVALID_SORT}` or "
                    f"`{ErrorCode.VALIDATION}` (`limit`): a query parameter is invalid; "
                    f"`{ErrorCode.COPYSTAKE_OFF}`: CopyStake is disabled for the player's "
                    "operator.",
                },
            ),
        },
    )
    def get(self, request: Request) -> Response:
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        session = player_session(request)
        rows = leaderboard_list(
            operator=session.follower.operator,
            operator_user_id=session.follower.operator_user_id,
            is_demo=session.is_demo,
            **query.validated_data,
        )
        return Response(self.OutputSerializer(rows, many=True).data)
