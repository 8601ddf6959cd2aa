"""What must hold once a simulated history has been recovered, whatever faults it met.

Each invariant is a function of the world returning the ways it is broken (empty: it holds).
A new money move brings its invariant here, in ``INVARIANTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.db import connection
from django.db.models import Q, Sum

from apps.followers.limits import limit_crossed, position_stop_loss, position_take_profit
from apps.followers.models import Position
from apps.pools.accounting import (
    UNIT_DUST,
    payout_for_units,
    performance_fee,
    units_for_contribution,
    units_for_fee,
    value_of_units,
)
from apps.pools.models import Pool
from apps.sandbox.ledger import ledger_violations
from apps.sandbox.models import SandboxAccount
from apps.sandbox.simulation.world import World
from apps.streamers.models import Streamer
from apps.streamers.selectors import streamer_limits
from apps.transactions.finance.ledger import journal_agreement
from apps.transactions.models import Receipt, Saga, Transaction

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
    """Each follower's wallet change is their payouts less their contributions (a position's
    ``payout`` is everything its leaves paid, partial ones included, and ``contributed`` its
    join and top-ups), and every position was paid its payout by its WINs, each paid once."""
    problems = []
    for tenant in world.tenants:
        for user_id in tenant.sessions:
            account = SandboxAccount.objects.get(operator=tenant.sandbox, user_id=user_id)
            positions = Position.objects.filter(
                pool__operator=tenant.operator, follower__operator_user_id=user_id
            )
            paid = (
                positions.exclude(status=Position.Status.FAILED).aggregate(total=Sum("payout"))[
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
            pool__operator=tenant.operator, payout__isnull=False
        ):
            wins = list(
                position.transactions.filter(kind=Kind.FOLLOWER_CREDIT).values_list(
                    "amount", "status"
                )
            )
            leaves = position.sagas.filter(kind=Saga.Kind.LEAVE).count()
            total = sum((amount for amount, _ in wins), ZERO)
            settled = all(status == Status.SUCCEEDED for _, status in wins)
            if total != position.payout or not settled or len(wins) != leaves:
                problems.append(
                    f"position {position.pk}: payout {position.payout}, {leaves} leaves, "
                    f"WINs {wins}"
                )
        closed_unpaid = Position.objects.filter(
            pool__operator=tenant.operator, status=Position.Status.CLOSED, payout__isnull=True
        )
        if closed_unpaid.exists():
            problems.append(f"closed without a payout: {list(closed_unpaid.values_list('pk'))}")
    return problems


RECEIPT_SAGAS = (Saga.Kind.JOIN, Saga.Kind.TOP_UP, Saga.Kind.LEAVE)


def receipts_match_transactions(world: World) -> list[str]:
    """Every join, top-up and leave that moved units has one receipt, no other saga has one,
    and a receipt names its saga's movements: the BET, the applied DEPOSIT or WITHDRAWAL with
    the receipt's amount (none for a leave of nothing), the WIN with the WITHDRAWAL's amount;
    its figures keep the unit rule exactly (apps.pools.accounting)."""
    problems: list[str] = []
    sagas = Saga.objects.filter(operator__in=world.operators, kind__in=RECEIPT_SAGAS)
    for saga in sagas.select_related("receipt").prefetch_related("transactions"):
        receipt = getattr(saga, "receipt", None)
        if saga.status != Saga.Status.DONE:
            if receipt is not None:
                problems.append(f"{saga}: {saga.status}, yet a receipt")
            continue
        if receipt is None:
            problems.append(f"{saga}: done without a receipt")
            continue
        txs = {(tx.kind, tx.status): tx for tx in saga.transactions.all()}
        bet = txs.get((Kind.FOLLOWER_DEBIT, Status.SUCCEEDED))
        deposit = txs.get((Kind.STREAMER_DEPOSIT, Status.SUCCEEDED))
        withdrawal = txs.get((Kind.STREAMER_WITHDRAWAL, Status.SUCCEEDED))
        win = txs.get((Kind.FOLLOWER_CREDIT, Status.SUCCEEDED))
        expected: tuple[object, ...]
        found: tuple[object, ...]
        if saga.kind == Saga.Kind.LEAVE:
            expected = (
                withdrawal.external_id if withdrawal else "",
                win.external_id if win else None,
                withdrawal.amount if withdrawal else ZERO,
            )
            found = (receipt.withdrawal_external_id, receipt.win_external_id, receipt.amount)
            if win is not None and win.amount != receipt.amount:
                problems.append(f"{saga}: WIN {win.amount}, receipt {receipt.amount}")
        else:
            expected = (
                bet.external_id if bet else None,
                deposit.external_id if deposit else None,
                deposit.amount if deposit else None,
            )
            found = (receipt.bet_external_id, receipt.deposit_external_id, receipt.amount)
        if expected != found:
            problems.append(f"{saga}: receipt {found}, transactions {expected}")
        problems.extend(f"{saga}: {problem}" for problem in receipt_unit_rule(receipt))
    return problems


def receipt_unit_rule(receipt: Receipt) -> list[str]:
    """The receipt's figures against SPEC section 4's rule, recomputed from them alone:
    exactly on PostgreSQL; on SQLite (development only), whose decimal columns hold about 15
    significant digits, within that storage rounding."""
    exact = connection.vendor != "sqlite"
    if receipt.kind == Receipt.Kind.LEAVE:
        # The units are worth the gross; the follower was paid it less the fee, whose units
        # stayed in the pool as the streamer's.
        amount = payout_for_units(
            units=receipt.units, balance=receipt.balance, total_units=receipt.total_units_before
        )
        paid = receipt.amount + receipt.fee
        after = receipt.total_units_before - (receipt.units - receipt.fee_units)
        ok = amount == paid if exact else abs(amount - paid) <= CENT
    else:
        units = units_for_contribution(
            amount=receipt.amount, balance=receipt.balance, total_units=receipt.total_units_before
        )
        after = receipt.total_units_before + receipt.units
        ok = units == receipt.units if exact else abs(units - receipt.units) <= _stored(units)
    if abs(after - receipt.total_units_after) > (0 if exact else _stored(after)):
        ok = False
    return [] if ok else [f"receipt {receipt.pk} breaks the unit rule"]


CENT = Decimal("0.00000001")


def performance_fees_kept(world: World) -> list[str]:
    """Every leave's performance fee (SPEC section 10) is its rule applied: the receipt's gross
    is the follower's WITHDRAWAL (and WIN) plus the fee; the fee is the position's percent of
    the gross above the mark the units carried, rounded down to 8, and nothing when the gross
    is not above it; a fee charged is one PERFORMANCE_FEE row, succeeded, of the receipt's and
    the WITHDRAWAL's fee and fee units, and the fee units are what the fee was worth at the
    price, no more than the units the leave took; every position's ``fees_paid`` is its
    receipts' fees. (The units passing to the streamer are checked by ``ledgers_agree``: a
    pool's units are the streamer's plus its members'.)"""
    problems: list[str] = []
    receipts = Receipt.objects.filter(
        position__pool__operator__in=world.operators, kind=Receipt.Kind.LEAVE
    ).select_related("saga", "position")
    for receipt in receipts:
        saga = receipt.saga
        if saga is None:
            continue  # receipts_match_transactions: every receipt has its saga
        txs = {tx.kind: tx for tx in saga.transactions.filter(status=Status.SUCCEEDED)}
        withdrawal = txs.get(Kind.STREAMER_WITHDRAWAL)
        fee_tx = txs.get(Kind.PERFORMANCE_FEE)
        label = f"leave receipt {receipt.pk} (position {receipt.position_id})"
        gross = receipt.gross_amount
        mark = receipt.high_water_mark
        if gross is None or mark is None:
            problems.append(f"{label}: no gross or mark")
            continue
        if receipt.fee_percent != receipt.position.performance_fee_percent:
            problems.append(
                f"{label}: fee percent {receipt.fee_percent}, position's "
                f"{receipt.position.performance_fee_percent}"
            )
        expected = performance_fee(percent=receipt.fee_percent, value=gross, mark=mark)
        if receipt.fee != expected or receipt.amount + receipt.fee != gross:
            problems.append(
                f"{label}: gross {gross}, mark {mark}, fee {receipt.fee} (rule: {expected}), "
                f"paid {receipt.amount}"
            )
        if gross <= mark and receipt.fee != 0:
            problems.append(f"{label}: a fee of {receipt.fee} without profit above the mark")
        if withdrawal is not None and (
            withdrawal.amount != receipt.amount
            or (withdrawal.fee or ZERO) != receipt.fee
            or (withdrawal.fee_units or ZERO) != receipt.fee_units
            or withdrawal.fee_mark != mark
        ):
            problems.append(
                f"{label}: WITHDRAWAL {withdrawal.amount} fee {withdrawal.fee} units "
                f"{withdrawal.fee_units} mark {withdrawal.fee_mark}, receipt {receipt.amount} "
                f"fee {receipt.fee} units {receipt.fee_units} mark {mark}"
            )
        if receipt.fee > 0:
            if fee_tx is None or (fee_tx.amount, fee_tx.units, fee_tx.external_id) != (
                receipt.fee,
                receipt.fee_units,
                receipt.fee_external_id,
            ):
                problems.append(f"{label}: fee {receipt.fee}, fee row {fee_tx}")
            fee_units = min(
                units_for_fee(
                    fee=receipt.fee,
                    balance=receipt.balance,
                    total_units=receipt.total_units_before,
                ),
                receipt.units,
            )
            exact = connection.vendor != "sqlite"
            if abs(fee_units - receipt.fee_units) > (0 if exact else _stored(fee_units)):
                problems.append(f"{label}: fee units {receipt.fee_units}, rule {fee_units}")
        elif fee_tx is not None or receipt.fee_units != 0 or receipt.fee_external_id:
            problems.append(f"{label}: no fee, yet a fee row or fee units")
    fee_rows = Transaction.objects.filter(
        operator__in=world.operators, kind=Kind.PERFORMANCE_FEE
    ).exclude(status=Status.SUCCEEDED)
    if fee_rows.exists():
        problems.append(f"fee rows not succeeded: {list(fee_rows.values_list('pk', 'status'))}")
    for position in Position.objects.filter(pool__operator__in=world.operators):
        fees = position.receipts.aggregate(total=Sum("fee"))["total"] or ZERO
        if fees != position.fees_paid:
            problems.append(
                f"position {position.pk}: fees paid {position.fees_paid}, receipts {fees}"
            )
    return problems


