"""The join flow: a follower's contribution enters the streamer's pool (SPEC sections 4 and 5).

State machine (``JoinStep``)::

    debit      -> open_pool  the BET (wallet withdraw) was taken
               -> rollback   the BET is in doubt (no answer): refund it
               -> failed     the wallet refused the BET
    open_pool  -> deposit    the operator acknowledged game-pool OPEN (or the pool is locked)
               -> rollback   the operator refused OPEN
               (stay)        no answer: retry with backoff
    deposit    -> done       the DEPOSIT was applied: units issued, the position is active
               -> rollback   the balance or the DEPOSIT was refused, or the pool is bust
               (stay)        the pool is claimed by another saga, the balance unreadable, or
                             the DEPOSIT in doubt (asked again with the same id, the pool
                             stays claimed)
    rollback   -> failed     the BET was refunded, or found never taken (408)
               (stay)        no answer, or refused: retry (a refusal flags it for review)

Staff may also move a running join to ``rollback`` (apps.transactions.review). A failed join
closes its pool when it was the last member; a join that lands in a pool that must pay out
(bust, stream over) starts its own leave at once.

**Top-up** (``Saga.Kind.TOP_UP``, ``top_up_begin``): more money into an active position, the
same steps and the same faults as a join, with the amount of its own BET row. The position
stays ``active`` and untouched while it runs: on success its ``units`` grow by the units
issued, its ``contributed`` and its ``high_water_mark`` by the amount (all under the
pricing claim, with the receipt; a join's DEPOSIT sets the mark the same way); on failure nothing about the position changes (the failure is the saga's
``failure_code``), and the pool is never closed by it (the position is still a member). A
top-up priced after a leave of its position began (stream end, bust, staff) is refunded
instead (``ErrorCode.POSITION_NOT_ACTIVE``): checked under the claim, so a leave that begins
later prices after the top-up and redeems its units too.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from django.db import transaction
from django.utils import timezone

from apps.core.errors import ErrorCode
from apps.core.money import MATH_CONTEXT
from apps.followers.models import Position
from apps.pools import services as pools
from apps.pools.accounting import opening_units, units_for_contribution
from apps.pools.models import Pool
from apps.transactions.finance.journal import journal_post
from apps.transactions.models import JoinStep, Saga, Transaction
from apps.transactions.sagas.close import close_spawn_if_empty
from apps.transactions.sagas.engine import (
    Flow,
    StepContext,
    Transition,
    backoff,
    finish,
    flow_register,
    goto,
    new_tx,
    position_id_of,
    record,
    send,
    wait,
)
from apps.transactions.sagas.leave import (
    leave_begin,
    pool_bust_and_pay_out,
    pool_leave_reason,
    pool_should_pay_out,
)
from apps.transactions.sagas.pricing import pool_apply_transfer, pool_price, pricing_release

__all__ = [
    "JOIN_FLOW",
    "JOIN_TRANSITIONS",
    "JoinStep",
    "join_begin",
    "join_debit",
    "join_deposit",
    "join_open_pool",
    "join_rollback",
    "top_up_begin",
]

Kind = Transaction.Kind
Status = Transaction.Status


@transaction.atomic(savepoint=False)  # inside the caller's transaction that creates the position
def join_begin(*, position: Position) -> Saga:
    """Persist a join's saga and its BET row, before anything is sent.

    Call it in the database transaction that creates the position, then drive the saga
    (``saga_advance``).
    """
    pool = position.pool
    saga = Saga.objects.create(
        kind=Saga.Kind.JOIN,
        step=JoinStep.DEBIT,
        operator_id=pool.operator_id,
        pool=pool,
        position=position,
        is_demo=position.is_demo,
    )
    new_tx(saga, Kind.FOLLOWER_DEBIT, position.contributed)
    return saga


@transaction.atomic(savepoint=False)  # inside the caller's transaction, under the row lock
def top_up_begin(*, position: Position, amount: Decimal) -> Saga:
    """Persist a top-up's saga and its BET row of ``amount``, before anything is sent.

    The caller has checked the position is active with no other saga running on it, under
    its row lock (``apps.transactions.services.position_top_up``).
    """
    pool = position.pool
    saga = Saga.objects.create(
        kind=Saga.Kind.TOP_UP,
        step=JoinStep.DEBIT,
        operator_id=pool.operator_id,
        pool=pool,
        position=position,
        is_demo=position.is_demo,
    )
    new_tx(saga, Kind.FOLLOWER_DEBIT, amount)
    return saga


def _is_top_up(saga: Saga) -> bool:
    return saga.kind == Saga.Kind.TOP_UP


def _amount(saga: Saga) -> Decimal:
    """The money this saga moves in: its BET's amount (a join's is its position's
    ``contributed``, a top-up's its own)."""
    return saga.transactions.get(kind=Kind.FOLLOWER_DEBIT).amount


