"""Examples for the API docs (``OpenApiExample``): the transactions' endpoints.

The story of ``apps.followers.api_examples`` goes on: the join of 50.00 into LuckyLena's pool
1187 at a NAV of 1.25, the top-up of 28.00 at 1.40 and the leave at 1.40 that paid 83.40 (84.00
less the 10 % performance fee on the 6.00 above the high-water mark of 78.00). Amounts of the
operator API are JSON numbers (``transaction-status``); the player API's are decimal strings.
"""

from __future__ import annotations

from typing import Any

from apps.core.errors import ErrorCode
from apps.core.schema import error_example
from apps.followers.api_examples import (
    CURRENCY,
    JOIN_RECEIPT,
    OPERATOR_ERRORS,
    PLAYER_ERRORS,
    POSITION_ACTIVE,
    POSITION_CLOSED,
    POSITION_ID,
    POSITION_JOINING,
    POSITION_NOT_FOUND,
    POSITION_TOPPED_UP,
    STREAM_ID,
    STREAMER_ID,
    STREAMER_NAME,
    STREAMER_USER_ID,
    TOP_UP_RECEIPT,
    position_failed,
    request,
    response,
)

DEPOSIT_ID = JOIN_RECEIPT["depositId"]

# --- Operator API -------------------------------------------------------------------------

TRANSACTION_STATUS = [
    request({"id": DEPOSIT_ID}, "The id CopyStake sent in the transfer"),
    response(
        {
            "id": DEPOSIT_ID,
            "type": "DEPOSIT",
            "status": "SUCCEEDED",
            "amount": 50.0,
            "currency": CURRENCY,
            "createdAt": "2026-03-13T20:14:05.892640Z",
            "updatedAt": "2026-03-13T20:14:06.027315Z",
        },
        "The DEPOSIT of a join, applied",
    ),
    error_example(ErrorCode.TRANSACTION_NOT_FOUND, "Transaction not found"),
    *OPERATOR_ERRORS,
]

STREAM_LIVE: dict[str, Any] = {
    "streamId": STREAM_ID,
    "streamerId": STREAMER_ID,
    "operatorUserId": STREAMER_USER_ID,
    "status": "live",
    "title": "Friday high-roller slots",
    "game": "Gates of Olympus",
    "scheduledStart": "2026-03-13T19:00:00Z",
    "scheduledEnd": "2026-03-13T23:00:00Z",
    "startedAt": "2026-03-13T19:02:17.550418Z",
    "endedAt": None,
}
STREAM_ENDED = {**STREAM_LIVE, "status": "ended", "endedAt": "2026-03-13T22:58:40.113927Z"}
STREAMER_NOT_FOUND = error_example(
    ErrorCode.STREAMER_NOT_FOUND, "No such streamer at this operator"
)
STREAMS_START = [
    request(
        {
            "operatorUserId": STREAMER_USER_ID,
            "title": "Friday high-roller slots",
            "streamId": STREAM_ID,
        },
        "Start the streamer's scheduled stream",
    ),
    request(
        {"operatorUserId": STREAMER_USER_ID},
        "Start the due scheduled stream, or a new one",
        name="WithoutStreamId",
    ),
    response(STREAM_LIVE, "The live stream"),
    error_example(ErrorCode.VALIDATION, "streamId: Must be a UUID (8-4-4-4-12 hex digits)."),
    STREAMER_NOT_FOUND,
    error_example(ErrorCode.STREAMER_SUSPENDED, "A suspended streamer cannot go live"),
    *OPERATOR_ERRORS,
]
STREAMS_END = [
    request({"operatorUserId": STREAMER_USER_ID}, "End the streamer's live stream"),
    request({"streamId": STREAM_ID}, "End this stream", name="ByStreamId"),
    response(STREAM_ENDED, "Ended: the pools are being paid out"),
    error_example(
        ErrorCode.STREAM_NOT_FOUND, "No stream of this operator has that streamId", status=404
    ),
    error_example(ErrorCode.VALIDATION, "Give an operatorUserId or a streamId"),
    *OPERATOR_ERRORS,
]

# --- Player API: join, top-up, leave --------------------------------------------------------

