"""The sandbox operator's refusals, each carrying what goes on the wire.

Callback refusals (seed 000) are HTTP 400 ``{errorCode, errorMessage}``; wallet refusals
(seed 003) carry an HTTP status that is also the body's ``code``.
"""

from apps.core.errors import ApplicationError, ErrorCode


class SandboxCallbackError(ApplicationError):
    """A definite refusal of a CopyStake callback: HTTP 400 with one of the seed's codes."""

    error = ErrorCode.UNKNOWN
    status_from_code = False  # seed 000: every callback refusal is HTTP 400
    message = "request could not be processed"


class SandboxWalletError(ApplicationError):
    """A wallet refusal: ``status`` is both the HTTP status and the body's ``code``."""

    error = ErrorCode.FORBIDDEN
    status_from_code = False  # seed 003: the status is given with each refusal
    message = "Access forbidden"


class SandboxWithdrawalLocked(ApplicationError):
    """A streamer cash-out while the operator was told the pool is OPEN."""

    error = ErrorCode.WITHDRAWAL_LOCKED
    message = "withdrawals are locked while the game pool is OPEN"
