"""Builders of a small, complete sandbox world for admin and query-count tests."""

import random
from decimal import Decimal

from apps.operators.tests.factories import OperatorFactory
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


def conformance_world_build(base_url: str):
    """A sandbox operator at ``base_url`` and the CopyStake operator pointed at it, with its
    conformance test users: streamer s-1 (100 USD), follower f-1 (50 USD, a live token),
    non-streamer p-1. Returns (operator, sandbox operator, streamer, follower)."""

    sandbox = sandbox_operator_create(
        slug="conf",
        name="Conformance Casino",
        api_key="conf-api-key",
        secret_key="conf-secret",
        wallet_client_id="conf-client",
        wallet_secret="conf-wallet-secret",
    )
    streamer = sandbox_account_create(
        operator=sandbox,
        user_id="s-1",
        username="S",
        currency="USD",
        balance=Decimal("100"),
        is_streamer=True,
    )
    follower = sandbox_account_create(
        operator=sandbox, user_id="f-1", username="F", currency="USD", balance=Decimal("50")
    )
    sandbox_account_create(
        operator=sandbox, user_id="p-1", username="P", currency="USD", balance=Decimal("5")
    )
    token = sandbox_token_issue(account=follower)
    operator = OperatorFactory(
        code="conf",
        callback_url=f"{base_url}/sandbox/conf/copystake",
        wallet_url=f"{base_url}/sandbox/conf/wallet",
        operator_api_key="conf-api-key",
        secret_key="conf-secret",
        wallet_client_id="conf-client",
        wallet_secret="conf-wallet-secret",
        request_timeout_seconds=5.0,
        test_currency="USD",
        test_streamer_id="s-1",
        test_follower_id="f-1",
        test_follower_token=token.token,
        test_non_streamer_id="p-1",
        test_unknown_id="nobody-1",
    )
    return operator, sandbox, streamer, follower
