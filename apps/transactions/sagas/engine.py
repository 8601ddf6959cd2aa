"""The money flows as persisted state machines (sagas): join, leave and close-pool.

Rules every step follows (SPEC section 5):

* A transaction row, with its external id, is written *before* its request is sent, and
  its attempt counter is bumped before each send. A crash anywhere resumes from the rows:
  a row that may have been sent is treated as "outcome unknown".
* Retries reuse the external id; a new id is only ever taken for a *new* movement (a
  re-priced WITHDRAWAL, a rollback).
* An unknown outcome (timeout, 5xx, unreadable answer) is never taken for a failure or a
  success: a BET in doubt is rolled back, a transfer in doubt is asked again with the same
  id while the pool stays claimed, a WIN in doubt is retried until paid.
* Only one saga at a time advances a given saga row (a short lease on the row), and only one
  saga at a time prices a given pool (the pool's pricing claim, see apps.pools.services).

Join:  debit -> open_pool -> deposit -> done            (any failure -> rollback -> failed)
Leave: withdraw -> credit -> done                        (then close_pool when the pool is empty)
Close: close -> done
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.followers.models import Position
from apps.operators.clients import CallResult
from apps.pools import services as pools
from apps.pools.accounting import (
    opening_units,
    payout_for_units,
    units_after_issue,
    units_after_redeem,
    units_for_contribution,
)
from apps.pools.models import Pool
from apps.streamers.models import Stream
from apps.transactions.gateways import Gateway, gateway_for
from apps.transactions.models import Saga, Transaction

logger = logging.getLogger(__name__)

Kind = Transaction.Kind
Status = Transaction.Status

SAGA_LEASE = timedelta(seconds=120)
MAX_REPRICES = 5
INLINE_WAIT_LIMIT = 2.0


@dataclass
class StepContext:
    gateway: Gateway
    spawned: list[int] = field(default_factory=list)


# --- small helpers -------------------------------------------------------------------


def backoff(attempts: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff: 1, 2, 4, ... seconds, capped."""
    return min(cap, base * 2 ** min(max(attempts, 0), 16))


def _jsonable(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str))


def _goto(saga: Saga, step: str) -> None:
    saga.step = step
    saga.attempts = 0
    saga.next_run_at = None
    saga.save(update_fields=["step", "attempts", "next_run_at", "updated_at"])


def _wait(saga: Saga, seconds: float, error: str = "", *, review: str = "") -> None:
    saga.attempts += 1
    saga.next_run_at = timezone.now() + timedelta(seconds=seconds)
    saga.last_error = error[:2000]
    fields = ["attempts", "next_run_at", "last_error", "updated_at"]
    if review and not saga.needs_review:
        saga.needs_review = True
        saga.review_reason = review[:255]
        fields += ["needs_review", "review_reason"]
    saga.save(update_fields=fields)


def _finish(saga: Saga, status: str) -> None:
    saga.status = status
    saga.step = "done" if status == Saga.Status.DONE else "failed"
    saga.next_run_at = None
    saga.finished_at = timezone.now()
    saga.save(update_fields=["status", "step", "next_run_at", "finished_at", "updated_at"])


def _send(tx: Transaction, call: Callable[[], CallResult]) -> CallResult:
    """Count the attempt durably, then send."""
    now = timezone.now()
    Transaction.objects.filter(pk=tx.pk).update(attempts=F("attempts") + 1, last_attempt_at=now)
    tx.attempts += 1
    tx.last_attempt_at = now
    return call()


