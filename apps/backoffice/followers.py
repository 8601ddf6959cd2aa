"""Staff services on followers that pay out: block (optionally paying every open position out
now) and force one position out.

Both go through the normal leave flow (``apps.transactions.sagas.leave_begin``, driven by
``saga_advance`` as ``pool_settle`` drives it): the WITHDRAWAL is priced on a fresh balance
under the pool's claim, the WIN retried until paid, the pool closed after its last member. No
money moves any other way, and nothing waits inline for a slow answer: a saga that must wait
is taken up by the resume schedule. The admin records who asked and why (``StaffAction``);
a block also keeps them on the follower (``blocked_reason``), and both go to the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings

from apps.backoffice.models import StaffAction
from apps.core.errors import Conflict, ErrorCode
from apps.followers.models import Follower, Position
from apps.followers.services import follower_block, reason_required
from apps.transactions import sagas

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlockOutcome:
    """What blocking did: whether the follower was blocked just now, the leave sagas started
    (when paying out), and what was left alone."""

    follower: Follower
    newly_blocked: bool
    leaves_started: list[int] = field(default_factory=list)
    # Of the positions paying out: paid (the WIN too) and still on their way.
    paid_out: int = 0
    leaving: int = 0
    # Active positions left in their pools (no pay-out asked for).
    kept: int = 0
    # Joins still pending: they are not active yet, so nothing pays them out now.
    joining: int = 0

    def describe(self) -> str:
        parts = ["blocked" if self.newly_blocked else "already blocked"]
        if self.leaves_started:
            if self.paid_out:
                parts.append(f"{self.paid_out} position(s) paid out")
            if self.leaving:
                parts.append(f"{self.leaving} position(s) leaving (retried on schedule)")
        elif self.kept:
            parts.append(f"{self.kept} open position(s) stay until the follower or the stream ends")
        else:
            parts.append("no open positions")
        if self.joining:
            parts.append(
                f"{self.joining} join(s) still pending are not paid out (force-leave them once "
                "active)"
            )
        return "; ".join(parts)


def follower_block_by_staff(
    *, follower: Follower, pay_out_now: bool, who: str, reason: str
) -> BlockOutcome:
    """Block a follower (``follower_block``: no more joins) and, with ``pay_out_now``, start
    the leave of every active position they hold, demo ones too; without it the positions
    stay until the follower leaves or the stream ends.

    Idempotent: an already blocked follower keeps the first block's reason and time, and
    ``pay_out_now`` still pays out what is active now.
    """
    reason = reason_required(reason, action="block a follower")
    was_blocked = Follower.objects.filter(pk=follower.pk, is_blocked=True).exists()
    follower = follower_block(follower=follower, reason=f"blocked by staff {who}, {reason}")
    started = follower_pay_out(follower=follower) if pay_out_now else []
    logger.info(
        "Follower %s blocked by staff %s (pay out now: %s, %d leave(s)): %s",
        follower.pk,
        who,
        pay_out_now,
        len(started),
        reason,
    )
    open_positions = Position.objects.filter(follower=follower)
    paying = list(Position.objects.filter(sagas__in=started).values_list("status", flat=True))
    return BlockOutcome(
        follower=follower,
        newly_blocked=not was_blocked,
        leaves_started=started,
        paid_out=paying.count(Position.Status.CLOSED),
        leaving=len(paying) - paying.count(Position.Status.CLOSED),
        kept=open_positions.filter(status=Position.Status.ACTIVE).count(),
        joining=open_positions.filter(status=Position.Status.JOINING).count(),
    )


def follower_pay_out(*, follower: Follower) -> list[int]:
    """Start the leave of each of the follower's active positions, oldest first, then drive
    each; returns the leave sagas' ids."""
    started = sagas.positions_pay_out(
        Position.objects.filter(follower=follower), reason=Position.LeaveReason.STAFF
    )
    for saga_id in started:
        sagas.saga_advance(saga_id, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS)
    return started


def position_force_leave(*, position: Position, who: str, reason: str) -> Position:
    """Pay one position out now, as if its follower had left (the normal leave flow).

    A position already on its way out (leaving, closed) is answered as it is; one that never
    became active (joining, failed) has nothing to pay out: ``ErrorCode.POSITION_NOT_ACTIVE``.
    """
    reason = reason_required(reason, action="force a position out")
    position = Position.objects.select_related("pool").get(pk=position.pk)
    if position.status in (Position.Status.LEAVING, Position.Status.CLOSED):
        return position
    if position.status != Position.Status.ACTIVE:
        raise Conflict(
            f"The position is {position.status}: only an active position can be paid out",
            code=ErrorCode.POSITION_NOT_ACTIVE,
        )
    leave = sagas.leave_begin(position=position, reason=Position.LeaveReason.STAFF)
    if leave is not None:
        logger.info(
            "Position %s forced out by staff %s (saga #%s): %s", position.pk, who, leave.pk, reason
        )
        sagas.saga_advance(leave.pk, budget=settings.COPYPOOL_INLINE_SAGA_SECONDS)
    position.refresh_from_db()
    return position


BLOCK_ACTIONS = ("follower_block", "follower_unblock")


def follower_block_record(*, follower: Follower) -> StaffAction | None:
    """The staff action behind the follower's block state: while blocked, the block that
    blocked them (the first done since ``blocked_at``: a later block of a blocked follower
    changes nothing); otherwise the last block or unblock. None when staff never did either.
    At most two queries."""
    done = StaffAction.objects.filter(
        target_type="followers.follower",
        target_id=str(follower.pk),
        action__in=BLOCK_ACTIONS,
        outcome=StaffAction.Outcome.DONE,
    )
    if follower.is_blocked and follower.blocked_at is not None:
        blocks = done.filter(action="follower_block")
        return (
            blocks.filter(created_at__gte=follower.blocked_at).order_by("created_at", "id").first()
            or blocks.order_by("-created_at", "-id").first()
        )
    return done.order_by("-created_at", "-id").first()
