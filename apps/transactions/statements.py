"""A follower's statement: every money movement of their wallet in a period, with totals.

A movement is a wallet transaction of one of the follower's positions that moved money:

* a BET (``follower_debit``) that succeeded, or that was later refunded (``rolled_back``:
  the wallet did take it, and its ROLLBACK gave it back; both appear, so the net is right);
* a WIN (``follower_credit``) that succeeded, WINs of 0 included (they close a round);
* a ROLLBACK (``follower_rollback``, the refund of a BET whose join failed) that succeeded;
* a FEE (``performance_fee``): the streamer's performance fee kept of a leave. It never
  touches the wallet (the leave's WIN is already its value less the fee) and is not in the
  money in or out; it is listed, with the leave's receipt, and totalled as ``fees``, so that
  the statement adds up: a leave's WIN plus its FEE is what its units were worth.

Streamer transfers (DEPOSIT, WITHDRAWAL) never touch the follower's wallet and are not in
it; a movement without a definite answer yet (pending, unknown) has moved nothing known. A
movement belongs to the moment of its definite answer (``completed_at``), as in the daily
settlement (``apps.transactions.settlement``): a refunded BET is dated by its refund, so it
and its ROLLBACK always fall in the same period. Each carries the receipt of its saga (the
price of the join, top-up or leave it paid for) when there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, Sum
from django.utils import timezone

from apps.core.errors import ErrorCode, ValidationFailed
from apps.followers.models import Follower
from apps.transactions.models import Receipt, Transaction

Kind = Transaction.Kind
Status = Transaction.Status

DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_MOVEMENTS = 10000

# The kind each movement is shown as, and whether it is money in (to the wallet) or out.
MOVEMENT_KINDS: dict[str, str] = {
    Kind.FOLLOWER_DEBIT: "BET",
    Kind.FOLLOWER_CREDIT: "WIN",
    Kind.FOLLOWER_ROLLBACK: "ROLLBACK",
    Kind.PERFORMANCE_FEE: "FEE",
}
MONEY_IN = {"WIN", "ROLLBACK"}
NOT_IN_THE_WALLET = {"FEE"}

# A date (``2026-01-31``: its midnight, UTC) or a date and time, with seconds and fraction
# optional and an offset (``Z``, ``+02:00``) or none (UTC).
PERIOD_BOUND = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?$"
)


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive
    end: datetime  # exclusive


@dataclass(frozen=True)
class Movement:
    transaction: Transaction
    kind: str  # BET, WIN, ROLLBACK, FEE
    receipt: Receipt | None

    @property
    def position_id(self):
        return self.transaction.position_id

    @property
    def streamer_name(self) -> str:
        position = self.transaction.position
        return position.pool.streamer.display_name if position is not None else ""

    @property
    def signed_amount(self) -> Decimal:
        """What the movement did to the wallet: a FEE did nothing to it."""
        amount = self.transaction.amount
        if self.kind in NOT_IN_THE_WALLET:
            return Decimal(0)
        return amount if self.kind in MONEY_IN else -amount


@dataclass
class CurrencyTotals:
    currency: str
    money_in: Decimal = Decimal(0)
    money_out: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)  # the performance fees kept of the leaves, not in the wallet

    @property
    def net(self) -> Decimal:
        return self.money_in - self.money_out


@dataclass(frozen=True)
class Statement:
    period: Period
    movements: list[Movement]
    totals: list[CurrencyTotals] = field(default_factory=list)


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code=ErrorCode.INVALID_PERIOD)


def period_bound_parse(text: str, *, name: str) -> datetime:
    """An ISO 8601 date (its midnight) or date and time; without an offset it is UTC."""
    if not PERIOD_BOUND.fullmatch(text):
        raise _invalid(f"{name} must be an ISO 8601 date or date and time, got {text[:40]!r}")
    try:
        if "T" in text:
            moment = datetime.fromisoformat(text)
        else:
            moment = datetime.combine(date.fromisoformat(text), time.min)
    except ValueError as error:
        raise _invalid(f"{name} is not a valid date: {error}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def statement_period(*, start: str | None, end: str | None, now: datetime | None = None) -> Period:
    """The period asked for: ``start`` inclusive, ``end`` exclusive; the last 30 days by
    default (ending now, or ``DEFAULT_DAYS`` before ``end``); at most 366 days long."""
    end_at = period_bound_parse(end, name="to") if end is not None else (now or timezone.now())
    try:
        start_at = (
            period_bound_parse(start, name="from")
            if start is not None
            else end_at - timedelta(days=DEFAULT_DAYS)
        )
    except OverflowError as error:
        raise _invalid("to is too early for a period") from error
    if start_at >= end_at:
        raise _invalid("from must be before to")
    if end_at - start_at > timedelta(days=MAX_DAYS):
        raise _invalid(f"A statement covers at most {MAX_DAYS} days")
    return Period(start=start_at, end=end_at)


# The follower-wallet transactions that moved money (see the module's docstring).
MOVED = Q(kind__in=list(MOVEMENT_KINDS), status=Status.SUCCEEDED) | Q(
    kind=Kind.FOLLOWER_DEBIT, status=Status.ROLLED_BACK
)


def _receipt(tx: Transaction) -> Receipt | None:
    if tx.saga is None:
        return None
    try:
        return tx.saga.receipt
    except ObjectDoesNotExist:
        return None


def statement_for_follower(*, follower: Follower, period: Period) -> Statement:
    """The follower's movements in ``period``, newest first (at most ``MAX_MOVEMENTS``), and
    per currency, over the whole period, the money in (WINs, refunds), out (BETs), the
    net, and the performance fees kept of the leaves (FEEs)."""
    moved = Transaction.objects.filter(
        MOVED,
        position__follower=follower,
        completed_at__gte=period.start,
        completed_at__lt=period.end,
    )
    rows = moved.select_related("position__pool__streamer", "saga__receipt").order_by(
        "-completed_at", "-pk"
    )[:MAX_MOVEMENTS]
    movements = [
        Movement(transaction=tx, kind=MOVEMENT_KINDS[tx.kind], receipt=_receipt(tx)) for tx in rows
    ]
    totals: dict[str, CurrencyTotals] = {}
    for row in moved.order_by().values("currency", "kind").annotate(total=Sum("amount")):
        figures = totals.setdefault(row["currency"], CurrencyTotals(currency=row["currency"]))
        if MOVEMENT_KINDS[row["kind"]] in NOT_IN_THE_WALLET:
            figures.fees += row["total"]
        elif MOVEMENT_KINDS[row["kind"]] in MONEY_IN:
            figures.money_in += row["total"]
        else:
            figures.money_out += row["total"]
    return Statement(
        period=period,
        movements=movements,
        totals=[totals[currency] for currency in sorted(totals)],
    )