def _record(tx: Transaction, result: CallResult, status: str) -> None:
    tx.status = status
    tx.last_error_code = result.error_code
    tx.last_error = result.error_message
    fields = ["status", "last_error_code", "last_error", "updated_at"]
    if result.data:
        tx.response = _jsonable(result.data)
        fields.append("response")
    if status == Status.SUCCEEDED:
        tx.balance_before = result.amount("oldBalance")
        new_balance = result.amount("newBalance")  # wallet answers; transfers say "balance"
        tx.balance_after = new_balance if new_balance is not None else result.amount("balance")
        tx.operator_reference = str(result.data.get("clientTxId") or "")[:128]
        fields += ["balance_before", "balance_after", "operator_reference"]
    if status in (Status.SUCCEEDED, Status.FAILED, Status.ROLLED_BACK):
        tx.completed_at = timezone.now()
        fields.append("completed_at")
    tx.save(update_fields=fields)


def _new_tx(saga: Saga, kind: str, amount: Decimal, **extra) -> Transaction:
    pool = saga.pool
    position = saga.position
    return Transaction.objects.create(
        operator_id=saga.operator_id,
        kind=kind,
        amount=amount,
        currency=pool.currency,
        saga=saga,
        pool=pool,
        position=position,
        follower_id=position.follower_id if position else None,
        streamer_id=pool.streamer_id,
        is_demo=saga.is_demo,
        **extra,
    )


def _set_position_failure(position: Position, code: str, message: str) -> None:
    if not position.failure_code:
        position.failure_code = code[:64]
        position.failure_message = message[:255]
        position.save(update_fields=["failure_code", "failure_message", "updated_at"])


def close_saga_for(pool: Pool) -> Saga:
    """The pool's running close-pool saga, created if there is none."""
    running = Saga.objects.filter(
        pool=pool, kind=Saga.Kind.CLOSE_POOL, status=Saga.Status.RUNNING
    ).first()
    return running or Saga.objects.create(
        kind=Saga.Kind.CLOSE_POOL,
        step="close",
        operator_id=pool.operator_id,
        pool=pool,
        is_demo=pool.is_demo,
    )


def pool_close_begin(*, pool_id: int) -> Saga | None:
    """If the pool is open with no members, move it to closing *and* create its close saga in
    one transaction (a crash can never leave a closing pool without a saga to finish it)."""
    with transaction.atomic():
        pool = pools.pool_begin_close_if_empty(pool_id=pool_id)
        return close_saga_for(pool) if pool is not None else None


def _spawn_close_if_empty(saga: Saga, ctx: StepContext) -> None:
    close = pool_close_begin(pool_id=saga.pool_id)
    if close is not None:
        ctx.spawned.append(close.pk)


def _pool_should_pay_out(pool: Pool) -> bool:
    """True when members must leave now: the pool is bust or no stream of the streamer is live."""
    if pool.is_bust:
        return True
    return not Stream.objects.filter(
        streamer_id=pool.streamer_id, status=Stream.Status.LIVE
    ).exists()


def position_leave_begin(position: Position) -> Saga | None:
    """Start the leave saga of an active position; None if it is not active (any more)."""
    with transaction.atomic():
        moved = Position.objects.filter(pk=position.pk, status=Position.Status.ACTIVE).update(
            status=Position.Status.LEAVING, updated_at=timezone.now()
        )
        if not moved:
            return None
        return Saga.objects.create(
            kind=Saga.Kind.LEAVE,
            step="withdraw",
            operator_id=position.pool.operator_id,
            pool_id=position.pool_id,
            position=position,
            is_demo=position.is_demo,
        )


def pool_pay_out_all(pool: Pool) -> list[int]:
    """Start a leave for every active position of the pool (stream end, bust)."""
    started = []
    for position in Position.objects.filter(
        pool=pool, status=Position.Status.ACTIVE
    ).select_related("pool"):
        leave = position_leave_begin(position)
        if leave is not None:
            started.append(leave.pk)
    return started


def _bust(saga: Saga, ctx: StepContext) -> None:
    if pools.pool_mark_bust(pool_id=saga.pool_id):
        logger.warning("Pool %s is bust", saga.pool_id)
        ctx.spawned.extend(pool_pay_out_all(Pool.objects.get(pk=saga.pool_id)))


