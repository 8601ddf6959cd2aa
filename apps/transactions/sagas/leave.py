"""The leave flow: a member is paid out, priced on a fresh balance (SPEC sections 4 and 5).

State machine (``LeaveStep``)::

    withdraw ──WITHDRAWAL applied, or nothing to pay (a bust pool)──▶ credit ──WIN paid──▶ done
      │                                                                  │
      ├─ pool claimed by another saga, balance unreadable: stay, retry   └─ WIN unpaid: stay,
      ├─ INSUFFICIENT_BALANCE: stay, re-price with a new id             retry with the
      │  (back off after every MAX_REPRICES)                                same id; flagged
      ├─ WITHDRAWAL in doubt: stay, ask again with the same id              for review when
      │  (the pool stays claimed)                                           refused or late
      └─ WITHDRAWAL refused: stay, retry with backoff, flagged for review

A leave never fails: money owed to a follower is retried until paid. ``leave_begin`` starts
one for an active position; the pool's close begins as soon as its last member's WITHDRAWAL
is applied (``close_spawn_if_empty``), not after the WIN.

**Partial leave** (``leave_part_begin``, the saga's ``units`` set): the same steps for at most
``units`` of the position's units, the rest staying ``active``. The position is ``active``
throughout (the player API refuses another top-up or leave of it while the saga runs:
``ErrorCode.POSITION_BUSY``), and the WIN does not close it. A full leave begun meanwhile
(stream end, bust, staff) is priced before or after it under the pool's claim: whichever
comes second finds the units the first left (a partial leave that finds none redeems
nothing and pays a WIN of 0). Dust: when what would remain is worth nothing at the price
(less than 0.00000001), the partial leave takes every unit and becomes a full leave (the
position leaves, reason ``follower``), so no position is left holding units worth nothing.
``Position.payout`` is the total paid out so far: every leave adds its WITHDRAWAL to it.

**Performance fee** (SPEC section 10, ``apps.pools.accounting.leave_price``): every leave, of
whatever reason, is charged the streamer's fee on the value above the share of the position's
high-water mark its units carry. The WITHDRAWAL and the WIN are the value minus the fee; the
fee's units pass to the streamer's units and a PERFORMANCE_FEE row, never sent, records it
(``pricing.pool_apply_transfer``). The position's ``fees_paid`` adds it up, and its mark
loses the share the leave carried (all of it on a full leave). A leave worth nothing pays no
fee.
"""

from __future__ import annotations

import logging
from decimal import Decimal, localcontext

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.errors import ErrorCode
from apps.core.money import MATH_CONTEXT, ZERO
from apps.followers.limits import scaled_limit
from apps.followers.models import Position
from apps.pools import services as pools
from apps.pools.accounting import (
    leave_price,
    mark_share,
    payout_for_units,
    units_after_redeem,
)
from apps.pools.models import Pool
from apps.streamers.models import Stream
from apps.transactions.models import LeaveStep, Receipt, Saga, Transaction
from apps.transactions.sagas.close import close_spawn_if_empty
from apps.transactions.sagas.engine import (
    Flow,
    StepContext,
    Transition,
    backoff,
    claim_waiters_wake,
    finish,
    flow_register,
    goto,
    new_tx,
    position_id_of,
    record,
    send,
    wait,
)
from apps.transactions.sagas.pricing import (
    LeaveFee,
    pool_apply_transfer,
    pool_price,
    pricing_release,
    receipt_write,
)

__all__ = [
    "LEAVE_FLOW",
    "LEAVE_TRANSITIONS",
    "MAX_REPRICES",
    "LeaveStep",
    "leave_begin",
    "leave_credit",
    "leave_part_begin",
    "leave_withdraw",
    "pool_bust_and_pay_out",
    "pool_leave_reason",
    "pool_pay_out_all",
    "positions_pay_out",
    "pool_should_pay_out",
]

logger = logging.getLogger(__name__)

Kind = Transaction.Kind
Status = Transaction.Status

MAX_REPRICES = 5
# The beginnings of ``Pool.close_reason`` written by staff settling a pool or suspending its
# streamer (apps.backoffice): their members leave for reason "staff".
STAFF_SETTLEMENTS = ("settled by staff", "streamer suspended by staff")


def leave_begin(*, position: Position, reason: str) -> Saga | None:
    """Start the leave saga of an active position; None if it is not active (any more).

    ``reason`` (a ``Position.LeaveReason``) is recorded on the position: who or what paid it
    out.
    """
    with transaction.atomic():
        moved = Position.objects.filter(pk=position.pk, status=Position.Status.ACTIVE).update(
            status=Position.Status.LEAVING, leave_reason=reason, updated_at=timezone.now()
        )
        if not moved:
            return None
        return Saga.objects.create(
            kind=Saga.Kind.LEAVE,
            step=LeaveStep.WITHDRAW,
            operator_id=position.pool.operator_id,
            pool_id=position.pool_id,
            position=position,
            is_demo=position.is_demo,
        )


