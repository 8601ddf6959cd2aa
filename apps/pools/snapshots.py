"""Balance readings of open pools: what to read, reading it, recording it with a snapshot.

A pool whose pricing claim is held (``Pool.pricing_saga`` set: a join or leave is between its
balance read and its transfer's definite answer) is not read that round. Because a claim can
be taken while we wait for the operator, a reading is only recorded if, under the pool's row
lock, the claim is still free and ``balance_at`` has not moved since we looked (every pricing
observes a balance first, so a pricing that started and finished in between is noticed too);
otherwise it is dropped ("priced during read"). Operator pools are read concurrently through
``apps.operators.clients.streamer_balances_fetch`` (bounded connections per operator, each
operator's answers handed over as soon as they are in). Demo pools are read by the caller
(play money lives with the saga engine), which then records them here all the same.

What a reading means beyond the pool (findings, starting a bust's pay-out) is the caller's:
``pool_readings_record`` returns the readings it recorded.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.errors import ErrorCode
from apps.operators import clients
from apps.operators.clients import BalanceRequest, CallResult, OperatorBalances
from apps.operators.models import Operator
from apps.pools.accounting import nav
from apps.pools.models import Pool, PoolSnapshot
from apps.pools.selectors import MEMBERS

# Readings recorded per statement (seven parameters each).
WRITE_CHUNK = 2000


@dataclass(frozen=True)
class PoolView:
    """What we knew about an open pool before asking its balance."""

    id: int
    operator_id: int
    streamer_id: int
    user_id: str
    currency: str
    is_demo: bool
    balance: Decimal
    balance_at: datetime | None
    total_units: Decimal
    streamer_units: Decimal
    members: int

    @property
    def follower_units(self) -> Decimal:
        return max(self.total_units - self.streamer_units, Decimal(0))


@dataclass(frozen=True)
class Reading:
    """A balance recorded as the pool's last known one (and snapshotted)."""

    view: PoolView
    balance: Decimal

    @property
    def shows_bust(self) -> bool:
        """Zero balance while followers hold units: the pool is bust."""
        return self.balance == 0 and self.view.follower_units > 0 and self.view.members > 0


@dataclass
class ReadingStats:
    read: int = 0
    failed: int = 0
    failed_codes: Counter[str] = field(default_factory=Counter)
    priced_during_read: int = 0
    snapshots: int = 0


def _member_counts(pools: QuerySet[Pool]) -> dict[int, int]:
    return dict(pools.order_by().annotate(n=MEMBERS).values_list("pk", "n"))


def open_pool_views(
    *,
    operator_ids: Iterable[int] | None = None,
    include_demo: bool = True,
    pool_ids: Iterable[int] | None = None,
) -> tuple[list[PoolView], dict[int, int]]:
    """Open pools to read now (of these operators, these pools), and per operator how many
    were skipped (pricing claim held)."""
    conditions = Q(state=Pool.State.OPEN)
    if operator_ids is not None:
        conditions &= Q(operator_id__in=list(operator_ids))
    if pool_ids is not None:
        conditions &= Q(pk__in=list(pool_ids))
    if not include_demo:
        conditions &= Q(is_demo=False)
    members = _member_counts(Pool.objects.filter(conditions))
    views: list[PoolView] = []
    claimed: Counter[int] = Counter()
    rows = (
        Pool.objects.filter(conditions)
        .order_by("pk")
        .values_list(
            "pk",
            "operator_id",
            "streamer_id",
            "streamer__operator_user_id",
            "currency",
            "is_demo",
            "balance",
            "balance_at",
            "total_units",
            "streamer_units",
            "pricing_saga",
        )
    )
    for row in rows.iterator(chunk_size=2000):
        (pk, operator_id, streamer_id, user_id, currency, is_demo, balance, balance_at) = row[:8]
        total_units, streamer_units, pricing_saga = row[8:]
        if pricing_saga is not None:
            claimed[operator_id] += 1
            continue
        views.append(
            PoolView(
                id=pk,
                operator_id=operator_id,
                streamer_id=streamer_id,
                user_id=user_id,
                currency=currency,
                is_demo=is_demo,
                balance=balance,
                balance_at=balance_at,
                total_units=total_units,
                streamer_units=streamer_units,
                members=members.get(pk, 0),
            )
        )
    return views, dict(claimed)


def views_by_operator(views: Iterable[PoolView]) -> dict[int, list[PoolView]]:
    grouped: dict[int, list[PoolView]] = defaultdict(list)
    for view in views:
        grouped[view.operator_id].append(view)
    return grouped


def pool_balances_fetch(
    jobs: Sequence[tuple[Operator, Iterable[PoolView]]],
    *,
    connections: int = clients.DEFAULT_BALANCE_CONNECTIONS,
    budget: float | None,
    on_answer: Callable[[], None] | None = None,
    batch: int | None = None,
) -> Iterator[OperatorBalances]:
    """Ask each operator for the balances of its pools, concurrently; yields each operator's
    answers (keyed by pool id) as soon as they are all in, and with ``batch`` every batch of
    them as it comes (``OperatorBalances.partial``). ``on_answer`` is called from the
    reading threads, once per answer."""
    requests = [
        (operator, [BalanceRequest(key=v.id, user_id=v.user_id, currency=v.currency) for v in vs])
        for operator, vs in jobs
    ]
    return clients.streamer_balances_fetch(
        requests,
        connections=connections,
        budget=budget,
        on_answer=(lambda _op: on_answer()) if on_answer else None,
        batch=batch,
    )