# --- join ----------------------------------------------------------------------------


def join_debit(saga: Saga, ctx: StepContext) -> None:
    """The BET: wallet withdraw of the contribution from the follower."""
    position = saga.position
    tx = saga.transactions.get(kind=Kind.FOLLOWER_DEBIT)
    if tx.status == Status.SUCCEEDED:
        return _goto(saga, "open_pool")
    if tx.status == Status.UNKNOWN or (tx.status == Status.PENDING and tx.attempts > 0):
        # Sent before a crash, answer never recorded: the outcome is unknown.
        Transaction.objects.filter(pk=tx.pk, status=Status.PENDING).update(status=Status.UNKNOWN)
        _set_position_failure(
            position, "ERR_WALLET_UNAVAILABLE", "The wallet did not answer the bet"
        )
        return _goto(saga, "rollback")
    result = _send(tx, lambda: ctx.gateway.bet(tx=tx, position=position))
    if result.ok:
        _record(tx, result, Status.SUCCEEDED)
        return _goto(saga, "open_pool")
    if result.refused:
        _record(tx, result, Status.FAILED)
        _set_position_failure(
            position, result.error_code, result.error_message or "The wallet refused the bet"
        )
        return _join_failed(saga, ctx)
    _record(tx, result, Status.UNKNOWN)
    _set_position_failure(position, "ERR_WALLET_UNAVAILABLE", "The wallet did not answer the bet")
    return _goto(saga, "rollback")


def join_open_pool(saga: Saga, ctx: StepContext) -> None:
    """game-pool OPEN (the withdrawal lock) before the pool's first deposit, then B0."""
    pool = Pool.objects.select_related("streamer", "operator").get(pk=saga.pool_id)
    if pool.lock_state == Pool.LockState.LOCKED:
        return _goto(saga, "deposit")
    Pool.objects.filter(pk=pool.pk, open_sent_at__isnull=True).update(open_sent_at=timezone.now())
    result = ctx.gateway.game_pool(pool=pool, state="OPEN")
    if result.ok:
        pools.pool_mark_locked(pool_id=pool.pk)
        opening = ctx.gateway.balance(pool=pool)
        balance = opening.amount("balance") if opening.ok else None
        if balance is not None:
            Pool.objects.filter(pk=pool.pk, opening_balance__isnull=True).update(
                opening_balance=balance
            )
            pools.pool_observe_balance(pool_id=pool.pk, balance=balance)
        return _goto(saga, "deposit")
    if result.refused:
        _set_position_failure(
            saga.position, result.error_code, "The operator refused to open the pool"
        )
        return _goto(saga, "rollback")
    return _wait(saga, backoff(saga.attempts), f"game-pool OPEN: {result.error_code}")