def leave_part_begin(*, position: Position, units: Decimal) -> Saga:
    """Start a partial leave of ``units`` of an active position, which stays active.

    The caller has checked, under the position's row lock, that it is active with no other
    saga running on it and that ``units`` is positive and at most its units
    (``apps.transactions.services.position_leave``).
    """
    return Saga.objects.create(
        kind=Saga.Kind.LEAVE,
        step=LeaveStep.WITHDRAW,
        operator_id=position.pool.operator_id,
        pool_id=position.pool_id,
        position=position,
        units=units,
        is_demo=position.is_demo,
    )


def _units_to_redeem(
    saga: Saga, position: Position, *, balance: Decimal, total_units: Decimal
) -> Decimal:
    """What this leave redeems, priced at ``balance``: every unit for a full leave; for a
    partial one its ``units`` (no more than the position still holds), or every unit when no
    rest, or a rest worth nothing, would stay, the saga then becoming a full leave (see the
    module) unless another leave of the position began already (that one takes the rest)."""
    if saga.units is None:
        return position.units
    wanted = min(saga.units, position.units)
    with localcontext(MATH_CONTEXT):
        rest = position.units - wanted
    worthless = (
        rest <= 0 or payout_for_units(units=rest, balance=balance, total_units=total_units) == 0
    )
    if wanted > 0 and worthless:
        with transaction.atomic():
            moved = Position.objects.filter(pk=position.pk, status=Position.Status.ACTIVE).update(
                status=Position.Status.LEAVING,
                leave_reason=Position.LeaveReason.FOLLOWER,
                updated_at=timezone.now(),
            )
            if moved:
                Saga.objects.filter(pk=saga.pk).update(units=None)
                saga.units = None
                return position.units
    return wanted


def _position_after(
    position: Position,
    *,
    redeemed: Decimal,
    paid: Decimal,
    full: bool,
    fee: Decimal = ZERO,
    mark: Decimal = ZERO,
) -> dict[str, object]:
    """The position's units, payout, fees and high-water mark once ``redeemed`` of its units
    paid ``paid`` net of a performance ``fee``, carrying ``mark`` of its high-water mark: loaded
    under the claim, so they are current (units and the mark only move under it). A full leave
    leaves no units and no mark; a partial one scales the limits kept as values to the units
    that stay (``apps.followers.limits``)."""
    with localcontext(MATH_CONTEXT):
        units = ZERO if full else max(position.units - redeemed, ZERO)
        payout = (position.payout or ZERO) + paid
        fees_paid = (position.fees_paid or ZERO) + fee
        high_water_mark = ZERO if full else max(position.high_water_mark - mark, ZERO)
    after: dict[str, object] = {
        "units": units,
        "payout": payout,
        "fees_paid": fees_paid,
        "high_water_mark": high_water_mark,
        "updated_at": timezone.now(),
    }
    if not full:
        # Limits kept as values follow the units that stay (percent ones follow the mark).
        # Read under the row's lock, as the follower's ``position_limits_set`` writes them,
        # so a limit set meanwhile is scaled, not overwritten: callers are in a transaction.
        stop_loss, take_profit = (
            Position.objects.select_for_update()
            .values_list("stop_loss", "take_profit")
            .get(pk=position.pk)
        )
        after["stop_loss"] = scaled_limit(stop_loss, units_after=units, units_before=position.units)
        after["take_profit"] = scaled_limit(
            take_profit, units_after=units, units_before=position.units
        )
    return after


def positions_pay_out(positions: QuerySet[Position], *, reason: str) -> list[int]:
    """Start a leave for each of ``positions`` that is active, oldest first, each recording
    ``reason`` (a ``Position.LeaveReason``); returns the leave sagas' ids."""
    started = []
    for position in (
        positions.filter(status=Position.Status.ACTIVE)
        .select_related("pool")
        .order_by("created_at", "pk")
    ):
        leave = leave_begin(position=position, reason=reason)
        if leave is not None:
            started.append(leave.pk)
    return started


def pool_pay_out_all(pool: Pool, *, reason: str) -> list[int]:
    """Start a leave for every active position of the pool (stream end, bust, staff)."""
    return positions_pay_out(Position.objects.filter(pool=pool), reason=reason)


