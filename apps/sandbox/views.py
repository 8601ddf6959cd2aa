"""HTTP face of the sandbox operator: plain function views over the raw request bytes.

Callbacks (``/sandbox/<slug>/copystake/<name>``) answer as seed 000 says: 200 with JSON,
or 400 ``{errorCode, errorMessage}``; a bad key or signature is 401. Wallet routes
(``/sandbox/<slug>/wallet/<name>``) always answer ``{code, message, data}`` with the HTTP
status equal to ``code``; a bad client id, timestamp or signature is 403.
Each route checks authentication first, then asks :mod:`apps.sandbox.faults` whether to
misbehave, then parses the body and calls one service.
"""

import hmac
import logging
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Literal, overload

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core import wire
from apps.core.errors import ApplicationError, ErrorCode
from apps.core.money import AmountError, parse_amount
from apps.operators.signatures import (
    WALLET_MAX_SKEW_MS,
    copystake_verify,
    wallet_timestamp,
    wallet_verify,
)
from apps.sandbox import faults, services
from apps.sandbox.errors import SandboxCallbackError, SandboxWalletError
from apps.sandbox.faults import FiredFault, Mode, Route
from apps.sandbox.models import SandboxOperator
from apps.sandbox.selectors import sandbox_account_get, sandbox_operator_get
from apps.sandbox.services import SandboxWalletReplay

logger = logging.getLogger(__name__)

JSON = "application/json"
CURRENCY_MAX_LENGTH = 10


def _json(status: int, payload: object) -> HttpResponse:
    return HttpResponse(wire.dumps(payload), status=status, content_type=JSON)


def callback_error(status: int, code: str, message: str) -> HttpResponse:
    return _json(status, {"errorCode": code, "errorMessage": message})


def wallet_answer(status: int, message: str = "", data: dict | None = None) -> HttpResponse:
    return _json(status, {"code": status, "message": message, "data": data})


class _Body:
    """Field access on a parsed JSON object; any problem raises the family's error."""

    def __init__(self, raw: bytes, error: Callable[[str], Exception]):
        self._error = error
        try:
            payload = wire.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise error("body is not valid JSON") from exc
        if not isinstance(payload, dict):
            raise error("body must be a JSON object")
        self._payload = payload

    @overload
    def text(self, key: str, *, optional: Literal[False] = False, max_length: int = 100) -> str: ...
    @overload
    def text(self, key: str, *, optional: bool, max_length: int = 100) -> str | None: ...
    def text(self, key: str, *, optional: bool = False, max_length: int = 100) -> str | None:
        value = self._payload.get(key)
        if optional and (value is None or value == ""):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise self._error(f"{key} is required and must be a non-empty string")
        if len(value) > max_length:
            raise self._error(f"{key} is longer than {max_length} characters")
        return value

    @overload
    def currency(self, *, optional: Literal[False] = False) -> str: ...
    @overload
    def currency(self, *, optional: bool) -> str | None: ...
    def currency(self, *, optional: bool = False) -> str | None:
        return self.text("currency", optional=optional, max_length=CURRENCY_MAX_LENGTH)

    def amount(self, key: str, *, allow_zero: bool = False) -> Decimal:
        try:
            return parse_amount(self._payload.get(key), allow_zero=allow_zero)
        except AmountError as exc:
            raise self._error(f"{key}: {exc}") from exc


def _callback_bad_request(message: str) -> SandboxCallbackError:
    return SandboxCallbackError(message)


def _wallet_bad_request(message: str) -> SandboxWalletError:
    return SandboxWalletError(message, status=400)


# --- faults ------------------------------------------------------------------------------


class _Family:
    """How one family of routes renders an injected failure."""

    def __init__(self, refusal: Callable[[FiredFault], HttpResponse], failure: Callable):
        self.refusal = refusal
        self.failure = failure


CALLBACKS = _Family(
    refusal=lambda fault: callback_error(
        400, fault.error_code or ErrorCode.UNKNOWN, "injected fault: request refused"
    ),
    failure=lambda status, message: callback_error(status, ErrorCode.UNKNOWN, message),
)
WALLET = _Family(
    refusal=lambda fault: wallet_answer(403, "injected fault: access forbidden"),
    failure=lambda status, message: wallet_answer(status, message),
)