def join_deposit(saga: Saga, ctx: StepContext) -> None:
    """Price the join on a fresh balance and transfer DEPOSIT into the streamer's balance."""
    if not pools.pool_pricing_claim(pool_id=saga.pool_id, saga_id=saga.pk):
        return _wait(saga, 0.5, "waiting for the pool's pricing claim")
    position = saga.position
    pool = Pool.objects.select_related("streamer", "operator").get(pk=saga.pool_id)
    tx = saga.transactions.filter(kind=Kind.STREAMER_DEPOSIT).first()
    if tx is None:
        reading = ctx.gateway.balance(pool=pool)
        balance = reading.amount("balance") if reading.ok else None
        if balance is None:
            pools.pool_pricing_release(pool_id=pool.pk, saga_id=saga.pk)
            if reading.refused:
                _set_position_failure(
                    position, reading.error_code, "The operator refused the streamer balance"
                )
                return _goto(saga, "rollback")
            return _wait(saga, backoff(saga.attempts), f"streamer-balance: {reading.error_code}")
        pools.pool_observe_balance(pool_id=pool.pk, balance=balance)
        total_units = pool.total_units
        if total_units > 0 and balance == 0:
            pools.pool_pricing_release(pool_id=pool.pk, saga_id=saga.pk)
            _set_position_failure(position, "ERR_POOL_BUST", "The pool is bust")
            _bust(saga, ctx)
            return _goto(saga, "rollback")
        if total_units == 0:
            # The pool's first units: the streamer's balance at NAV 1.
            total_units = opening_units(balance=balance)
            Pool.objects.filter(pk=pool.pk).update(
                streamer_units=total_units, total_units=total_units
            )
        units = units_for_contribution(
            amount=position.contributed, balance=balance, total_units=total_units
        )
        tx = _new_tx(
            saga,
            Kind.STREAMER_DEPOSIT,
            position.contributed,
            units=units,
            priced_balance=balance,
            priced_total_units=total_units,
        )
    elif tx.status == Status.FAILED:
        pools.pool_pricing_release(pool_id=pool.pk, saga_id=saga.pk)
        return _goto(saga, "rollback")
    result = _send(tx, lambda: ctx.gateway.transfer(tx=tx, pool=pool))
    if result.ok:
        with transaction.atomic():
            _record(tx, result, Status.SUCCEEDED)
            balance_after = result.amount("balance")
            # Units change only under the pricing claim, so the priced total is still current.
            Pool.objects.filter(pk=pool.pk).update(
                total_units=units_after_issue(total_units=tx.priced_total_units, issued=tx.units),
                balance=balance_after
                if balance_after is not None
                else tx.priced_balance + tx.amount,
                balance_at=timezone.now(),
                pricing_saga=None,
                pricing_since=None,
            )
            Position.objects.filter(pk=position.pk).update(
                status=Position.Status.ACTIVE, units=tx.units, updated_at=timezone.now()
            )
            _finish(saga, Saga.Status.DONE)
        pool.refresh_from_db()
        if _pool_should_pay_out(pool):
            position.refresh_from_db()
            leave = position_leave_begin(position)
            if leave is not None:
                ctx.spawned.append(leave.pk)
        return None
    if result.refused:
        _record(tx, result, Status.FAILED)
        pools.pool_pricing_release(pool_id=pool.pk, saga_id=saga.pk)
        _set_position_failure(
            position, result.error_code, result.error_message or "The operator refused the transfer"
        )
        return _goto(saga, "rollback")
    # In doubt: keep the pool claimed (its balance may or may not include this deposit)
    # and ask again with the same id.
    _record(tx, result, Status.UNKNOWN)
    return _wait(saga, backoff(tx.attempts, cap=60), f"transfer DEPOSIT: {result.error_code}")


def join_rollback(saga: Saga, ctx: StepContext) -> None:
    """Refund the BET (wallet rollback with its own id); retried until answered."""
    position = saga.position
    debit = saga.transactions.get(kind=Kind.FOLLOWER_DEBIT)
    if debit.status in (Status.FAILED, Status.ROLLED_BACK):
        return _join_failed(saga, ctx)
    if debit.status == Status.PENDING and debit.attempts == 0:
        # Never sent: nothing to refund.
        debit.status = Status.FAILED
        debit.last_error_code = position.failure_code
        debit.save(update_fields=["status", "last_error_code", "updated_at"])
        return _join_failed(saga, ctx)
    rollback = Transaction.objects.filter(rolls_back=debit).first() or _new_tx(
        saga, Kind.FOLLOWER_ROLLBACK, debit.amount, rolls_back=debit
    )
    result = _send(
        rollback, lambda: ctx.gateway.rollback(tx=rollback, debit=debit, position=position)
    )
    if result.ok:
        with transaction.atomic():
            _record(rollback, result, Status.SUCCEEDED)
            Transaction.objects.filter(pk=debit.pk).update(
                status=Status.ROLLED_BACK, completed_at=timezone.now()
            )
        return _join_failed(saga, ctx)
    if result.refused and result.status == 408:
        # The wallet never saw the withdraw (and will refuse it if it arrives late).
        with transaction.atomic():
            _record(rollback, result, Status.FAILED)
            Transaction.objects.filter(pk=debit.pk).update(
                status=Status.FAILED,
                last_error_code="ERR_TRANSACTION_NOT_FOUND",
                completed_at=timezone.now(),
            )
        return _join_failed(saga, ctx)
    _record(rollback, result, Status.UNKNOWN if result.unknown else Status.PENDING)
    review = f"rollback refused: {result.error_code}" if result.refused else ""
    return _wait(
        saga, backoff(rollback.attempts, cap=600), f"rollback: {result.error_code}", review=review
    )


