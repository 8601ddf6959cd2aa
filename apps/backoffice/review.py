"""The review queue: transactions staff must look at, and what staff may do about them.

A transaction is *in the queue* when its outcome is unknown, when it failed after more than
one attempt, or when it (or its saga) was flagged for review; it stays there until a staff
member marks it resolved, and comes back if it is flagged again afterwards.

Staff can:

* **retry now**: wake the owning saga and drive it at once (same ids, fresh signatures);
* **roll back** a join whose BET succeeded or is in doubt while its DEPOSIT transfer was
  never sent or definitively failed: the saga moves to its ``rollback`` step (the BET is
  refunded with a wallet rollback of its own id) and is driven at once. Anything else is
  refused: once a DEPOSIT may have reached the streamer, only an answer from the operator
  (a retry with the same id) can settle it;
* **mark resolved** with a note.

No service here holds a database transaction across an HTTP call: state is changed under a
row lock and committed, then the saga engine does the talking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.core.errors import Conflict, ErrorCode, ValidationFailed
from apps.followers.models import Position
from apps.transactions import sagas
from apps.transactions.models import JoinStep, Saga, Transaction
from apps.transactions.sagas import saga_lease_held
from apps.transactions.services import saga_retry_now

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from apps.operators.models import Operator

Status = Transaction.Status
Kind = Transaction.Kind

FAILED_AFTER_ATTEMPTS = 2
STAFF_ROLLBACK_CODE = ErrorCode.ROLLED_BACK_BY_STAFF
STAFF_ROLLBACK_PREFIX = "Rolled back by staff:"
OPEN, RESOLVED, ALL = "open", "resolved", "all"
# Joins (and top-ups) whose BET was refunded, automatically by the saga or by staff: not work
# to do, but where support looks for "my join was cancelled" (the debits themselves, found
# through the (status, kind) index).
ROLLED_BACK = "rolled_back"


# Unknown, failed after retries, or flagged: the condition of the ``tx_review_queue``
# partial index (apps.transactions.models), word for word, so PostgreSQL serves the queue from
# that small index (ids in order, and the columns the queue filters and totals read).
IN_QUEUE = (
    Q(status=Status.UNKNOWN)
    | Q(status=Status.FAILED, attempts__gte=FAILED_AFTER_ATTEMPTS)
    | Q(needs_review=True)
)
NOT_REVIEWED = Q(reviewed_at__isnull=True) | Q(needs_review=True)
# Flagged sagas are few: up to this many, their ids are written into the queue's condition.
FLAGGED_SAGAS_INLINE = 1000


def _flagged_saga_q() -> Q:
    """Transactions of flagged sagas not settled either way; an empty ``Q()`` when no saga is
    flagged (the common case: the queue is then only the partial index's condition)."""
    flagged = Saga.objects.filter(needs_review=True).values_list("pk", flat=True)
    ids = list(flagged[: FLAGGED_SAGAS_INLINE + 1])
    if not ids:
        return Q()
    saga = Q(saga_id__in=ids) if len(ids) <= FLAGGED_SAGAS_INLINE else Q(saga__in=flagged)
    return saga & ~Q(status__in=[Status.SUCCEEDED, Status.ROLLED_BACK])


def queue_q(state: str = ALL) -> Q:
    """The queue's transactions as one condition on the ledger (one query for the flagged
    sagas' ids first). ``OPEN`` keeps those never reviewed, or flagged again since.

    With no saga flagged it is ``IN_QUEUE`` (and ``NOT_REVIEWED``), which the partial index
    ``tx_review_queue`` answers in id order: a page of the queue reads its 50 rows, a count
    or the totals read the index only, never the ledger. Flagged sagas' transactions are
    OR-ed in by id (a bitmap scan of the saga index beside the partial one)."""
    condition = IN_QUEUE
    flagged = _flagged_saga_q()
    if flagged:
        condition = condition | flagged
    if state == OPEN:
        condition = condition & NOT_REVIEWED
    return condition


def review_open_figures(
    *, exclude_demo: bool = True, operator: Operator | None = None
) -> tuple[int, int]:
    """(transactions waiting for review, transactions whose outcome is unknown): one count
    over the queue's index. Every unknown transaction is in the queue, reviewed or not.
    ``operator`` keeps that operator's transactions only (the operator portal)."""
    queue = Transaction.objects.filter(queue_q(ALL))
    if exclude_demo:
        queue = queue.filter(is_demo=False)
    if operator is not None:
        queue = queue.filter(operator=operator)
    figures = queue.aggregate(
        waiting=Count("pk", filter=NOT_REVIEWED),
        unknown=Count("pk", filter=Q(status=Status.UNKNOWN)),
    )
    return figures["waiting"], figures["unknown"]


def review_open_count(*, exclude_demo: bool = True) -> int:
    """How many transactions wait for review: a count over the queue's index."""
    return review_open_figures(exclude_demo=exclude_demo)[0]


def review_q(state: str = OPEN) -> Q:
    """Open: in the queue, and never reviewed or flagged again since. Resolved: reviewed by
    staff and not flagged since (whatever the transaction's status now). Rolled back: the
    follower debits refunded, automatically or by staff."""
    resolved = Q(reviewed_at__isnull=False, needs_review=False)
    if state == ROLLED_BACK:
        return Q(status=Status.ROLLED_BACK, kind=Kind.FOLLOWER_DEBIT)
    if state == OPEN:
        return queue_q(OPEN)
    if state == RESOLVED:
        return resolved
    return queue_q(ALL) | resolved


def review_queue(*, state: str = OPEN) -> QuerySet[Transaction]:
    """Transactions that are unknown, failed after retries, or flagged; ``state`` picks the
    open ones (default), the resolved ones, or all."""
    return Transaction.objects.filter(review_q(state))


def review_reasons(tx: Transaction) -> list[str]:
    """Why a transaction is in the queue, in words (uses ``tx.saga`` when loaded)."""
    reasons = []
    saga = tx.saga if tx.saga_id else None
    if tx.status == Status.ROLLED_BACK:
        by_staff = saga is not None and saga.last_error.startswith(STAFF_ROLLBACK_PREFIX)
        reasons.append(
            "rolled back by staff"
            if by_staff
            else "rolled back automatically"
            + (f" after {tx.last_error_code}" if tx.last_error_code else "")
        )
    if tx.status == Status.UNKNOWN:
        reasons.append("outcome unknown")
    if tx.status == Status.FAILED and tx.attempts >= FAILED_AFTER_ATTEMPTS:
        reasons.append(f"failed after {tx.attempts} attempts")
    if tx.needs_review:
        reasons.append("flagged")
    if saga is not None and saga.needs_review:
        reasons.append(
            f"saga flagged: {saga.review_reason}" if saga.review_reason else "saga flagged"
        )
    return reasons


# --- retry ---------------------------------------------------------------------------


def review_retry_now(*, tx: Transaction) -> Saga:
    """Retry a transaction through its saga (same external id, signed afresh)."""
    if tx.saga_id is None:
        raise Conflict("This transaction has no saga to retry it", code=ErrorCode.NO_SAGA)
    return saga_retry_now(saga=Saga.objects.get(pk=tx.saga_id))


# --- roll back -----------------------------------------------------------------------


def _sent(tx: Transaction) -> bool:
    return tx.status != Status.PENDING or tx.attempts > 0


def rollback_refusal(saga: Saga | None) -> str | None:
    """Why this saga may not be rolled back by staff now; None when it may."""
    if saga is None or saga.kind not in (Saga.Kind.JOIN, Saga.Kind.TOP_UP):
        return "Only a join or a top-up can be rolled back (its BET is refunded to the follower)"
    if saga.status != Saga.Status.RUNNING:
        return f"The join saga #{saga.pk} is {saga.status}: its outcome is final"
    if saga.step == JoinStep.ROLLBACK:
        return f"The join saga #{saga.pk} is already rolling back"
    txs = list(saga.transactions.all())
    bet = next((t for t in txs if t.kind == Kind.FOLLOWER_DEBIT), None)
    if bet is None or bet.status in (Status.FAILED, Status.ROLLED_BACK) or not _sent(bet):
        return "The BET was never taken: there is nothing to roll back"
    for deposit in (t for t in txs if t.kind == Kind.STREAMER_DEPOSIT):
        if deposit.status == Status.SUCCEEDED:
            return (
                "The DEPOSIT reached the streamer: the follower holds units now; "
                "pay them out with a leave (settle the pool) instead"
            )
        if deposit.status != Status.FAILED and _sent(deposit):
            return (
                f"The DEPOSIT transfer {deposit.external_id} was sent and has no definite answer: "
                "retry it with the same id until the operator answers"
            )
    return None


def review_rollback(*, tx: Transaction, reason: str) -> Saga:
    """Roll back the join that ``tx`` belongs to, when the flow allows it; see module doc."""
    if not (reason or "").strip():
        raise ValidationFailed("A reason is required to roll back", code=ErrorCode.REASON_REQUIRED)
    if tx.saga_id is None:
        raise Conflict(rollback_refusal(None), code=ErrorCode.ROLLBACK_NOT_ALLOWED)
    with transaction.atomic():
        saga = Saga.objects.select_for_update().get(pk=tx.saga_id)
        refusal = rollback_refusal(saga)
        if refusal:
            raise Conflict(refusal, code=ErrorCode.ROLLBACK_NOT_ALLOWED)
        if saga_lease_held(saga):
            raise Conflict(
                f"Saga #{saga.pk} is being run by a worker right now; look again in a moment",
                code=ErrorCode.SAGA_BUSY,
            )
        now = timezone.now()
        # A DEPOSIT row that was priced but never sent must never be sent now.
        saga.transactions.filter(
            kind=Kind.STREAMER_DEPOSIT, status=Status.PENDING, attempts=0
        ).update(
            status=Status.FAILED,
            last_error_code=STAFF_ROLLBACK_CODE,
            last_error="Cancelled before sending: the join was rolled back by staff",
            completed_at=now,
            updated_at=now,
        )
        sagas.claim_release(pool_id=saga.pool_id, saga_id=saga.pk)
        if saga.position_id:
            Position.objects.filter(pk=saga.position_id, failure_code="").update(
                failure_code=STAFF_ROLLBACK_CODE,
                failure_message=f"Rolled back by staff: {reason}"[:255],
                updated_at=now,
            )
        saga.step = JoinStep.ROLLBACK
        saga.attempts = 0
        saga.next_run_at = None
        saga.last_error = f"{STAFF_ROLLBACK_PREFIX} {reason}"[:2000]
        saga.save(update_fields=["step", "attempts", "next_run_at", "last_error", "updated_at"])
    return sagas.saga_advance(saga.pk, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS)


# --- resolve -------------------------------------------------------------------------


def _stamp(user: User, note: str) -> str:
    return f"[{timezone.now():%Y-%m-%d %H:%M} UTC, {user.get_username()}] {note.strip()}"


@transaction.atomic
def review_resolve(*, tx: Transaction, user: User, note: str) -> Transaction:
    """Take a transaction out of the queue with a note (appended to its review notes)."""
    if not (note or "").strip():
        raise ValidationFailed("A note is required to resolve", code=ErrorCode.NOTE_REQUIRED)
    tx = Transaction.objects.select_for_update().get(pk=tx.pk)
    tx.review_note = "\n".join(filter(None, [tx.review_note, _stamp(user, note)]))
    tx.needs_review = False
    tx.reviewed_by = user
    tx.reviewed_at = timezone.now()
    tx.save(
        update_fields=["review_note", "needs_review", "reviewed_by", "reviewed_at", "updated_at"]
    )
    if tx.saga_id:
        Saga.objects.filter(pk=tx.saga_id, needs_review=True).update(
            needs_review=False, review_reason="", updated_at=timezone.now()
        )
    return tx
