"""End-to-end fixtures (real HTTP through the live server) and the ledger comparison.

``assert_ledgers_match`` compares the sandbox operator's books with our ledger: every
account's balance follows from our succeeded transactions, every transfer id and
``providerTxId`` the sandbox saw maps to exactly one of our transactions with the same amount,
and nothing is in doubt or applied twice.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Q, Sum

from apps.followers.models import Position
from apps.pools.models import Pool
from apps.sandbox.models import SandboxAccount, SandboxBet, SandboxTransfer, SandboxWalletTx
from apps.transactions.models import Saga, Transaction
from tests.e2e.world import World, build_world

Kind = Transaction.Kind
Status = Transaction.Status
ZERO = Decimal(0)
# SQLite keeps decimals as floating point: unit totals may differ by storage dust there.
UNIT_DUST = Decimal("1e-9")

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


@pytest.fixture
def world(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    world = build_world(live_server.url)
    yield world
    world.close()


def _sum(transactions, kind: str, statuses) -> Decimal:
    return sum((t.amount for t in transactions if t.kind == kind and t.status in statuses), ZERO)


def assert_ledgers_match(
    world: World, *, adjustments: dict[str, Decimal] | None = None, settled: bool = True
) -> None:
    """The sandbox's books equal ours.

    ``adjustments`` are money moved at the operator outside CopyStake (a test setting a
    streamer's balance to zero), by user id. With ``settled`` (the default) nothing may be
    pending or in doubt and every saga must have finished.
    """
    adjustments = adjustments or {}
    ours = list(
        Transaction.objects.filter(operator=world.operator, is_demo=False).select_related(
            "follower", "streamer", "rolls_back"
        )
    )
    by_id = {t.external_id: t for t in ours}
    assert len(by_id) == len(ours), "an external id was used twice"
    if settled:
        in_doubt = [(t.kind, t.status, t.external_id) for t in ours if t.status in _OPEN]
        assert not in_doubt, f"transactions still pending or unknown: {in_doubt}"
        running = list(Saga.objects.filter(status=Saga.Status.RUNNING).values("kind", "step"))
        assert not running, f"sagas still running: {running}"

    # Balances: each follower's and streamer's follows from our succeeded transactions.
    for account in SandboxAccount.objects.filter(operator=world.sandbox):
        mine = [
            t
            for t in ours
            if (t.follower and t.follower.operator_user_id == account.user_id)
            or (t.streamer and t.streamer.operator_user_id == account.user_id)
        ]
        initial = world.initial[account.user_id] + adjustments.get(account.user_id, ZERO)
        if account.is_streamer:
            bets = SandboxBet.objects.filter(account=account).aggregate(
                staked=Sum("stake"), paid=Sum("payout")
            )
            play = (bets["paid"] or ZERO) - (bets["staked"] or ZERO)
            expected = (
                initial
                + _sum(mine, Kind.STREAMER_DEPOSIT, {Status.SUCCEEDED})
                - _sum(mine, Kind.STREAMER_WITHDRAWAL, {Status.SUCCEEDED})
                + play
            )
        else:
            expected = (
                initial
                # A BET that was refunded keeps its own row as rolled back: it did move money.
                - _sum(mine, Kind.FOLLOWER_DEBIT, {Status.SUCCEEDED, Status.ROLLED_BACK})
                + _sum(mine, Kind.FOLLOWER_CREDIT, {Status.SUCCEEDED})
                + _sum(mine, Kind.FOLLOWER_ROLLBACK, {Status.SUCCEEDED})
            )
        assert account.balance == expected, (
            f"{account.user_id}: sandbox {account.balance}, our ledger says {expected}"
        )

    # Transfers: one to one by id, same type and amount, applied exactly when we say so.
    seen: Counter = Counter()
    for record in SandboxTransfer.objects.filter(operator=world.sandbox):
        tx = by_id.get(record.transfer_id)
        assert tx is not None, f"sandbox transfer {record.transfer_id} is not in our ledger"
        seen[tx.pk] += 1
        assert tx.kind == TRANSFER_KINDS[record.transfer_type], (tx.kind, record.transfer_type)
        assert tx.amount == record.amount, (tx.external_id, tx.amount, record.amount)
        assert (tx.status == Status.SUCCEEDED) == record.succeeded, (
            tx.external_id,
            tx.status,
            record.response_body,
        )
    # Wallet: one to one by providerTxId, same kind and amount.
    for wallet_tx in SandboxWalletTx.objects.filter(operator=world.sandbox):
        tx = by_id.get(wallet_tx.provider_tx_id)
        assert tx is not None, f"sandbox wallet tx {wallet_tx.provider_tx_id} is not in our ledger"
        seen[tx.pk] += 1
        assert tx.kind == WALLET_KINDS[wallet_tx.kind], (tx.kind, wallet_tx.kind)
        assert tx.amount == wallet_tx.amount, (tx.external_id, tx.amount, wallet_tx.amount)
        assert tx.follower is not None
        assert tx.follower.operator_user_id == wallet_tx.user_id
        expected_status = WALLET_STATUSES[(wallet_tx.kind, wallet_tx.status)]
        assert tx.status == expected_status, (tx.external_id, tx.status, wallet_tx.kind)
        if wallet_tx.kind == SandboxWalletTx.Kind.ROLLBACK:
            assert tx.rolls_back is not None
            assert wallet_tx.rollback_of == tx.rolls_back.external_id
    assert all(count == 1 for count in seen.values()), "a transaction was applied twice"
    # And everything we count as done did reach the operator.
    moved = {Status.SUCCEEDED, Status.ROLLED_BACK}
    missing = [(t.kind, t.external_id) for t in ours if t.status in moved and seen[t.pk] != 1]
    assert not missing, f"our transactions with no operator record: {missing}"
    _assert_units_consistent(world)


_OPEN = {Status.PENDING, Status.UNKNOWN}


def _assert_units_consistent(world: World) -> None:
    """Each pool's units are the streamer's plus its members'; a closed pool has no members
    (a leaver whose WIN is still being retried holds no units: CLOSE does not wait for it)."""
    for pool in Pool.objects.filter(operator=world.operator, is_demo=False):
        members = pool.positions.filter(
            Q(status__in=[Position.Status.JOINING, Position.Status.ACTIVE])
            | Q(status=Position.Status.LEAVING, units__gt=0)
        )
        held = sum((p.units for p in members), ZERO)
        assert abs(pool.total_units - pool.streamer_units - held) <= UNIT_DUST, (
            pool.pk,
            pool.total_units,
            pool.streamer_units,
            held,
        )
        if pool.state == Pool.State.CLOSED:
            assert not members.exists(), f"closed pool {pool.pk} still has members"
