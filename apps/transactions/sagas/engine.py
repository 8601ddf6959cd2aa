"""The saga engine: money flows as persisted state machines, run from what is stored.

A saga is a ``Saga`` row: its ``kind`` names the flow (join, leave, close-pool), its ``step``
the state the flow is in, and the flow's money movements are ``Transaction`` rows hanging off
it. Nothing is kept in memory between two steps, so any worker can resume any saga. Every
step follows the same rules (SPEC section 5):

* **Rows before sends.** A transaction row, with its external id, is written *before* its
  request is sent, and its attempt counter is bumped (``send``) before each send. A crash
  anywhere resumes from the rows: a row that may have been sent is treated as "outcome
  unknown".
* **Ids.** Retries reuse the external id; a new id is only ever taken for a *new* movement
  (a re-priced WITHDRAWAL, a rollback).
* **Unknown is not an answer.** A timeout, 5xx or unreadable answer is never taken for a
  failure or a success: a BET in doubt is rolled back, a transfer in doubt is asked again
  with the same id while the pool stays claimed, a WIN in doubt is retried until paid.
* **Resume from stored state.** Each step reads what it needs from the database (the saga,
  its transactions, the pool) and is idempotent against it: running a step twice, or after
  a crash half-way through it, never moves money twice.
* **The lease.** Only one caller at a time advances a given saga: ``saga_advance`` takes a
  short lease on the row (``lease_owner``, ``lease_expires_at``; ``SAGA_LEASE``) with a
  conditional UPDATE, renews it after each step and drops it when it stops. A lease that
  expired (its worker died) may be taken over.
* **The pricing claim.** Only one saga at a time prices a given pool: the pool's pricing
  claim (``Pool.pricing_saga``), taken and released by the pricing helpers of this package
  (``apps.transactions.sagas.pricing``). Why a claim row owned by the saga and not a lock
  owned by a process: apps/pools/services.py, "Serialisation".

A flow module (``join``, ``leave``, ``close``) declares its steps as an enum
(apps.transactions.models) and its transition table, a ``Flow``: for each step the function
that runs it and the steps it may move the saga to. It registers the flow here
(``flow_register``); ``saga_advance`` dispatches on (kind, step) through the registered
tables, and ``goto``/``finish`` refuse a move the table does not declare.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.wire import jsonable
from apps.operators.clients import CallResult
from apps.pools import services as pools
from apps.transactions import gateways
from apps.transactions.finance.journal import journal_post
from apps.transactions.gateways import Gateway
from apps.transactions.models import SAGA_STEPS, Saga, Transaction

logger = logging.getLogger(__name__)

Kind = Transaction.Kind
Status = Transaction.Status

SAGA_LEASE = timedelta(seconds=120)
# A run renews its lease once this much of it is spent (not after every step: one UPDATE
# less per step). A run's budget (30 s at most) ends well before the lease does.
LEASE_RENEW_AFTER = SAGA_LEASE.total_seconds() / 4


@dataclass
class StepContext:
    """What a step talks to, and the ids of the sagas it started (advanced after it)."""

    gateway: Gateway
    spawned: list[int] = field(default_factory=list)


StepFunction = Callable[[Saga, StepContext], None]


@dataclass(frozen=True)
class Transition:
    """One step of a flow: the function that runs it, and the steps it may move the saga to.

    Staying in the step (waiting for a retry, re-pricing) is always allowed.
    """

    run: StepFunction
    goes_to: tuple[str, ...]


@dataclass(frozen=True)
class Flow:
    """A flow's transition table: ``transitions[step]`` for every step that is not final."""

    kind: str
    steps: type[models.TextChoices]
    transitions: Mapping[str, Transition]

    def may_go(self, step: str, to: str) -> bool:
        transition = self.transitions.get(step)
        return transition is not None and to in transition.goes_to


class TransitionRefused(RuntimeError):
    """A step tried to move its saga somewhere its flow's table does not allow."""


FLOWS: dict[str, Flow] = {}