IDEMPOTENCY_KEY_REUSED = error_example(
    ErrorCode.IDEMPOTENCY_KEY_REUSED, "This Idempotency-Key was used for a different request"
)
JOIN = [
    request({"streamerId": STREAMER_ID, "amount": "50.00"}, "50.00 as a decimal string"),
    request({"streamerId": STREAMER_ID, "amount": 50}, "50 as a JSON number", name="Number"),
    response(POSITION_ACTIVE, "Joined: the position is active", status=201),
    response(POSITION_JOINING, "Still joining: the operator has not answered", status=202),
    error_example(
        ErrorCode.INSUFFICIENT_BALANCE,
        "Insufficient balance",
        extra={"position": position_failed(ErrorCode.INSUFFICIENT_BALANCE)},
        summary="402: the wallet refused the BET; the failed position comes with it",
    ),
    error_example(
        ErrorCode.CONTRIBUTION_LIMIT, "The maximum contribution to this pool is 1000.00 USD"
    ),
    error_example(ErrorCode.STREAMER_OFFLINE, "The streamer is not live"),
    error_example(
        ErrorCode.POOL_CAPACITY,
        "The pool can take at most 16.00 USD more (its capacity is 25000.00 USD)",
    ),
    error_example(ErrorCode.STREAMER_NOT_FOUND, "Streamer not found"),
    IDEMPOTENCY_KEY_REUSED,
    *PLAYER_ERRORS,
]
# The top-up priced, before the DEPOSIT is applied: the position as it was, at a NAV of 1.40.
POSITION_AT_NAV_140 = {**POSITION_ACTIVE, "value": "56.00000000"}
TOP_UP = [
    request({"amount": "28.00"}, "Add 28.00"),
    response(POSITION_TOPPED_UP, "Topped up: 20 more units at a NAV of 1.40"),
    response(POSITION_AT_NAV_140, "Still topping up: the position as it was", status=202),
    error_example(
        ErrorCode.POSITION_BUSY,
        "A top-up or leave of this position is in progress; try again once it is done",
    ),
    error_example(
        ErrorCode.INSUFFICIENT_BALANCE,
        "Insufficient balance",
        extra={"position": POSITION_AT_NAV_140},
        summary="402: the wallet refused the BET; the position is unchanged",
    ),
    POSITION_NOT_FOUND,
    IDEMPOTENCY_KEY_REUSED,
    *PLAYER_ERRORS,
]
POSITION_HALF_LEFT = {
    **POSITION_TOPPED_UP,
    "units": "30.000000000000000000",
    "payout": "41.70000000",
    "value": "42.00000000",
    "stopLoss": None,
    "stopLossPercent": None,
    "takeProfit": None,
    "highWaterMark": "39.00000000",
    "feesPaid": "0.30000000",
    "updatedAt": "2026-03-13T21:40:12.337805Z",
}
LEAVE = [
    request({}, "Leave with all of it (or send no body)", name="All"),
    request({"fraction": "0.5"}, "Leave with half of the units", name="Half"),
    request({"units": "20"}, "Redeem 20 units", name="Units"),
    response(POSITION_CLOSED, "Paid out in full: 83.40 after a fee of 0.60", name="PaidOut"),
    response(
        POSITION_HALF_LEFT, "Half paid out (41.70); the rest stays active", name="HalfPaidOut"
    ),
    response(
        {**POSITION_TOPPED_UP, "status": "leaving"},
        "Still leaving: the WITHDRAWAL is not applied yet",
        status=202,
    ),
    error_example(ErrorCode.POSITION_NOT_ACTIVE, "The position is joining"),
    error_example(ErrorCode.INVALID_UNITS, "Give units or fraction, not both"),
    POSITION_NOT_FOUND,
    *PLAYER_ERRORS,
]

# --- Player API: the statement --------------------------------------------------------------

_STATEMENT_RECEIPT_FIELDS = (
    "kind",
    "amount",
    "currency",
    "balance",
    "totalUnitsBefore",
    "totalUnitsAfter",
    "nav",
    "units",
    "grossAmount",
    "fee",
    "feePercent",
    "highWaterMark",
    "feeUnits",
    "feeId",
    "pricedAt",
)


def _statement_receipt(receipt: dict[str, Any]) -> dict[str, Any]:
    return {field: receipt[field] for field in _STATEMENT_RECEIPT_FIELDS}


# The full leave: 60 units at 1484.00 / 1060 units (1.40) are worth 84.00; the fee, 10 % of the
# 6.00 above the high-water mark of 78.00, is 0.60, worth 0.428571428571428571 units, which pass
# to the streamer; the other 59.571428571428571429 are redeemed for the WIN of 83.40.
LEAVE_RECEIPT = {
    "kind": "leave",
    "amount": "83.40000000",
    "currency": CURRENCY,
    "balance": "1484.00000000",
    "totalUnitsBefore": "1060.000000000000000000",
    "totalUnitsAfter": "1000.428571428571428571",
    "nav": "1.400000000000000000",
    "units": "59.571428571428571429",
    "grossAmount": "84.00000000",
    "fee": "0.60000000",
    "feePercent": "10.0000",
    "highWaterMark": "78.000000000000000000",
    "feeUnits": "0.428571428571428571",
    "feeId": "5b8d2e6f0a134c79b1e4f7a2c9d06e35",
    "pricedAt": "2026-03-13T22:31:08.771049Z",
}


