"""The sandbox operator's refusals, each carrying what goes on the wire.

Callback refusals (seed 000) are HTTP 400 ``{errorCode, errorMessage}``; wallet refusals
(seed 003) carry an HTTP status that is also the body's ``code``.
"""

from apps.core.errors import ApplicationError


class SandboxCallbackError(ApplicationError):
    """A definite refusal of a CopyStake callback: HTTP 400 with one of the seed's codes."""

    code = "ERR_UNKNOWN"
    status = 400
    message = "request could not be processed"


class SandboxWalletError(ApplicationError):
    """A wallet refusal: ``status`` is both the HTTP status and the body's ``code``."""

    code = "WALLET_ERROR"
    status = 403
    message = "Access forbidden"


class SandboxWithdrawalLocked(ApplicationError):
    """A streamer cash-out while the operator was told the pool is OPEN."""

    code = "ERR_WITHDRAWAL_LOCKED"
    status = 409
    message = "withdrawals are locked while the game pool is OPEN"