def _position(saga: Saga) -> Position:
    position = saga.position
    if position is None:
        raise ValueError(f"join saga #{saga.pk} has no position")
    return position


def _set_failure(saga: Saga, position: Position, code: str, message: str) -> None:
    """Why the join failed, on its position; a top-up's on its saga (its position stays as
    it was). The first reason given stays."""
    if _is_top_up(saga):
        if not saga.failure_code:
            saga.failure_code = code[:64]
            saga.failure_message = message[:255]
            saga.save(update_fields=["failure_code", "failure_message", "updated_at"])
        return
    _set_position_failure(position, code, message)


def _set_position_failure(position: Position, code: str, message: str) -> None:
    if not position.failure_code:
        position.failure_code = code[:64]
        position.failure_message = message[:255]
        position.save(update_fields=["failure_code", "failure_message", "updated_at"])


def join_debit(saga: Saga, ctx: StepContext) -> None:
    """The BET: wallet withdraw of the contribution from the follower."""
    position = _position(saga)
    tx = saga.transactions.get(kind=Kind.FOLLOWER_DEBIT)
    if tx.status == Status.SUCCEEDED:
        return goto(saga, JoinStep.OPEN_POOL)
    if tx.status == Status.FAILED:
        # Refused before a crash, the join not yet marked failed: never send it again.
        _set_failure(saga, position, tx.last_error_code, "The wallet refused the bet")
        return _join_failed(saga, ctx)
    if tx.status == Status.UNKNOWN or (tx.status == Status.PENDING and tx.attempts > 0):
        # Sent before a crash, answer never recorded: the outcome is unknown.
        Transaction.objects.filter(pk=tx.pk, status=Status.PENDING).update(status=Status.UNKNOWN)
        _set_failure(
            saga, position, ErrorCode.WALLET_UNAVAILABLE, "The wallet did not answer the bet"
        )
        return goto(saga, JoinStep.ROLLBACK)
    result = send(tx, lambda: ctx.gateway.bet(tx=tx, position=position))
    if result.ok:
        record(tx, result, Status.SUCCEEDED)
        return goto(saga, JoinStep.OPEN_POOL)
    if result.refused:
        record(tx, result, Status.FAILED)
        _set_failure(
            saga, position, result.error_code, result.error_message or "The wallet refused the bet"
        )
        return _join_failed(saga, ctx)
    record(tx, result, Status.UNKNOWN)
    _set_failure(saga, position, ErrorCode.WALLET_UNAVAILABLE, "The wallet did not answer the bet")
    return goto(saga, JoinStep.ROLLBACK)


def join_open_pool(saga: Saga, ctx: StepContext) -> None:
    """game-pool OPEN (the withdrawal lock) before the pool's first deposit, then B0.

    B0, the streamer's balance once the operator acknowledged OPEN, is the pool's opening
    balance; it becomes the streamer's units at NAV 1 when the first DEPOSIT is priced.
    """
    pool = Pool.objects.select_related("streamer", "operator").get(pk=saga.pool_id)
    if pool.lock_state == Pool.LockState.LOCKED:
        return goto(saga, JoinStep.DEPOSIT)
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
        return goto(saga, JoinStep.DEPOSIT)
    if result.refused:
        _set_failure(
            saga, _position(saga), result.error_code, "The operator refused to open the pool"
        )
        return goto(saga, JoinStep.ROLLBACK)
    return wait(saga, backoff(saga.attempts), f"game-pool OPEN: {result.error_code}")


