"""Reads for the player API: a follower only ever sees their own positions."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from apps.core.errors import ApplicationError, ErrorCode, NotFound
from apps.followers.models import Follower, PlayerSession, Position
from apps.operators import clients
from apps.pools.accounting import value_of_units


def position_list_for_follower(*, follower: Follower) -> QuerySet[Position]:
    return (
        Position.objects.filter(follower=follower)
        .select_related("pool__streamer")
        .order_by("-created_at")
    )


def position_get_for_follower(*, follower: Follower, position_id: object) -> Position:
    """This follower's position; another's, or a malformed id, is simply not found (404)."""
    try:
        pk = uuid.UUID(str(position_id))
    except ValueError as error:
        raise NotFound("Position not found", code=ErrorCode.POSITION_NOT_FOUND) from error
    position = (
        Position.objects.select_related("pool__streamer").filter(pk=pk, follower=follower).first()
    )
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


# A wallet that refuses or does not answer is the wallet's state, not a fault of ours: 409,
# never a 5xx (the player API's 401 means "no player token", which the page stops on).
WALLET_FAILURE_STATUS = 409

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


@dataclass(frozen=True)
class WalletBalance:
    """The follower's money at the casino (or the demo follower's play money)."""

    balance: Decimal
    currency: str


def wallet_balance(*, session: PlayerSession) -> WalletBalance:
    """What the follower has in their casino wallet now: the wallet's ``/auth`` (seed 003)
    with the session's user token, signed and written to the call log like every wallet
    call. A demo session has no wallet: its follower's play money is answered, nothing called.

    Whatever the wallet does, this raises an ``ApplicationError`` with a 409 (never a 5xx):
    a refusal keeps the wallet's code (``ErrorCode.INVALID_TOKEN`` when the casino session is
    gone), no usable answer is ``ErrorCode.WALLET_UNAVAILABLE``. The page shows the balance only;
    nothing is decided on it (a join's BET is the wallet's own check).
    """
    if session.is_demo:
        follower = Follower.objects.only("demo_balance").get(pk=session.follower_id)
        return WalletBalance(balance=follower.demo_balance, currency=session.currency)
    operator = session.follower.operator
    result = clients.wallet_auth(operator, user_token=session.user_token, currency=session.currency)
    if result.refused:
        raise ApplicationError(
            f"The wallet refused to show the balance: {result.error_message or result.error_code}",
            code=result.error_code or ErrorCode.WALLET_UNAVAILABLE,
            status=WALLET_FAILURE_STATUS,
        )
    balance = result.amount("balance") if result.ok else None
    if balance is None:
        raise ApplicationError(
            "The wallet did not answer with a balance; try again in a moment.",
            code=ErrorCode.WALLET_UNAVAILABLE,
            status=WALLET_FAILURE_STATUS,
        )
    currency = result.data.get("currency")
    return WalletBalance(
        balance=balance,
        currency=currency if isinstance(currency, str) and currency else session.currency,
    )


def operator_language_codes(value: str) -> list[str]:
    """``Operator.languages`` as codes: ``" ES, pt"`` is ``["es", "pt"]``."""
    return [code.strip().lower() for code in value.split(",") if code.strip()]


def player_language(session: PlayerSession) -> str:
    """The language of the player page: the one ``init`` asked for (``es``, ``pt-BR``: its
    primary code counts) when the site has it and the operator allows it; English otherwise."""
    wanted = session.language.strip().lower().replace("_", "-").split("-")[0]
    known = {code for code, _ in settings.LANGUAGES}
    allowed = set(operator_language_codes(session.follower.operator.languages))
    return wanted if wanted in known and wanted in allowed else settings.PLAY_DEFAULT_LANGUAGE
