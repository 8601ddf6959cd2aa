"""Shared pytest fixtures: an operator with a live streamer, player sessions, and an
in-memory operator double (``fake``) that the sagas talk to instead of HTTP."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.followers.models import Follower, PlayerSession
from apps.operators.tests.factories import OperatorFactory
from apps.streamers.models import Stream, Streamer
from apps.transactions import gateways
from apps.transactions.tests.fakes import FakeOperator


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: rate-limit counts are keyed by row ids, which a
    rolled-back test hands on to the next one."""
    cache.clear()


@pytest.fixture
def operator(db):
    return OperatorFactory(
        name="Op",
        code="op",
        callback_url="http://operator.invalid/cb",
        wallet_url="http://operator.invalid/wallet",
        api_key="k",
        operator_api_key="ok",
        secret_key="s",
        wallet_client_id="c",
        wallet_secret="ws",
        min_contribution=Decimal("1"),
        max_contribution=Decimal("1000"),
    )


@pytest.fixture
def streamer(operator):
    streamer = Streamer.objects.create(
        operator=operator, operator_user_id="streamer-1", display_name="S", currency="USD"
    )
    Stream.objects.create(streamer=streamer, status=Stream.Status.LIVE, started_at=timezone.now())
    return streamer


@pytest.fixture
def make_session(operator):
    def make(user_id: str = "f1", *, currency: str = "USD", demo: bool = False) -> PlayerSession:
        follower, _ = Follower.objects.get_or_create(
            operator=operator, operator_user_id=user_id, is_demo=demo
        )
        return PlayerSession.objects.create(
            follower=follower,
            user_token=f"token-{user_id}",
            currency="DEMO" if demo else currency,
            is_demo=demo,
            expires_at=timezone.now() + timedelta(hours=1),
        )

    return make


@pytest.fixture
def fake(monkeypatch):
    fake = FakeOperator()
    # The saga engine looks the gateway up in its own module, apps.pools.services in the package.
    monkeypatch.setattr(gateways, "gateway_for", lambda pool: fake)
    return fake


def run_due(max_rounds: int = 50) -> None:
    """Resume every saga until none is due, travelling past each backoff."""
    from apps.transactions.models import Saga
    from apps.transactions.services import sagas_resume

    for _ in range(max_rounds):
        Saga.objects.filter(status="running").update(next_run_at=None)
        if not sagas_resume(budget=5):
            return
    raise AssertionError("sagas did not settle")
