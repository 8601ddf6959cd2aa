"""Builders of a small, complete sandbox world for admin and query-count tests."""

import random
from decimal import Decimal

from apps.sandbox.services import (
    sandbox_account_create,
    sandbox_fault_set,
    sandbox_game_pool_set,
    sandbox_operator_create,
    sandbox_play_round,
    sandbox_token_issue,
    sandbox_transfer_apply,
    sandbox_wallet_deposit,
    sandbox_wallet_withdraw,
)


def populate(prefix: str) -> None:
    """One operator with a streamer, a follower, a token, a transfer, wallet txs, a fault, a bet."""
    operator = sandbox_operator_create(
        slug=f"{prefix}-op",
        name=f"{prefix} operator",
        api_key=f"{prefix}-key",
        secret_key=f"{prefix}-secret",
        wallet_client_id=f"{prefix}-client",
        wallet_secret=f"{prefix}-wallet",
    )
    streamer = sandbox_account_create(
        operator=operator,
        user_id=f"{prefix}-s",
        username="S",
        currency="USD",
        balance=Decimal("100"),
        is_streamer=True,
    )
    follower = sandbox_account_create(
        operator=operator, user_id=f"{prefix}-f", username="F", currency="USD", balance=Decimal(50)
    )
    token = sandbox_token_issue(account=follower)
    sandbox_game_pool_set(operator=operator, user_id=streamer.user_id, state="OPEN")
    sandbox_transfer_apply(
        operator=operator,
        transfer_id=f"{prefix}-t",
        user_id=streamer.user_id,
        transfer_type="DEPOSIT",
        amount=Decimal("5"),
        currency="USD",
    )
    sandbox_wallet_withdraw(
        operator=operator,
        user_id=follower.user_id,
        user_token=token.token,
        amount=Decimal("5"),
        currency="USD",
        game="g",
        provider_tx_id=f"{prefix}-bet",
    )
    sandbox_wallet_deposit(
        operator=operator,
        user_id=follower.user_id,
        amount=Decimal("1"),
        currency="USD",
        game="g",
        provider_tx_id=f"{prefix}-win",
    )
    sandbox_fault_set(operator=operator, route="transfer", mode="latency", latency_ms=1)
    sandbox_play_round(operator=operator, rng=random.Random(0))