def join_deposit(saga: Saga, ctx: StepContext) -> None:
    """Price the join on a fresh balance and transfer DEPOSIT into the streamer's balance.

    A contribution ``A`` at balance ``B`` of a pool of ``U`` units issues ``A * U / B`` units,
    rounded down (``units_for_contribution``). A pool with no units is first rebased: the
    balance becomes the streamer's units at NAV 1 (``opening_units``), so the money the
    streamer had before anyone joined stays the streamer's. ``B == 0`` with units out means
    the pool is bust: the join is rolled back and every member paid out (with 0).

    A top-up prices its own amount the same way, into a position that must still be active
    when the claim is taken (its units only move under the claim, so the ones loaded then are
    the ones the DEPOSIT adds to).
    """
    deposit = saga.transactions.filter(kind=Kind.STREAMER_DEPOSIT).first()
    pricing = pool_price(saga, ctx, read_balance=deposit is None)
    if pricing is None:
        return None
    position = Position.objects.get(pk=position_id_of(saga))
    pool = pricing.pool
    amount = _amount(saga)
    if deposit is None and _is_top_up(saga) and position.status != Position.Status.ACTIVE:
        # A leave of the position began first: it redeems the units as they are.
        pricing_release(saga)
        _set_failure(
            saga, position, ErrorCode.POSITION_NOT_ACTIVE, "The position is leaving the pool"
        )
        return goto(saga, JoinStep.ROLLBACK)
    if deposit is None:
        balance = pricing.balance
        if balance is None:
            if pricing.refused:
                _set_failure(
                    saga, position, pricing.error_code, "The operator refused the streamer balance"
                )
                return goto(saga, JoinStep.ROLLBACK)
            return wait(saga, backoff(saga.attempts), f"streamer-balance: {pricing.error_code}")
        total_units = pool.total_units
        if total_units > 0 and balance == 0:
            pricing_release(saga)
            _set_failure(saga, position, ErrorCode.POOL_BUST, "The pool is bust")
            pool_bust_and_pay_out(saga, ctx)
            return goto(saga, JoinStep.ROLLBACK)
        if total_units == 0:
            # The pool's first units: the streamer's balance at NAV 1.
            total_units = opening_units(balance=balance)
            Pool.objects.filter(pk=pool.pk).update(
                streamer_units=total_units, total_units=total_units
            )
        units = units_for_contribution(amount=amount, balance=balance, total_units=total_units)
        deposit = new_tx(
            saga,
            Kind.STREAMER_DEPOSIT,
            amount,
            units=units,
            priced_balance=balance,
            priced_total_units=total_units,
        )
    elif deposit.status == Status.FAILED:
        pricing_release(saga)
        return goto(saga, JoinStep.ROLLBACK)
    tx = deposit
    result = send(tx, lambda: ctx.gateway.transfer(tx=tx, pool=pool))
    if result.ok:
        with transaction.atomic():
            pool_apply_transfer(tx, result, pool=pool)
            if _is_top_up(saga):
                with localcontext(MATH_CONTEXT):
                    units = position.units + (tx.units or 0)
                    contributed = position.contributed + tx.amount
                    mark = position.high_water_mark + tx.amount
                Position.objects.filter(pk=position.pk).update(
                    units=units,
                    contributed=contributed,
                    high_water_mark=mark,
                    updated_at=timezone.now(),
                )
            else:
                with localcontext(MATH_CONTEXT):
                    mark = position.high_water_mark + tx.amount
                Position.objects.filter(pk=position.pk).update(
                    status=Position.Status.ACTIVE,
                    units=tx.units,
                    high_water_mark=mark,
                    updated_at=timezone.now(),
                )
            finish(saga, Saga.Status.DONE)
        pool.refresh_from_db()
        if pool_should_pay_out(pool):
            position.refresh_from_db()
            leave = leave_begin(position=position, reason=pool_leave_reason(pool))
            if leave is not None:
                ctx.spawned.append(leave.pk)
        return None
    if result.refused:
        record(tx, result, Status.FAILED)
        pricing_release(saga)
        _set_failure(
            saga,
            position,
            result.error_code,
            result.error_message or "The operator refused the transfer",
        )
        return goto(saga, JoinStep.ROLLBACK)
    # In doubt: keep the pool claimed (its balance may or may not include this deposit)
    # and ask again with the same id.
    record(tx, result, Status.UNKNOWN)
    return wait(saga, backoff(tx.attempts, cap=60), f"transfer DEPOSIT: {result.error_code}")


