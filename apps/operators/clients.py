"""Outbound HTTP clients: the operator's callbacks (seed 000) and seamless wallet (seed 003).

httpx rather than requests: per-request timeouts, a pooled thread-safe client, and bounded
clients per operator for reading many balances at once (``streamer_balances_fetch``).

Every call is signed, bounded by the operator's timeout, written to the call log (masked),
and classified into exactly one outcome:

* ``success``: the operator answered and the answer is understood (a wallet 409 is
  "already applied", a success without a result);
* ``error``: a definite refusal, with the contract's error code: nothing happened;
* ``unknown``: timeout, connection error, 5xx, or an answer we cannot parse: the operator
  may or may not have applied it, so the caller must ask again with the same id.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

import httpx
from django.conf import settings
from django.db import connection

from apps.core.errors import ApplicationError, ErrorCode, http_status_code, wallet_status_code
from apps.core.money import AmountError, parse_amount
from apps.core.sanitize import safe_json, safe_text
from apps.core.wire import dumps, loads
from apps.operators.calllog import call_log_entry, call_log_record
from apps.operators.models import CallLog, Operator
from apps.operators.signatures import copystake_signature, wallet_signature, wallet_timestamp

logger = logging.getLogger(__name__)

Outcome = Literal["success", "error", "unknown"]
SUCCESS: Outcome = "success"
ERROR: Outcome = "error"
UNKNOWN: Outcome = "unknown"

# Wallet HTTP statuses that are definite refusals, with the code we record for them.
WALLET_REFUSALS = {
    401: ErrorCode.INVALID_TOKEN,
    402: ErrorCode.INSUFFICIENT_BALANCE,
    403: ErrorCode.FORBIDDEN,
    408: ErrorCode.TRANSACTION_NOT_FOUND,
}


@dataclass(frozen=True)
class CallResult:
    outcome: Outcome
    status: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    error_code: str = ""
    error_message: str = ""
    already_applied: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome == SUCCESS

    @property
    def refused(self) -> bool:
        return self.outcome == ERROR

    @property
    def unknown(self) -> bool:
        return self.outcome == UNKNOWN

    def refusal(self, what: str) -> ApplicationError:
        """The error to raise when a caller cannot go on without this call: the operator's
        code (or ``BAD_RESPONSE``) with what it said, for staff to read."""
        detail = " ".join(filter(None, [self.error_code, self.error_message]))[:300]
        return ApplicationError(
            f"{what}: {detail or 'no usable answer'}",
            code=self.error_code or ErrorCode.BAD_RESPONSE,
        )

    def amount(self, key: str) -> Decimal | None:
        """A non-negative amount from the answer, or None when absent or malformed."""
        try:
            return parse_amount(self.data.get(key), allow_zero=True, plain=False)
        except AmountError:
            return None


_client: httpx.Client | None = None


def http_client() -> httpx.Client:
    """One pooled client per process; httpx.Client is safe to share between threads."""
    global _client
    if _client is None:
        _client = httpx.Client(
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            follow_redirects=False,
        )
    return _client


def _timeout(operator: Operator) -> httpx.Timeout:
    seconds = float(operator.request_timeout_seconds)
    return httpx.Timeout(seconds, connect=min(seconds, 3.0))


Classifier = Callable[[httpx.Response], CallResult]


def _transport_failure(error: httpx.HTTPError) -> CallResult:
    """No answer at all: the outcome is unknown."""
    if isinstance(error, httpx.TimeoutException):
        return CallResult(
            UNKNOWN, error_code=ErrorCode.TIMEOUT, error_message=f"timeout: {error!r}"
        )
    return CallResult(
        UNKNOWN, error_code=ErrorCode.CONNECTION, error_message=f"connection: {error!r}"
    )


def classify_answer(classify: Classifier, response: httpx.Response) -> CallResult:
    """Classify an answer, however broken: an answer nothing can read is unknown (the
    operator may have applied the call), never an exception; texts are made storable."""
    try:
        result = classify(response)
    except Exception as error:  # a malformed answer must never crash the caller
        logger.warning("Unreadable answer (HTTP %s): %r", response.status_code, error)
        result = CallResult(
            UNKNOWN,
            response.status_code,
            error_code=ErrorCode.BAD_RESPONSE,
            error_message=f"unreadable answer: {type(error).__name__}",
        )
    return replace(
        result,
        error_code=safe_text(str(result.error_code))[:64],
        error_message=safe_text(str(result.error_message)),
    )


def _post(
    *,
    operator: Operator,
    endpoint: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    classify: Classifier,
    external_id: str = "",
) -> CallResult:
    started = time.monotonic()
    response: httpx.Response | None = None
    try:
        response = http_client().post(
            url, content=body, headers=headers, timeout=_timeout(operator)
        )
        result = classify_answer(classify, response)
    except httpx.HTTPError as error:
        result = _transport_failure(error)
    latency_ms = int((time.monotonic() - started) * 1000)
    call_log_record(
        operator=operator,
        direction=CallLog.Direction.OUTBOUND,
        endpoint=endpoint,
        url=url,
        request_headers=headers,
        request_body=body,
        outcome=result.outcome,
        response_status=response.status_code if response is not None else None,
        response_body=response.content if response is not None else None,
        latency_ms=latency_ms,
        error_code=result.error_code,
        error_message=result.error_message,
        external_id=external_id,
    )
    if not result.ok:
        logger.info("%s %s -> %s %s", operator.code, endpoint, result.outcome, result.error_code)
    return result


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's JSON object, its texts made storable; None when it is not one."""
    try:
        parsed = loads(response.content)
    except (ValueError, RecursionError):
        return None
    return safe_json(parsed) if isinstance(parsed, dict) else None