def _with_fault(
    fault: FiredFault | None, family: _Family, run: Callable[[], HttpResponse]
) -> HttpResponse:
    if fault is None:
        return run()
    if fault.mode == Mode.LATENCY:
        faults.pause(fault.latency_ms)
        return run()
    if fault.mode == Mode.ERROR:
        return family.refusal(fault)
    if fault.mode == Mode.HTTP_500:
        return family.failure(500, "injected fault: internal server error")
    if fault.mode == Mode.TIMEOUT_BEFORE:
        faults.pause(fault.latency_ms)
        return family.failure(504, "injected fault: gateway timeout")
    response = run()  # the services commit before they return
    if fault.mode == Mode.TIMEOUT_AFTER:
        faults.pause(fault.latency_ms)
        return response
    # Mode.DROP: the money moved, the answer is cut in half on its way out.
    return HttpResponse(faults.truncate(response.content), status=200, content_type=JSON)


# --- misbehaviour switches ---------------------------------------------------------------


def _secret(operator: SandboxOperator, secret: str) -> str:
    """The secret signatures are checked with: a wrong one under ``uses_wrong_secret``."""
    return f"{secret}-but-wrong" if operator.uses_wrong_secret else secret


def _timestamp_in_window(timestamp: str | None) -> bool:
    """The wallet's timestamp check alone (``accepts_bad_signatures`` skips the rest)."""
    if not timestamp or not timestamp.isdigit():
        return False
    return abs(int(wallet_timestamp()) - int(timestamp)) <= WALLET_MAX_SKEW_MS


def _miscoded(operator: SandboxOperator, response: HttpResponse) -> HttpResponse:
    """Under ``wrong_error_codes`` every callback refusal carries ``ErrorCode.UNKNOWN``."""
    if not operator.wrong_error_codes or response.status_code != 400:
        return response
    try:
        body = wire.loads(response.content)
    except ValueError:
        return response
    message = body.get("errorMessage", "") if isinstance(body, dict) else ""
    return callback_error(400, ErrorCode.UNKNOWN, str(message))


# --- callbacks (seed 000) ----------------------------------------------------------------


def _callback_route(route: str):
    def decorator(handler: Callable[[SandboxOperator, _Body], HttpResponse]):
        @csrf_exempt
        @require_POST
        @wraps(handler)
        def view(request: HttpRequest, slug: str) -> HttpResponse:
            operator = sandbox_operator_get(slug=slug)
            if operator is None:
                return callback_error(404, ErrorCode.UNKNOWN, "unknown operator")
            raw = request.body
            api_key = request.headers.get("X-API-KEY", "")
            if not hmac.compare_digest(api_key.encode(), operator.api_key.encode()):
                return callback_error(401, ErrorCode.UNKNOWN, "invalid API key")
            signature = request.headers.get("X-REQUEST-SIGNATURE")
            if not operator.accepts_bad_signatures and not copystake_verify(
                _secret(operator, operator.secret_key), raw, signature
            ):
                return callback_error(401, ErrorCode.UNKNOWN, "invalid signature")

            def run() -> HttpResponse:
                try:
                    response = handler(operator, _Body(raw, _callback_bad_request))
                except SandboxCallbackError as error:
                    response = callback_error(400, error.code, error.message)
                return _miscoded(operator, response)

            fault = faults.fault_fire(operator=operator, route=route)
            response = _with_fault(fault, CALLBACKS, run)
            logger.info("sandbox %s %s -> %s", slug, route, response.status_code)
            return response

        return view

    return decorator


@_callback_route(Route.STREAMER_BALANCE)
def streamer_balance(operator: SandboxOperator, body: _Body) -> HttpResponse:
    account = services.sandbox_streamer_balance(
        operator=operator,
        user_id=body.text("userId"),
        currency=body.currency(optional=True),
    )
    return _json(200, {"balance": account.balance, "currency": account.currency})


@_callback_route(Route.TRANSFER)
def transfer(operator: SandboxOperator, body: _Body) -> HttpResponse:
    record = services.sandbox_transfer_apply(
        operator=operator,
        transfer_id=body.text("id"),
        user_id=body.text("userId"),
        transfer_type=body.text("type"),
        amount=body.amount("amount"),
        currency=body.currency(),
    )
    return HttpResponse(record.response_body, status=record.response_status, content_type=JSON)


@_callback_route(Route.GAME_POOL)
def game_pool(operator: SandboxOperator, body: _Body) -> HttpResponse:
    services.sandbox_game_pool_set(
        operator=operator, user_id=body.text("userId"), state=body.text("state")
    )
    return HttpResponse(b"", status=200, content_type=JSON)  # the seed's bare "200 OK"


# --- seamless wallet (seed 003) ----------------------------------------------------------