def _record_postgresql(
    chunk: list[int],
    views: Mapping[int, PoolView],
    readings: Mapping[int, Decimal],
    now: datetime,
) -> list[int]:
    """Lock, check, update and snapshot a chunk of readings in one statement; the pools
    recorded.

    The pools' rows are locked in pk order (``SELECT ... ORDER BY id FOR UPDATE``, a CTE
    PostgreSQL never inlines), read at their latest version, kept only when the claim is
    free, ``balance_at`` is the one we saw and the pool still open (the guard of the module
    doc), then their balance and ``balance_at`` set (``UPDATE ... FROM``, linear, where
    Django's ``bulk_update`` builds a CASE per row) and a ``PoolSnapshot`` inserted for each,
    all by one statement: a third of the round trips of lock, update and insert, and no
    transaction block around them (the statement is atomic).
    """
    quote = connection.ops.quote_name
    pools, snaps = (quote(model._meta.db_table) for model in (Pool, PoolSnapshot))

    def col(model: type[models.Model], name: str) -> str:
        field = model._meta.get_field(name)
        column = field.column if isinstance(field, models.Field) else None
        if not column:
            raise LookupError(f"{model.__name__}.{name} has no column")
        return quote(column)

    pk, claim, seen, state = (col(Pool, n) for n in ("id", "pricing_saga", "balance_at", "state"))
    balance = col(Pool, "balance")
    snap = {
        n: col(PoolSnapshot, n)
        for n in ("pool", "balance", "total_units", "streamer_units", "nav", "members", "taken_at")
    }
    row = "(%s::bigint, %s::numeric, %s::timestamptz, %s::numeric, %s::numeric, %s::numeric, %s::integer)"
    params: list[int | Decimal | datetime | str | None] = []
    for pool_id in chunk:
        view, amount = views[pool_id], readings[pool_id]
        params += [
            pool_id,
            amount,
            view.balance_at,
            view.total_units,
            view.streamer_units,
            nav(balance=amount, total_units=view.total_units),
            view.members,
        ]
    params += [Pool.State.OPEN, now, now]
    sql = f"""
        WITH v(id, balance, seen, total_units, streamer_units, nav, members) AS (
            VALUES {", ".join([row] * len(chunk))}
        ),
        locked AS (
            SELECT p.{pk} AS id, p.{claim} AS claim, p.{seen} AS seen, p.{state} AS state
            FROM {pools} p WHERE p.{pk} IN (SELECT id FROM v) ORDER BY p.{pk} FOR UPDATE
        ),
        kept AS (
            SELECT v.* FROM v JOIN locked l ON l.id = v.id
            WHERE l.claim IS NULL AND l.seen IS NOT DISTINCT FROM v.seen AND l.state = %s
        ),
        updated AS (
            UPDATE {pools} p SET {balance} = kept.balance, {seen} = %s
            FROM kept WHERE p.{pk} = kept.id RETURNING p.{pk} AS id
        )
        INSERT INTO {snaps} ({snap["pool"]}, {snap["balance"]}, {snap["total_units"]},
            {snap["streamer_units"]}, {snap["nav"]}, {snap["members"]}, {snap["taken_at"]})
        SELECT kept.id, kept.balance, kept.total_units, kept.streamer_units, kept.nav,
            kept.members, %s
        FROM kept JOIN updated ON updated.id = kept.id
        RETURNING {snap["pool"]}
    """  # noqa: S608 - names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(pool_id for (pool_id,) in cursor.fetchall())


def _record_portable(
    chunk: list[int],
    views: Mapping[int, PoolView],
    readings: Mapping[int, Decimal],
    now: datetime,
) -> list[int]:
    """The same as ``_record_postgresql`` in three statements under the rows' locks."""
    with transaction.atomic():
        current = {
            pk: (pricing_saga, balance_at, state)
            for pk, pricing_saga, balance_at, state in Pool.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", "pricing_saga", "balance_at", "state")
        }
        kept = [
            pk
            for pk in chunk
            if pk in current
            and current[pk][0] is None
            and current[pk][1] == views[pk].balance_at
            and current[pk][2] == Pool.State.OPEN
        ]
        Pool.objects.bulk_update(
            [Pool(pk=pk, balance=readings[pk], balance_at=now) for pk in kept],
            ["balance", "balance_at"],
        )
        PoolSnapshot.objects.bulk_create(
            [
                PoolSnapshot(
                    pool_id=pk,
                    balance=readings[pk],
                    total_units=views[pk].total_units,
                    streamer_units=views[pk].streamer_units,
                    nav=nav(balance=readings[pk], total_units=views[pk].total_units),
                    members=views[pk].members,
                    taken_at=now,
                )
                for pk in kept
            ]
        )
    return kept


def pool_readings_record(
    views: Mapping[int, PoolView],
    results: Mapping[int, CallResult],
    *,
    stats: ReadingStats,
) -> list[Reading]:
    """Record the balances answered (``results``, by pool id) as the pools' last known ones,
    each with a ``PoolSnapshot``, unless the pool was priced during the read (see the module
    doc). Counts go to ``stats``; returns the readings recorded, in pool order."""
    readings: dict[int, Decimal] = {}
    for pool_id, result in results.items():
        balance = result.amount("balance") if result.ok else None
        if balance is None:
            stats.failed += 1
            stats.failed_codes[result.error_code or ErrorCode.BAD_RESPONSE] += 1
        else:
            readings[pool_id] = balance
    ids = sorted(readings)
    record = _record_postgresql if connection.vendor == "postgresql" else _record_portable
    recorded: list[int] = []
    for start in range(0, len(ids), WRITE_CHUNK):
        chunk = ids[start : start + WRITE_CHUNK]
        kept = record(chunk, views, readings, timezone.now())
        stats.priced_during_read += len(chunk) - len(kept)
        stats.snapshots += len(kept)
        recorded.extend(kept)
    stats.read += len(recorded)
    return [Reading(view=views[pk], balance=readings[pk]) for pk in recorded]
