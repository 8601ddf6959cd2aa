"""Where a saga's money moves: the operator (callbacks + wallet) or, in demo mode, play money.

Sagas talk to a ``Gateway`` and never know which one: demo pools run the very same flows
while touching no wallet and no operator balance.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Protocol

from django.db import transaction
from django.db.models import F

from apps.core.errors import ErrorCode
from apps.core.money import round_amount_down
from apps.followers.models import Follower, Position
from apps.operators import clients
from apps.operators.clients import ERROR, SUCCESS, CallResult
from apps.operators.models import Operator
from apps.pools.models import Pool
from apps.streamers.models import Streamer
from apps.transactions.models import Transaction


class Gateway(Protocol):
    def bet(self, *, tx: Transaction, position: Position) -> CallResult: ...
    def win(self, *, tx: Transaction, position: Position) -> CallResult: ...
    def rollback(
        self, *, tx: Transaction, debit: Transaction, position: Position
    ) -> CallResult: ...
    def balance(self, *, pool: Pool) -> CallResult: ...
    def balance_of(self, *, streamer: Streamer) -> CallResult: ...
    def transfer(self, *, tx: Transaction, pool: Pool) -> CallResult: ...
    def game_pool(self, *, pool: Pool, state: str) -> CallResult: ...


def _wallet_args(tx: Transaction, position: Position) -> dict:
    return {
        "amount": tx.amount,
        "currency": tx.currency,
        "user_token": position.session.user_token,
        "user_id": position.follower.operator_user_id,
        "provider_tx_id": tx.external_id,
    }


class OperatorGateway:
    """The real thing: signed callbacks and the seamless wallet of the pool's operator.

    ``operator``, when given, is the pool's operator as already loaded (the saga engine loads
    it with the saga): a wallet call for one of its transactions uses it rather than loading
    the operator again through ``tx.operator``."""

    def __init__(self, operator: Operator | None = None):
        self.operator = operator

    def _operator_of(self, tx: Transaction) -> Operator:
        if self.operator is not None and self.operator.pk == tx.operator_id:
            return self.operator
        return tx.operator

    def bet(self, *, tx, position):
        return clients.wallet_withdraw(self._operator_of(tx), **_wallet_args(tx, position))

    def win(self, *, tx, position):
        return clients.wallet_deposit(self._operator_of(tx), **_wallet_args(tx, position))

    def rollback(self, *, tx, debit, position):
        return clients.wallet_rollback(
            self._operator_of(tx),
            **_wallet_args(tx, position),
            rollback_provider_tx_id=debit.external_id,
        )

    def balance(self, *, pool):
        return clients.streamer_balance(
            pool.operator, user_id=pool.streamer.operator_user_id, currency=pool.currency
        )

    def balance_of(self, *, streamer):
        return clients.streamer_balance(
            streamer.operator, user_id=streamer.operator_user_id, currency=streamer.currency
        )

    def transfer(self, *, tx, pool):
        kind = "DEPOSIT" if tx.kind == Transaction.Kind.STREAMER_DEPOSIT else "WITHDRAWAL"
        return clients.transfer(
            pool.operator,
            external_id=tx.external_id,
            user_id=pool.streamer.operator_user_id,
            type=kind,
            amount=tx.amount,
            currency=tx.currency,
        )

    def game_pool(self, *, pool, state):
        return clients.game_pool(pool.operator, user_id=pool.streamer.operator_user_id, state=state)


class DemoGateway:
    """Play money: the follower's and streamer's ``demo_balance``; the streamer "plays" a
    little between reads (a random walk with a 97% return) so demo NAVs move."""

    RTP = Decimal("0.97")

    def _refuse(self, status: int, code: str) -> CallResult:
        return CallResult(ERROR, status, error_code=code, error_message="demo balance too low")

    def bet(self, *, tx, position):
        moved = Follower.objects.filter(
            pk=position.follower_id, demo_balance__gte=tx.amount
        ).update(demo_balance=F("demo_balance") - tx.amount)
        return (
            CallResult(SUCCESS, 200) if moved else self._refuse(402, ErrorCode.INSUFFICIENT_BALANCE)
        )

    def win(self, *, tx, position):
        Follower.objects.filter(pk=position.follower_id).update(
            demo_balance=F("demo_balance") + tx.amount
        )
        return CallResult(SUCCESS, 200)

    def rollback(self, *, tx, debit, position):
        return self.win(tx=tx, position=position)

    def balance(self, *, pool):
        with transaction.atomic():
            streamer = Streamer.objects.select_for_update().get(pk=pool.streamer_id)
            stake = round_amount_down(streamer.demo_balance * Decimal("0.02"))
            if stake > 0:
                won = random.random() < float(self.RTP) / 2
                streamer.demo_balance += stake if won else -stake
                streamer.save(update_fields=["demo_balance"])
        return CallResult(
            SUCCESS, 200, data={"balance": str(streamer.demo_balance), "currency": pool.currency}
        )

    def balance_of(self, *, streamer):
        """A reading outside any pool: the play money as it is, no play in between."""
        balance = Streamer.objects.values_list("demo_balance", flat=True).get(pk=streamer.pk)
        return CallResult(SUCCESS, 200, data={"balance": str(balance), "currency": "DEMO"})

    def transfer(self, *, tx, pool):
        if tx.kind == Transaction.Kind.STREAMER_DEPOSIT:
            delta = tx.amount
            moved = Streamer.objects.filter(pk=pool.streamer_id).update(
                demo_balance=F("demo_balance") + delta
            )
        else:
            moved = Streamer.objects.filter(
                pk=pool.streamer_id, demo_balance__gte=tx.amount
            ).update(demo_balance=F("demo_balance") - tx.amount)
            if not moved:
                return self._refuse(400, ErrorCode.INSUFFICIENT_BALANCE)
        balance = Streamer.objects.values_list("demo_balance", flat=True).get(pk=pool.streamer_id)
        return CallResult(SUCCESS, 200, data={"balance": str(balance), "currency": pool.currency})

    def game_pool(self, *, pool, state):
        return CallResult(SUCCESS, 200)


def gateway_for(target: Pool | Streamer) -> Gateway:
    """Who a pool's money calls go to: play money for a demo pool, else its operator. Called
    as ``gateways.gateway_for`` everywhere, so that tests can put an operator double here.

    A streamer (a reading outside any pool: ``Gateway.balance_of``, the back office's check
    with the operator) always goes to its operator: only pools are demo.
    """
    if isinstance(target, Pool) and target.is_demo:
        return DemoGateway()
    if isinstance(target, Pool) and Pool.operator.is_cached(target):
        return OperatorGateway(target.operator)
    return OperatorGateway()