def pool_should_pay_out(pool: Pool) -> bool:
    """True when members must leave now: the pool is bust, is being settled (``pool_settle``
    recorded why: a join still in flight when staff settled the pool, or suspended its
    streamer paying out, leaves as soon as it is in), or no stream of the streamer is live."""
    if pool.is_bust or pool.close_reason:
        return True
    return not Stream.objects.filter(
        streamer_id=pool.streamer_id, status=Stream.Status.LIVE
    ).exists()


def pool_leave_reason(pool: Pool) -> str:
    """Why the members of a pool that must pay out (``pool_should_pay_out``) leave: bust, a
    staff settlement or suspension (``pool_settle``'s reason), else the stream's end."""
    if pool.is_bust:
        return Position.LeaveReason.BUST
    if pool.close_reason.startswith(STAFF_SETTLEMENTS):
        return Position.LeaveReason.STAFF
    return Position.LeaveReason.STREAM_END


def pool_bust_and_pay_out(saga: Saga, ctx: StepContext) -> None:
    """Flag the saga's pool bust and, the first time, start every member's leave (for 0)."""
    if pools.pool_mark_bust(pool_id=saga.pool_id):
        logger.warning("Pool %s is bust", saga.pool_id)
        ctx.spawned.extend(
            pool_pay_out_all(Pool.objects.get(pk=saga.pool_id), reason=Position.LeaveReason.BUST)
        )


def leave_withdraw(saga: Saga, ctx: StepContext) -> None:
    """Price the leave on a fresh balance and transfer WITHDRAWAL of the payout.

    The value of ``u`` units at balance ``B`` of a pool of ``U`` units is ``u * B / U``
    rounded down to 8 places; the streamer's performance fee on the profit above the share of
    the position's high-water mark the units carry is kept back (``leave_price``), so the
    WITHDRAWAL is the value minus the fee, and the fee's units pass to the streamer when it is
    applied. The fee, its units and the mark are fixed on the WITHDRAWAL and reused by every
    retry of its id; each re-pricing is a new WITHDRAWAL with its own id, priced on a balance
    read anew.
    """
    withdrawals = saga.transactions.filter(kind=Kind.STREAMER_WITHDRAWAL)
    tx = withdrawals.filter(status__in=[Status.PENDING, Status.UNKNOWN]).order_by("-pk").first()
    pricing = pool_price(saga, ctx, read_balance=tx is None)
    if pricing is None:
        return None
    pool = pricing.pool
    position = Position.objects.get(pk=position_id_of(saga))
    if tx is None:
        balance = pricing.balance
        if balance is None:
            review = f"streamer-balance refused: {pricing.error_code}" if pricing.refused else ""
            return wait(
                saga,
                backoff(saga.attempts, cap=600),
                f"streamer-balance: {pricing.error_code}",
                review=review,
            )
        units = _units_to_redeem(saga, position, balance=balance, total_units=pool.total_units)
        price = leave_price(
            units=units,
            position_units=position.units,
            mark=position.high_water_mark,
            fee_percent=position.performance_fee_percent,
            balance=balance,
            total_units=pool.total_units,
        )
        if price.value == 0:
            return _leave_with_nothing(
                saga, ctx, pool=pool, position=position, balance=balance, units=units
            )
        tx = new_tx(
            saga,
            Kind.STREAMER_WITHDRAWAL,
            price.payout,
            units=price.units,
            priced_balance=balance,
            priced_total_units=pool.total_units,
            fee=price.fee,
            fee_units=price.fee_units,
            fee_mark=price.mark,
        )
    withdrawal = tx
    result = send(withdrawal, lambda: ctx.gateway.transfer(tx=withdrawal, pool=pool))
    if result.ok:
        with transaction.atomic():
            pool_apply_transfer(withdrawal, result, pool=pool, position=position)
            Position.objects.filter(pk=position.pk).update(
                **_position_after(
                    position,
                    redeemed=withdrawal.units or ZERO,
                    paid=withdrawal.amount,
                    full=saga.units is None,
                    fee=withdrawal.fee or ZERO,
                    mark=withdrawal.fee_mark or ZERO,
                )
            )
            goto(saga, LeaveStep.CREDIT)
        # CLOSE goes as soon as the last member's WITHDRAWAL succeeded, not after the WIN.
        close_spawn_if_empty(saga, ctx)
        return None
    if result.refused and result.error_code == ErrorCode.INSUFFICIENT_BALANCE:
        # The balance moved since we read it: re-price with a new id (the pool stays claimed).
        record(withdrawal, result, Status.FAILED)
        if withdrawals.filter(status=Status.FAILED).count() % MAX_REPRICES == 0:
            pricing_release(saga)
            return wait(saga, backoff(saga.attempts, cap=60), "re-priced repeatedly, backing off")
        return None
    if result.refused:
        record(withdrawal, result, Status.FAILED)
        pricing_release(saga)
        return wait(
            saga,
            backoff(saga.attempts, cap=600),
            f"transfer WITHDRAWAL refused: {result.error_code}",
            review=f"WITHDRAWAL refused: {result.error_code}",
        )
    record(withdrawal, result, Status.UNKNOWN)
    return wait(
        saga, backoff(withdrawal.attempts, cap=60), f"transfer WITHDRAWAL: {result.error_code}"
    )


