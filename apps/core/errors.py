"""One hierarchy of application errors, each with a stable wire code and an HTTP status.

The codes are the ones of the contracts (seed 000 for the operator API, the same style for
the player API), so an error raised deep in a service reaches the client unchanged.
"""


class ApplicationError(Exception):
    code = "ERR_UNKNOWN"
    status = 400
    message = "Request could not be processed"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict | None = None,
    ):
        self.message = message or self.message
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra or {}
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    code = "ERR_VALIDATION"
    message = "Invalid request"


class Unauthorized(ApplicationError):
    code = "ERR_UNAUTHORIZED"
    status = 401
    message = "Missing or invalid credentials"


class Forbidden(ApplicationError):
    code = "ERR_FORBIDDEN"
    status = 403
    message = "Forbidden"


class NotFound(ApplicationError):
    code = "ERR_NOT_FOUND"
    status = 404
    message = "Not found"


class Conflict(ApplicationError):
    code = "ERR_CONFLICT"
    status = 409
    message = "Conflict"


class CopyStakeOff(ApplicationError):
    code = "ERR_COPYSTAKE_OFF"
    status = 400
    message = "CopyStake is disabled"


class SessionExpired(ApplicationError):
    code = "ERR_SESSION_EXPIRED"
    status = 401
    message = "Player session expired"
