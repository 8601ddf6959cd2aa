"""Reads for the player API: a follower only ever sees their own positions."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db.models import QuerySet

from apps.core.errors import ErrorCode, NotFound
from apps.followers.models import Follower, Position
from apps.pools.accounting import value_of_units


def position_list_for_follower(*, follower: Follower) -> QuerySet[Position]:
    return Position.objects.filter(follower=follower).select_related("pool").order_by("-created_at")


def position_get_for_follower(*, follower: Follower, position_id: object) -> Position:
    """This follower's position; another's, or a malformed id, is simply not found (404)."""
    try:
        pk = uuid.UUID(str(position_id))
    except ValueError as error:
        raise NotFound("Position not found", code=ErrorCode.POSITION_NOT_FOUND) from error
    position = Position.objects.select_related("pool").filter(pk=pk, follower=follower).first()
    if position is None:
        raise NotFound("Position not found", code=ErrorCode.POSITION_NOT_FOUND)
    return position


def position_value(position: Position) -> Decimal | int:
    """What the position would pay if it left now, at the pool's last known balance."""
    if position.status in (Position.Status.CLOSED, Position.Status.FAILED):
        return position.payout or 0
    if position.status == Position.Status.LEAVING and position.payout is not None:
        return position.payout
    pool = position.pool
    return value_of_units(units=position.units, balance=pool.balance, total_units=pool.total_units)