def _stored(value: Decimal) -> Decimal:
    """How far SQLite's storage may move ``value``: its 15th significant digit, or dust."""
    return max(abs(value) * Decimal("1e-14"), UNIT_DUST)


def positions_are_their_receipts(world: World) -> list[str]:
    """A position's ``contributed`` is the sum of its join and top-up receipts, its ``payout``
    of its leave receipts, its units what they issued less what they redeemed."""
    problems: list[str] = []
    positions = Position.objects.filter(pool__operator__in=world.operators).exclude(
        status=Position.Status.FAILED
    )
    for position in positions.prefetch_related("receipts"):
        receipts = list(position.receipts.all())
        put_in = sum((r.amount for r in receipts if r.kind != Receipt.Kind.LEAVE), ZERO)
        paid = sum((r.amount for r in receipts if r.kind == Receipt.Kind.LEAVE), ZERO)
        issued = sum((r.units for r in receipts if r.kind != Receipt.Kind.LEAVE), ZERO)
        redeemed = sum((r.units for r in receipts if r.kind == Receipt.Kind.LEAVE), ZERO)
        has_left = any(r.kind == Receipt.Kind.LEAVE for r in receipts)
        if (
            put_in != position.contributed
            or (paid if has_left else None) != position.payout
            or abs(issued - redeemed - position.units) > UNIT_DUST
        ):
            problems.append(
                f"position {position.pk}: contributed {position.contributed} / receipts "
                f"{put_in}, payout {position.payout} / {paid}, units {position.units} / "
                f"{issued - redeemed}"
            )
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


