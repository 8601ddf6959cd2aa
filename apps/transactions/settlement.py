"""Daily settlement: per operator, currency and UTC day, what finance exports.

Figures of a ``DailySettlement`` row for operator O, currency C and day D (UTC, from 00:00
inclusive to the next 00:00 exclusive). Only real-money rows count (demo play money never),
and a transaction belongs to the day of its ``completed_at`` (when its definite answer came):

``money_in``
    Sum of follower debits (BETs, wallet withdraws) with status ``succeeded`` completed on D:
    money taken from followers' wallets into pools. A BET later rolled back has status
    ``rolled_back`` and is not in it (nor is a BET that never happened: ``failed``).
``money_out``
    Sum of follower credits (WINs, wallet deposits) with status ``succeeded`` completed on D,
    WINs of 0 included (they close a follower's round).
``rollbacks``
    Sum of follower rollbacks (wallet rollbacks, refunds of BETs whose join failed) with
    status ``succeeded`` completed on D. The BETs they refund are not in ``money_in``, so
    this is shown for information and not subtracted again: net = money_in - money_out.
``turnover_fee``, ``ggr_fee``, ``fees``, ``fee_schedule``
    CopyStake's fees to the operator for the day under the fee schedule in force on D (none:
    all 0 and ``fee_schedule`` null), as ``apps.transactions.finance.fees`` defines them:
    ``fees = turnover_fee + ggr_fee``, negative on a day the followers won net.
``performance_fees``
    Sum of the streamers' ``PERFORMANCE_FEE`` transactions with status ``succeeded``
    completed on D: information only (the streamers' money, not CopyStake's; not in
    ``transactions_count``).
``open_exposure``
    The followers' money still in pools at the day's cut-off (the end of D, or now for
    today): for every pool of O in C open or closing at the cut-off, the followers' units
    (``total_units - streamer_units``) valued at the balance last known then, rounded down to
    8 places: the latest ``PoolSnapshot`` taken by the cut-off or, when there is none (or
    for today), the pool's own last known balance and units.
``transactions_count``
    Number of transactions summed in money_in, money_out and rollbacks.

One grouped query reads the day's flows and one the fee schedules, whatever the number of
operators.

Streamer transfers (DEPOSIT / WITHDRAWAL) move money within the operator and are not
settlement figures. A row exists for every operator and currency of its streamers, every day
computed, zero or not, so exports have no holes. Recomputing a day replaces its row:
yesterday's row is recomputed after midnight so late answers land in it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from apps.core.money import ZERO
from apps.pools.accounting import value_of_units
from apps.pools.models import Pool, PoolSnapshot
from apps.streamers.models import Streamer
from apps.transactions.finance.fees import day_fees, schedule_in_force, schedules_by_key
from apps.transactions.models import DailySettlement, Transaction

TxKind = Transaction.Kind
# Keyed by Kind members, which are the ``kind`` column's strings.
FIGURE_OF_KIND: dict[str, str] = {
    TxKind.FOLLOWER_DEBIT: "money_in",
    TxKind.FOLLOWER_CREDIT: "money_out",
    TxKind.FOLLOWER_ROLLBACK: "rollbacks",
}
# Summed for information, not counted in transactions_count.
INFORMATION_OF_KIND: dict[str, str] = {TxKind.PERFORMANCE_FEE: "performance_fees"}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


@dataclass
class Figures:
    money_in: Decimal = ZERO
    money_out: Decimal = ZERO
    rollbacks: Decimal = ZERO
    performance_fees: Decimal = ZERO
    open_exposure: Decimal = ZERO
    transactions_count: int = 0


def _flows(start: datetime, end: datetime) -> dict[tuple[int, str], Figures]:
    figures: dict[tuple[int, str], Figures] = defaultdict(Figures)
    rows = (
        Transaction.objects.filter(
            is_demo=False,
            status=Transaction.Status.SUCCEEDED,
            kind__in=[*FIGURE_OF_KIND, *INFORMATION_OF_KIND],
            completed_at__gte=start,
            completed_at__lt=end,
        )
        .values("operator_id", "currency", "kind")
        .annotate(total=Sum("amount"), n=Count("pk"))
    )
    for row in rows:
        entry = figures[(row["operator_id"], row["currency"])]
        if row["kind"] in INFORMATION_OF_KIND:
            setattr(entry, INFORMATION_OF_KIND[row["kind"]], row["total"] or ZERO)
            continue
        setattr(entry, FIGURE_OF_KIND[row["kind"]], row["total"] or ZERO)
        entry.transactions_count += row["n"]
    return figures


def _exposure(cutoff: datetime, *, live: bool) -> dict[tuple[int, str], Decimal]:
    """Followers' units of the pools open at ``cutoff``, at the balance known then."""
    pools = Pool.objects.filter(is_demo=False, opened_at__lt=cutoff).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff)
    )
    if live:
        pools = pools.exclude(state=Pool.State.CLOSED)
    latest = PoolSnapshot.objects.filter(pool=OuterRef("pk"), taken_at__lte=cutoff).order_by(
        "-taken_at", "-pk"
    )
    rows = pools.annotate(
        snap_balance=Subquery(latest.values("balance")[:1]),
        snap_units=Subquery(latest.values("total_units")[:1]),
    ).values_list(
        "operator_id",
        "currency",
        "balance",
        "total_units",
        "streamer_units",
        "snap_balance",
        "snap_units",
    )
    exposure: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for operator_id, currency, balance, units, streamer_units, snap_balance, snap_units in rows:
        if not live and snap_balance is not None and snap_units is not None:
            balance, units = snap_balance, snap_units
        followers = units - streamer_units
        if followers <= 0 or units <= 0:
            continue
        exposure[(operator_id, currency)] += value_of_units(
            units=followers, balance=balance, total_units=units
        )
    return exposure


@transaction.atomic
def settlement_compute(*, day: date) -> list[DailySettlement]:
    """Compute (or recompute) every operator's and currency's row for ``day``."""
    start, end = day_bounds(day)
    now = timezone.now()
    live = end > now
    flows = _flows(start, end)
    exposure = _exposure(min(end, now), live=live)
    keys = set(flows) | set(exposure)
    keys |= set(
        Streamer.objects.filter(created_at__lt=end)
        .values_list("operator_id", "currency")
        .distinct()
    )
    schedules = schedules_by_key(until=day)
    rows = []
    for operator_id, currency in sorted(keys):
        figures = flows.get((operator_id, currency), Figures())
        figures.open_exposure = exposure.get((operator_id, currency), ZERO)
        schedule = schedule_in_force(schedules.get((operator_id, currency), []), day)
        fees = day_fees(schedule=schedule, money_in=figures.money_in, money_out=figures.money_out)
        row, _ = DailySettlement.objects.update_or_create(
            operator_id=operator_id,
            currency=currency,
            day=day,
            defaults={
                "money_in": figures.money_in,
                "money_out": figures.money_out,
                "rollbacks": figures.rollbacks,
                "turnover_fee": fees.turnover_fee,
                "ggr_fee": fees.ggr_fee,
                "fees": fees.fees,
                "performance_fees": figures.performance_fees,
                "fee_schedule": schedule,
                "open_exposure": figures.open_exposure,
                "transactions_count": figures.transactions_count,
            },
        )
        rows.append(row)
    return rows


def settlements_refresh(*, days: int = 2) -> list[DailySettlement]:
    """Recompute the last ``days`` UTC days, today included (the schedule's job)."""
    today = timezone.now().astimezone(UTC).date()
    rows = []
    for offset in range(days - 1, -1, -1):
        rows += settlement_compute(day=today - timedelta(days=offset))
    return rows
