"""The limits a join must keep: contribution, distinct followers, pool capacity.

``join_limit_breach`` is the rule, a pure function (property-tested); ``pool_load`` reads
what it needs from a pool, in one query. The join (``apps.transactions.services.position_join``)
calls both under the pool's row lock, so two joins racing for the last place or the last of
the capacity are decided one after the other.

The pool's value
----------------
A join is refused when it would take the pool's value above ``max_pool_value``. The value
is the pool's **last known balance** (``Pool.balance``: what the operator last said the
streamer's balance is, the streamer's own money included) **plus the contributions of the
joins still pending** (positions ``joining``: their BET may be taken, their DEPOSIT not yet
applied to that balance) **plus this join's amount**. Counting the pending joins is what
keeps two joins admitted one after the other, before either's DEPOSIT lands, from passing
the capacity together. A pending join that fails later only made the check stricter for a
moment; a leave is counted only once its WITHDRAWAL is applied (the balance drops then), so
the value is never understated. A pool whose balance was never read (a real pool before its
first join is priced) counts its balance as 0: the streamer's own money counts from the first
reading on. A demo pool's balance is its play money from the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from apps.core.errors import ErrorCode
from apps.core.money import ZERO
from apps.pools.models import Pool
from apps.pools.services import MEMBER_FILTER
from apps.streamers.selectors import StreamerLimits

PENDING_JOIN = Q(status="joining")


@dataclass(frozen=True)
class PoolLoad:
    """What a pool holds when a join is checked: its distinct followers and its value."""

    followers: int
    balance: Decimal
    pending: Decimal = ZERO
    # Whether the joining follower already has a member position (then they are not a new
    # follower: the follower limit does not stop them).
    is_member: bool = False

    @property
    def value(self) -> Decimal:
        """The pool's value before the join: last known balance plus pending joins."""
        return self.balance + self.pending


@dataclass(frozen=True)
class LimitBreach:
    """Why a join is refused: the catalogue code and a message naming the bound."""

    code: ErrorCode
    message: str


def amount_text(amount: Decimal, currency: str) -> str:
    """``5.00 USD``, ``0.12345 USD``: at least two places, none of the trailing zeros beyond."""
    normal = amount.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        normal = normal.quantize(Decimal("0.01"))
    return f"{normal:f} {currency}"


def join_limit_breach(
    *, limits: StreamerLimits, amount: Decimal, load: PoolLoad, currency: str
) -> LimitBreach | None:
    """The first limit a join of ``amount`` into a pool holding ``load`` breaks, or None.

    Checked in this order, each only when the ones before it hold:

    1. the contribution, ``min_contribution <= amount <= max_contribution``
       (``ErrorCode.CONTRIBUTION_LIMIT``): it depends on the request alone, and the player
       can fix it by changing the amount;
    2. the distinct followers (``ErrorCode.FOLLOWER_LIMIT``): a follower who is not a
       member yet is refused when the pool has ``max_followers`` of them; a member joining
       again is not a new follower;
    3. the capacity (``ErrorCode.POOL_CAPACITY``): ``load.value + amount`` may not exceed
       ``max_pool_value`` (no capacity when it is None); the message says how much the pool
       can still take.
    """
    if amount < limits.min_contribution:
        return LimitBreach(
            ErrorCode.CONTRIBUTION_LIMIT,
            "The minimum contribution to this pool is "
            f"{amount_text(limits.min_contribution, currency)}",
        )
    if amount > limits.max_contribution:
        return LimitBreach(
            ErrorCode.CONTRIBUTION_LIMIT,
            "The maximum contribution to this pool is "
            f"{amount_text(limits.max_contribution, currency)}",
        )
    if not load.is_member and load.followers >= limits.max_followers:
        return LimitBreach(
            ErrorCode.FOLLOWER_LIMIT,
            f"The pool is full: it has its maximum of {limits.max_followers} followers",
        )
    capacity = limits.max_pool_value
    if capacity is not None and load.value + amount > capacity:
        room = max(capacity - load.value, ZERO)
        if room == 0:
            return LimitBreach(
                ErrorCode.POOL_CAPACITY,
                f"The pool is at its capacity of {amount_text(capacity, currency)}",
            )
        return LimitBreach(
            ErrorCode.POOL_CAPACITY,
            f"The pool can take at most {amount_text(room, currency)} more "
            f"(its capacity is {amount_text(capacity, currency)})",
        )
    return None


def pool_load(*, pool: Pool, follower_id: int) -> PoolLoad:
    """Distinct followers with a member position, pending joins' contributions and whether
    ``follower_id`` is a member, in one query; ``pool.balance`` as loaded (lock the row first
    to decide on it)."""
    figures = pool.positions.aggregate(
        followers=Count("follower_id", filter=MEMBER_FILTER, distinct=True),
        mine=Count("pk", filter=MEMBER_FILTER & Q(follower_id=follower_id)),
        pending=Sum("contributed", filter=PENDING_JOIN),
    )
    return PoolLoad(
        followers=figures["followers"],
        balance=pool.balance,
        pending=figures["pending"] or ZERO,
        is_member=figures["mine"] > 0,
    )


def empty_pool_load(*, balance: Decimal) -> PoolLoad:
    """The load of a pool not opened yet: no followers, its opening balance as known now."""
    return PoolLoad(followers=0, balance=balance)