# --- Operator callbacks (seed 000) -------------------------------------------------------


def _callback_classifier(*, requires: tuple[str, ...]) -> Classifier:
    def classify(response: httpx.Response) -> CallResult:
        status = response.status_code
        if status >= 500 or status in (408, 429):
            return CallResult(
                UNKNOWN,
                status,
                error_code=http_status_code(status),
                error_message=response.text[:500],
            )
        parsed = _json_object(response)
        if 200 <= status < 300:
            if not requires:
                return CallResult(SUCCESS, status, data=parsed or {})
            if parsed is None or any(key not in parsed for key in requires):
                return CallResult(
                    UNKNOWN,
                    status,
                    error_code=ErrorCode.BAD_RESPONSE,
                    error_message=response.text[:500],
                )
            result = CallResult(SUCCESS, status, data=parsed)
            if "balance" in requires and result.amount("balance") is None:
                return CallResult(
                    UNKNOWN,
                    status,
                    error_code=ErrorCode.BAD_RESPONSE,
                    error_message="balance unreadable",
                )
            return result
        code = str((parsed or {}).get("errorCode") or ErrorCode.UNKNOWN)[:64]
        message = str((parsed or {}).get("errorMessage") or response.text)[:500]
        return CallResult(ERROR, status, data=parsed or {}, error_code=code, error_message=message)

    return classify


@dataclass(frozen=True)
class PreparedCall:
    """A signed request, ready to send: the exact bytes and headers that go on the wire."""

    endpoint: str
    url: str
    body: bytes
    headers: dict[str, str]


def callback_request(operator: Operator, name: str, payload: dict[str, Any]) -> PreparedCall:
    """Build and sign the operator callback ``name`` (seed 000) without sending it."""
    return callback_signed(operator, name, dumps(payload))


def callback_signed(operator: Operator, name: str, body: bytes) -> PreparedCall:
    """Sign these exact body bytes as the callback ``name`` (``manage.py sign`` uses it)."""
    headers = {
        "Content-Type": "application/json",
        "X-API-KEY": operator.operator_api_key,
        "X-REQUEST-SIGNATURE": copystake_signature(operator.outbound_secret(), body),
    }
    return PreparedCall(
        endpoint=name,
        url=f"{operator.callback_url.rstrip('/')}/{name}",
        body=body,
        headers=headers,
    )


