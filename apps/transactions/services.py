"""Entry points of the money flows (join, leave, stream end, resume) and idempotency."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import replace
from decimal import Decimal, localcontext

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core.errors import (
    ApplicationError,
    Conflict,
    ErrorCode,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from apps.core.money import (
    DEMO_CURRENCY,
    MATH_CONTEXT,
    UNIT_PLACES,
    AmountError,
    parse_amount,
    round_units_down,
)
from apps.followers.models import Follower, PlayerSession, Position
from apps.followers.selectors import position_get_for_follower
from apps.operators.models import Operator
from apps.pools import services as pools
from apps.pools.limits import (
    PoolLoad,
    amount_text,
    empty_pool_load,
    join_limit_breach,
    pool_load,
)
from apps.pools.models import Pool
from apps.streamers.models import Stream, Streamer
from apps.streamers.selectors import (
    StreamerLimits,
    stream_get_for_operator,
    stream_latest_ended,
    stream_live_get,
    streamer_admits,
    streamer_fee_percent,
    streamer_get_by_user_id,
    streamer_limits,
)
from apps.streamers.services import stream_cancel
from apps.transactions import sagas
from apps.transactions.models import Saga, Transaction
from apps.transactions.tasks import stream_end_task

logger = logging.getLogger(__name__)


def _check_session(session: PlayerSession) -> None:
    if session.expires_at <= timezone.now():
        raise ApplicationError("Player session expired", code=ErrorCode.SESSION_EXPIRED, status=401)


def _check_operator(session: PlayerSession) -> None:
    """New money in: only while the operator is enabled (money out is never refused)."""
    if not session.follower.operator.enabled:
        raise ApplicationError("CopyStake is disabled", code=ErrorCode.COPYSTAKE_OFF)
    _check_session(session)


def position_join(*, session: PlayerSession, streamer_id: int, amount: object) -> Position:
    """Validate a join, persist the position, its saga and its BET row, then drive it.

    Every refusal here happens before any money moves, and persists nothing. The checks, in
    order (the first that fails answers):

    1. the operator is enabled and the session valid (``ErrorCode.COPYSTAKE_OFF``,
       ``ErrorCode.SESSION_EXPIRED``);
    2. the player may join pools at all (``ErrorCode.FOLLOWER_BLOCKED``): about the
       player, whatever they ask for;
    3. the amount is a valid amount (``ErrorCode.INVALID_AMOUNT``);
    4. the streamer exists at this operator (``ErrorCode.STREAMER_NOT_FOUND``), admits
       this player (``ErrorCode.STREAMER_PRIVATE``: before the streamer's status, so a
       player outside an invite-only pool learns nothing more about it), and is not
       suspended (``ErrorCode.STREAMER_SUSPENDED``);
    5. the player is not the streamer, the streamer is live, the currencies match
       (``ErrorCode.SELF_FOLLOW``, ``ErrorCode.STREAMER_OFFLINE``,
       ``ErrorCode.CURRENCY_MISMATCH``);
    6. the limits (``apps.pools.limits.join_limit_breach``: contribution, distinct
       followers, capacity), first against the pool as it stands (or an empty one, so that a
       refused join never opens a pool), then again under the pool's row lock together with
       its state (``ErrorCode.POOL_CLOSING``, ``ErrorCode.POOL_BUST``) and, under the
       follower's row lock, the block: that decision is the one that counts, and it is taken
       one join at a time, so racing joins cannot pass a limit together, nor a join slip
       past a block.

    Returns the position as it stands when the inline budget is spent: ``active`` when done,
    ``joining`` while pending, ``failed`` with ``failure_code`` when the BET was refused or
    rolled back.
    """
    _check_operator(session)
    follower: Follower = session.follower
    follower.refresh_from_db(fields=["is_blocked"])  # the session may have been loaded earlier
    if follower.is_blocked:
        raise _blocked()
    try:
        value = parse_amount(amount)
    except AmountError as error:
        raise ValidationFailed(str(error), code=ErrorCode.INVALID_AMOUNT) from error
    streamer = (
        Streamer.objects.select_related("operator")
        .filter(pk=streamer_id, operator=follower.operator)
        .first()
    )
    if streamer is None:
        raise NotFound("Streamer not found", code=ErrorCode.STREAMER_NOT_FOUND)
    if not streamer_admits(
        streamer=streamer, operator_user_id=follower.operator_user_id, is_demo=session.is_demo
    ):
        raise Forbidden("This streamer's pool is invite-only", code=ErrorCode.STREAMER_PRIVATE)
    if streamer.status != Streamer.Status.ACTIVE:
        raise Conflict("The streamer is suspended", code=ErrorCode.STREAMER_SUSPENDED)
    if not follower.is_demo and follower.operator_user_id == streamer.operator_user_id:
        raise Forbidden("A streamer cannot follow their own pool", code=ErrorCode.SELF_FOLLOW)
    if not Stream.objects.filter(streamer=streamer, status=Stream.Status.LIVE).exists():
        raise Conflict("The streamer is not live", code=ErrorCode.STREAMER_OFFLINE)
    if not session.is_demo and session.currency != streamer.currency:
        raise ValidationFailed(
            f"The pool is in {streamer.currency}, the session in {session.currency}",
            code=ErrorCode.CURRENCY_MISMATCH,
        )
    limits = streamer_limits(streamer)
    current = pools.pool_current(streamer=streamer, is_demo=session.is_demo)
    if current is None:
        opening = streamer.demo_balance if session.is_demo else Decimal(0)
        _check_limits(limits, value, empty_pool_load(balance=opening), session, streamer)
    else:
        _check_limits(
            limits, value, pool_load(pool=current, follower_id=follower.pk), session, streamer
        )
    pool = pools.pool_get_or_open(streamer=streamer, is_demo=session.is_demo)
    with transaction.atomic():
        pool = Pool.objects.select_for_update().get(pk=pool.pk)
        if pool.state != Pool.State.OPEN:
            raise Conflict(
                "The pool is closing, try again in a moment", code=ErrorCode.POOL_CLOSING
            )
        if pool.is_bust:
            raise Conflict("The pool is bust", code=ErrorCode.POOL_BUST)
        # Blocking locks the follower's row too: a block either sees this position (committed
        # before it) or this join sees the block. Only then may the position be created.
        if (
            Follower.objects.select_for_update()
            .values_list("is_blocked", flat=True)
            .get(pk=follower.pk)
        ):
            raise _blocked()
        _check_limits(
            limits, value, pool_load(pool=pool, follower_id=follower.pk), session, streamer
        )
        position = Position.objects.create(
            pool=pool,
            follower=follower,
            session=session,
            contributed=value,
            stop_loss_percent=streamer.operator.default_stop_loss_percent,
            performance_fee_percent=streamer_fee_percent(streamer),
            is_demo=session.is_demo,
        )
        saga = sagas.join_begin(position=position)
    sagas.saga_advance(saga.pk, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS, wait_inline=True)
    position.refresh_from_db()
    return position


def position_leave(
    *,
    session: PlayerSession,
    position_id: object,
    units: object = None,
    fraction: object = None,
) -> Position:
    """Start paying out one of the session's follower's positions and drive it inline.

    With neither ``units`` nor ``fraction`` every unit leaves (a full leave, the position
    ``leaving`` then ``closed``); with one of them only that part (``position_leave_part``).
    Never refused because the operator is disabled: disabling stops new joins, not payouts.
    """
    if units is not None or fraction is not None:
        return position_leave_part(
            session=session, position_id=position_id, units=units, fraction=fraction
        )[0]
    _check_session(session)
    position = position_get_for_follower(follower=session.follower, position_id=position_id)
    if position.status in (Position.Status.LEAVING, Position.Status.CLOSED):
        return position  # already on its way out: the same answer again
    if position.status != Position.Status.ACTIVE:
        raise Conflict(f"The position is {position.status}", code=ErrorCode.POSITION_NOT_ACTIVE)
    if _position_busy(position):
        raise _busy()
    saga = sagas.leave_begin(position=position, reason=Position.LeaveReason.FOLLOWER)
    if saga is not None:
        sagas.saga_advance(saga.pk, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS, wait_inline=True)
    position.refresh_from_db()
    return position


def position_leave_part(
    *, session: PlayerSession, position_id: object, units: object = None, fraction: object = None
) -> tuple[Position, Saga]:
    """Pay out part of an active position: ``units`` of it, or a ``fraction`` (0 < f <= 1) of
    its units; exactly one of the two. The rest stays ``active``; the saga is a leave with
    ``units`` set (apps.transactions.sagas.leave, "Partial leave", the dust rule included).

    All of the units (``units`` equal to the position's, or ``fraction`` 1) is a full leave,
    answered as ``position_leave`` answers one. Refused, with nothing changed: both or
    neither given, or a value out of range (``ErrorCode.INVALID_UNITS``); a position not
    active (``ErrorCode.POSITION_NOT_ACTIVE``), or with a top-up or leave running
    (``ErrorCode.POSITION_BUSY``). Returns the position and the saga as they stand when the
    inline budget is spent.
    """
    _check_session(session)
    if (units is None) == (fraction is None):
        raise ValidationFailed("Give units or fraction, not both", code=ErrorCode.INVALID_UNITS)
    position = position_get_for_follower(follower=session.follower, position_id=position_id)
    part_units = _parse_part(units if units is not None else fraction, fraction=units is None)
    with transaction.atomic():
        position = Position.objects.select_for_update().select_related("pool").get(pk=position.pk)
        if position.status != Position.Status.ACTIVE:
            raise Conflict(f"The position is {position.status}", code=ErrorCode.POSITION_NOT_ACTIVE)
        if _position_busy(position):
            raise _busy()
        if fraction is not None:
            with localcontext(MATH_CONTEXT):
                part_units = round_units_down(position.units * part_units)
            if part_units <= 0:
                raise ValidationFailed(
                    "That fraction of the position is less than one unit's smallest part",
                    code=ErrorCode.INVALID_UNITS,
                )
        elif part_units > position.units:
            raise ValidationFailed(
                f"The position holds {position.units} units", code=ErrorCode.INVALID_UNITS
            )
        full = part_units >= position.units
        if full:
            saga = sagas.leave_begin(position=position, reason=Position.LeaveReason.FOLLOWER)
        else:
            saga = sagas.leave_part_begin(position=position, units=part_units)
    if saga is None:  # cannot be: the row lock held the position active
        raise Conflict("The position is not active", code=ErrorCode.POSITION_NOT_ACTIVE)
    saga = sagas.saga_advance(
        saga.pk, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS, wait_inline=True
    )
    position.refresh_from_db()
    return position, saga


def position_top_up(
    *, session: PlayerSession, position_id: object, amount: object
) -> tuple[Position, Saga]:
    """Add ``amount`` to an active position of the session's follower: a new BET and
    DEPOSIT, priced at the NAV of the moment, issuing units into the same position
    (apps.transactions.sagas.join, "Top-up"). Driven inline like a join.

    Refused as a join is, before any money moves and persisting nothing: the operator
    disabled or the session invalid, the follower blocked, the amount invalid, the streamer
    not admitting the player, suspended or offline, the pool closing or bust; then the
    position: not active (``ErrorCode.POSITION_NOT_ACTIVE``), or with a top-up or partial
    leave running (``ErrorCode.POSITION_BUSY``); then the limits against the position's
    total: ``contributed + amount`` at most the maximum contribution
    (``ErrorCode.CONTRIBUTION_LIMIT``), and the pool's capacity as for a join (pending joins
    and top-ups counted). The follower is a member already: the follower limit does not
    apply. Decided again under the pool's, the follower's and the position's row locks.

    Returns the position and the saga: the saga ``done`` (the position grew), ``running``
    (the operator has not answered yet; the position is as it was) or ``failed`` (refunded:
    the saga's ``failure_code`` says why; the position is as it was).
    """
    _check_operator(session)
    follower: Follower = session.follower
    follower.refresh_from_db(fields=["is_blocked"])
    if follower.is_blocked:
        raise _blocked()
    try:
        value = parse_amount(amount)
    except AmountError as error:
        raise ValidationFailed(str(error), code=ErrorCode.INVALID_AMOUNT) from error
    position = position_get_for_follower(follower=follower, position_id=position_id)
    pool = Pool.objects.select_related("streamer__operator").get(pk=position.pool_id)
    streamer = pool.streamer
    _check_position_top_up(position)
    if not streamer_admits(
        streamer=streamer, operator_user_id=follower.operator_user_id, is_demo=session.is_demo
    ):
        raise Forbidden("This streamer's pool is invite-only", code=ErrorCode.STREAMER_PRIVATE)
    if streamer.status != Streamer.Status.ACTIVE:
        raise Conflict("The streamer is suspended", code=ErrorCode.STREAMER_SUSPENDED)
    if not Stream.objects.filter(streamer=streamer, status=Stream.Status.LIVE).exists():
        raise Conflict("The streamer is not live", code=ErrorCode.STREAMER_OFFLINE)
    limits = streamer_limits(streamer)
    _check_top_up_limits(limits, value, position, pool, session)
    with transaction.atomic():
        pool = Pool.objects.select_for_update().get(pk=pool.pk)
        if pool.state != Pool.State.OPEN or pool.close_reason:
            raise Conflict("The pool is closing", code=ErrorCode.POOL_CLOSING)
        if pool.is_bust:
            raise Conflict("The pool is bust", code=ErrorCode.POOL_BUST)
        if (
            Follower.objects.select_for_update()
            .values_list("is_blocked", flat=True)
            .get(pk=follower.pk)
        ):
            raise _blocked()
        position = Position.objects.select_for_update().select_related("pool").get(pk=position.pk)
        _check_position_top_up(position)
        _check_top_up_limits(limits, value, position, pool, session)
        saga = sagas.top_up_begin(position=position, amount=value)
    saga = sagas.saga_advance(
        saga.pk, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS, wait_inline=True
    )
    position.refresh_from_db()
    return position, saga


def _check_position_top_up(position: Position) -> None:
    if position.status != Position.Status.ACTIVE:
        raise Conflict(f"The position is {position.status}", code=ErrorCode.POSITION_NOT_ACTIVE)
    if _position_busy(position):
        raise _busy()


def _check_top_up_limits(
    limits: StreamerLimits, amount: Decimal, position: Position, pool: Pool, session: PlayerSession
) -> None:
    """The maximum contribution counts the position's total; the capacity, the pool's value
    with the joins and top-ups still pending, as a join's does (``join_limit_breach``)."""
    currency = DEMO_CURRENCY if session.is_demo else pool.currency
    total = position.contributed + amount
    if total > limits.max_contribution:
        room = max(limits.max_contribution - position.contributed, Decimal(0))
        raise ApplicationError(
            f"The maximum contribution to this pool is {amount_text(limits.max_contribution, currency)}"
            f"; this position can take {amount_text(room, currency)} more",
            code=ErrorCode.CONTRIBUTION_LIMIT,
        )
    load = pool_load(pool=pool, follower_id=position.follower_id)
    load = replace(load, pending=load.pending + _top_ups_pending(pool))
    # The contribution bounds were checked on the total above: only followers and capacity here.
    bounds = replace(limits, min_contribution=Decimal(0), max_contribution=amount)
    breach = join_limit_breach(limits=bounds, amount=amount, load=load, currency=currency)
    if breach is not None:
        raise ApplicationError(breach.message, code=breach.code)


def _top_ups_pending(pool: Pool) -> Decimal:
    """The BETs of the pool's running top-ups whose DEPOSIT is not applied yet (not in the
    pool's balance): counted in its value as pending joins are (apps.pools.limits)."""
    total = Transaction.objects.filter(
        saga__pool=pool,
        saga__kind=Saga.Kind.TOP_UP,
        saga__status=Saga.Status.RUNNING,
        kind=Transaction.Kind.FOLLOWER_DEBIT,
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def _position_busy(position: Position) -> bool:
    """Whether a top-up or a leave of the position is running (one at a time per position)."""
    return Saga.objects.filter(
        position=position,
        status=Saga.Status.RUNNING,
        kind__in=[Saga.Kind.TOP_UP, Saga.Kind.LEAVE],
    ).exists()


def _busy() -> Conflict:
    return Conflict(
        "A top-up or leave of this position is in progress; try again once it is done",
        code=ErrorCode.POSITION_BUSY,
    )


UNITS_TEXT = re.compile(r"^(?:0|[1-9][0-9]{0,21})(?:\.[0-9]{1,18})?$")


def _parse_part(value: object, *, fraction: bool) -> Decimal:
    """A partial leave's ``units`` (more than 0, at most 18 places) or ``fraction`` (more
    than 0, at most 1): a JSON number or a string in plain notation, parsed exactly."""
    name = "fraction" if fraction else "units"
    if isinstance(value, str):
        if not UNITS_TEXT.fullmatch(value):
            raise ValidationFailed(
                f"{name} must be a decimal number in plain notation", code=ErrorCode.INVALID_UNITS
            )
        value = Decimal(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    elif isinstance(value, float):
        value = Decimal(repr(value))
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationFailed(f"{name} must be a number", code=ErrorCode.INVALID_UNITS)
    if value <= 0:
        raise ValidationFailed(f"{name} must be more than 0", code=ErrorCode.INVALID_UNITS)
    if fraction and value > 1:
        raise ValidationFailed("fraction must be at most 1", code=ErrorCode.INVALID_UNITS)
    if value.as_tuple().exponent < -UNIT_PLACES or len(value.as_tuple().digits) > 40:  # type: ignore[operator]
        raise ValidationFailed(
            f"{name} has more than {UNIT_PLACES} decimal places", code=ErrorCode.INVALID_UNITS
        )
    return value


def pool_settle(
    *, pool: Pool, reason: str = "", leave_reason: str = Position.LeaveReason.STREAM_END
) -> list[int]:
    """Pay every member out (stream end, bust, staff action); the pool closes after the last.

    ``reason`` says why on the pool (``close_reason``: "stream ended by staff <who>, ...");
    the first reason given stays. ``leave_reason`` is what each position records
    (``Position.LeaveReason``). Returns the ids of the leave sagas started.
    """
    if reason:
        Pool.objects.filter(pk=pool.pk, close_reason="").exclude(state=Pool.State.CLOSED).update(
            close_reason=reason[:300]
        )
    started = sagas.pool_pay_out_all(pool, reason=leave_reason)
    for saga_id in started:
        sagas.saga_advance(saga_id, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS)
    close = sagas.close_begin(pool_id=pool.pk)
    if close is not None:
        sagas.saga_advance(close.pk, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS)
    return started


def saga_retry_now(*, saga: Saga) -> Saga:
    """Drive a running saga now instead of at its next scheduled attempt."""
    saga.refresh_from_db()
    if saga.status != Saga.Status.RUNNING:
        raise Conflict(
            f"Saga #{saga.pk} is {saga.status}: nothing to retry", code=ErrorCode.SAGA_FINISHED
        )
    if sagas.saga_lease_held(saga):
        raise Conflict(
            f"Saga #{saga.pk} is being run by a worker right now; look again in a moment",
            code=ErrorCode.SAGA_BUSY,
        )
    Saga.objects.filter(pk=saga.pk, status=Saga.Status.RUNNING).update(next_run_at=None)
    return sagas.saga_advance(saga.pk, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS)


# Why a stream ended, as its end reason and its pools' close reason say.
END_BY_OPERATOR = "stream ended by the operator"


def streams_end(*, stream: Stream, reason: str, pay_out_in_worker: bool = False) -> Stream:
    """End a live stream and pay out its streamer's pools (real and demo).

    ``reason`` is kept as the stream's ``end_reason`` and each pool's ``close_reason`` ("stream
    ended by staff <who>, ...", "stream ended on schedule", ``END_BY_OPERATOR``). A scheduled
    stream is cancelled instead (nothing was live, nothing to pay). An ended or cancelled
    stream stays as it is, but the streamer's pools still open while no stream of theirs is
    live are settled again, which only starts the leaves not started yet.

    ``pay_out_in_worker``: the pools are settled by ``stream_end_task`` once this transaction
    commits (a worker's, when a broker is configured), so that the caller answers at once
    instead of waiting on every member's payout.
    """
    if stream.status == Stream.Status.SCHEDULED:
        try:
            return stream_cancel(stream=stream, reason=reason)
        except ApplicationError as error:  # it went live meanwhile: end it
            if error.code != ErrorCode.STREAM_NOT_SCHEDULED:
                raise
    Stream.objects.filter(pk=stream.pk, status=Stream.Status.LIVE).update(
        status=Stream.Status.ENDED, ended_at=timezone.now(), end_reason=reason[:300]
    )
    stream.refresh_from_db()
    if Stream.objects.filter(streamer_id=stream.streamer_id, status=Stream.Status.LIVE).exists():
        return stream
    if pay_out_in_worker:
        stream_id = stream.pk
        transaction.on_commit(lambda: stream_end_task.delay(stream_id, reason))
        return stream
    for pool in Pool.objects.filter(streamer_id=stream.streamer_id, state=Pool.State.OPEN):
        pool_settle(pool=pool, reason=reason)
    return stream


def streams_end_for_operator(
    *, operator: Operator, operator_user_id: str = "", stream_uid: uuid.UUID | None = None
) -> Stream:
    """The operator API's ``streams/end``: the streamer's live stream (by ``operator_user_id``)
    or that stream (by ``stream_uid``; both given, they must agree). Ending an ended stream
    answers it as it is; a streamer with no live stream gets their latest ended one. The pools
    are paid out by a worker (``pay_out_in_worker``): the answer says ``ended`` at once."""
    streamer = None
    stream = None
    if operator_user_id:
        streamer = streamer_get_by_user_id(operator=operator, operator_user_id=operator_user_id)
        if streamer is None:
            raise NotFound("No such streamer at this operator", code=ErrorCode.STREAMER_NOT_FOUND)
    if stream_uid is not None:
        stream = stream_get_for_operator(operator=operator, uid=stream_uid)
        if stream is None:
            raise NotFound(
                "No stream of this operator has that streamId",
                code=ErrorCode.STREAM_NOT_FOUND,
                status=404,
            )
        if streamer is not None and stream.streamer_id != streamer.pk:
            raise ValidationFailed("The streamId is not a stream of that operatorUserId")
    elif streamer is not None:
        stream = stream_live_get(streamer=streamer) or stream_latest_ended(streamer=streamer)
        if stream is None:
            raise NotFound(
                "The streamer has never streamed", code=ErrorCode.STREAM_NOT_FOUND, status=404
            )
    if stream is None:
        raise ValidationFailed("Give an operatorUserId or a streamId")
    return streams_end(stream=stream, reason=END_BY_OPERATOR, pay_out_in_worker=True)


RESUME_MESSAGE_TTL_SECONDS = 9  # the resume schedule runs every 10 s


def sagas_resume(*, limit: int = 1000, fan_out: bool = False, budget: float = 30.0) -> int:
    """Drive every unfinished saga whose time has come; the crash-recovery entry point.

    ``fan_out`` hands each saga to a worker (Celery) instead of running it here.
    """
    from apps.transactions.tasks import saga_advance_task

    due = sagas.sagas_due(limit=limit)
    for saga_id in due:
        if fan_out:
            # Expires before the next resume pass would enqueue it again: a backlog never
            # piles up duplicate messages (and the saga lease makes duplicates harmless).
            saga_advance_task.apply_async(args=(saga_id,), expires=RESUME_MESSAGE_TTL_SECONDS)
        else:
            sagas.saga_advance(saga_id, budget=budget, follow=True)
    return len(due)


# --- join checks (position_join) ---------------------------------------------------------


def _blocked() -> Forbidden:
    return Forbidden("This player may not join pools", code=ErrorCode.FOLLOWER_BLOCKED)


def _check_limits(
    limits: StreamerLimits,
    amount: Decimal,
    load: PoolLoad,
    session: PlayerSession,
    streamer: Streamer,
) -> None:
    currency = DEMO_CURRENCY if session.is_demo else streamer.currency
    breach = join_limit_breach(limits=limits, amount=amount, load=load, currency=currency)
    if breach is not None:
        raise ApplicationError(breach.message, code=breach.code)
