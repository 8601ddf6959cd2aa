"""Examples for the API docs (``OpenApiExample``): the followers' endpoints, and the bodies the
other player endpoints share (a position, the player API's refusals).

One story throughout, written as the API writes it (amounts as decimal strings of 8 places,
units and NAVs of 18, percents of 4, times in UTC with microseconds): the operator's user
``29e946a1-e801-4e27-952d-1d6ebbd19525`` (seed 000) follows the streamer LuckyLena
(``streamerId`` 42), live on stream ``7b699688-f4ad-407d-baf5-c006ba8d50e2`` (seed 000) with
pool 1187 in USD, which charges a 10 % performance fee. The player joins with 50.00 at a NAV
of 1.25 (40 units), the NAV rises to 1.40, they top up 28.00 (20 units) and leave.

Every example is checked against its own schema (``apps/core/tests/test_api_docs.py``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

from apps.core.errors import ErrorCode
from apps.core.schema import error_example

FOLLOWER_USER_ID = "29e946a1-e801-4e27-952d-1d6ebbd19525"
STREAMER_USER_ID = "5d0c3f7e-2b8a-4e61-9c47-a13f6e82d9b0"
STREAMER_ID = 42
STREAMER_NAME = "LuckyLena"
STREAM_ID = "7b699688-f4ad-407d-baf5-c006ba8d50e2"
POOL_ID = 1187
POSITION_ID = "3f6c2b9e-8d41-4a7f-b5e2-9c0d1a7e4f38"
CURRENCY = "USD"
PLAYER_URL = (
    "https://copypool.example.com/play/?token=.eJwdykEKwzAMBdG7_LU3Uo1le50blB5AlhUotCQ0BAqld4"
    "-T3fCYH7ZnR0W5kczZTEg0ZrfWTKL23nJUZlEELCsqBezXz8VLTErDbf8MeNyn0f49JymJMwmngO7vBXXW1-b"
    "_A1InHcI:1xYzzq:pycKP6A7xDb47alGuFU2ZAgDZlal3KCfGFBKPQWkHjw"
)
JOINED_AT = "2026-03-13T20:14:05.218734Z"

# The position as the join answers it: 50.00 at a NAV of 1.25.
POSITION_ACTIVE: dict[str, Any] = {
    "id": POSITION_ID,
    "poolId": POOL_ID,
    "streamerId": STREAMER_ID,
    "streamerName": STREAMER_NAME,
    "status": "active",
    "units": "40.000000000000000000",
    "contributed": "50.00000000",
    "payout": None,
    "value": "50.00000000",
    "currency": CURRENCY,
    "failureCode": "",
    "leaveReason": "",
    "stopLoss": None,
    "stopLossPercent": None,
    "takeProfit": None,
    "takeProfitPercent": None,
    "performanceFeePercent": "10.0000",
    "highWaterMark": "50.00000000",
    "feesPaid": "0.00000000",
    "createdAt": JOINED_AT,
    "updatedAt": "2026-03-13T20:14:06.031552Z",
}
# The operator has not confirmed the DEPOSIT yet: no units issued.
POSITION_JOINING = {
    **POSITION_ACTIVE,
    "status": "joining",
    "units": "0.000000000000000000",
    "value": "0.00000000",
    "highWaterMark": "0.00000000",
    "updatedAt": JOINED_AT,
}
# After the top-up of 28.00 at a NAV of 1.40, with a stop-loss of 20 % and a take-profit.
POSITION_TOPPED_UP = {
    **POSITION_ACTIVE,
    "units": "60.000000000000000000",
    "contributed": "78.00000000",
    "value": "84.00000000",
    "stopLoss": "62.40000000",
    "stopLossPercent": "20.0000",
    "takeProfit": "120.00000000",
    "takeProfitPercent": None,
    "highWaterMark": "78.00000000",
    "updatedAt": "2026-03-13T21:02:44.870113Z",
}
# Paid out in full at a NAV of 1.40: 84.00, less 10 % of the 6.00 above the high-water mark.
POSITION_CLOSED = {
    **POSITION_TOPPED_UP,
    "status": "closed",
    "units": "0.000000000000000000",
    "payout": "83.40000000",
    "value": "83.40000000",
    "leaveReason": "follower",
    "highWaterMark": "0.00000000",
    "feesPaid": "0.60000000",
    "updatedAt": "2026-03-13T22:31:09.402771Z",
}


def position_failed(code: ErrorCode) -> dict[str, Any]:
    """The position of a join the wallet or the operator refused with ``code``."""
    return {
        **POSITION_JOINING,
        "status": "failed",
        "failureCode": code.value,
        "updatedAt": "2026-03-13T20:14:05.664210Z",
    }


JOIN_RECEIPT: dict[str, Any] = {
    "kind": "join",
    "amount": "50.00000000",
    "grossAmount": None,
    "fee": "0.00000000",
    "feePercent": "10.0000",
    "highWaterMark": None,
    "feeUnits": "0.000000000000000000",
    "feeId": "",
    "currency": CURRENCY,
    "balance": "1250.00000000",
    "totalUnitsBefore": "1000.000000000000000000",
    "totalUnitsAfter": "1040.000000000000000000",
    "nav": "1.250000000000000000",
    "units": "40.000000000000000000",
    "betId": "9886f83b61ca424f9a22d91a8452c380",
    "depositId": "91c62a0a61d548bfa7772ef6c5844803",
    "withdrawalId": "",
    "winId": "",
    "pricedAt": "2026-03-13T20:14:05.904118Z",
}
TOP_UP_RECEIPT: dict[str, Any] = {
    **JOIN_RECEIPT,
    "kind": "top_up",
    "amount": "28.00000000",
    "balance": "1456.00000000",
    "totalUnitsBefore": "1040.000000000000000000",
    "totalUnitsAfter": "1060.000000000000000000",
    "nav": "1.400000000000000000",
    "units": "20.000000000000000000",
    "betId": "0c5b7e21d9f34a8c8e6b41f2a7d3c950",
    "depositId": "e3a94f0b6c2d4187a5f9d08b2c61e7a4",
    "pricedAt": "2026-03-13T21:02:44.512390Z",
}

PLAYER_UNAUTHORIZED = error_example(ErrorCode.UNAUTHORIZED, "Invalid player token")
PLAYER_SESSION_EXPIRED = error_example(ErrorCode.SESSION_EXPIRED, "Player session expired")
COPYSTAKE_OFF = error_example(ErrorCode.COPYSTAKE_OFF, "CopyStake is disabled")
# Every player operation may answer these.
PLAYER_ERRORS = [PLAYER_UNAUTHORIZED, PLAYER_SESSION_EXPIRED]
POSITION_NOT_FOUND = error_example(ErrorCode.POSITION_NOT_FOUND, "Position not found")
OPERATOR_UNAUTHORIZED = error_example(
    ErrorCode.UNAUTHORIZED, "Missing or invalid X-REQUEST-SIGNATURE"
)
OPERATOR_FORBIDDEN = error_example(ErrorCode.FORBIDDEN, "Address not allowed for this operator")
# Every operator operation may answer these.
OPERATOR_ERRORS = [OPERATOR_UNAUTHORIZED, OPERATOR_FORBIDDEN, COPYSTAKE_OFF]


def request(value: dict[str, Any], summary: str, name: str = "Request") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary, request_only=True)


def response(value: Any, summary: str, *, status: int = 200, name: str = "") -> OpenApiExample:
    """A success answer's example; a list operation's is one item (drf-spectacular lists it)."""
    return OpenApiExample(
        name or {200: "OK", 201: "Created", 202: "Accepted"}[status],
        value=value,
        summary=summary,
        response_only=True,
        status_codes=[str(status)],
    )


# --- Operator API: init and init-demo ------------------------------------------------------

INIT = [
    request(
        {
            "operatorUserId": FOLLOWER_USER_ID,
            "userToken": "f4c1b2a8-3d5e-4f67-8a9b-0c1d2e3f4a5b",
            "currency": CURRENCY,
            "language": "en",
            "streamId": STREAM_ID,
            "username": "lena_fan_77",
        },
        "Open the player's session straight on a broadcast",
    ),
    response({"url": f"{PLAYER_URL}&stream={STREAM_ID}"}, "The player page with its token"),
    error_example(ErrorCode.VALIDATION, "userToken: This field is required."),
    *OPERATOR_ERRORS,
]
INIT_DEMO = [
    request({"language": "en", "streamId": STREAM_ID}, "A demo session on a broadcast"),
    response({"url": f"{PLAYER_URL}&stream={STREAM_ID}"}, "The demo page with its token"),
    error_example(
        ErrorCode.MALFORMED_JSON,
        "Malformed JSON: Expecting property name enclosed in double quotes: line 1 column 2 "
        "(char 1)",
    ),
    *OPERATOR_ERRORS,
]

# --- Player API: the lobby, positions, wallet, NAV, invites, limits -------------------------

LOBBY_LIVE = {
    "streamerId": STREAMER_ID,
    "name": STREAMER_NAME,
    "currency": CURRENCY,
    "status": "live",
    "streamId": STREAM_ID,
    "title": "Friday high-roller slots",
    "game": "Gates of Olympus",
    "embedUrl": "https://player.twitch.tv/?channel=luckylena&parent=copypool.example.com",
    "scheduledStart": "2026-03-13T19:00:00Z",
    "scheduledEnd": "2026-03-13T23:00:00Z",
    "nav": "1.400000000000000000",
    "pool": {
        "poolId": POOL_ID,
        "state": "open",
        "balance": "1484.00000000",
        "totalUnits": "1060.000000000000000000",
        "followers": 9,
        "isBust": False,
    },
    "limits": {
        "minContribution": "1.00000000",
        "maxContribution": "1000.00000000",
        "maxFollowers": 100,
        "maxPoolValue": "25000.00000000",
    },
    "performanceFeePercent": "10.0000",
    "record": {
        "roi": "0.124000000000",
        "maxDrawdown": "0.081250000000",
        "followers": 9,
        "isNew": False,
    },
}
LOBBY_UPCOMING = {
    **LOBBY_LIVE,
    "streamerId": 57,
    "name": "SpinDoctor",
    "status": "upcoming",
    "streamId": "c2f8e6a4-91b3-4d7e-8f05-3a6b9d1e7c42",
    "title": "Sunday bonus buys",
    "game": "Sweet Bonanza",
    "embedUrl": None,
    "scheduledStart": "2026-03-15T18:00:00Z",
    "scheduledEnd": "2026-03-15T21:00:00Z",
    "nav": None,
    "pool": None,
    "performanceFeePercent": "15.0000",
    "record": None,
}
LOBBY = [
    response(LOBBY_LIVE, "A live streamer with an open pool", name="Live"),
    response(LOBBY_UPCOMING, "An upcoming stream (no pool yet)", name="Upcoming"),
    COPYSTAKE_OFF,
    *PLAYER_ERRORS,
]
POSITIONS = [
    response(POSITION_TOPPED_UP, "An active position, after a top-up"),
    *PLAYER_ERRORS,
]
POSITION_DETAIL = [
    response(
        {**POSITION_TOPPED_UP, "receipts": [JOIN_RECEIPT, TOP_UP_RECEIPT]},
        "An active position with the receipts of its join and top-up",
    ),
    POSITION_NOT_FOUND,
    *PLAYER_ERRORS,
]
WALLET = [
    response({"balance": "1250.75000000", "currency": CURRENCY}, "The casino wallet's balance"),
    error_example(
        ErrorCode.WALLET_UNAVAILABLE,
        "The wallet did not answer with a balance; try again in a moment.",
    ),
    *PLAYER_ERRORS,
]
POOL_NAV = [
    response(
        {
            "takenAt": "2026-03-13T21:00:00.118204Z",
            "nav": "1.400000000000000000",
            "balance": "1456.00000000",
        },
        "A snapshot of the pool",
    ),
    error_example(ErrorCode.NOT_FOUND, "Pool not found"),
    *PLAYER_ERRORS,
]
INVITE_REDEEM = [
    request({"code": "q3Vx9LkP2mTf8RzW0aYc1bNd"}, "The code of the invite link"),
    response({"streamerId": 57, "name": "SpinDoctor"}, "The player may now join the pool"),
    error_example(ErrorCode.INVITE_INVALID, "This invite link has been used up (50 uses)"),
    *PLAYER_ERRORS,
]
POSITION_LIMITS = [
    request(
        {"stopLoss": "20%", "takeProfit": "120"},
        "Leave at a 20 % loss, or once the position is worth 120.00",
    ),
    request({"stopLoss": None}, "Clear the stop-loss, keep the take-profit", name="Clear"),
    response(POSITION_TOPPED_UP, "The position with its limits"),
    error_example(
        ErrorCode.INVALID_LIMIT,
        "takeProfit 80.00000000 must be above the position's current value 84.00000000",
    ),
    error_example(ErrorCode.POSITION_NOT_ACTIVE, "The position is closed"),
    POSITION_NOT_FOUND,
    *PLAYER_ERRORS,
]