def _leave_with_nothing(
    saga: Saga,
    ctx: StepContext,
    *,
    pool: Pool,
    position: Position,
    balance: Decimal,
    units: Decimal,
) -> None:
    """Nothing to move on the operator's side (a bust pool, or units worth less than the
    smallest amount): redeem the units without a transfer, release the claim; the WIN of 0
    still closes the follower's round. The receipt says so (amount 0, no WITHDRAWAL id)."""
    total_units = units_after_redeem(
        total_units=pool.total_units, redeemed=units, streamer_units=pool.streamer_units
    )
    share = mark_share(mark=position.high_water_mark, units=units, position_units=position.units)
    with transaction.atomic():
        Pool.objects.filter(pk=pool.pk).update(
            total_units=total_units, pricing_saga=None, pricing_since=None
        )
        Position.objects.filter(pk=position.pk).update(
            **_position_after(
                position,
                redeemed=units,
                paid=ZERO,
                full=saga.units is None,
                mark=share,
            )
        )
        receipt_write(
            saga,
            pool=pool,
            amount=ZERO,
            balance=balance,
            total_units_before=pool.total_units,
            total_units_after=total_units,
            units=units,
            transfer=None,
            fee=LeaveFee(
                percent=position.performance_fee_percent, fee=ZERO, fee_units=ZERO, mark=share
            ),
        )
        goto(saga, LeaveStep.CREDIT)
    claim_waiters_wake(pool_id=pool.pk)
    if balance == 0 and pool.total_units > 0:
        pool_bust_and_pay_out(saga, ctx)
    close_spawn_if_empty(saga, ctx)


def leave_credit(saga: Saga, ctx: StepContext) -> None:
    """The WIN: wallet deposit of the payout, retried with the same id until paid."""
    position = Position.objects.select_related("session", "follower").get(pk=position_id_of(saga))
    tx = saga.transactions.filter(kind=Kind.FOLLOWER_CREDIT).first()
    if tx is None:
        # This leave's own payout (``position.payout`` adds up every leave's).
        paid = saga.transactions.filter(
            kind=Kind.STREAMER_WITHDRAWAL, status=Status.SUCCEEDED
        ).first()
        with transaction.atomic():
            tx = new_tx(saga, Kind.FOLLOWER_CREDIT, paid.amount if paid else ZERO)
            Receipt.objects.filter(saga=saga).update(win_external_id=tx.external_id)
    if tx.status != Status.SUCCEEDED:
        result = send(tx, lambda: ctx.gateway.win(tx=tx, position=position))
        if not result.ok:
            record(tx, result, Status.UNKNOWN if result.unknown else Status.PENDING)
            overdue = timezone.now() - tx.created_at > settings.COPYPOOL_WIN_REVIEW_AFTER
            review = ""
            if result.refused:
                review = f"WIN refused: {result.error_code}"
            elif overdue:
                review = "WIN unpaid for more than 24 hours"
            if review and not tx.needs_review:
                Transaction.objects.filter(pk=tx.pk).update(needs_review=True)
            return wait(
                saga,
                backoff(tx.attempts, base=2.0, cap=1800),
                f"WIN: {result.error_code}",
                review=review,
            )
        record(tx, result, Status.SUCCEEDED)
    with transaction.atomic():
        if saga.units is None:  # a full leave closes the position; a partial one leaves it be
            Position.objects.filter(pk=position.pk).update(
                status=Position.Status.CLOSED, closed_at=timezone.now(), updated_at=timezone.now()
            )
        finish(saga, Saga.Status.DONE)
    return None


LEAVE_TRANSITIONS: dict[str, Transition] = {
    LeaveStep.WITHDRAW: Transition(leave_withdraw, goes_to=(LeaveStep.CREDIT,)),
    LeaveStep.CREDIT: Transition(leave_credit, goes_to=(LeaveStep.DONE,)),
}

LEAVE_FLOW = flow_register(
    Flow(kind=Saga.Kind.LEAVE, steps=LeaveStep, transitions=LEAVE_TRANSITIONS)
)