def flow_register(flow: Flow) -> Flow:
    """Make ``flow`` the table the engine runs sagas of its kind by, once it is checked.

    Its steps must be the enum apps.transactions.models lists for its kind (the database
    refuses any other step), and every step of its table, and every step it goes to, one
    of them.
    """
    if SAGA_STEPS.get(flow.kind) is not flow.steps:
        raise ImproperlyConfigured(f"flow {flow.kind!r}: its steps are not SAGA_STEPS[kind]")
    steps = set(flow.steps.values)
    for step, transition in flow.transitions.items():
        unknown = ({step} | set(transition.goes_to)) - steps
        if unknown:
            raise ImproperlyConfigured(f"flow {flow.kind!r}: unknown steps {sorted(unknown)}")
    FLOWS[flow.kind] = flow
    return flow


def step_function(kind: str, step: str) -> StepFunction:
    """The function that runs a saga of ``kind`` in ``step``."""
    return FLOWS[kind].transitions[step].run


# --- moving a saga -------------------------------------------------------------------


def backoff(attempts: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff: 1, 2, 4, ... seconds, capped."""
    return float(min(cap, base * 2 ** min(max(attempts, 0), 16)))


def _check_move(saga: Saga, to: str) -> None:
    if not FLOWS[saga.kind].may_go(saga.step, to):
        raise TransitionRefused(f"{saga.kind} saga #{saga.pk}: {saga.step} -> {to} is not allowed")


def goto(saga: Saga, step: str) -> None:
    """Move the saga to ``step`` now, its attempts counted afresh."""
    _check_move(saga, step)
    saga.step = step
    saga.attempts = 0
    saga.next_run_at = None
    saga.save(update_fields=["step", "attempts", "next_run_at", "updated_at"])


def wait(saga: Saga, seconds: float, error: str = "", *, review: str = "") -> None:
    """Stay in the step and try it again in ``seconds``; ``review`` flags the saga for staff."""
    saga.attempts += 1
    saga.next_run_at = timezone.now() + timedelta(seconds=seconds)
    saga.last_error = error[:2000]
    fields = ["attempts", "next_run_at", "last_error", "updated_at"]
    if review and not saga.needs_review:
        saga.needs_review = True
        saga.review_reason = review[:255]
        fields += ["needs_review", "review_reason"]
    saga.save(update_fields=fields)


def finish(saga: Saga, status: str) -> None:
    """End the saga ``done`` or ``failed`` (its step becomes the same word)."""
    step = "done" if status == Saga.Status.DONE else "failed"
    _check_move(saga, step)
    saga.status = status
    saga.step = step
    saga.next_run_at = None
    saga.finished_at = timezone.now()
    saga.save(update_fields=["status", "step", "next_run_at", "finished_at", "updated_at"])


def position_id_of(saga: Saga) -> uuid.UUID:
    """The id of the saga's position (a join's or a leave's; a close has none)."""
    if saga.position_id is None:
        raise ValueError(f"{saga.kind} saga #{saga.pk} has no position")
    return saga.position_id


# --- transactions --------------------------------------------------------------------


def new_tx(saga: Saga, kind: str, amount: Decimal, **extra: Any) -> Transaction:
    """Write a new movement of the saga (a new external id), before anything is sent."""
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


def send(tx: Transaction, call: Callable[[], CallResult]) -> CallResult:
    """Count the attempt durably, then send."""
    now = timezone.now()
    Transaction.objects.filter(pk=tx.pk).update(attempts=F("attempts") + 1, last_attempt_at=now)
    tx.attempts += 1
    tx.last_attempt_at = now
    return call()


def record(tx: Transaction, result: CallResult, status: str, *, savepoint: bool = True) -> None:
    """Store the answer to ``tx`` and its new status (balances and reference on success).

    A success posts the movement's journal entry in the same database transaction, so the
    entry exists exactly when the movement does. Called inside a caller's ``atomic`` block
    that nothing between catches an error in, pass ``savepoint=False``: the caller's block
    is the one that rolls back, and the savepoint would only cost two round trips."""
    tx.status = status
    tx.last_error_code = result.error_code
    tx.last_error = result.error_message
    fields = ["status", "last_error_code", "last_error", "updated_at"]
    if result.data:
        tx.response = jsonable(result.data)
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
    with transaction.atomic(savepoint=savepoint):
        tx.save(update_fields=fields)
        if status == Status.SUCCEEDED:
            journal_post(tx)


# --- runner --------------------------------------------------------------------------


def lease_free(now: datetime) -> Q:
    """Sagas no live lease holds: never leased, dropped, or expired (its worker died)."""
    return Q(lease_owner="") | Q(lease_expires_at__lt=now)


def saga_lease_held(saga: Saga) -> bool:
    """Whether a worker holds the saga's lease right now (it is being run)."""
    return not Saga.objects.filter(pk=saga.pk).filter(lease_free(timezone.now())).exists()


def _lease_take(saga_id: int, owner: str) -> bool:
    now = timezone.now()
    return bool(
        Saga.objects.filter(pk=saga_id, status=Saga.Status.RUNNING)
        .filter(lease_free(now) | Q(lease_owner=owner))
        .update(lease_owner=owner, lease_expires_at=now + SAGA_LEASE)
    )


def _lease_drop(saga_id: int, owner: str) -> None:
    Saga.objects.filter(pk=saga_id, lease_owner=owner).update(lease_owner="", lease_expires_at=None)


def sagas_woken(saga_ids: list[int]) -> None:
    """Sagas just made due by a released pricing claim: handed to a worker each, or, with no
    broker, to the ``saga_advance`` run in progress, which drives them after its own saga."""
    from apps.transactions.tasks import saga_schedule

    followed = _woken.get()
    if settings.CELERY_TASK_ALWAYS_EAGER and followed is not None:
        followed.extend(saga_ids)
        return
    for saga in Saga.objects.filter(pk__in=saga_ids):
        saga_schedule(saga)


def claim_release(*, pool_id: int, saga_id: int) -> None:
    """Release ``saga_id``'s claim on the pool (if it holds it) and wake the pool's parked
    sagas. Every release of a pricing claim goes through here or ``pool_apply_transfer``."""
    pools.pool_pricing_release(pool_id=pool_id, saga_id=saga_id)
    claim_waiters_wake(pool_id=pool_id)


def claim_waiters_wake(*, pool_id: int) -> list[int]:
    """Make the pool's parked sagas due now and hand them on (``engine.sagas_woken``)."""
    waiting = list(
        Saga.objects.filter(pool_id=pool_id, status=Saga.Status.RUNNING, awaiting_claim=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if waiting:
        Saga.objects.filter(pk__in=waiting, awaiting_claim=True).update(
            awaiting_claim=False, next_run_at=None
        )
        sagas_woken(waiting)
    return waiting


# The sagas woken during the ``saga_advance`` run of this thread or task (see sagas_woken).
_woken: ContextVar[list[int] | None] = ContextVar("sagas_woken", default=None)

STEP_FAILURES_BEFORE_REVIEW = 5


def saga_advance(
    saga_id: int, *, budget: float = 30.0, follow: bool = True, wait_inline: bool = False
) -> Saga:
    """Drive one saga forward until it finishes, must wait, or ``budget`` seconds are spent.

    Safe to call from anywhere, any number of times, concurrently: a lease on the saga row
    lets one caller at a time run it, and every step is idempotent against stored state.
    A saga that must wait yields at once, its ``next_run_at`` telling the scheduler when to
    take it up again; only with ``wait_inline`` (a player's request) are waits of up to
    ``COPYPOOL_INLINE_WAIT_SECONDS`` (a setting) slept through. A saga parked on a pool's pricing claim never
    sleeps: the release wakes it. Sagas this one started (a close, a pay-out) and sagas it
    woke are advanced after it, within the budget, when ``follow`` is set (else handed to
    workers).
    """
    deadline = time.monotonic() + budget
    queue: deque[int] = deque([saga_id])
    done: set[int] = set()
    woken: list[int] = []
    token = _woken.set(woken)
    try:
        while queue:
            current = queue.popleft()
            if current in done:
                continue
            done.add(current)
            spawned = _advance_one(current, deadline=deadline, wait_inline=wait_inline)
            later = spawned + woken
            woken.clear()
            if follow and time.monotonic() < deadline:
                queue.extend(later)
            else:
                _hand_over(later)
    finally:
        _woken.reset(token)
    _hand_over(list(queue))
    return Saga.objects.get(pk=saga_id)


def _hand_over(saga_ids: list[int]) -> None:
    """Sagas this run will not drive: a worker each (no-op with no broker: the resume does)."""
    from apps.transactions.tasks import saga_schedule

    for saga in Saga.objects.filter(pk__in=saga_ids, status=Saga.Status.RUNNING):
        saga_schedule(saga)


def _advance_one(saga_id: int, *, deadline: float, wait_inline: bool) -> list[int]:
    """Run the saga's steps under its lease; returns the ids of the sagas it started."""
    from apps.transactions.tasks import saga_schedule

    owner = uuid.uuid4().hex
    if not _lease_take(saga_id, owner):
        return []
    leased_at = time.monotonic()
    spawned: list[int] = []
    saga: Saga | None = None
    ended = False
    try:
        while True:
            saga = _saga_load(saga_id, saga)
            if saga.status != Saga.Status.RUNNING:
                ended = True
                break
            if saga.next_run_at and saga.next_run_at > timezone.now():
                delay = (saga.next_run_at - timezone.now()).total_seconds()
                inline = wait_inline and not saga.awaiting_claim
                limit = settings.COPYPOOL_INLINE_WAIT_SECONDS
                if inline and delay <= min(limit, deadline - time.monotonic()):
                    time.sleep(max(delay, 0))
                    continue
                break
            ctx = StepContext(gateway=gateways.gateway_for(saga.pool))
            step_function(saga.kind, saga.step)(saga, ctx)
            spawned.extend(ctx.spawned)
            if time.monotonic() > deadline:
                break
            if time.monotonic() - leased_at > LEASE_RENEW_AFTER:
                _lease_take(saga_id, owner)  # renew
                leased_at = time.monotonic()
    except Exception as error:
        ended = False
        _step_failed(saga_id, error)
    finally:
        _lease_drop(saga_id, owner)
    if ended:  # just read from its row: finished, nothing to hand on
        return spawned
    saga = Saga.objects.get(pk=saga_id)
    if saga.status == Saga.Status.RUNNING:
        saga_schedule(saga)
    return spawned


# The saga's own columns, read again after each step (its relations are loaded once per run).
_SAGA_COLUMNS = [field.attname for field in Saga._meta.concrete_fields if not field.is_relation]


def _saga_load(saga_id: int, saga: Saga | None) -> Saga:
    """The saga as stored, with what its steps talk to (pool, streamer, operator, position,
    session, follower) loaded once per run: those rows' columns the steps read through the
    saga never change while it runs (ids, currency, tokens, user ids), and every step reads
    afresh what does change (balances, units, states). After each step only the saga's own
    row is read again (one table, no joins): a step, or a wake-up from another process, may
    have changed it by an UPDATE the object in memory never saw."""
    if saga is None:
        return Saga.objects.select_related(
            "pool__streamer",
            "pool__operator",
            "operator",
            "position__session",
            "position__follower",
        ).get(pk=saga_id)
    saga.refresh_from_db(fields=_SAGA_COLUMNS)
    return saga


def _step_failed(saga_id: int, error: Exception) -> None:
    """A step raised. The stored state is consistent (rows are written before sends), so the
    saga is resumed, with the backoff of any retry; after ``STEP_FAILURES_BEFORE_REVIEW``
    failures in a row it is flagged for staff, still retrying. A pricing claim is given up
    only when nothing was priced on it (no transfer of the saga is pending or in doubt)."""
    logger.exception("Saga %s failed in a step; it will be resumed", saga_id)
    saga = Saga.objects.get(pk=saga_id)
    saga.attempts += 1
    failures = saga.attempts
    saga.next_run_at = timezone.now() + timedelta(seconds=backoff(failures, cap=600))
    saga.last_error = f"step {saga.step} raised {type(error).__name__}: {error}"[:2000]
    fields = ["attempts", "next_run_at", "last_error", "updated_at"]
    if failures >= STEP_FAILURES_BEFORE_REVIEW and not saga.needs_review:
        saga.needs_review = True
        saga.review_reason = f"step {saga.step} keeps failing: {type(error).__name__}"[:255]
        fields += ["needs_review", "review_reason"]
    saga.save(update_fields=fields)
    priced = saga.transactions.filter(
        kind__in=[Kind.STREAMER_DEPOSIT, Kind.STREAMER_WITHDRAWAL],
        status__in=[Status.PENDING, Status.UNKNOWN],
    )
    if not priced.exists():
        claim_release(pool_id=saga.pool_id, saga_id=saga.pk)


def sagas_due(*, limit: int = 1000) -> list[int]:
    """Ids of the running sagas whose time has come and that no live lease holds."""
    now = timezone.now()
    return list(
        Saga.objects.filter(status=Saga.Status.RUNNING)
        .filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now))
        .filter(lease_free(now))
        .order_by("next_run_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