def _movement(kind: str, amount: str, external_id: str, time: str, receipt: dict[str, Any]):
    return {
        "positionId": POSITION_ID,
        "streamerName": STREAMER_NAME,
        "kind": kind,
        "amount": amount,
        "currency": CURRENCY,
        "externalId": external_id,
        "time": time,
        "receipt": receipt,
    }


STATEMENT_BODY: dict[str, Any] = {
    "start": "2026-03-01T00:00:00Z",
    "end": "2026-03-14T00:00:00Z",
    "movements": [
        _movement(
            "WIN",
            "83.40000000",
            "a7c3e9f1052b4d68b9e0f3a1c7d5e294",
            "2026-03-13T22:31:09.398120Z",
            LEAVE_RECEIPT,
        ),
        _movement(
            "FEE",
            "0.60000000",
            LEAVE_RECEIPT["feeId"],
            "2026-03-13T22:31:08.771049Z",
            LEAVE_RECEIPT,
        ),
        _movement(
            "BET",
            "28.00000000",
            TOP_UP_RECEIPT["betId"],
            "2026-03-13T21:02:44.297613Z",
            _statement_receipt(TOP_UP_RECEIPT),
        ),
        _movement(
            "BET",
            "50.00000000",
            JOIN_RECEIPT["betId"],
            "2026-03-13T20:14:05.611902Z",
            _statement_receipt(JOIN_RECEIPT),
        ),
    ],
    "totals": [
        {
            "currency": CURRENCY,
            "moneyIn": "83.40000000",
            "moneyOut": "78.00000000",
            "net": "5.40000000",
            "fees": "0.60000000",
        }
    ],
}
STATEMENT = [
    response(STATEMENT_BODY, "A join, a top-up and the leave, newest first"),
    error_example(
        ErrorCode.INVALID_PERIOD,
        "from must be an ISO 8601 date or date and time, got '13/03/2026'",
    ),
    *PLAYER_ERRORS,
]

# --- Player API: track records and the leaderboard ------------------------------------------

AS_OF = "2026-03-13T22:35:00.412907Z"
STREAMER_STATS = [
    response(
        {
            "streamerId": STREAMER_ID,
            "name": STREAMER_NAME,
            "currency": CURRENCY,
            "window": "7d",
            "windowStart": "2026-03-06T22:00:00Z",
            "asOf": AS_OF,
            "isNew": False,
            "historyStart": "2026-01-09T18:02:11.504331Z",
            "roi": "0.124000000000",
            "maxDrawdown": "0.081250000000",
            "aum": "1400.60000000",
            "aumPeak": "1620.00000000",
            "followersNow": 8,
            "followersDistinct": 23,
            "joined": "2310.00000000",
            "paidOut": "1894.25000000",
            "netResult": "112.75000000",
            "streams": 5,
            "hoursLive": "17.50",
            "streamerShare": "0.754716981132",
            "series": [
                {
                    "at": "2026-03-13T21:00:00Z",
                    "index": "1.124000000000",
                    "nav": "1.400000000000000000",
                    "balance": "1456.00000000",
                    "members": 9,
                }
            ],
        },
        "A week of LuckyLena's record",
    ),
    error_example(ErrorCode.INVALID_WINDOW, "window: must be one of 24h, 7d, 30d, 90d, all"),
    error_example(ErrorCode.NOT_FOUND, "Streamer not found"),
    *PLAYER_ERRORS,
]
LEADERBOARD = [
    response(
        {
            "rank": 1,
            "streamerId": STREAMER_ID,
            "name": STREAMER_NAME,
            "currency": CURRENCY,
            "isNew": False,
            "live": True,
            "roi": "0.124000000000",
            "maxDrawdown": "0.081250000000",
            "aum": "1400.60000000",
            "followersNow": 8,
            "asOf": AS_OF,
        },
        "The first of the ranking",
    ),
    error_example(ErrorCode.INVALID_SORT, "sort: must be one of roi, aum, followers"),
    *PLAYER_ERRORS,
]