def _join_failed(saga: Saga, ctx: StepContext) -> None:
    with transaction.atomic():
        Position.objects.filter(pk=saga.position_id).update(
            status=Position.Status.FAILED,
            units=0,
            closed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        _finish(saga, Saga.Status.FAILED)
    _spawn_close_if_empty(saga, ctx)


# --- leave ---------------------------------------------------------------------------


def leave_withdraw(saga: Saga, ctx: StepContext) -> None:
    """Price the leave on a fresh balance and transfer WITHDRAWAL of the payout."""
    if not pools.pool_pricing_claim(pool_id=saga.pool_id, saga_id=saga.pk):
        return _wait(saga, 0.5, "waiting for the pool's pricing claim")
    position = Position.objects.get(pk=saga.position_id)
    pool = Pool.objects.select_related("streamer", "operator").get(pk=saga.pool_id)
    withdrawals = saga.transactions.filter(kind=Kind.STREAMER_WITHDRAWAL)
    tx = withdrawals.filter(status__in=[Status.PENDING, Status.UNKNOWN]).order_by("-pk").first()
    if tx is None:
        reading = ctx.gateway.balance(pool=pool)
        balance = reading.amount("balance") if reading.ok else None
        if balance is None:
            pools.pool_pricing_release(pool_id=pool.pk, saga_id=saga.pk)
            review = f"streamer-balance refused: {reading.error_code}" if reading.refused else ""
            return _wait(
                saga,
                backoff(saga.attempts, cap=600),
                f"streamer-balance: {reading.error_code}",
                review=review,
            )
        pools.pool_observe_balance(pool_id=pool.pk, balance=balance)
        payout = payout_for_units(
            units=position.units, balance=balance, total_units=pool.total_units
        )
        if payout == 0:
            # Nothing to move on the operator's side (a bust pool): redeem the units, the
            # WIN of 0 still closes the follower's round.
            with transaction.atomic():
                Pool.objects.filter(pk=pool.pk).update(
                    total_units=units_after_redeem(
                        total_units=pool.total_units,
                        redeemed=position.units,
                        streamer_units=pool.streamer_units,
                    ),
                    pricing_saga=None,
                    pricing_since=None,
                )
                Position.objects.filter(pk=position.pk).update(
                    units=0, payout=0, updated_at=timezone.now()
                )
                _goto(saga, "credit")
            if balance == 0 and pool.total_units > 0:
                _bust(saga, ctx)
            _spawn_close_if_empty(saga, ctx)
            return None
        tx = _new_tx(
            saga,
            Kind.STREAMER_WITHDRAWAL,
            payout,
            units=position.units,
            priced_balance=balance,
            priced_total_units=pool.total_units,
        )
    result = _send(tx, lambda: ctx.gateway.transfer(tx=tx, pool=pool))
    if result.ok:
        with transaction.atomic():
            _record(tx, result, Status.SUCCEEDED)
            balance_after = result.amount("balance")
            Pool.objects.filter(pk=pool.pk).update(
                total_units=units_after_redeem(
                    total_units=tx.priced_total_units,
                    redeemed=tx.units,
                    streamer_units=pool.streamer_units,
                ),
                balance=balance_after
                if balance_after is not None
                else tx.priced_balance - tx.amount,
                balance_at=timezone.now(),
                pricing_saga=None,
                pricing_since=None,
            )
            Position.objects.filter(pk=position.pk).update(
                units=0, payout=tx.amount, updated_at=timezone.now()
            )
            _goto(saga, "credit")
        # CLOSE goes as soon as the last member's WITHDRAWAL succeeded, not after the WIN.
        _spawn_close_if_empty(saga, ctx)
        return None
    if result.refused and result.error_code == "ERR_INSUFFICIENT_BALANCE":
        # The balance moved since we read it: re-price with a new id (the pool stays claimed).
        _record(tx, result, Status.FAILED)
        if withdrawals.filter(status=Status.FAILED).count() % MAX_REPRICES == 0:
            pools.pool_pricing_release(pool_id=pool.pk, saga_id=saga.pk)
            return _wait(saga, backoff(saga.attempts, cap=60), "re-priced repeatedly, backing off")
        return None
    if result.refused:
        _record(tx, result, Status.FAILED)
        pools.pool_pricing_release(pool_id=pool.pk, saga_id=saga.pk)
        return _wait(
            saga,
            backoff(saga.attempts, cap=600),
            f"transfer WITHDRAWAL refused: {result.error_code}",
            review=f"WITHDRAWAL refused: {result.error_code}",
        )
    _record(tx, result, Status.UNKNOWN)
    return _wait(saga, backoff(tx.attempts, cap=60), f"transfer WITHDRAWAL: {result.error_code}")


def leave_credit(saga: Saga, ctx: StepContext) -> None:
    """The WIN: wallet deposit of the payout, retried with the same id until paid."""
    position = Position.objects.select_related("session", "follower").get(pk=saga.position_id)
    tx = saga.transactions.filter(kind=Kind.FOLLOWER_CREDIT).first() or _new_tx(
        saga, Kind.FOLLOWER_CREDIT, position.payout or Decimal(0)
    )
    if tx.status != Status.SUCCEEDED:
        result = _send(tx, lambda: ctx.gateway.win(tx=tx, position=position))
        if not result.ok:
            _record(tx, result, Status.UNKNOWN if result.unknown else Status.PENDING)
            overdue = timezone.now() - tx.created_at > settings.COPYPOOL_WIN_REVIEW_AFTER
            review = ""
            if result.refused:
                review = f"WIN refused: {result.error_code}"
            elif overdue:
                review = "WIN unpaid for more than 24 hours"
            if review and not tx.needs_review:
                Transaction.objects.filter(pk=tx.pk).update(needs_review=True)
            return _wait(
                saga,
                backoff(tx.attempts, base=2.0, cap=1800),
                f"WIN: {result.error_code}",
                review=review,
            )
        _record(tx, result, Status.SUCCEEDED)
    with transaction.atomic():
        Position.objects.filter(pk=position.pk).update(
            status=Position.Status.CLOSED, closed_at=timezone.now(), updated_at=timezone.now()
        )
        _finish(saga, Saga.Status.DONE)
    return None


# --- close ---------------------------------------------------------------------------


def close_send(saga: Saga, ctx: StepContext) -> None:
    """game-pool CLOSE: releases the streamer's withdrawal lock."""
    pool = Pool.objects.select_related("streamer", "operator").get(pk=saga.pool_id)
    if pool.state == Pool.State.CLOSED:
        return _finish(saga, Saga.Status.DONE)
    result = ctx.gateway.game_pool(pool=pool, state="CLOSE")
    if result.ok:
        with transaction.atomic():
            pools.pool_mark_closed(pool_id=pool.pk)
            _finish(saga, Saga.Status.DONE)
        return None
    review = f"CLOSE refused: {result.error_code}" if result.refused else ""
    return _wait(
        saga,
        backoff(saga.attempts, cap=600),
        f"game-pool CLOSE: {result.error_code}",
        review=review,
    )


STEPS: dict[tuple[str, str], Callable[[Saga, StepContext], None]] = {
    ("join", "debit"): join_debit,
    ("join", "open_pool"): join_open_pool,
    ("join", "deposit"): join_deposit,
    ("join", "rollback"): join_rollback,
    ("leave", "withdraw"): leave_withdraw,
    ("leave", "credit"): leave_credit,
    ("close_pool", "close"): close_send,
}


# --- runner --------------------------------------------------------------------------


def _lease_take(saga_id: int, owner: str) -> bool:
    now = timezone.now()
    return bool(
        Saga.objects.filter(pk=saga_id, status=Saga.Status.RUNNING)
        .filter(Q(lease_owner="") | Q(lease_expires_at__lt=now) | Q(lease_owner=owner))
        .update(lease_owner=owner, lease_expires_at=now + SAGA_LEASE)
    )


def _lease_drop(saga_id: int, owner: str) -> None:
    Saga.objects.filter(pk=saga_id, lease_owner=owner).update(lease_owner="", lease_expires_at=None)


def saga_advance(saga_id: int, *, budget: float = 30.0, follow: bool = True) -> Saga:
    """Drive one saga forward until it finishes, must wait, or ``budget`` seconds are spent.

    Safe to call from anywhere, any number of times, concurrently: a lease on the saga row
    lets one caller at a time run it, and every step is idempotent against stored state.
    Short waits (a busy pool, a first retry) are slept through inline; longer ones are left
    to the scheduler (``next_run_at``). Sagas this one spawned (a close, a pay-out) are
    advanced after it when ``follow`` is set.
    """
    owner = uuid.uuid4().hex
    if not _lease_take(saga_id, owner):
        return Saga.objects.get(pk=saga_id)
    spawned: list[int] = []
    deadline = time.monotonic() + budget
    try:
        while True:
            saga = Saga.objects.select_related(
                "pool__streamer",
                "pool__operator",
                "operator",
                "position__session",
                "position__follower",
            ).get(pk=saga_id)
            if saga.status != Saga.Status.RUNNING:
                break
            if saga.next_run_at and saga.next_run_at > timezone.now():
                delay = (saga.next_run_at - timezone.now()).total_seconds()
                if delay <= min(INLINE_WAIT_LIMIT, deadline - time.monotonic()):
                    time.sleep(max(delay, 0))
                    continue
                break
            ctx = StepContext(gateway=gateway_for(saga.pool))
            STEPS[(saga.kind, saga.step)](saga, ctx)
            spawned.extend(ctx.spawned)
            if time.monotonic() > deadline:
                break
            _lease_take(saga_id, owner)  # renew
    except Exception:
        # Whatever broke, the stored state is consistent (rows are written before sends):
        # log it and let the scheduler resume the saga shortly.
        logger.exception("Saga %s failed in a step; it will be resumed", saga_id)
        Saga.objects.filter(pk=saga_id).update(next_run_at=timezone.now() + timedelta(seconds=5))
    finally:
        _lease_drop(saga_id, owner)
    from apps.transactions.tasks import saga_schedule

    remaining = max(deadline - time.monotonic(), 1.0)
    for spawned_id in spawned:
        if follow:
            saga_advance(spawned_id, budget=remaining, follow=True)
        else:
            saga_schedule(Saga.objects.get(pk=spawned_id))
    saga = Saga.objects.get(pk=saga_id)
    if saga.status == Saga.Status.RUNNING:
        saga_schedule(saga)
    return saga


def sagas_due(*, limit: int = 1000) -> list[int]:
    now = timezone.now()
    return list(
        Saga.objects.filter(status=Saga.Status.RUNNING)
        .filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now))
        .filter(Q(lease_owner="") | Q(lease_expires_at__lt=now))
        .order_by("next_run_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