def _callback(
    operator: Operator,
    name: str,
    payload: dict[str, Any],
    *,
    requires: tuple[str, ...],
    external_id: str = "",
) -> CallResult:
    call = callback_request(operator, name, payload)
    return _post(
        operator=operator,
        endpoint=call.endpoint,
        url=call.url,
        body=call.body,
        headers=call.headers,
        classify=_callback_classifier(requires=requires),
        external_id=external_id,
    )


def _streamer_balance_payload(*, user_id: str, currency: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"userId": user_id}
    if currency:
        payload["currency"] = currency
    return payload


def streamer_balance(
    operator: Operator, *, user_id: str, currency: str | None = None
) -> CallResult:
    payload = _streamer_balance_payload(user_id=user_id, currency=currency)
    return _callback(operator, "streamer-balance", payload, requires=("balance",))


def transfer(
    operator: Operator, *, external_id: str, user_id: str, type: str, amount: Decimal, currency: str
) -> CallResult:
    if type not in ("DEPOSIT", "WITHDRAWAL"):
        raise ValueError(f"transfer type {type!r}")
    payload = {
        "id": external_id,
        "userId": user_id,
        "type": type,
        "amount": amount,
        "currency": currency,
    }
    return _callback(operator, "transfer", payload, requires=("balance",), external_id=external_id)


def game_pool(operator: Operator, *, user_id: str, state: str) -> CallResult:
    if state not in ("OPEN", "CLOSE"):
        raise ValueError(f"game-pool state {state!r}")
    # The answer is a bare 200: never require JSON from it.
    return _callback(operator, "game-pool", {"userId": user_id, "state": state}, requires=())


# --- Seamless wallet (seed 003) ----------------------------------------------------------


def _wallet_classify(response: httpx.Response) -> CallResult:
    status = response.status_code
    parsed = _json_object(response)
    if status == 409:
        return CallResult(SUCCESS, status, data={}, already_applied=True)
    if status in WALLET_REFUSALS:
        message = str((parsed or {}).get("message") or response.text)[:500]
        return CallResult(
            ERROR,
            status,
            data=parsed or {},
            error_code=WALLET_REFUSALS[status],
            error_message=message,
        )
    if status == 200:
        data = (parsed or {}).get("data")
        if not isinstance(data, dict):
            return CallResult(
                UNKNOWN,
                status,
                error_code=ErrorCode.BAD_RESPONSE,
                error_message=response.text[:500],
            )
        return CallResult(SUCCESS, status, data=data)
    if 400 <= status < 500 and status != 429:
        message = str((parsed or {}).get("message") or response.text)[:500]
        return CallResult(
            ERROR,
            status,
            data=parsed or {},
            error_code=wallet_status_code(status),
            error_message=message,
        )
    return CallResult(
        UNKNOWN, status, error_code=http_status_code(status), error_message=response.text[:500]
    )


def wallet_request(
    operator: Operator, name: str, payload: dict[str, Any], *, timestamp: str | None = None
) -> PreparedCall:
    """Build and sign the wallet call ``name`` (seed 003) without sending it; ``timestamp``
    (Unix milliseconds) defaults to now."""
    return wallet_signed(operator, name, dumps(payload), timestamp=timestamp)


def wallet_signed(
    operator: Operator, name: str, body: bytes, *, timestamp: str | None = None
) -> PreparedCall:
    """Sign these exact body bytes as the wallet call ``name``."""
    url = f"{operator.wallet_url.rstrip('/')}/{name}"
    timestamp = timestamp or wallet_timestamp()  # every attempt is signed afresh
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-VC-Client-ID": operator.wallet_client_id,
        "X-VC-Client-TS": timestamp,
        "X-VC-Client-Signature": wallet_signature(operator.wallet_secret, url, timestamp, body),
    }
    return PreparedCall(endpoint=f"wallet/{name}", url=url, body=body, headers=headers)


