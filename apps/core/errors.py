"""The error catalogue: every ``ERR_...`` code, with its HTTP status and meaning, defined once.

``ErrorCode`` lists every code CopyPool answers, sends (the sandbox operator), or records on a
transaction, a saga or a call. Its ``status`` is the HTTP status CopyPool answers with when it
answers that code; for a code CopyPool only receives from an operator or records after a
call, it is the status an error carrying it would get. The codes of the contracts keep their
names from the seeds (seed 000 for the operator callbacks; the same style for the player and
operator APIs), so an error raised deep in a service reaches the client unchanged.

Two families are not single members but are defined here as well: ``http_status_code(404)``
is ``ERR_HTTP_404`` (an operator's answer with an unexpected HTTP status) and
``wallet_status_code(418)`` is ``ERR_WALLET_418`` (a wallet's refusal with a status seed 003
does not define).

The exception classes below are the named errors services raise; ``ApplicationError`` takes
any catalogue code. The API docs render the catalogue (``catalogue_markdown``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

CODE_PREFIX = "ERR_"


class ErrorCode(StrEnum):
    """Every error code, with the HTTP status CopyPool answers it with and what it means."""

    status: int
    meaning: str

    def __new__(cls, value: str, status: int, meaning: str) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.meaning = meaning
        return member

    # --- the contracts' codes (seed 000), answered by operators and by CopyPool ---------
    UNKNOWN = "ERR_UNKNOWN", 400, "General error, for cases without a special code."
    TRANSFER_FORBIDDEN = (
        "ERR_TRANSFER_FORBIDDEN",
        403,
        "The operator forbids deposit/withdraw operations for this user.",
    )
    INSUFFICIENT_BALANCE = (
        "ERR_INSUFFICIENT_BALANCE",
        402,
        "Not enough money: the follower's wallet (402) or the streamer's balance (transfer).",
    )
    INVALID_USER = "ERR_INVALID_USER", 400, "The user does not exist at the operator."
    OPEN_SESSION_NOT_FOUND = (
        "ERR_OPEN_SESSION_NOT_FOUND",
        400,
        "The operator found no open session for the user (balance asked without a currency).",
    )
    BALANCE_FORBIDDEN = (
        "ERR_BALANCE_FORBIDDEN",
        400,
        "The operator does not show this user's balance (not a streamer, or not that currency).",
    )
    WITHDRAWAL_LOCKED = (
        "ERR_WITHDRAWAL_LOCKED",
        409,
        "A cash-out refused by the operator while the streamer's balance is a pool (OPEN).",
    )
    COPYSTAKE_OFF = "ERR_COPYSTAKE_OFF", 400, "CopyStake is disabled for this operator."

    # --- authentication and requests ------------------------------------------------------
    UNAUTHORIZED = (
        "ERR_UNAUTHORIZED",
        401,
        "Missing or wrong API key, signature or player token.",
    )
    FORBIDDEN = (
        "ERR_FORBIDDEN",
        403,
        "Forbidden: an address outside the operator's allowlist, or a wallet's 403.",
    )
    SESSION_EXPIRED = "ERR_SESSION_EXPIRED", 401, "The player session has expired."
    INVALID_TOKEN = "ERR_INVALID_TOKEN", 401, "The wallet refused the player's token (401)."
    VALIDATION = "ERR_VALIDATION", 400, "A field of the request is missing or invalid."
    MALFORMED_JSON = "ERR_MALFORMED_JSON", 400, "The body is not valid JSON."
    BAD_REQUEST = "ERR_BAD_REQUEST", 400, "The request could not be processed as sent."
    PAYLOAD_TOO_LARGE = "ERR_PAYLOAD_TOO_LARGE", 413, "The request body is too large."
    NOT_FOUND = "ERR_NOT_FOUND", 404, "No such resource."
    METHOD_NOT_ALLOWED = "ERR_METHOD_NOT_ALLOWED", 405, "The path does not take this method."
    NOT_ACCEPTABLE = "ERR_NOT_ACCEPTABLE", 406, "No answer in the requested media type."
    UNSUPPORTED_MEDIA_TYPE = (
        "ERR_UNSUPPORTED_MEDIA_TYPE",
        415,
        "The body's media type is not accepted.",
    )
    THROTTLED = "ERR_THROTTLED", 429, "Too many requests; try again later."
    CONFLICT = "ERR_CONFLICT", 409, "The request conflicts with the current state."

    # --- idempotency ----------------------------------------------------------------------
    INVALID_IDEMPOTENCY_KEY = (
        "ERR_INVALID_IDEMPOTENCY_KEY",
        400,
        "The Idempotency-Key header must be 1 to 128 characters.",
    )
    IDEMPOTENCY_KEY_REUSED = (
        "ERR_IDEMPOTENCY_KEY_REUSED",
        422,
        "The Idempotency-Key was used before for a different request.",
    )
    REQUEST_IN_PROGRESS = (
        "ERR_REQUEST_IN_PROGRESS",
        409,
        "A request with this Idempotency-Key is still being answered.",
    )
    REQUEST_INTERRUPTED = (
        "ERR_REQUEST_INTERRUPTED",
        409,
        "The first request with this Idempotency-Key was interrupted; check the positions "
        "before retrying with a new key.",
    )

    # --- joining and leaving --------------------------------------------------------------
    INVALID_AMOUNT = (
        "ERR_INVALID_AMOUNT",
        400,
        "The amount is not a positive decimal of at most 8 places within range.",
    )
    STREAMER_NOT_FOUND = "ERR_STREAMER_NOT_FOUND", 404, "No such streamer at this operator."
    STREAM_NOT_FOUND = "ERR_STREAM_NOT_FOUND", 400, "No such stream of this operator."
    STREAMER_OFFLINE = "ERR_STREAMER_OFFLINE", 409, "The streamer has no live stream."
    SELF_FOLLOW = "ERR_SELF_FOLLOW", 403, "A streamer cannot follow their own pool."
    FOLLOWER_BLOCKED = "ERR_FOLLOWER_BLOCKED", 403, "This player may not join pools."
    CURRENCY_MISMATCH = (
        "ERR_CURRENCY_MISMATCH",
        400,
        "The session's currency is not the pool's.",
    )
    CONTRIBUTION_LIMIT = (
        "ERR_CONTRIBUTION_LIMIT",
        400,
        "The amount is below the pool's minimum or above its maximum contribution (the "
        "streamer's limits, else the operator's).",
    )
    FOLLOWER_LIMIT = (
        "ERR_FOLLOWER_LIMIT",
        409,
        "The pool has its maximum number of distinct followers.",
    )
    POOL_CAPACITY = (
        "ERR_POOL_CAPACITY",
        409,
        "The join would take the pool's value above its maximum (capacity).",
    )
    STREAMER_SUSPENDED = (
        "ERR_STREAMER_SUSPENDED",
        409,
        "The streamer is suspended: the pool takes no joins and the streamer cannot go live.",
    )
    STREAMER_PRIVATE = (
        "ERR_STREAMER_PRIVATE",
        403,
        "The streamer's pool is invite-only and the player is not on its allowlist.",
    )
    INVITE_INVALID = (
        "ERR_INVITE_INVALID",
        404,
        "No such invite link, or it has expired, been revoked or been used up.",
    )
    POOL_BUSY = "ERR_POOL_BUSY", 409, "The pool is changing state or being priced; try again."
    POOL_CLOSING = "ERR_POOL_CLOSING", 409, "The pool is closing; try again in a moment."
    POOL_CLOSED = "ERR_POOL_CLOSED", 409, "The pool is closed."
    POOL_BUST = "ERR_POOL_BUST", 409, "The pool's balance is zero: it takes no joins."
    POSITION_NOT_FOUND = "ERR_POSITION_NOT_FOUND", 404, "No such position of this follower."
    INVALID_LIMIT = (
        "ERR_INVALID_LIMIT",
        400,
        "A stop-loss or take-profit is malformed or already reached by the position's value.",
    )
    INVALID_PERIOD = (
        "ERR_INVALID_PERIOD",
        400,
        "The period is malformed, ends before it starts or is longer than 366 days.",
    )
    INVALID_WINDOW = (
        "ERR_INVALID_WINDOW",
        400,
        "A statistics window is not one of 24h, 7d, 30d, 90d or all.",
    )
    INVALID_SORT = (
        "ERR_INVALID_SORT",
        400,
        "The leaderboard's sort is not one of roi, aum or followers.",
    )
    POSITION_NOT_ACTIVE = (
        "ERR_POSITION_NOT_ACTIVE",
        409,
        "The position is not active (joining, leaving, closed or failed).",
    )
    POSITION_BUSY = (
        "ERR_POSITION_BUSY",
        409,
        "A top-up or partial leave of this position is in progress; try again once it is done.",
    )
    INVALID_UNITS = (
        "ERR_INVALID_UNITS",
        400,
        "Give units (more than 0, at most the position's, at most 18 decimal places) or a "
        "fraction (more than 0, at most 1), not both.",
    )
    INVALID_FEE = (
        "ERR_INVALID_FEE",
        400,
        "A fee rate is outside its range (a performance fee 0 to 50 %, CopyStake's 0 to 100 %).",
    )
    FEE_SCHEDULE_IN_FORCE = (
        "ERR_FEE_SCHEDULE_IN_FORCE",
        409,
        "A fee schedule already in force is never changed: add one from a later day.",
    )
    INVOICE_STATE = (
        "ERR_INVOICE_STATE",
        409,
        "The invoice's state does not allow this (an issued invoice is corrected by a credit "
        "note, never edited).",
    )
    TOP_UP_FAILED = "ERR_TOP_UP_FAILED", 409, "The top-up failed (no more specific code was known)."
    JOIN_FAILED = "ERR_JOIN_FAILED", 409, "The join failed (no more specific code was known)."
    WALLET_UNAVAILABLE = (
        "ERR_WALLET_UNAVAILABLE",
        409,
        "The wallet did not answer: a BET is rolled back; a balance can be asked again later.",
    )
    TRANSACTION_NOT_FOUND = (
        "ERR_TRANSACTION_NOT_FOUND",
        404,
        "No such transaction of this operator; from a wallet (408): the withdraw never happened.",
    )
    STREAM_ALREADY_LIVE = (
        "ERR_STREAM_ALREADY_LIVE",
        409,
        "The streamer already has a live stream.",
    )
    STREAM_ENDED = "ERR_STREAM_ENDED", 409, "The stream has ended (or was cancelled)."
    STREAM_NOT_SCHEDULED = (
        "ERR_STREAM_NOT_SCHEDULED",
        409,
        "Only a scheduled stream (not started yet) can be edited or cancelled this way.",
    )
    STREAM_ID_TAKEN = (
        "ERR_STREAM_ID_TAKEN",
        409,
        "The streamId belongs to another streamer's stream.",
    )

    # --- what a call to an operator came back with (recorded, never answered as such) ----
    TIMEOUT = "ERR_TIMEOUT", 400, "The operator did not answer in time: the outcome is unknown."
    CONNECTION = (
        "ERR_CONNECTION",
        400,
        "The operator could not be reached: the outcome is unknown.",
    )
    BAD_RESPONSE = (
        "ERR_BAD_RESPONSE",
        400,
        "The operator's answer could not be read (not the contract's shape).",
    )

    # --- staff actions --------------------------------------------------------------------
    REASON_REQUIRED = "ERR_REASON_REQUIRED", 400, "A staff action needs a reason."
    NOTE_REQUIRED = "ERR_NOTE_REQUIRED", 400, "Resolving needs a note."
    NO_SAGA = "ERR_NO_SAGA", 409, "The transaction has no saga to retry it."
    SAGA_FINISHED = "ERR_SAGA_FINISHED", 409, "The saga has finished: nothing to retry."
    SAGA_BUSY = "ERR_SAGA_BUSY", 409, "A worker is running the saga right now."
    ROLLBACK_NOT_ALLOWED = (
        "ERR_ROLLBACK_NOT_ALLOWED",
        409,
        "The flow does not allow a rollback here (a DEPOSIT may have reached the streamer).",
    )
    ROLLED_BACK_BY_STAFF = (
        "ERR_ROLLED_BACK_BY_STAFF",
        409,
        "A staff member rolled the join back.",
    )
    NOT_RESENDABLE = "ERR_NOT_RESENDABLE", 409, "This logged call cannot be re-sent."
    NOTHING_TO_RESEND = "ERR_NOTHING_TO_RESEND", 409, "There is no call to re-send."
    NOT_LOCKED = "ERR_NOT_LOCKED", 409, "The pool is closed and its lock released already."
    POOL_HOLDS_MONEY = (
        "ERR_POOL_HOLDS_MONEY",
        409,
        "Followers' money is in the pool; settle it first, or override.",
    )


def http_status_code(status: int) -> str:
    """``ERR_HTTP_<status>``: an operator answered with an HTTP status the contract lacks."""
    return f"{CODE_PREFIX}HTTP_{status}"


def wallet_status_code(status: int) -> str:
    """``ERR_WALLET_<status>``: a wallet refused with a status seed 003 does not define."""
    return f"{CODE_PREFIX}WALLET_{status}"


def is_error_code(value: object) -> bool:
    """Whether ``value`` looks like a wire error code (``ERR_...``)."""
    return isinstance(value, str) and value.startswith(CODE_PREFIX)


def catalogue_markdown() -> str:
    """The catalogue as a Markdown table, for the API docs."""
    rows = [f"| `{code.value}` | {code.status} | {code.meaning} |" for code in ErrorCode]
    families = [
        f"| `{http_status_code(0)[:-1]}<status>` | 400 | An operator answered with an HTTP "
        "status the contract does not define (recorded). |",
        f"| `{wallet_status_code(0)[:-1]}<status>` | 400 | A wallet refused with a status "
        "seed 003 does not define (recorded). |",
    ]
    return "\n".join(["| code | HTTP status | meaning |", "| --- | --- | --- |", *rows, *families])


class ApplicationError(Exception):
    """An error with a stable wire code and an HTTP status; the API answers it as
    ``{errorCode, errorMessage}``. ``code`` picks any catalogue code (its status comes with it
    unless ``status`` is given); a code the catalogue lacks (an operator's own) keeps the
    class's status."""

    error: ClassVar[ErrorCode] = ErrorCode.UNKNOWN
    # False for errors that stand for another party's answer (the sandbox operator's), whose
    # HTTP status is fixed by its contract whatever the code.
    status_from_code: ClassVar[bool] = True
    message: str = "Request could not be processed"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: ErrorCode | str | None = None,
        status: int | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code: str = self.error
        self.status: int = self.error.status
        if code:
            self.code = code
            known = ErrorCode._value2member_map_.get(str(code))
            if isinstance(known, ErrorCode):
                self.code = known
                if self.status_from_code:
                    self.status = known.status
        if status:
            self.status = status
        self.extra = extra or {}
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    error = ErrorCode.VALIDATION
    message = "Invalid request"


class Unauthorized(ApplicationError):
    error = ErrorCode.UNAUTHORIZED
    message = "Missing or invalid credentials"


class Forbidden(ApplicationError):
    error = ErrorCode.FORBIDDEN
    message = "Forbidden"


class NotFound(ApplicationError):
    error = ErrorCode.NOT_FOUND
    message = "Not found"


class Conflict(ApplicationError):
    error = ErrorCode.CONFLICT
    message = "Conflict"


class CopyStakeOff(ApplicationError):
    error = ErrorCode.COPYSTAKE_OFF
    message = "CopyStake is disabled"


class SessionExpired(ApplicationError):
    error = ErrorCode.SESSION_EXPIRED
    message = "Player session expired"


class TransactionNotFound(NotFound):
    error = ErrorCode.TRANSACTION_NOT_FOUND
    message = "Transaction not found"


class StreamNotFound(ValidationFailed):
    error = ErrorCode.STREAM_NOT_FOUND
    message = "No stream of this operator has that streamId"


class StreamAlreadyLive(Conflict):
    error = ErrorCode.STREAM_ALREADY_LIVE
    message = "The streamer already has a live stream"
