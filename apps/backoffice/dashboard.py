"""Selectors behind the back office's dashboard and withdrawal-lock page.

Every figure is one indexed query, whatever the size of the ledger; demo (play-money) pools
and transactions are left out of every money figure. Given an ``operator`` (the operator
portal), every figure counts that operator's rows only, filtered in the same queries; without
one, everybody's (the staff dashboard).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from apps.backoffice.review import review_open_figures
from apps.core.money import ZERO, amount_field_kwargs, unit_field_kwargs
from apps.followers.models import Position
from apps.pools.accounting import value_of_units
from apps.pools.models import Pool, PoolSnapshot
from apps.pools.services import MEMBER_FILTER
from apps.streamers.models import Stream
from apps.transactions.models import Discrepancy, ReconciliationRun

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from apps.operators.models import Operator

DEFAULT_STALE_LOCK_AFTER = timedelta(hours=12)


def stale_lock_after() -> timedelta:
    return getattr(settings, "COPYPOOL_STALE_LOCK_AFTER", DEFAULT_STALE_LOCK_AFTER)


# --- withdrawal locks ----------------------------------------------------------------


def _member_aggregate(aggregate, output_field):
    members = (
        Position.objects.filter(MEMBER_FILTER, pool=OuterRef("pk"))
        .order_by()
        .values("pool")
        .annotate(value=aggregate)
        .values("value")[:1]
    )
    return Coalesce(
        Subquery(members, output_field=output_field), Value(0), output_field=output_field
    )


class MemberFigures(TypedDict):
    """The annotations of ``pools_with_members``."""

    members: int
    followers_contributed: Decimal
    followers_units: Decimal


class LockFigures(MemberFigures):
    """The annotations of ``withdrawal_locks``."""

    has_live_stream: bool


if TYPE_CHECKING:
    PoolWithMembers = WithAnnotations[Pool, MemberFigures]
    LockedPool = WithAnnotations[Pool, LockFigures]


def pools_with_members(queryset: QuerySet[Pool] | None = None) -> QuerySet[PoolWithMembers]:
    """Pools annotated with ``members``, ``followers_contributed`` and ``followers_units``.

    Correlated subqueries rather than a join + GROUP BY: the database computes them only for
    the rows of the page being shown.
    """
    queryset = Pool.objects.all() if queryset is None else queryset
    return queryset.annotate(
        members=_member_aggregate(Count("pk"), output_field=IntegerField()),
        followers_contributed=_member_aggregate(
            Sum("contributed"), output_field=DecimalField(**amount_field_kwargs())
        ),
        followers_units=_member_aggregate(
            Sum("units"), output_field=DecimalField(**unit_field_kwargs())
        ),
    )


def withdrawal_locks(
    *, include_demo: bool = False, operator: Operator | None = None
) -> QuerySet[LockedPool]:
    """Streamers whose balance is locked: ``lock_state == locked`` and the pool not closed,
    oldest lock first, annotated as ``pools_with_members`` plus ``has_live_stream``."""
    queryset = Pool.objects.filter(lock_state=Pool.LockState.LOCKED).exclude(
        state=Pool.State.CLOSED
    )
    if not include_demo:
        queryset = queryset.filter(is_demo=False)
    if operator is not None:
        queryset = queryset.filter(operator=operator)
    return pools_with_members(queryset).annotate(
        has_live_stream=Exists(
            Stream.objects.filter(streamer=OuterRef("streamer_id"), status=Stream.Status.LIVE)
        )
    )


def stale_lock_q(*, now: datetime | None = None) -> Q:
    """A lock is stale when held longer than the threshold, by a pool with no members, or
    while the streamer has no live stream (requires ``withdrawal_locks`` annotations)."""
    now = now or timezone.now()
    return Q(locked_at__lt=now - stale_lock_after()) | Q(members=0) | Q(has_live_stream=False)


def followers_value(pool: Pool) -> Decimal:
    """What the followers' units are worth at the last known balance (rounded down)."""
    units = getattr(pool, "followers_units", None)
    if not units or pool.total_units <= 0:
        return ZERO
    return value_of_units(units=units, balance=pool.balance, total_units=pool.total_units)


# --- dashboard -----------------------------------------------------------------------


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    pools: int
    value: Decimal


@dataclass(frozen=True)
class Dashboard:
    open_pools: int
    value_by_currency: list[CurrencyTotal]
    followers_in_pools: int
    streamers_locked: int
    stale_locks: int
    transactions_unknown: int
    review_waiting: int
    # CopyStake's own checks: None on an operator's dashboard.
    open_discrepancies: int | None
    last_reconciliation: ReconciliationRun | None
    pooled_value: dict[str, list[tuple[datetime, Decimal]]] = field(default_factory=dict)
    chart_since: datetime | None = None
    chart_bucket: str = "hour"


def _real_snapshots(*, since: datetime, operator: Operator | None) -> QuerySet[PoolSnapshot]:
    """Snapshots of real (not demo) pools since ``since``, of ``operator``'s pools if given."""
    snapshots = PoolSnapshot.objects.filter(taken_at__gte=since, pool__is_demo=False)
    if operator is not None:
        snapshots = snapshots.filter(pool__operator=operator)
    return snapshots


