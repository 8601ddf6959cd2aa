"""Re-sending a failed outbound call from the call log, only where it is safe.

Safe means the operator treats the repeat as the same request (same transfer id, same
``providerTxId``, a state it sets or a balance it reads) and the request is rebuilt from our
own records, never from the logged body (bodies are masked, and were re-serialised for the
log). Every re-send is signed afresh (new signature, new wallet timestamp) by the clients.

* A money call (``transfer``, wallet ``withdraw``/``deposit``/``rollback``) whose transaction
  has a saga goes *through the saga*: retried when it is running (the saga records the
  answer), refused when it has finished (its outcome is final; a raw re-post would not be
  recorded anywhere).
* A transaction that no saga owns: a ``transfer``, WIN or rollback is re-posted with the same
  id; the answer lands in the call log and the transaction is left for staff to resolve. A
  BET is never re-posted outside a saga: it would take a follower's money with no pool to put
  it in.
* ``streamer-balance`` is re-read; ``game-pool`` is re-sent through the pool's own rules
  (``apps.transactions.locks.pool_game_pool_resend``), and only when the pool still needs that state.
* Inbound calls, successful calls and wallet ``auth`` (its token is masked) are refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from apps.backoffice.review import review_retry_now
from apps.core.errors import Conflict, ErrorCode
from apps.operators import clients
from apps.operators.models import CallLog
from apps.pools.models import Pool
from apps.transactions.gateways import OperatorGateway
from apps.transactions.locks import pool_game_pool_resend
from apps.transactions.models import Saga, Transaction

MONEY_ENDPOINTS = frozenset({"transfer", "wallet/withdraw", "wallet/deposit", "wallet/rollback"})
RESENDABLE = MONEY_ENDPOINTS | {"streamer-balance", "game-pool"}


@dataclass(frozen=True)
class ResendOutcome:
    via: str  # "saga" or "direct"
    message: str


def call_resend_refusal(call: CallLog) -> str | None:
    """Why this call may not be re-sent; None when it may (the final checks run on send)."""
    if call.direction != CallLog.Direction.OUTBOUND:
        return "Inbound calls are re-sent by the operator, not by us"
    if call.outcome == CallLog.Outcome.SUCCESS:
        return "The call succeeded: there is nothing to re-send"
    if call.endpoint not in RESENDABLE:
        return f"{call.endpoint} calls are not re-sent from the call log"
    if call.operator_id is None:
        return "The call has no operator"
    return None


def _logged_json(call: CallLog) -> dict:
    try:
        body = json.loads(call.request_body or "{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Conflict(
            "The logged request body is not a JSON object", code=ErrorCode.NOT_RESENDABLE
        )
    return body


def _verdict(result: clients.CallResult) -> str:
    if result.ok:
        return f"accepted (HTTP {result.status})"
    kind = "refused" if result.refused else "no usable answer"
    return " ".join(filter(None, [kind, str(result.status or ""), result.error_code]))


def call_resend(*, call: CallLog) -> ResendOutcome:
    refusal = call_resend_refusal(call)
    if refusal:
        raise Conflict(refusal, code=ErrorCode.NOT_RESENDABLE)
    operator_id = call.operator_id
    assert operator_id is not None  # call_resend_refusal refuses a call without an operator
    if call.endpoint in MONEY_ENDPOINTS:
        return _resend_money(call, operator_id=operator_id)
    if call.endpoint == "streamer-balance":
        body = _logged_json(call)
        operator = call.operator
        assert operator is not None  # its operator_id is not None
        result = clients.streamer_balance(
            operator, user_id=str(body.get("userId") or ""), currency=body.get("currency")
        )
        balance = result.amount("balance") if result.ok else None
        detail = f"; balance {balance} {result.data.get('currency', '')}" if result.ok else ""
        return ResendOutcome("direct", f"streamer-balance {_verdict(result)}{detail}")
    return _resend_game_pool(call, operator_id=operator_id)


def _resend_game_pool(call: CallLog, *, operator_id: int) -> ResendOutcome:
    body = _logged_json(call)
    pool = (
        Pool.objects.filter(
            operator_id=operator_id,
            streamer__operator_user_id=str(body.get("userId") or ""),
            is_demo=False,
            opened_at__lte=call.created_at,
        )
        .order_by("-opened_at")
        .first()
    )
    if pool is None:
        raise Conflict("No pool of this streamer matches the call", code=ErrorCode.NOT_RESENDABLE)
    needed = "OPEN" if pool.state == Pool.State.OPEN else "CLOSE"
    if body.get("state") != needed:
        raise Conflict(
            f"The pool is {pool.state} now: re-sending {body.get('state')} would be wrong",
            code=ErrorCode.NOT_RESENDABLE,
        )
    return ResendOutcome("pool", pool_game_pool_resend(pool=pool))


def _resend_money(call: CallLog, *, operator_id: int) -> ResendOutcome:

    tx = (
        Transaction.objects.select_related(
            "saga", "pool__streamer", "pool__operator", "position__session", "position__follower"
        )
        .filter(operator_id=operator_id, external_id=call.external_id)
        .first()
        if call.external_id
        else None
    )
    if tx is None:
        raise Conflict(
            "No transaction owns this call: money calls are only re-sent with their transaction",
            code=ErrorCode.NOT_RESENDABLE,
        )
    if tx.status in (Transaction.Status.SUCCEEDED, Transaction.Status.ROLLED_BACK):
        raise Conflict(f"The transaction is {tx.status} already", code=ErrorCode.NOT_RESENDABLE)
    if tx.saga is not None and tx.saga.status != Saga.Status.RUNNING:
        raise Conflict(
            f"Saga #{tx.saga.pk} owning this call is {tx.saga.status}: its outcome is final",
            code=ErrorCode.NOT_RESENDABLE,
        )
    if tx.saga is not None:
        saga = review_retry_now(tx=tx)
        tx.refresh_from_db()
        return ResendOutcome(
            "saga",
            f"retried through saga #{saga.pk} ({saga.status}, step {saga.step}); "
            f"transaction now {tx.status}",
        )
    gateway = OperatorGateway()
    if call.endpoint == "transfer":
        result = gateway.transfer(tx=tx, pool=tx.pool)
    elif call.endpoint == "wallet/deposit" and tx.position is not None:
        result = gateway.win(tx=tx, position=tx.position)
    elif call.endpoint == "wallet/rollback" and tx.rolls_back is not None and tx.position:
        result = gateway.rollback(tx=tx, debit=tx.rolls_back, position=tx.position)
    else:
        raise Conflict(
            "A BET (or a call without its position) is never re-posted outside its saga",
            code=ErrorCode.NOT_RESENDABLE,
        )
    return ResendOutcome(
        "direct",
        f"{call.endpoint} {tx.external_id} re-posted: {_verdict(result)}; "
        "check the answer and resolve the transaction",
    )