def _wallet(
    operator: Operator, name: str, payload: dict[str, Any], *, external_id: str = ""
) -> CallResult:
    return wallet_send(operator, wallet_request(operator, name, payload), external_id=external_id)


def wallet_send(operator: Operator, call: PreparedCall, *, external_id: str = "") -> CallResult:
    """Send a prepared wallet call as it is (the conformance check sends altered ones)."""
    return _post(
        operator=operator,
        endpoint=call.endpoint,
        url=call.url,
        body=call.body,
        headers=call.headers,
        classify=_wallet_classify,
        external_id=external_id,
    )


def callback_send(
    operator: Operator, call: PreparedCall, *, requires: tuple[str, ...] = ()
) -> CallResult:
    """Send a prepared callback as it is (the conformance check sends altered ones)."""
    return _post(
        operator=operator,
        endpoint=call.endpoint,
        url=call.url,
        body=call.body,
        headers=call.headers,
        classify=_callback_classifier(requires=requires),
    )


def wallet_auth(operator: Operator, *, user_token: str, currency: str) -> CallResult:
    return _wallet(operator, "auth", {"userToken": user_token, "currency": currency})


def _wallet_money(
    operator: Operator, name: str, *, provider_tx_id: str, **fields: Any
) -> CallResult:
    """A money call: ``providerTxId`` is our transaction id, ``game`` the pools' game code."""
    payload = {
        "amount": fields.pop("amount"),
        "currency": fields.pop("currency"),
        "userToken": fields.pop("user_token"),
        "game": settings.COPYPOOL_GAME_CODE,
        "userId": fields.pop("user_id"),
        "providerTxId": provider_tx_id,
        **fields,
    }
    return _wallet(operator, name, payload, external_id=provider_tx_id)


def wallet_withdraw(
    operator: Operator,
    *,
    amount: Decimal,
    currency: str,
    user_token: str,
    user_id: str,
    provider_tx_id: str,
) -> CallResult:
    """The BET: take the contribution from the follower."""
    return _wallet_money(
        operator,
        "withdraw",
        amount=amount,
        currency=currency,
        user_token=user_token,
        user_id=user_id,
        provider_tx_id=provider_tx_id,
    )


def wallet_deposit(
    operator: Operator,
    *,
    amount: Decimal,
    currency: str,
    user_token: str,
    user_id: str,
    provider_tx_id: str,
) -> CallResult:
    """The WIN: pay the follower out (0 is valid and closes the round)."""
    return _wallet_money(
        operator,
        "deposit",
        amount=amount,
        currency=currency,
        user_token=user_token,
        user_id=user_id,
        provider_tx_id=provider_tx_id,
    )


def wallet_rollback(
    operator: Operator,
    *,
    amount: Decimal,
    currency: str,
    user_token: str,
    user_id: str,
    provider_tx_id: str,
    rollback_provider_tx_id: str,
) -> CallResult:
    """Refund a BET: its own new id, the refunded withdraw's id, the same user and amount."""
    return _wallet_money(
        operator,
        "rollback",
        amount=amount,
        currency=currency,
        user_token=user_token,
        user_id=user_id,
        provider_tx_id=provider_tx_id,
        rollbackProviderTxId=rollback_provider_tx_id,
    )


# --- Many streamer balances at once (reconciliation, snapshots) --------------------------

DEFAULT_BALANCE_CONNECTIONS = 20


@dataclass(frozen=True)
class BalanceRequest:
    """One ``streamer-balance`` to ask; ``key`` (e.g. a pool id) labels its answer."""

    key: int
    user_id: str
    currency: str | None = None


