"""The seamless wallet's replay window (seed 003; SPEC 6): a signed request whose
``X-VC-Client-TS`` is more than 5 minutes off is refused and moves no money, so a captured
money call cannot be replayed later. The sandbox wallet is the receiver here, as an operator's
would be. (The same on /auth, and in seconds instead of milliseconds:
apps/sandbox/tests/test_wallet.py.)"""

from decimal import Decimal

import pytest

from apps.operators.signatures import wallet_timestamp
from apps.sandbox.models import SandboxWalletTx
from apps.sandbox.services import (
    sandbox_account_create,
    sandbox_operator_create,
    sandbox_token_issue,
)
from apps.sandbox.tests.conftest import post_wallet

pytestmark = pytest.mark.django_db

FIVE_MINUTES_MS = 5 * 60 * 1000


@pytest.fixture
def wallet(db):
    operator = sandbox_operator_create(
        slug="acme",
        name="Acme",
        api_key="k-0001",
        secret_key="s-0001",
        wallet_client_id="client",
        wallet_secret="wallet-secret-0001",
    )
    account = sandbox_account_create(
        operator=operator, user_id="f1", username="F", currency="USD", balance=Decimal("100")
    )
    return operator, account, sandbox_token_issue(account=account).token


def money(token: str, name: str) -> dict:
    payload = {
        "amount": Decimal("10"),
        "currency": "USD",
        "userToken": token,
        "game": "copystake-pool",
        "userId": "f1",
        "providerTxId": f"{name}-1",
    }
    if name == "rollback":
        payload["rollbackProviderTxId"] = "bet-0"
    return payload


@pytest.mark.parametrize("name", ["withdraw", "deposit", "rollback"])
@pytest.mark.parametrize("skew_ms", [-(FIVE_MINUTES_MS + 1000), FIVE_MINUTES_MS + 1000])
def test_a_money_call_signed_outside_the_window_moves_nothing(client, wallet, name, skew_ms):
    operator, account, token = wallet
    # given: a correctly signed request, timestamped just over 5 minutes away (a replay)
    ts = str(int(wallet_timestamp()) + skew_ms)
    # when
    response = post_wallet(client, operator, name, money(token, name), ts=ts)
    # then
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.balance == Decimal("100")
    assert not SandboxWalletTx.objects.exists()


def test_a_money_call_just_inside_the_window_is_served(client, wallet):
    operator, account, token = wallet
    ts = str(int(wallet_timestamp()) - (FIVE_MINUTES_MS - 5000))
    response = post_wallet(client, operator, "withdraw", money(token, "withdraw"), ts=ts)
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.balance == Decimal("90")