def journal_agrees_with_the_log(world: World) -> list[str]:
    """The double-entry journal agrees with the transaction log (one entry per movement that
    moved money, for its amount), every entry balances, and every closed pool's account is 0
    (``apps.transactions.finance.ledger.journal_agreement``)."""
    problems: list[str] = []
    for operator in world.operators:
        agreement = journal_agreement(operator)
        problems += [
            f"journal {row.currency} {row.kind}: log {row.log_count} for {row.log_total}, "
            f"journal {row.journal_count} for {row.journal_total} {row.problems}"
            for row in agreement.disagreeing
        ]
        problems += [
            f"transaction #{d.transaction_id} {d.kind}: {d.problem_label}"
            for d in agreement.differences[:10]
        ]
        if agreement.unbalanced_count:
            problems.append(
                f"{agreement.unbalanced_count} journal entries do not balance: "
                f"{[u.entry_id for u in agreement.unbalanced[:10]]}"
            )
        problems += [
            f"closed pool #{pool.pool_id}'s journal account holds {pool.balance}"
            for pool in agreement.pools_not_zero
        ]
    return problems


Invariant = Callable[[World], list[str]]
INVARIANTS: tuple[Invariant, ...] = (
    every_transaction_final,
    ledgers_agree,
    followers_paid_what_they_are_owed,
    receipts_match_transactions,
    performance_fees_kept,
    positions_are_their_receipts,
    empty_pools_closed_and_unlocked,
    pools_within_their_follower_limit,
    no_active_position_past_its_limit,
    journal_agrees_with_the_log,
)


def violations(world: World) -> list[str]:
    return [
        f"{invariant.__name__}: {problem}"
        for invariant in INVARIANTS
        for problem in invariant(world)
    ]