def _wallet_route(route: str):
    def decorator(handler: Callable[[SandboxOperator, _Body], HttpResponse]):
        @csrf_exempt
        @require_POST
        @wraps(handler)
        def view(request: HttpRequest, slug: str) -> HttpResponse:
            operator = sandbox_operator_get(slug=slug)
            if operator is None:
                return wallet_answer(404, "Unknown operator")
            raw = request.body
            client_id = request.headers.get("X-VC-Client-ID", "")
            if not hmac.compare_digest(client_id.encode(), operator.wallet_client_id.encode()):
                return wallet_answer(403, "Invalid client id")
            timestamp = request.headers.get("X-VC-Client-TS")
            if operator.accepts_bad_signatures:
                verified = _timestamp_in_window(timestamp)
            else:
                verified = wallet_verify(
                    _secret(operator, operator.wallet_secret),
                    request.get_full_path(),
                    timestamp,
                    raw,
                    request.headers.get("X-VC-Client-Signature"),
                )
            if not verified:
                return wallet_answer(403, "Invalid signature or timestamp")

            def run() -> HttpResponse:
                try:
                    return handler(operator, _Body(raw, _wallet_bad_request))
                except SandboxWalletReplay as replay:
                    return HttpResponse(str(replay.extra["body"]), status=200, content_type=JSON)
                except SandboxWalletError as error:
                    return wallet_answer(error.status, error.message)

            fault = faults.fault_fire(operator=operator, route=route)
            response = _with_fault(fault, WALLET, run)
            logger.info("sandbox %s wallet/%s -> %s", slug, route, response.status_code)
            return response

        return view

    return decorator


def _stored(tx) -> HttpResponse:
    return HttpResponse(tx.response_body, status=200, content_type=JSON)


@_wallet_route(Route.AUTH)
def wallet_auth(operator: SandboxOperator, body: _Body) -> HttpResponse:
    account = services.sandbox_wallet_auth(
        operator=operator,
        user_token=body.text("userToken", optional=True),
        currency=body.currency(),
    )
    return wallet_answer(
        200,
        "",
        {
            "userId": account.user_id,
            "username": account.username,
            "balance": account.balance,
            "currency": account.currency,
        },
    )


@_wallet_route(Route.WITHDRAW)
def wallet_withdraw(operator: SandboxOperator, body: _Body) -> HttpResponse:
    tx = services.sandbox_wallet_withdraw(
        operator=operator,
        user_id=body.text("userId"),
        user_token=body.text("userToken", optional=True),
        amount=body.amount("amount"),
        currency=body.currency(),
        game=body.text("game"),
        provider_tx_id=body.text("providerTxId"),
    )
    return _stored(tx)


@_wallet_route(Route.DEPOSIT)
def wallet_deposit(operator: SandboxOperator, body: _Body) -> HttpResponse:
    tx = services.sandbox_wallet_deposit(
        operator=operator,
        user_id=body.text("userId"),
        user_token=body.text("userToken", optional=True),
        amount=body.amount("amount", allow_zero=True),
        currency=body.currency(),
        game=body.text("game"),
        provider_tx_id=body.text("providerTxId"),
    )
    return _stored(tx)


@_wallet_route(Route.ROLLBACK)
def wallet_rollback(operator: SandboxOperator, body: _Body) -> HttpResponse:
    tx = services.sandbox_wallet_rollback(
        operator=operator,
        user_id=body.text("userId"),
        user_token=body.text("userToken", optional=True),
        amount=body.amount("amount"),
        currency=body.currency(),
        game=body.text("game"),
        provider_tx_id=body.text("providerTxId"),
        rollback_provider_tx_id=body.text("rollbackProviderTxId"),
    )
    return _stored(tx)


# --- streamer cash-out (no signature: it is the operator's own site) ---------------------


@csrf_exempt
@require_POST
def cashout(request: HttpRequest, slug: str) -> HttpResponse:
    operator = sandbox_operator_get(slug=slug)
    if operator is None:
        return callback_error(404, ErrorCode.UNKNOWN, "unknown operator")
    try:
        body = _Body(request.body, _callback_bad_request)
        user_id = body.text("userId")
        amount = body.amount("amount")
        account = sandbox_account_get(operator=operator, user_id=user_id)
        if account is None:
            raise SandboxCallbackError("user does not exist", code=ErrorCode.INVALID_USER)
        account = services.sandbox_cashout(account=account, amount=amount)
    except ApplicationError as error:
        return callback_error(error.status, error.code, error.message)
    return _json(200, {"balance": account.balance, "currency": account.currency})
