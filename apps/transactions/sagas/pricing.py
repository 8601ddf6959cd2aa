"""Pricing a pool for a join's DEPOSIT or a leave's WITHDRAWAL, and applying the answer.

A transfer is priced on the streamer's balance read right before it (SPEC section 4), while
the saga holds the pool's pricing claim: no other join or leave of the pool can price on the
same balance, and the claim stays taken until the transfer has a definite answer, however
long that takes (apps/pools/services.py, "Serialisation"). Both flows go through the same
two helpers:

* ``pool_price`` claims the pool and reads the balance;
* ``pool_apply_transfer`` records a transfer the operator applied, moves the pool's units
  and balance on, and releases the claim.

A saga that cannot take the claim does not wait for it: it is parked (``awaiting_claim``) and
yields at once, so that no worker and no resume pass is held by one pool while other pools
have work. Every release of a claim goes through ``claim_release`` (or
``pool_apply_transfer``), which wakes the pool's parked sagas: due now, handed to a worker
(or, with no broker, to the saga engine run that released it). A parked saga also wakes on
its own after ``CLAIM_PARK_SECONDS``, should a wake-up be lost with a crashed process.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from django.utils import timezone

from apps.core.money import MATH_CONTEXT, ZERO
from apps.followers.models import Position
from apps.operators.clients import CallResult
from apps.pools import services as pools
from apps.pools.accounting import nav, units_after_issue, units_after_redeem
from apps.pools.models import Pool
from apps.transactions.copy_limits import copy_limits_start
from apps.transactions.finance.journal import journal_post
from apps.transactions.models import Receipt, Saga, Transaction
from apps.transactions.sagas.engine import (
    StepContext,
    claim_release,
    claim_waiters_wake,
    new_tx,
    record,
    wait,
)

Kind = Transaction.Kind
Status = Transaction.Status

CLAIM_PARK_SECONDS = 30.0


@dataclass(frozen=True)
class Pricing:
    """A pool claimed for pricing by one saga.

    ``pool`` was loaded after the claim was taken, so its units are current: they only change
    under the claim. ``reading`` is the streamer-balance answer, None when the balance was
    not asked for (a transfer priced earlier is being re-sent).
    """

    pool: Pool
    reading: CallResult | None = None

    @property
    def balance(self) -> Decimal | None:
        """The balance just read; None when not read or unusable (the claim is released)."""
        if self.reading is None or not self.reading.ok:
            return None
        return self.reading.amount("balance")

    @property
    def refused(self) -> bool:
        """The operator refused to tell the balance (a definite answer, not a time-out)."""
        return self.reading is not None and self.reading.refused

    @property
    def error_code(self) -> str:
        return self.reading.error_code if self.reading is not None else ""


def pool_price(saga: Saga, ctx: StepContext, *, read_balance: bool) -> Pricing | None:
    """Claim the saga's pool for pricing and, when ``read_balance``, read the balance to price on.

    None when another saga holds the claim: the saga is parked until the claim is released
    (``claim_park``) and its step ends. A balance read is recorded as the pool's last known balance; an unusable
    reading releases the claim at once (nothing was priced on it), and the caller decides
    what the failure means for its flow; a usable one starts the leaves of the positions it
    takes past a copy limit (``copy_limits_start``: they wait for the claim like any other
    saga). ``read_balance`` is False when the saga already
    priced its transfer: the claim is then confirmed, the transfer re-sent as priced.
    """
    if not pools.pool_pricing_claim(pool_id=saga.pool_id, saga_id=saga.pk):
        claim_park(saga)
        return None
    if saga.awaiting_claim:
        Saga.objects.filter(pk=saga.pk).update(awaiting_claim=False)
        saga.awaiting_claim = False
    pool = Pool.objects.select_related("streamer", "operator").get(pk=saga.pool_id)
    if not read_balance:
        return Pricing(pool=pool)
    pricing = Pricing(pool=pool, reading=ctx.gateway.balance(pool=pool))
    if pricing.balance is None:
        pricing_release(saga)
    else:
        pools.pool_observe_balance(pool_id=pool.pk, balance=pricing.balance)
        ctx.spawned.extend(copy_limits_start(pool=pool, balance=pricing.balance))
    return pricing


def pricing_release(saga: Saga) -> None:
    """Give the pool's pricing claim up (the saga's transfer has a definite answer, or none
    was priced), and wake the sagas waiting for it."""
    claim_release(pool_id=saga.pool_id, saga_id=saga.pk)


def claim_park(saga: Saga) -> None:
    """Park the saga until the pool's claim is released; it yields at once.

    Parking and a release can cross: the holder may release between our failed claim and
    the park. So the claim is looked at again after parking, and the saga woken at once if
    it is free already.
    """
    holder = Pool.objects.values_list("pricing_saga", flat=True).get(pk=saga.pool_id)
    wait(saga, CLAIM_PARK_SECONDS, f"waiting for the pool's pricing claim (saga #{holder})")
    Saga.objects.filter(pk=saga.pk).update(awaiting_claim=True)
    saga.awaiting_claim = True
    if not Pool.objects.filter(pk=saga.pool_id, pricing_saga__isnull=False).exists():
        claim_waiters_wake(pool_id=saga.pool_id)


def pool_apply_transfer(
    tx: Transaction, result: CallResult, *, pool: Pool, position: Position | None = None
) -> None:
    """Record a transfer the operator applied, move the pool on, release its pricing claim.

    Call it inside the database transaction that also updates the position and the saga's
    step. Units change only under the pricing claim, so the total the transfer was priced on
    (``tx.priced_total_units``) is still the pool's: a DEPOSIT issues ``tx.units`` on top of
    it, a WITHDRAWAL redeems them (never below the streamer's own units). A leave's
    WITHDRAWAL priced with a performance fee redeems only ``tx.units - tx.fee_units``: the
    ``fee_units`` pass to the streamer's units, and a PERFORMANCE_FEE row of ``tx.fee``
    (never sent: the money stays in the streamer's balance) is written succeeded and posted
    to the journal (``performance_fee_write``). The pool's balance
    becomes the one the operator answered, or, when it gave none, the priced balance plus the
    DEPOSIT or minus the (net) WITHDRAWAL. ``position`` (a leave's, loaded under the claim)
    gives the receipt the fee percent. Positions that balance takes past a copy limit start
    leaving (``copy_limits_start``; the resume pass drives them, as this runs inside the
    caller's database transaction).
    """
    record(tx, result, Status.SUCCEEDED, savepoint=False)  # inside the caller's transaction
    deposit = tx.kind == Kind.STREAMER_DEPOSIT
    priced_total_units, units = _priced(tx.priced_total_units), _priced(tx.units)
    fee, fee_units = tx.fee or ZERO, tx.fee_units or ZERO
    with localcontext(MATH_CONTEXT):
        redeemed = units - fee_units
        streamer_units = pool.streamer_units + fee_units
    if deposit:
        total_units = units_after_issue(total_units=priced_total_units, issued=units)
    else:
        total_units = units_after_redeem(
            total_units=priced_total_units, redeemed=redeemed, streamer_units=streamer_units
        )
    balance = result.amount("balance")
    if balance is None:
        priced_balance = _priced(tx.priced_balance)
        balance = priced_balance + tx.amount if deposit else priced_balance - tx.amount
    # The pool's units only move under the claim: a leave's pool, loaded with it, has the
    # streamer's current (a join's may not: its first DEPOSIT rebased them in the database).
    fee_moves = {"streamer_units": streamer_units} if not deposit and fee_units > 0 else {}
    Pool.objects.filter(pk=pool.pk).update(
        total_units=total_units,
        **fee_moves,
        balance=balance,
        balance_at=timezone.now(),
        pricing_saga=None,
        pricing_since=None,
    )
    fee_tx = performance_fee_write(tx) if not deposit and fee > 0 else None
    receipt_write(
        tx.saga,
        pool=pool,
        amount=tx.amount,
        balance=_priced(tx.priced_balance),
        total_units_before=priced_total_units,
        total_units_after=total_units,
        units=units,
        transfer=tx,
        fee=None
        if deposit
        else LeaveFee(
            percent=position.performance_fee_percent if position is not None else ZERO,
            fee=fee,
            fee_units=fee_units,
            mark=tx.fee_mark,
            external_id=fee_tx.external_id if fee_tx is not None else "",
        ),
    )
    copy_limits_start(pool=pool, balance=balance, total_units=total_units)  # resumed as due
    claim_waiters_wake(pool_id=pool.pk)


def performance_fee_write(withdrawal: Transaction) -> Transaction:
    """The PERFORMANCE_FEE row of a leave's applied WITHDRAWAL: its ``fee`` and ``fee_units``,
    priced as the WITHDRAWAL was, written succeeded (it is never sent: the fee stays in the
    streamer's balance) and posted to the journal; one per saga (a re-run finds it)."""
    saga = withdrawal.saga
    if saga is None:
        raise ValueError("a performance fee belongs to a leave's saga")
    existing = saga.transactions.filter(kind=Kind.PERFORMANCE_FEE).first()
    if existing is not None:
        return existing
    fee_tx = new_tx(
        saga,
        Kind.PERFORMANCE_FEE,
        withdrawal.fee or ZERO,
        units=withdrawal.fee_units,
        priced_balance=withdrawal.priced_balance,
        priced_total_units=withdrawal.priced_total_units,
        status=Status.SUCCEEDED,
        completed_at=timezone.now(),
    )
    journal_post(fee_tx)
    return fee_tx


@dataclass(frozen=True)
class LeaveFee:
    """What a leave's receipt says of its performance fee (``LeavePrice``, as applied)."""

    percent: Decimal
    fee: Decimal
    fee_units: Decimal
    mark: Decimal | None
    external_id: str = ""


RECEIPT_KINDS = {
    Saga.Kind.JOIN: Receipt.Kind.JOIN,
    Saga.Kind.TOP_UP: Receipt.Kind.TOP_UP,
    Saga.Kind.LEAVE: Receipt.Kind.LEAVE,
}


def receipt_write(
    saga: Saga | None,
    *,
    pool: Pool,
    amount: Decimal,
    balance: Decimal,
    total_units_before: Decimal,
    total_units_after: Decimal,
    units: Decimal,
    transfer: Transaction | None,
    fee: LeaveFee | None = None,
) -> Receipt | None:
    """Write the saga's receipt: the price is final (its transfer was applied, or a leave of
    nothing redeemed its units without one). Call it in the database transaction that moves
    the pool's units, so that a receipt exists exactly when the units moved.

    One per saga (a re-run of the step finds it); the WIN's id is added by the leave's credit.
    ``nav`` is the unit's value on that balance, for reading; the exact rule the figures keep
    is ``units_for_contribution`` / ``payout_for_units`` (apps.pools.accounting) on
    ``balance`` and ``total_units_before``. A leave's ``fee`` gives its performance fee: the
    receipt's ``amount`` is then net of it, ``gross_amount`` what the units were worth.
    """
    if saga is None or saga.position_id is None or saga.kind not in RECEIPT_KINDS:
        return None
    ids = dict(
        saga.transactions.filter(kind=Kind.FOLLOWER_DEBIT).values_list("kind", "external_id")
    )
    fields = {
        "position_id": saga.position_id,
        "kind": RECEIPT_KINDS[Saga.Kind(saga.kind)],
        "amount": amount,
        "currency": pool.currency,
        "balance": balance,
        "total_units_before": total_units_before,
        "total_units_after": total_units_after,
        "nav": nav(balance=balance, total_units=total_units_before),
        "units": units,
        "bet_external_id": ids.get(Kind.FOLLOWER_DEBIT, ""),
        "deposit_external_id": "",
        "withdrawal_external_id": "",
        "priced_at": transfer.created_at if transfer is not None else timezone.now(),
    }
    if fee is not None:
        with localcontext(MATH_CONTEXT):
            gross = amount + fee.fee
        fields.update(
            gross_amount=gross,
            fee=fee.fee,
            fee_percent=fee.percent,
            fee_units=fee.fee_units,
            high_water_mark=fee.mark,
            fee_external_id=fee.external_id,
        )
    if transfer is not None and transfer.kind == Kind.STREAMER_DEPOSIT:
        fields["deposit_external_id"] = transfer.external_id
    elif transfer is not None:
        fields["withdrawal_external_id"] = transfer.external_id
    # Not ``update_or_create`` (a row lock and two savepoints): one writer at a time runs the
    # saga (its lease, and the pool's pricing claim), and the one-to-one refuses a second row.
    receipt = Receipt.objects.filter(saga=saga).first()
    if receipt is None:
        return Receipt.objects.create(saga=saga, **fields)
    for name, value in fields.items():
        setattr(receipt, name, value)
    receipt.save()
    return receipt


def _priced(value: Decimal | None) -> Decimal:
    if value is None:
        raise ValueError("the transfer was never priced")
    return value
