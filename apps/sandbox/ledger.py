"""Our books against the sandbox operator's: what the end-to-end tests and the fault
simulation check after every history.

``ledger_violations`` returns every way the two disagree (empty when they agree):

* every account's balance at the sandbox follows from our succeeded transactions (and, for a
  streamer, from the play the simulator settled), from where it started;
* every transfer ``id`` and wallet ``providerTxId`` the sandbox saw maps to exactly one of our
  transactions, of the same kind and amount, applied exactly when our ledger says so;
* nothing we count as done is missing at the sandbox (but a performance fee, which is never
  sent: its WITHDRAWAL is the net payout), and no id was applied twice;
* with ``settled``: nothing pending or in doubt, and every saga finished;
* each pool's units are the streamer's plus its members', and a closed pool has no members.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import Q, Sum

from apps.followers.models import Position
from apps.operators.models import Operator
from apps.pools.models import Pool
from apps.sandbox.models import (
    SandboxAccount,
    SandboxBet,
    SandboxOperator,
    SandboxTransfer,
    SandboxWalletTx,
)
from apps.transactions.models import Saga, Transaction

Kind = Transaction.Kind
Status = Transaction.Status
ZERO = Decimal(0)
# SQLite keeps decimals as floating point: unit totals may differ by storage dust there.
UNIT_DUST = Decimal("1e-9")
IN_DOUBT: set[Status] = {Status.PENDING, Status.UNKNOWN}
MOVED: set[Status] = {Status.SUCCEEDED, Status.ROLLED_BACK}

# Keyed and valued by choices members, which are the columns' strings.
WALLET_KINDS: dict[str, str] = {
    SandboxWalletTx.Kind.WITHDRAW: Kind.FOLLOWER_DEBIT,
    SandboxWalletTx.Kind.VOID: Kind.FOLLOWER_DEBIT,  # the tombstone of a BET that never came
    SandboxWalletTx.Kind.DEPOSIT: Kind.FOLLOWER_CREDIT,
    SandboxWalletTx.Kind.ROLLBACK: Kind.FOLLOWER_ROLLBACK,
}
# Our transaction's status for each sandbox wallet record's (kind, status).
WALLET_STATUSES: dict[tuple[str, str], str] = {
    (SandboxWalletTx.Kind.WITHDRAW, SandboxWalletTx.Status.OK): Status.SUCCEEDED,
    (SandboxWalletTx.Kind.WITHDRAW, SandboxWalletTx.Status.ROLLED_BACK): Status.ROLLED_BACK,
    (SandboxWalletTx.Kind.VOID, SandboxWalletTx.Status.VOID): Status.FAILED,
    (SandboxWalletTx.Kind.DEPOSIT, SandboxWalletTx.Status.OK): Status.SUCCEEDED,
    (SandboxWalletTx.Kind.ROLLBACK, SandboxWalletTx.Status.OK): Status.SUCCEEDED,
}
TRANSFER_KINDS = {"DEPOSIT": Kind.STREAMER_DEPOSIT, "WITHDRAWAL": Kind.STREAMER_WITHDRAWAL}
# Our rows the operator never sees: a performance fee stays in the streamer's balance (its
# leave's WITHDRAWAL is the net payout), so the sandbox has no record of it, and must not.
NEVER_SENT: set[str] = {Kind.PERFORMANCE_FEE}


def _sum(transactions: Iterable[Transaction], kind: str, statuses: set[Status]) -> Decimal:
    return sum((t.amount for t in transactions if t.kind == kind and t.status in statuses), ZERO)


def ledger_violations(
    *,
    operator: Operator,
    sandbox: SandboxOperator,
    initial: Mapping[str, Decimal],
    adjustments: Mapping[str, Decimal] | None = None,
    settled: bool = True,
) -> list[str]:
    """Every disagreement between our ledger for ``operator`` and the ``sandbox``'s books.

    ``initial`` is each sandbox account's balance before the history, by user id;
    ``adjustments`` money moved at the operator outside CopyStake (a test setting a streamer's
    balance to zero), by user id.
    """
    adjustments = adjustments or {}
    problems: list[str] = []
    ours = list(
        Transaction.objects.filter(operator=operator, is_demo=False).select_related(
            "follower", "streamer", "rolls_back"
        )
    )
    by_id = {t.external_id: t for t in ours}
    if len(by_id) != len(ours):
        problems.append("an external id was used twice")
    if settled:
        in_doubt = [(t.kind, t.status, t.external_id) for t in ours if t.status in IN_DOUBT]
        if in_doubt:
            problems.append(f"transactions still pending or unknown: {in_doubt}")
        running = list(
            Saga.objects.filter(operator=operator, status=Saga.Status.RUNNING).values(
                "pk", "kind", "step", "last_error"
            )
        )
        if running:
            problems.append(f"sagas still running: {running}")

    for account in SandboxAccount.objects.filter(operator=sandbox):
        mine = [
            t
            for t in ours
            if (t.follower and t.follower.operator_user_id == account.user_id)
            or (t.streamer and t.streamer.operator_user_id == account.user_id)
        ]
        start = initial.get(account.user_id, ZERO) + adjustments.get(account.user_id, ZERO)
        if account.is_streamer:
            bets = SandboxBet.objects.filter(account=account).aggregate(
                staked=Sum("stake"), paid=Sum("payout")
            )
            play = (bets["paid"] or ZERO) - (bets["staked"] or ZERO)
            expected = (
                start
                + _sum(mine, Kind.STREAMER_DEPOSIT, {Status.SUCCEEDED})
                - _sum(mine, Kind.STREAMER_WITHDRAWAL, {Status.SUCCEEDED})
                + play
            )
        else:
            expected = (
                start
                # A BET that was refunded keeps its own row as rolled back: it did move money.
                - _sum(mine, Kind.FOLLOWER_DEBIT, MOVED)
                + _sum(mine, Kind.FOLLOWER_CREDIT, {Status.SUCCEEDED})
                + _sum(mine, Kind.FOLLOWER_ROLLBACK, {Status.SUCCEEDED})
            )
        if account.balance != expected:
            problems.append(
                f"{account.user_id}: sandbox balance {account.balance}, our ledger says {expected}"
            )

    seen: Counter[int] = Counter()
    for record in SandboxTransfer.objects.filter(operator=sandbox):
        tx = by_id.get(record.transfer_id)
        if tx is None:
            problems.append(f"sandbox transfer {record.transfer_id} is not in our ledger")
            continue
        seen[tx.pk] += 1
        if tx.kind != TRANSFER_KINDS[record.transfer_type] or tx.amount != record.amount:
            problems.append(
                f"transfer {tx.external_id}: ours {tx.kind} {tx.amount}, "
                f"sandbox {record.transfer_type} {record.amount}"
            )
        if (tx.status == Status.SUCCEEDED) != record.succeeded:
            problems.append(
                f"transfer {tx.external_id}: ours {tx.status}, sandbox "
                f"{'applied' if record.succeeded else 'refused'} ({record.response_body[:120]})"
            )
    for wallet_tx in SandboxWalletTx.objects.filter(operator=sandbox):
        tx = by_id.get(wallet_tx.provider_tx_id)
        if tx is None:
            problems.append(f"sandbox wallet tx {wallet_tx.provider_tx_id} is not in our ledger")
            continue
        seen[tx.pk] += 1
        if tx.kind != WALLET_KINDS[wallet_tx.kind] or tx.amount != wallet_tx.amount:
            problems.append(
                f"wallet {tx.external_id}: ours {tx.kind} {tx.amount}, "
                f"sandbox {wallet_tx.kind} {wallet_tx.amount}"
            )
        if tx.follower is None or tx.follower.operator_user_id != wallet_tx.user_id:
            problems.append(f"wallet {tx.external_id}: another user at the sandbox")
        expected_status = WALLET_STATUSES.get((wallet_tx.kind, wallet_tx.status))
        if tx.status != expected_status:
            problems.append(
                f"wallet {tx.external_id}: ours {tx.status}, sandbox {wallet_tx.kind} {wallet_tx.status}"
            )
        if wallet_tx.kind == SandboxWalletTx.Kind.ROLLBACK and (
            tx.rolls_back is None or wallet_tx.rollback_of != tx.rolls_back.external_id
        ):
            problems.append(f"rollback {tx.external_id}: refunds another BET at the sandbox")
    twice = [by_pk for by_pk, count in seen.items() if count > 1]
    if twice:
        problems.append(f"transactions applied more than once: {twice}")
    missing = [
        (t.kind, t.external_id)
        for t in ours
        if t.status in MOVED and t.kind not in NEVER_SENT and seen[t.pk] != 1
    ]
    if missing:
        problems.append(f"our transactions with no operator record: {missing}")
    problems.extend(units_violations(operator=operator))
    return problems


def units_violations(*, operator: Operator) -> list[str]:
    """Each pool's units are the streamer's plus its members'; a closed pool has no members
    (a leaver whose WIN is still being retried holds no units: CLOSE does not wait for it)."""
    problems = []
    for pool in Pool.objects.filter(operator=operator, is_demo=False):
        members = pool.positions.filter(
            Q(status__in=[Position.Status.JOINING, Position.Status.ACTIVE])
            | Q(status=Position.Status.LEAVING, units__gt=0)
        )
        held = sum((p.units for p in members), ZERO)
        if abs(pool.total_units - pool.streamer_units - held) > UNIT_DUST:
            problems.append(
                f"pool {pool.pk}: {pool.total_units} units, streamer {pool.streamer_units}, "
                f"members {held}"
            )
        if pool.state == Pool.State.CLOSED and members.exists():
            problems.append(f"closed pool {pool.pk} still has members")
    return problems
