"""The player's wallet balance over real HTTP: CopyPool's ``/auth`` call to the sandbox
operator's wallet, as in the demo."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.followers.models import Follower, PlayerSession
from apps.followers.selectors import wallet_balance
from apps.operators.models import CallLog
from apps.operators.tests.factories import OperatorFactory
from apps.sandbox.services import (
    sandbox_account_create,
    sandbox_fault_set,
    sandbox_operator_create,
    sandbox_token_issue,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_sandbox_wallet_answers_the_followers_balance(live_server):
    # given: the sandbox operator, a follower account with 50 USD, its launch token
    sandbox = sandbox_operator_create(
        slug="live",
        name="Live",
        api_key="live-key",
        secret_key="live-secret",
        wallet_client_id="live-client",
        wallet_secret="live-wallet",
    )
    account = sandbox_account_create(
        operator=sandbox, user_id="f1", username="F", currency="USD", balance=Decimal("50.25")
    )
    token = sandbox_token_issue(account=account)
    operator = OperatorFactory(
        code="live",
        wallet_url=f"{live_server.url}/sandbox/live/wallet",
        wallet_client_id="live-client",
        wallet_secret="live-wallet",
    )
    follower = Follower.objects.create(operator=operator, operator_user_id="f1")

    def session(user_token: str) -> PlayerSession:
        return PlayerSession.objects.create(
            follower=follower,
            user_token=user_token,
            currency="USD",
            expires_at=timezone.now() + timedelta(hours=1),
        )

    # when
    balance = wallet_balance(session=session(token.token))
    # then
    assert (balance.balance, balance.currency) == (Decimal("50.25"), "USD")
    # and a token the wallet does not know is its 401, answered as ERR_INVALID_TOKEN
    with pytest.raises(ApplicationError) as refused:
        wallet_balance(session=session("not-a-token"))
    assert (refused.value.code, refused.value.status) == ("ERR_INVALID_TOKEN", 409)


@pytest.mark.parametrize(
    ("mode", "extra"),
    [
        ("http_500", {}),
        ("timeout_before", {"latency_ms": 1500}),
        ("drop", {}),
        ("error", {"error_code": "ERR_UNKNOWN"}),
    ],
)
def test_a_faulty_wallet_auth_is_a_clear_refusal_and_then_answers(live_server, mode, extra):
    # given: the sandbox wallet fails its next /auth in this mode
    sandbox = sandbox_operator_create(
        slug="faulty",
        name="Faulty",
        api_key="faulty-key",
        secret_key="faulty-secret",
        wallet_client_id="faulty-client",
        wallet_secret="faulty-wallet",
    )
    account = sandbox_account_create(
        operator=sandbox, user_id="f1", username="F", currency="USD", balance=Decimal("7")
    )
    token = sandbox_token_issue(account=account)
    operator = OperatorFactory(
        code="faulty",
        wallet_url=f"{live_server.url}/sandbox/faulty/wallet",
        wallet_client_id="faulty-client",
        wallet_secret="faulty-wallet",
        request_timeout_seconds=1.0,
    )
    follower = Follower.objects.create(operator=operator, operator_user_id="f1")
    session = PlayerSession.objects.create(
        follower=follower,
        user_token=token.token,
        currency="USD",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    sandbox_fault_set(operator=sandbox, route="auth", mode=mode, remaining=1, **extra)
    # when: the page asks for the balance
    with pytest.raises(ApplicationError) as refused:
        wallet_balance(session=session)
    # then: a 4xx with a code the page can say in words, never a 5xx; the call is logged
    assert refused.value.status == 409
    assert refused.value.code.startswith("ERR_")
    assert CallLog.objects.filter(operator=operator, endpoint__icontains="auth").exists()
    # and the next ask, with the fault spent, answers the balance: it moves no money
    assert wallet_balance(session=session).balance == Decimal("7")