def pooled_value_series(
    *, since: datetime, kind: str = "hour", operator: Operator | None = None
) -> dict[str, list[tuple[datetime, Decimal]]]:
    """Value held in (real) pools over time, per currency, from the pool snapshots.

    The periodic snapshot reads every open pool once a round. A bucket's value is the mean,
    over the bucket's rounds, of what all pools held: each pool's snapshots summed, divided by
    the number of rounds, which is the most snapshots any one pool has in the bucket. A pool
    that closed (or opened) within the bucket so counts only for the rounds it was there, and
    a streamer's pool that closed and reopened within one bucket is not counted twice. (Dividing
    each pool by its own count instead, as this chart once did, showed a pool that lived for
    one round of the hour as if it had held its money all hour.)

    Two grouped queries in one statement: per bucket, currency and pool the sum and count,
    then per bucket and currency the sum of sums over the largest count.
    """
    inner = (
        _real_snapshots(since=since, operator=operator)
        .annotate(bucket=Trunc("taken_at", kind), currency=F("pool__currency"))
        .values("bucket", "currency", "pool_id")
        .annotate(total=Sum("balance"), samples=Count("pk"))
        .order_by()
    )
    sql, params = inner.query.sql_with_params()
    series: dict[str, list[tuple[datetime, Decimal]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT per_pool.bucket, per_pool.currency, SUM(per_pool.total), MAX(per_pool.samples) "
            f"FROM ({sql}) per_pool GROUP BY per_pool.bucket, per_pool.currency "
            "ORDER BY per_pool.bucket, per_pool.currency",
            params,
        )
        # The bucket as the ORM would give it (an aware datetime on every backend): the
        # backend's converters, then the expression's own, as the SQL compiler applies them.
        bucket_of = Trunc("taken_at", kind, output_field=DateTimeField())
        converters = [
            *connection.ops.get_db_converters(bucket_of),
            *bucket_of.get_db_converters(connection),
        ]
        for bucket, currency, total, rounds in cursor.fetchall():
            for converter in converters:
                bucket = converter(bucket, None, connection)
            value = Decimal(str(total)) / rounds
            series[currency].append((bucket, value.quantize(Decimal("0.00000001"))))
    return dict(series)


FINE_CHART_SPAN = timedelta(hours=6)


def chart_bucket(
    *, since: datetime, now: datetime, days: int, operator: Operator | None = None
) -> str:
    """Minutes while the history is young (a new deployment, a new operator, or the demo
    shows movement at once), hours for a week, days beyond."""
    if days > 7:
        return "day"
    first = (
        _real_snapshots(since=since, operator=operator)
        .order_by("taken_at")
        .values_list("taken_at", flat=True)
        .first()
    )
    return "minute" if first is not None and now - first < FINE_CHART_SPAN else "hour"


def dashboard_summary(*, chart_days: int = 7, operator: Operator | None = None) -> Dashboard:
    """The dashboard's figures and pooled-value chart: everybody's, or ``operator``'s only
    (then without CopyStake's own checks, discrepancies and reconciliation runs)."""
    now = timezone.now()
    live_pools = Pool.objects.filter(is_demo=False).exclude(state=Pool.State.CLOSED)
    if operator is not None:
        live_pools = live_pools.filter(operator=operator)
    totals = [
        CurrencyTotal(currency=row["currency"], pools=row["pools"], value=row["value"] or ZERO)
        for row in live_pools.order_by()
        .values("currency")
        .annotate(pools=Count("pk"), value=Sum("balance"))
        .order_by("currency")
    ]
    followers = (
        Position.objects.filter(MEMBER_FILTER, pool__in=live_pools)
        .order_by()
        .values("follower")
        .distinct()
        .count()
    )
    locks = (
        withdrawal_locks(operator=operator)
        .order_by()
        .aggregate(total=Count("pk"), stale=Count("pk", filter=stale_lock_q(now=now)))
    )
    review_waiting, transactions_unknown = review_open_figures(exclude_demo=True, operator=operator)
    since = now - timedelta(days=chart_days)
    bucket = chart_bucket(since=since, now=now, days=chart_days, operator=operator)
    staff = operator is None
    return Dashboard(
        open_pools=sum(t.pools for t in totals),
        value_by_currency=totals,
        followers_in_pools=followers,
        streamers_locked=locks["total"],
        stale_locks=locks["stale"],
        transactions_unknown=transactions_unknown,
        review_waiting=review_waiting,
        open_discrepancies=Discrepancy.objects.filter(state=Discrepancy.State.OPEN).count()
        if staff
        else None,
        last_reconciliation=ReconciliationRun.objects.select_related("operator")
        .order_by("-started_at")
        .first()
        if staff
        else None,
        pooled_value=pooled_value_series(since=since, kind=bucket, operator=operator),
        chart_since=since,
        chart_bucket=bucket,
    )
