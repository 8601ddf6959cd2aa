"""Reads for the player API: a follower only ever sees their own positions."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

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


@dataclass(frozen=True)
class PositionTotals:
    """One currency's figures of a follower's positions (the follower's admin page)."""

    currency: str
    positions: int = 0
    open: int = 0
    contributed: Decimal = Decimal(0)
    paid_out: Decimal = Decimal(0)
    value_now: Decimal = Decimal(0)

    @property
    def result(self) -> Decimal:
        """Paid out plus what is still in, less what went in."""
        return self.paid_out + self.value_now - self.contributed


OPEN_STATUSES = (Position.Status.JOINING, Position.Status.ACTIVE, Position.Status.LEAVING)


def follower_position_totals(*, follower: Follower) -> list[PositionTotals]:
    """Per currency: positions, open ones, contributions (failed joins took nothing), what was
    paid out, and what the open ones are worth at their pools' last known NAV
    (``position_value``). Two queries, whatever the number of positions."""
    figures = (
        Position.objects.filter(follower=follower)
        .values("pool__currency")
        .annotate(
            positions=Count("pk"),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            contributed=Sum("contributed", filter=~Q(status=Position.Status.FAILED)),
            paid_out=Sum("payout", filter=Q(status=Position.Status.CLOSED)),
        )
        .order_by("pool__currency")
    )
    value_now: dict[str, Decimal] = defaultdict(Decimal)
    for position in Position.objects.filter(
        follower=follower, status__in=OPEN_STATUSES
    ).select_related("pool"):
        value_now[position.pool.currency] += Decimal(position_value(position))
    return [
        PositionTotals(
            currency=row["pool__currency"],
            positions=row["positions"],
            open=row["open"],
            contributed=row["contributed"] or Decimal(0),
            paid_out=row["paid_out"] or Decimal(0),
            value_now=value_now[row["pool__currency"]],
        )
        for row in figures
    ]