def join_rollback(saga: Saga, ctx: StepContext) -> None:
    """Refund the BET (wallet rollback with its own id); retried until answered."""
    position = _position(saga)
    debit = saga.transactions.get(kind=Kind.FOLLOWER_DEBIT)
    if debit.status in (Status.FAILED, Status.ROLLED_BACK):
        return _join_failed(saga, ctx)
    if debit.status == Status.PENDING and debit.attempts == 0:
        # Never sent: nothing to refund.
        debit.status = Status.FAILED
        debit.last_error_code = saga.failure_code if _is_top_up(saga) else position.failure_code
        debit.save(update_fields=["status", "last_error_code", "updated_at"])
        return _join_failed(saga, ctx)
    rollback = Transaction.objects.filter(rolls_back=debit).first() or new_tx(
        saga, Kind.FOLLOWER_ROLLBACK, debit.amount, rolls_back=debit
    )
    result = send(
        rollback, lambda: ctx.gateway.rollback(tx=rollback, debit=debit, position=position)
    )
    if result.ok:
        with transaction.atomic():
            record(rollback, result, Status.SUCCEEDED, savepoint=False)
            Transaction.objects.filter(pk=debit.pk).update(
                status=Status.ROLLED_BACK, completed_at=timezone.now()
            )
            # The refund proves the BET was taken: its entry posts with the rollback's.
            journal_post(Transaction.objects.get(pk=debit.pk))
        return _join_failed(saga, ctx)
    if result.refused and result.status == 408:
        # The wallet never saw the withdraw (and will refuse it if it arrives late).
        with transaction.atomic():
            record(rollback, result, Status.FAILED, savepoint=False)
            Transaction.objects.filter(pk=debit.pk).update(
                status=Status.FAILED,
                last_error_code=ErrorCode.TRANSACTION_NOT_FOUND,
                completed_at=timezone.now(),
            )
        return _join_failed(saga, ctx)
    record(rollback, result, Status.UNKNOWN if result.unknown else Status.PENDING)
    review = f"rollback refused: {result.error_code}" if result.refused else ""
    return wait(
        saga, backoff(rollback.attempts, cap=600), f"rollback: {result.error_code}", review=review
    )


def _join_failed(saga: Saga, ctx: StepContext) -> None:
    if _is_top_up(saga):
        # The refunded top-up leaves its position as it was: active, still a member.
        return finish(saga, Saga.Status.FAILED)
    with transaction.atomic():
        Position.objects.filter(pk=position_id_of(saga)).update(
            status=Position.Status.FAILED,
            units=0,
            closed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        finish(saga, Saga.Status.FAILED)
    close_spawn_if_empty(saga, ctx)


JOIN_TRANSITIONS: dict[str, Transition] = {
    JoinStep.DEBIT: Transition(
        join_debit, goes_to=(JoinStep.OPEN_POOL, JoinStep.ROLLBACK, JoinStep.FAILED)
    ),
    JoinStep.OPEN_POOL: Transition(join_open_pool, goes_to=(JoinStep.DEPOSIT, JoinStep.ROLLBACK)),
    JoinStep.DEPOSIT: Transition(join_deposit, goes_to=(JoinStep.DONE, JoinStep.ROLLBACK)),
    JoinStep.ROLLBACK: Transition(join_rollback, goes_to=(JoinStep.FAILED,)),
}

JOIN_FLOW = flow_register(Flow(kind=Saga.Kind.JOIN, steps=JoinStep, transitions=JOIN_TRANSITIONS))
# A top-up runs the join's steps (each tells the two apart where they differ: ``_is_top_up``).
TOP_UP_FLOW = flow_register(
    Flow(kind=Saga.Kind.TOP_UP, steps=JoinStep, transitions=JOIN_TRANSITIONS)
)
