"""The probes: each a small function that sends signed requests and returns one verdict.

Probes share a :class:`Context` (the operator, the run's id prefix, the balances read at the
start) and run in order: ``signature-accepted`` gates the other callback probes and
``wallet-auth`` the other wallet probes (when a correctly signed request is refused, what
the others would report is noise). Requests are built and signed by
:mod:`apps.operators.clients` (``callback_request``, ``wallet_request``), sent by it (bounded
by the operator's timeout, written to the call log, masked) and only then altered where a
probe needs a bad request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from apps.core.errors import ErrorCode
from apps.operators.clients import (
    CallResult,
    PreparedCall,
    callback_request,
    callback_send,
    wallet_request,
    wallet_send,
)
from apps.operators.conformance.report import FAIL, PASS, SKIP, ProbeResult, described, reproducible
from apps.operators.models import Operator
from apps.operators.signatures import WALLET_MAX_SKEW_MS, wallet_timestamp

PROBE_AMOUNT = Decimal("1")
# Far enough above any test balance for a refusal, small enough for every amount field.
ABOVE_BALANCE = Decimal("1000000")
GAME = "copypool-conformance"


@dataclass
class Context:
    operator: Operator
    prefix: str = field(default_factory=lambda: f"cc-{uuid.uuid4().hex[:12]}")
    currency: str = ""
    streamer_start: Decimal | None = None
    follower_start: Decimal | None = None
    callbacks_refused: str = ""  # why the callback probes are skipped, when they are
    wallet_refused: str = ""
    # The gate's streamer-balance answer, read again by the shape probe.
    first_balance: tuple[CallResult, dict[str, Any]] | None = None

    def tx_id(self, label: str) -> str:
        return f"{self.prefix}-{label}"

    @property
    def unknown_id(self) -> str:
        return self.operator.test_unknown_id or f"{self.prefix}-nobody"


Probe = Callable[[Context], ProbeResult]


# --- sending ----------------------------------------------------------------------------


def callback_call(
    ctx: Context,
    name: str,
    payload: dict[str, Any],
    *,
    requires: tuple[str, ...] = (),
    alter: Callable[[PreparedCall], PreparedCall] | None = None,
) -> tuple[CallResult, dict[str, Any]]:
    call = callback_request(ctx.operator, name, payload)
    if alter is not None:
        call = alter(call)
    return callback_send(ctx.operator, call, requires=requires), reproducible(call)


def wallet_call(
    ctx: Context,
    name: str,
    payload: dict[str, Any],
    *,
    timestamp: str | None = None,
    alter: Callable[[PreparedCall], PreparedCall] | None = None,
) -> tuple[CallResult, dict[str, Any]]:
    call = wallet_request(ctx.operator, name, payload, timestamp=timestamp)
    if alter is not None:
        call = alter(call)
    return wallet_send(ctx.operator, call), reproducible(call)


def amount_text(value: Decimal | None) -> str:
    """An amount as people read it in a report: ``100`` for 100.00000000."""
    if value is None:
        return "unreadable"
    return f"{value.normalize():f}"


def _with_header(name: str, value: str) -> Callable[[PreparedCall], PreparedCall]:
    return lambda call: replace(call, headers={**call.headers, name: value})


def _flipped(signature: str) -> str:
    """The same signature with its first character changed: well-formed, and wrong."""
    first = "B" if signature[:1] != "B" else "C"
    return first + signature[1:]


def transfer_send(
    ctx: Context, *, label: str, user_id: str, type: str, amount: Decimal
) -> tuple[CallResult, dict[str, Any]]:
    payload = {
        "id": ctx.tx_id(label),
        "userId": user_id,
        "type": type,
        "amount": amount,
        "currency": ctx.currency,
    }
    return callback_call(ctx, "transfer", payload, requires=("balance",))


def streamer_balance_read(ctx: Context) -> Decimal | None:
    result, _ = callback_call(
        ctx,
        "streamer-balance",
        {"userId": ctx.operator.test_streamer_id},
        requires=("balance",),
    )
    return result.amount("balance") if result.ok else None


def money_payload(ctx: Context, *, label: str, amount: Decimal) -> dict[str, Any]:
    return {
        "amount": amount,
        "currency": ctx.currency,
        "userToken": ctx.operator.test_follower_token,
        "game": GAME,
        "userId": ctx.operator.test_follower_id,
        "providerTxId": ctx.tx_id(label),
    }


def follower_balance_read(ctx: Context) -> Decimal | None:
    result, _ = wallet_call(
        ctx, "auth", {"userToken": ctx.operator.test_follower_token, "currency": ctx.currency}
    )
    if not result.ok:
        return None
    return result.amount("balance")


def _result(
    name: str,
    title: str,
    *,
    failures: list[str],
    expected: str,
    got: str,
    request: dict[str, Any] | None,
) -> ProbeResult:
    if failures:
        return ProbeResult(
            name, title, FAIL, expected=expected, got="; ".join(failures), request=request
        )
    return ProbeResult(name, title, PASS, expected=expected, got=got, request=request)


def _refusal_check(
    result: CallResult, *, code: str | None = None, statuses: tuple[int, ...] = ()
) -> list[str]:
    """Why ``result`` is not the expected definite refusal (empty when it is)."""
    if result.ok and not result.already_applied:
        return [f"accepted it: {described(result)}"]
    if result.unknown:
        return [f"no definite refusal: {described(result)}"]
    failures = []
    if statuses and result.status not in statuses:
        failures.append(f"HTTP {result.status} instead of {' or '.join(map(str, statuses))}")
    if code and result.error_code != code:
        failures.append(f"error code {result.error_code or 'none'} instead of {code}")
    return failures


# --- callbacks (seed 000) ---------------------------------------------------------------

CALLBACK_PROBES: list[Probe] = []
WALLET_PROBES: list[Probe] = []


def callback_probe(name: str, title: str, *, needs: tuple[str, ...] = ("test_streamer_id",)):
    """Register a callback probe; it is skipped when the gate refused or a user is missing."""

    def register(run: Callable[[Context, str, str], ProbeResult]) -> Probe:
        def probe(ctx: Context) -> ProbeResult:
            missing = [f for f in needs if not getattr(ctx.operator, f)]
            if missing:
                return ProbeResult(name, title, SKIP, why=f"not set in the admin: {missing[0]}")
            if ctx.callbacks_refused and name != "signature-accepted":
                return ProbeResult(name, title, SKIP, why=ctx.callbacks_refused)
            return run(ctx, name, title)

        probe.__name__ = run.__name__
        CALLBACK_PROBES.append(probe)
        return probe

    return register


@callback_probe("signature-accepted", "A correctly signed streamer-balance is accepted")
def signature_accepted(ctx: Context, name: str, title: str) -> ProbeResult:
    result, request = callback_call(
        ctx, "streamer-balance", {"userId": ctx.operator.test_streamer_id}, requires=("balance",)
    )
    ctx.first_balance = (result, request)
    expected = "HTTP 200"
    if result.refused and result.status in (401, 403):
        ctx.callbacks_refused = (
            "the operator refuses correctly signed callbacks (signature-accepted)"
        )
        return ProbeResult(
            name,
            title,
            FAIL,
            expected=expected,
            got=f"{described(result)}: a correctly signed request was refused; check the "
            "secret key, and that the signature is computed over the raw body bytes "
            "(Base64(HMAC-SHA512(secret, hex MD5(body))))",
            request=request,
        )
    if result.status is None or (result.status >= 500):
        ctx.callbacks_refused = "the callback URL does not answer (signature-accepted)"
        return ProbeResult(
            name, title, FAIL, expected=expected, got=described(result), request=request
        )
    if result.refused:
        return ProbeResult(
            name,
            title,
            FAIL,
            expected=expected,
            got=f"{described(result)}: is the test streamer a streamer?",
            request=request,
        )
    balance = result.amount("balance")
    if balance is not None:
        ctx.streamer_start = balance
        ctx.currency = ctx.currency or str(result.data.get("currency") or "")
    return ProbeResult(name, title, PASS, expected=expected, got=described(result), request=request)


@callback_probe("streamer-balance", "streamer-balance answers {balance, currency}")
def streamer_balance_shape(ctx: Context, name: str, title: str) -> ProbeResult:
    if ctx.first_balance is None or not ctx.first_balance[0].ok:
        return ProbeResult(name, title, SKIP, why="no accepted answer (signature-accepted)")
    result, request = ctx.first_balance
    expected = "HTTP 200 {balance: number, currency: string}"
    failures = []
    raw_balance = result.data.get("balance")
    if isinstance(raw_balance, bool) or not isinstance(raw_balance, (int, float, Decimal)):
        failures.append(f"balance is {raw_balance!r}, not a JSON number")
    currency = result.data.get("currency")
    if not isinstance(currency, str) or not currency:
        failures.append(f"currency is {currency!r}, not a string")
    elif ctx.operator.test_currency and currency != ctx.operator.test_currency:
        failures.append(f"currency {currency} instead of {ctx.operator.test_currency}")
    return _result(
        name, title, failures=failures, expected=expected, got=described(result), request=request
    )


@callback_probe(
    "streamer-balance-non-streamer",
    f"streamer-balance of a non-streamer is refused with {ErrorCode.BALANCE_FORBIDDEN}",
    needs=("test_non_streamer_id",),
)
def streamer_balance_non_streamer(ctx: Context, name: str, title: str) -> ProbeResult:
    result, request = callback_call(
        ctx, "streamer-balance", {"userId": ctx.operator.test_non_streamer_id}
    )
    failures = _refusal_check(result, code=ErrorCode.BALANCE_FORBIDDEN, statuses=(400,))
    return _result(
        name,
        title,
        failures=failures,
        expected=f"HTTP 400 {ErrorCode.BALANCE_FORBIDDEN}",
        got=described(result),
        request=request,
    )


def _bad_request_probe(
    ctx: Context, name: str, title: str, alter: Callable[[PreparedCall], PreparedCall], what: str
) -> ProbeResult:
    result, request = callback_call(
        ctx, "streamer-balance", {"userId": ctx.operator.test_streamer_id}, alter=alter
    )
    failures = _refusal_check(result)
    if failures and result.ok:
        failures = [f"accepted a request with {what}: {described(result)}"]
    return _result(
        name,
        title,
        failures=failures,
        expected="refused (HTTP 401, or another 4xx)",
        got=described(result),
        request=request,
    )


@callback_probe("signature-wrong", "A request with a wrong X-REQUEST-SIGNATURE is refused")
def signature_wrong(ctx: Context, name: str, title: str) -> ProbeResult:
    def alter(call: PreparedCall) -> PreparedCall:
        return _with_header("X-REQUEST-SIGNATURE", _flipped(call.headers["X-REQUEST-SIGNATURE"]))(
            call
        )

    return _bad_request_probe(ctx, name, title, alter, "a wrong signature")


@callback_probe("api-key-wrong", "A request with a wrong X-API-KEY is refused")
def api_key_wrong(ctx: Context, name: str, title: str) -> ProbeResult:
    alter = _with_header("X-API-KEY", f"{ctx.operator.operator_api_key}-wrong")
    return _bad_request_probe(ctx, name, title, alter, "a wrong X-API-KEY")


@callback_probe("body-changed", "A body changed after signing is refused")
def body_changed(ctx: Context, name: str, title: str) -> ProbeResult:
    def alter(call: PreparedCall) -> PreparedCall:
        changed = call.body[:-1] + b',"currency":"' + ctx.currency.encode() + b'"}'
        return replace(call, body=changed)

    return _bad_request_probe(ctx, name, title, alter, "a body changed after signing")


def _transfer_twice(ctx: Context, name: str, title: str, *, type: str) -> ProbeResult:
    before = streamer_balance_read(ctx)
    if before is None:
        return ProbeResult(name, title, SKIP, why="the streamer's balance could not be read")
    sign = 1 if type == "DEPOSIT" else -1
    expected_after = before + sign * PROBE_AMOUNT
    user_id = ctx.operator.test_streamer_id
    first, request = transfer_send(
        ctx, label=type.lower(), user_id=user_id, type=type, amount=PROBE_AMOUNT
    )
    second, _ = transfer_send(
        ctx, label=type.lower(), user_id=user_id, type=type, amount=PROBE_AMOUNT
    )
    after = streamer_balance_read(ctx)
    expected = (
        f"{type} of {PROBE_AMOUNT} sent twice with one id moves it once "
        f"({amount_text(before)} -> {amount_text(expected_after)}) and both answers are the same"
    )
    failures = []
    if not first.ok:
        failures.append(f"the first {type} was not accepted: {described(first)}")
    if not second.ok:
        failures.append(f"the repeat was not accepted: {described(second)}")
    if (
        first.ok
        and second.ok
        and (
            first.amount("balance") != second.amount("balance")
            or first.data.get("currency") != second.data.get("currency")
        )
    ):
        failures.append(f"the repeat answered {described(second)}, the first {described(first)}")
    if after != expected_after:
        moved = "?" if after is None else amount_text(after - before)
        failures.append(
            f"the balance went {amount_text(before)} -> {amount_text(after)} (moved {moved}, once is "
            f"{sign * PROBE_AMOUNT}): a repeated transfer id must not move money again"
        )
    return _result(
        name,
        title,
        failures=failures,
        expected=expected,
        got=f"{described(first)}; repeat: {described(second)}; balance {amount_text(before)} -> {amount_text(after)}",
        request=request,
    )


@callback_probe(
    "transfer-deposit-idempotent", "transfer DEPOSIT twice with one id moves money once"
)
def transfer_deposit_idempotent(ctx: Context, name: str, title: str) -> ProbeResult:
    return _transfer_twice(ctx, name, title, type="DEPOSIT")


@callback_probe(
    "transfer-withdrawal-idempotent", "transfer WITHDRAWAL twice with one id moves money once"
)
def transfer_withdrawal_idempotent(ctx: Context, name: str, title: str) -> ProbeResult:
    return _transfer_twice(ctx, name, title, type="WITHDRAWAL")


def _refused_transfer(
    ctx: Context, name: str, title: str, *, user_id: str, type: str, amount: Decimal, code: str
) -> ProbeResult:
    result, request = transfer_send(ctx, label=name, user_id=user_id, type=type, amount=amount)
    failures = _refusal_check(result, code=code, statuses=(400,))
    if result.ok:
        # It moved money it should not have: move it back, under its own id.
        back = "WITHDRAWAL" if type == "DEPOSIT" else "DEPOSIT"
        undo, _ = transfer_send(
            ctx, label=f"{name}-undo", user_id=user_id, type=back, amount=amount
        )
        failures.append(f"reversed with {back} {ctx.tx_id(name + '-undo')}: {described(undo)}")
    return _result(
        name,
        title,
        failures=failures,
        expected=f"HTTP 400 {code}",
        got=described(result),
        request=request,
    )


@callback_probe(
    "transfer-unknown-user",
    f"transfer to an unknown user is refused with {ErrorCode.INVALID_USER}",
    needs=(),
)
def transfer_unknown_user(ctx: Context, name: str, title: str) -> ProbeResult:
    return _refused_transfer(
        ctx,
        name,
        title,
        user_id=ctx.unknown_id,
        type="DEPOSIT",
        amount=PROBE_AMOUNT,
        code=ErrorCode.INVALID_USER,
    )


@callback_probe(
    "transfer-non-streamer",
    f"transfer to a non-streamer is refused with {ErrorCode.TRANSFER_FORBIDDEN}",
    needs=("test_non_streamer_id",),
)
def transfer_non_streamer(ctx: Context, name: str, title: str) -> ProbeResult:
    return _refused_transfer(
        ctx,
        name,
        title,
        user_id=ctx.operator.test_non_streamer_id,
        type="DEPOSIT",
        amount=PROBE_AMOUNT,
        code=ErrorCode.TRANSFER_FORBIDDEN,
    )


@callback_probe(
    "transfer-insufficient-balance",
    f"WITHDRAWAL above the balance is refused with {ErrorCode.INSUFFICIENT_BALANCE}",
)
def transfer_insufficient_balance(ctx: Context, name: str, title: str) -> ProbeResult:
    balance = streamer_balance_read(ctx) or Decimal(0)
    return _refused_transfer(
        ctx,
        name,
        title,
        user_id=ctx.operator.test_streamer_id,
        type="WITHDRAWAL",
        amount=balance + ABOVE_BALANCE,
        code=ErrorCode.INSUFFICIENT_BALANCE,
    )


@callback_probe("game-pool", "game-pool OPEN then CLOSE are accepted")
def game_pool(ctx: Context, name: str, title: str) -> ProbeResult:
    user_id = ctx.operator.test_streamer_id
    opened, request = callback_call(ctx, "game-pool", {"userId": user_id, "state": "OPEN"})
    closed, _ = callback_call(ctx, "game-pool", {"userId": user_id, "state": "CLOSE"})
    failures = []
    if not opened.ok:
        failures.append(f"OPEN: {described(opened)}")
    if not closed.ok:
        failures.append(f"CLOSE: {described(closed)} (the streamer may still be locked)")
    result = _result(
        name,
        title,
        failures=failures,
        expected="HTTP 200 to OPEN and to CLOSE (the body may be empty)",
        got=f"OPEN {described(opened)}; CLOSE {described(closed)}",
        request=request,
    )
    result.why = (
        "Withdrawal lock: between OPEN and CLOSE the operator must refuse the streamer's "
        "cash-outs off its site (the contract has no call to observe it: try one by hand "
        "while a pool is OPEN)."
    )
    return result


# --- seamless wallet (seed 003) ---------------------------------------------------------


def wallet_probe(name: str, title: str):
    def register(run: Callable[[Context, str, str], ProbeResult]) -> Probe:
        def probe(ctx: Context) -> ProbeResult:
            operator = ctx.operator
            if not (operator.test_follower_id and operator.test_follower_token):
                return ProbeResult(
                    name, title, SKIP, why="not set in the admin: the test follower and token"
                )
            if not ctx.currency:
                return ProbeResult(
                    name, title, SKIP, why="no currency: set the test users' currency"
                )
            if ctx.wallet_refused and name != "wallet-auth":
                return ProbeResult(name, title, SKIP, why=ctx.wallet_refused)
            return run(ctx, name, title)

        probe.__name__ = run.__name__
        WALLET_PROBES.append(probe)
        return probe

    return register


@wallet_probe("wallet-auth", "/auth with the follower's token answers the user and balance")
def wallet_auth(ctx: Context, name: str, title: str) -> ProbeResult:
    operator = ctx.operator
    result, request = wallet_call(
        ctx, "auth", {"userToken": operator.test_follower_token, "currency": ctx.currency}
    )
    expected = "HTTP 200 {code: 200, data: {userId, username, balance, currency}}"
    if not result.ok:
        if result.status == 401:
            hint = "the test follower's token was refused: give a live userToken"
        elif result.status == 403:
            hint = (
                "a correctly signed request was refused: check the wallet secret and the "
                "signing input (ts + path + query + raw body, HMAC-SHA256, hex)"
            )
        else:
            hint = "the wallet does not answer"
        ctx.wallet_refused = f"{hint} (wallet-auth)"
        return ProbeResult(
            name,
            title,
            FAIL,
            expected=expected,
            got=f"{described(result)}: {hint}",
            request=request,
        )
    failures = []
    if result.data.get("userId") != operator.test_follower_id:
        failures.append(f"userId {result.data.get('userId')!r}, not {operator.test_follower_id!r}")
    balance = result.amount("balance")
    if balance is None:
        failures.append(f"balance {result.data.get('balance')!r} unreadable")
    if result.data.get("currency") != ctx.currency:
        failures.append(f"currency {result.data.get('currency')!r}, not {ctx.currency!r}")
    ctx.follower_start = balance
    return _result(
        name, title, failures=failures, expected=expected, got=described(result), request=request
    )


def _wallet_refused_probe(
    ctx: Context, name: str, title: str, *, timestamp: str | None, alter, what: str
) -> ProbeResult:
    payload = {"userToken": ctx.operator.test_follower_token, "currency": ctx.currency}
    result, request = wallet_call(ctx, "auth", payload, timestamp=timestamp, alter=alter)
    failures = _refusal_check(result)
    if failures and result.ok:
        failures = [f"accepted a request with {what}: {described(result)}"]
    return _result(
        name,
        title,
        failures=failures,
        expected="refused (HTTP 403, or another 4xx)",
        got=described(result),
        request=request,
    )


@wallet_probe(
    "wallet-signature-wrong", "A wallet call with a wrong X-VC-Client-Signature is refused"
)
def wallet_signature_wrong(ctx: Context, name: str, title: str) -> ProbeResult:
    def alter(call: PreparedCall) -> PreparedCall:
        signature = call.headers["X-VC-Client-Signature"]
        wrong = ("0" if signature[:1] != "0" else "1") + signature[1:]
        return _with_header("X-VC-Client-Signature", wrong)(call)

    return _wallet_refused_probe(
        ctx, name, title, timestamp=None, alter=alter, what="a wrong signature"
    )


@wallet_probe("wallet-timestamp-window", "A wallet call signed 10 minutes ago is refused")
def wallet_timestamp_window(ctx: Context, name: str, title: str) -> ProbeResult:
    stale = str(int(wallet_timestamp()) - 2 * WALLET_MAX_SKEW_MS)
    return _wallet_refused_probe(
        ctx,
        name,
        title,
        timestamp=stale,
        alter=None,
        what="a timestamp outside the 5-minute window",
    )


def _duplicate_check(first: CallResult, second: CallResult, what: str) -> list[str]:
    failures = []
    if not first.ok or first.already_applied:
        failures.append(f"the {what} was not applied: {described(first)}")
    if second.status != 409:
        failures.append(
            f"the repeated providerTxId answered {described(second)}, not 409 "
            "(the transaction already exists)"
        )
    return failures


def _balance_check(
    ctx: Context, before: Decimal | None, change: Decimal, failures: list[str]
) -> Decimal | None:
    after = follower_balance_read(ctx)
    if before is not None and after != before + change:
        failures.append(
            f"the balance went {amount_text(before)} -> {amount_text(after)}, expected {amount_text(before + change)}"
        )
    return after


@wallet_probe("wallet-deposit-duplicate", "/deposit, then the same providerTxId again: 409")
def wallet_deposit_duplicate(ctx: Context, name: str, title: str) -> ProbeResult:
    before = follower_balance_read(ctx)
    payload = money_payload(ctx, label="deposit", amount=PROBE_AMOUNT)
    first, request = wallet_call(ctx, "deposit", payload)
    second, _ = wallet_call(ctx, "deposit", payload)
    failures = _duplicate_check(first, second, "deposit")
    after = _balance_check(ctx, before, PROBE_AMOUNT, failures)
    return _result(
        name,
        title,
        failures=failures,
        expected=f"HTTP 200, then 409; the balance up {PROBE_AMOUNT} once",
        got=f"{described(first)}; repeat: {described(second)}; balance {amount_text(before)} -> {amount_text(after)}",
        request=request,
    )


@wallet_probe("wallet-withdraw-duplicate", "/withdraw, then the same providerTxId again: 409")
def wallet_withdraw_duplicate(ctx: Context, name: str, title: str) -> ProbeResult:
    before = follower_balance_read(ctx)
    payload = money_payload(ctx, label="withdraw", amount=PROBE_AMOUNT)
    first, request = wallet_call(ctx, "withdraw", payload)
    second, _ = wallet_call(ctx, "withdraw", payload)
    failures = _duplicate_check(first, second, "withdraw")
    after = _balance_check(ctx, before, -PROBE_AMOUNT, failures)
    return _result(
        name,
        title,
        failures=failures,
        expected=f"HTTP 200, then 409; the balance down {PROBE_AMOUNT} once",
        got=f"{described(first)}; repeat: {described(second)}; balance {amount_text(before)} -> {amount_text(after)}",
        request=request,
    )


@wallet_probe("wallet-rollback", "/rollback refunds the withdraw; the same rollback again: 409")
def wallet_rollback(ctx: Context, name: str, title: str) -> ProbeResult:
    before = follower_balance_read(ctx)
    payload = {
        **money_payload(ctx, label="rollback", amount=PROBE_AMOUNT),
        "rollbackProviderTxId": ctx.tx_id("withdraw"),
    }
    first, request = wallet_call(ctx, "rollback", payload)
    second, _ = wallet_call(ctx, "rollback", payload)
    failures = _duplicate_check(first, second, "rollback")
    after = _balance_check(ctx, before, PROBE_AMOUNT, failures)
    return _result(
        name,
        title,
        failures=failures,
        expected=f"HTTP 200 (the withdraw refunded, up {PROBE_AMOUNT}), then 409",
        got=f"{described(first)}; repeat: {described(second)}; balance {amount_text(before)} -> {amount_text(after)}",
        request=request,
    )


@wallet_probe("wallet-rollback-unknown", "/rollback of a withdraw never sent: 408")
def wallet_rollback_unknown(ctx: Context, name: str, title: str) -> ProbeResult:
    payload = {
        **money_payload(ctx, label="rollback-unknown", amount=PROBE_AMOUNT),
        "rollbackProviderTxId": ctx.tx_id("late-withdraw"),
    }
    result, request = wallet_call(ctx, "rollback", payload)
    failures = [] if result.status == 408 else [f"{described(result)}, not 408"]
    return _result(
        name,
        title,
        failures=failures,
        expected="HTTP 408 (transaction not found)",
        got=described(result),
        request=request,
    )


@wallet_probe("wallet-late-withdraw", "A withdraw arriving after its rollback is refused")
def wallet_late_withdraw(ctx: Context, name: str, title: str) -> ProbeResult:
    before = follower_balance_read(ctx)
    payload = money_payload(ctx, label="late-withdraw", amount=PROBE_AMOUNT)
    result, request = wallet_call(ctx, "withdraw", payload)
    failures = []
    if result.ok and not result.already_applied:
        failures.append(f"took the money after its rollback: {described(result)}")
        undo, _ = wallet_call(
            ctx, "deposit", money_payload(ctx, label="late-withdraw-undo", amount=PROBE_AMOUNT)
        )
        failures.append(
            f"given back with /deposit {ctx.tx_id('late-withdraw-undo')}: {described(undo)}"
        )
    elif result.unknown:
        failures.append(f"no definite refusal: {described(result)}")
    after = _balance_check(ctx, before, Decimal(0), failures)
    return _result(
        name,
        title,
        failures=failures,
        expected="refused (HTTP 403, or 409); nothing moves",
        got=f"{described(result)}; balance {amount_text(before)} -> {amount_text(after)}",
        request=request,
    )


@wallet_probe("wallet-insufficient-funds", "/withdraw above the balance: 402")
def wallet_insufficient_funds(ctx: Context, name: str, title: str) -> ProbeResult:
    balance = follower_balance_read(ctx) or Decimal(0)
    amount = balance + ABOVE_BALANCE
    payload = money_payload(ctx, label="too-much", amount=amount)
    result, request = wallet_call(ctx, "withdraw", payload)
    failures = [] if result.status == 402 else [f"{described(result)}, not 402"]
    if result.ok and not result.already_applied:
        undo, _ = wallet_call(
            ctx,
            "rollback",
            {
                **money_payload(ctx, label="too-much-undo", amount=amount),
                "rollbackProviderTxId": ctx.tx_id("too-much"),
            },
        )
        failures.append(f"rolled back with {ctx.tx_id('too-much-undo')}: {described(undo)}")
    return _result(
        name,
        title,
        failures=failures,
        expected="HTTP 402 (insufficient balance)",
        got=described(result),
        request=request,
    )
