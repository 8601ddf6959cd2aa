"""What must hold once a simulated history has been recovered, whatever faults it met.

Each invariant is a function of the world returning the ways it is broken (empty: it holds).
A new money move brings its invariant here, in ``INVARIANTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.db.models import Q, Sum

from apps.followers.limits import limit_crossed, position_stop_loss, position_take_profit
from apps.followers.models import Position
from apps.pools.accounting import value_of_units
from apps.pools.models import Pool
from apps.sandbox.ledger import ledger_violations
from apps.sandbox.models import SandboxAccount
from apps.sandbox.simulation.world import World
from apps.streamers.models import Streamer
from apps.streamers.selectors import streamer_limits
from apps.transactions.models import Saga, Transaction

Kind = Transaction.Kind
Status = Transaction.Status
ZERO = Decimal(0)
FINAL = {Status.SUCCEEDED, Status.FAILED, Status.ROLLED_BACK}
MEMBERS = Q(status__in=[Position.Status.JOINING, Position.Status.ACTIVE]) | Q(
    status=Position.Status.LEAVING, units__gt=0
)


def every_transaction_final(world: World) -> list[str]:
    """Nothing pending or in doubt, every saga finished, no pool claimed."""
    problems: list[str] = []
    open_tx = Transaction.objects.filter(operator__in=world.operators).exclude(status__in=FINAL)
    if open_tx.exists():
        problems.append(
            f"{open_tx.count()} transactions not final: "
            f"{list(open_tx.values_list('kind', 'status', 'external_id')[:10])}"
        )
    running = Saga.objects.filter(operator__in=world.operators, status=Saga.Status.RUNNING)
    if running.exists():
        problems.append(
            f"{running.count()} sagas still running: "
            f"{list(running.values_list('pk', 'kind', 'step', 'last_error')[:10])}"
        )
    claimed = Pool.objects.filter(operator__in=world.operators, pricing_saga__isnull=False)
    if claimed.exists():
        problems.append(f"pools still claimed: {list(claimed.values_list('pk', 'pricing_saga'))}")
    return problems


def ledgers_agree(world: World) -> list[str]:
    """Ours and the sandbox's, to the last of 8 decimals; no id applied twice."""
    problems: list[str] = []
    for tenant in world.tenants:
        problems.extend(
            f"{tenant.operator.code}: {problem}"
            for problem in ledger_violations(
                operator=tenant.operator, sandbox=tenant.sandbox, initial=tenant.initial
            )
        )
    return problems


def followers_paid_what_they_are_owed(world: World) -> list[str]:
    """Each follower's wallet change is their payouts less their contributions, and each
    closed position was paid its payout by exactly one WIN."""
    problems = []
    for tenant in world.tenants:
        for user_id in tenant.sessions:
            account = SandboxAccount.objects.get(operator=tenant.sandbox, user_id=user_id)
            positions = Position.objects.filter(
                pool__operator=tenant.operator, follower__operator_user_id=user_id
            )
            paid = (
                positions.filter(status=Position.Status.CLOSED).aggregate(total=Sum("payout"))[
                    "total"
                ]
                or ZERO
            )
            put_in = (
                positions.exclude(status=Position.Status.FAILED).aggregate(
                    total=Sum("contributed")
                )["total"]
                or ZERO
            )
            still_in = positions.filter(MEMBERS).aggregate(total=Sum("contributed"))["total"]
            change = account.balance - tenant.initial[user_id]
            expected = paid - put_in
            if change != expected:
                problems.append(
                    f"{user_id}: wallet moved {change}, payouts less contributions {expected} "
                    f"({still_in or ZERO} still in pools)"
                )
        for position in Position.objects.filter(
            pool__operator=tenant.operator, status=Position.Status.CLOSED
        ):
            wins = list(
                position.transactions.filter(kind=Kind.FOLLOWER_CREDIT).values_list(
                    "amount", "status"
                )
            )
            if wins != [(position.payout, Status.SUCCEEDED)]:
                problems.append(f"position {position.pk}: payout {position.payout}, WINs {wins}")
    return problems


def empty_pools_closed_and_unlocked(world: World) -> list[str]:
    """A pool without members is closed, and its streamer's balance unlocked at the sandbox."""
    problems = []
    for tenant in world.tenants:
        for pool in Pool.objects.filter(operator=tenant.operator).select_related("streamer"):
            if pool.positions.filter(MEMBERS).exists():
                continue
            if pool.state != Pool.State.CLOSED or pool.lock_state == Pool.LockState.LOCKED:
                problems.append(f"empty pool {pool.pk} is {pool.state}, lock {pool.lock_state}")
        for streamer in tenant.streamers:
            has_open_pool = Pool.objects.filter(streamer=streamer).exclude(state=Pool.State.CLOSED)
            account = SandboxAccount.objects.get(
                operator=tenant.sandbox, user_id=streamer.operator_user_id
            )
            if not has_open_pool.exists() and account.pool_state == SandboxAccount.PoolState.OPEN:
                problems.append(f"{streamer.operator_user_id}: locked at the sandbox, no pool")
    return problems


def pools_within_their_follower_limit(world: World) -> list[str]:
    """No pool holds more distinct followers than its streamer's limit (joins decide it under
    the pool's lock; a refused join moved nothing, which ``ledgers_agree`` checks)."""
    problems = []
    for tenant in world.tenants:
        for streamer in tenant.streamers:
            limit = streamer_limits(Streamer.objects.get(pk=streamer.pk)).max_followers
            for pool in Pool.objects.filter(streamer=streamer):
                followers = pool.positions.filter(MEMBERS).values("follower_id").distinct().count()
                if followers > limit:
                    problems.append(f"pool {pool.pk}: {followers} followers, limit {limit}")
    return problems


def no_active_position_past_its_limit(world: World) -> list[str]:
    """No active position is past its stop-loss or take-profit at its pool's last recorded
    balance: every balance the pool records after a limit is set (a pricing reading, a
    transfer's answer, a snapshot, a staff refresh) checks it, and a limit is only set short
    of that balance. A position that left for a limit had that limit."""
    problems = []
    positions = Position.objects.filter(pool__operator__in=world.operators).select_related("pool")
    for position in positions.filter(status=Position.Status.ACTIVE):
        stop_loss, take_profit = position_stop_loss(position), position_take_profit(position)
        if stop_loss is None and take_profit is None:
            continue
        pool = position.pool
        value = value_of_units(
            units=position.units, balance=pool.balance, total_units=pool.total_units
        )
        if pool.balance > 0 and limit_crossed(
            value=value, stop_loss=stop_loss, take_profit=take_profit
        ):
            problems.append(
                f"position {position.pk} active at {value}: stop-loss {stop_loss}, "
                f"take-profit {take_profit}"
            )
    for position in positions.filter(leave_reason=Position.LeaveReason.STOP_LOSS):
        if position_stop_loss(position) is None:
            problems.append(f"position {position.pk} left for a stop-loss it did not have")
    for position in positions.filter(leave_reason=Position.LeaveReason.TAKE_PROFIT):
        if position_take_profit(position) is None:
            problems.append(f"position {position.pk} left for a take-profit it did not have")
    return problems


Invariant = Callable[[World], list[str]]
INVARIANTS: tuple[Invariant, ...] = (
    every_transaction_final,
    ledgers_agree,
    followers_paid_what_they_are_owed,
    empty_pools_closed_and_unlocked,
    pools_within_their_follower_limit,
    no_active_position_past_its_limit,
)


def violations(world: World) -> list[str]:
    return [
        f"{invariant.__name__}: {problem}"
        for invariant in INVARIANTS
        for problem in invariant(world)
    ]