@dataclass
class OperatorBalances:
    """One operator's answers: a result per request key, and the call-log rows of the calls.

    A key missing from ``results`` was never sent (the operator's time budget ran out).
    ``calls`` are built and masked but not saved: the caller's thread saves them with
    ``save_call_log`` (the fetching thread never touches the database). ``error`` is set
    when fetching for this operator broke unexpectedly (its results are then partial).

    With ``streamer_balances_fetch(batch=N)`` an operator's answers also come ``partial``:
    a batch of answers (``results`` and ``calls`` of that batch only; ``elapsed`` and
    ``requested`` not known yet, 0) handed over while the rest is being read; the operator's
    last item is never partial and holds every result (the batches' too) and the calls not
    handed over yet.
    """

    operator: Operator
    results: dict[int, CallResult]
    calls: list[CallLog]
    elapsed: float
    requested: int
    error: str = ""
    partial: bool = False

    @property
    def not_sent(self) -> int:
        return self.requested - len(self.results)

    def save_call_log(self) -> int:
        saved = len(self.calls)
        if self.calls and connection.vendor == "postgresql":
            _call_log_copy(self.calls)
        else:
            CallLog.objects.bulk_create(self.calls, batch_size=1000)
        self.calls = []
        return saved


def _call_log_copy(calls: Sequence[CallLog]) -> None:
    """Write call-log rows with one ``COPY``: the values ``bulk_create`` would insert (each
    field's ``pre_save`` and ``get_db_prep_save``, so ``created_at`` is stamped as it
    stamps it), about half its time for a batch of balance calls, as nothing is read back
    (no ``RETURNING``: the rows' ids are not needed)."""
    fields = [f for f in CallLog._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column or f.attname) for f in fields)
    table = quote(CallLog._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for call in calls:
            copy.write_row([f.get_db_prep_save(f.pre_save(call, True), connection) for f in fields])


def _call_log_entry(
    *,
    operator: Operator,
    call: PreparedCall,
    result: CallResult,
    response: httpx.Response | None,
    latency_ms: int,
) -> CallLog:
    """The row ``call_log_record`` would write for this call, unsaved (saved in bulk)."""
    return call_log_entry(
        operator=operator,
        direction=CallLog.Direction.OUTBOUND,
        endpoint=call.endpoint,
        url=call.url,
        request_headers=call.headers,
        request_body=call.body,
        outcome=result.outcome,
        response_status=response.status_code if response is not None else None,
        response_body=response.content if response is not None else None,
        latency_ms=latency_ms,
        error_code=result.error_code,
        error_message=result.error_message,
    )


def _operator_balances(
    operator: Operator,
    requests: Sequence[BalanceRequest],
    *,
    connections: int,
    budget: float | None,
    stop: threading.Event,
    on_answer: Callable[[Operator], None] | None,
    batch: int | None = None,
    hand_over: Callable[[OperatorBalances], None] | None = None,
) -> OperatorBalances:
    """One operator's readings: ``connections`` threads sharing one bounded client; every
    ``batch`` answers are also handed over (``hand_over``) as a partial ``OperatorBalances``."""
    started = time.monotonic()
    deadline = started + budget if budget else None
    classify = _callback_classifier(requires=("balance",))
    results: dict[int, CallResult] = {}
    calls: list[CallLog] = []
    fresh: dict[int, CallResult] = {}  # answered since the last batch handed over
    pending = iter(requests)
    taking = threading.Lock()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    client = httpx.Client(limits=limits, timeout=_timeout(operator), follow_redirects=False)

    def next_request() -> BalanceRequest | None:
        if stop.is_set() or (deadline is not None and time.monotonic() > deadline):
            return None
        with taking:
            return next(pending, None)

    failures: list[str] = []

    def worker() -> None:
        try:
            read_until_done()
        except Exception as exc:  # one operator's failure must not sink the others
            logger.exception("Reading streamer balances from %s failed", operator.code)
            failures.append(f"{type(exc).__name__}: {exc}"[:500])

    def read_until_done() -> None:
        while (request := next_request()) is not None:
            payload = _streamer_balance_payload(user_id=request.user_id, currency=request.currency)
            call = callback_request(operator, "streamer-balance", payload)
            sent = time.monotonic()
            response: httpx.Response | None = None
            try:
                response = client.post(call.url, content=call.body, headers=call.headers)
                result = classify_answer(classify, response)
            except httpx.HTTPError as error:
                result = _transport_failure(error)
            entry = _call_log_entry(
                operator=operator,
                call=call,
                result=result,
                response=response,
                latency_ms=int((time.monotonic() - sent) * 1000),
            )
            part = None
            with taking:
                results[request.key] = result
                calls.append(entry)
                if batch is not None and hand_over is not None:
                    fresh[request.key] = result
                    if len(fresh) >= batch:
                        part = OperatorBalances(
                            operator=operator,
                            results=dict(fresh),
                            calls=calls[:],
                            elapsed=0.0,
                            requested=0,
                            partial=True,
                        )
                        fresh.clear()
                        calls.clear()
            if part is not None and hand_over is not None:
                hand_over(part)
            if on_answer is not None:
                on_answer(operator)

    workers = [
        threading.Thread(target=worker, name=f"balances-{operator.code}-{i}", daemon=True)
        for i in range(min(connections, len(requests)))
    ]
    try:
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
    finally:
        client.close()
    error = failures[0] if failures else ""
    return OperatorBalances(
        operator=operator,
        results=results,
        calls=calls,
        elapsed=time.monotonic() - started,
        requested=len(requests),
        error=error,
    )


def streamer_balances_fetch(
    jobs: Sequence[tuple[Operator, Sequence[BalanceRequest]]],
    *,
    connections: int = DEFAULT_BALANCE_CONNECTIONS,
    budget: float | None = None,
    on_answer: Callable[[Operator], None] | None = None,
    batch: int | None = None,
) -> Iterator[OperatorBalances]:
    """Ask many streamers' balances concurrently; yield each operator's answers when done,
    and, with ``batch``, every ``batch`` of them as they come in.

    Each operator gets its own ``httpx.Client`` holding at most ``connections`` connections,
    worked by as many threads: one operator is never asked more than ``connections`` things
    at once, and a slow or dead operator only ever delays its own readings. Operators are
    yielded in the order they finish, so the caller can act on a fast operator's balances
    while a slow one is still answering. Requests are built, signed and classified exactly
    as ``streamer_balance`` does (``callback_request``, the same classifier), and every call
    gets a masked call-log row (``OperatorBalances.calls``).

    Threads rather than an event loop: the work is waiting on sockets, and httpcore's async
    path retries an optional import (``sniffio``) on every request, which halved throughput
    when measured (about 630 against 1,200 answers a second on two cores). The reading
    threads never touch the database; the generator runs in the caller's thread.
    ``budget`` (seconds) bounds each operator's reading: what is not sent by then is left
    out. ``on_answer(operator)`` is called (from a reading thread) after every answer.

    ``batch`` (answers) hands an operator's answers over in parts while the rest is still
    being read (``OperatorBalances.partial``), so the caller records a batch while waiting
    for the next one instead of holding every answer until the slowest is in; the
    operator's last item is whole (every result) all the same.
    """
    if connections < 1:
        raise ValueError("connections must be at least 1")
    if batch is not None and batch < 1:
        raise ValueError("batch must be at least 1")
    answers: queue.Queue[OperatorBalances | BaseException] = queue.Queue()
    stop = threading.Event()

    def read(operator: Operator, requests: Sequence[BalanceRequest]) -> None:
        try:
            answers.put(
                _operator_balances(
                    operator,
                    requests,
                    connections=connections,
                    budget=budget,
                    stop=stop,
                    on_answer=on_answer,
                    batch=batch,
                    hand_over=answers.put,
                )
            )
        except BaseException as exc:  # surfaced in the caller's thread
            answers.put(exc)

    readers = [
        threading.Thread(target=read, args=(operator, requests), daemon=True)
        for operator, requests in jobs
    ]
    for reader in readers:
        reader.start()
    try:
        finished = 0
        while finished < len(readers):
            item = answers.get()
            if isinstance(item, BaseException):
                raise item
            if not item.partial:
                finished += 1
            yield item
    finally:
        stop.set()
        for reader in readers:
            reader.join()
