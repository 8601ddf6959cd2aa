"""Fixtures and signed-request helpers for the sandbox operator's tests."""

from decimal import Decimal

import pytest

from apps.core import wire
from apps.operators.signatures import copystake_signature, wallet_signature, wallet_timestamp
from apps.sandbox import faults
from apps.sandbox.services import (
    sandbox_account_create,
    sandbox_operator_create,
    sandbox_token_issue,
)
from apps.sandbox.tests.factories import conformance_world_build

API_KEY = "op-issued-api-key-0001"
SECRET_KEY = "copystake-secret-key-0001"
WALLET_CLIENT_ID = "copystake-client"
WALLET_SECRET = "wallet-secret-0001"


def raw_json(body: dict | bytes | str) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return wire.dumps(body)


def post_callback(client, operator, name, body, *, api_key=None, signature=None):
    raw = raw_json(body)
    headers = {
        "X-API-KEY": operator.api_key if api_key is None else api_key,
        "X-REQUEST-SIGNATURE": (
            copystake_signature(operator.secret_key, raw) if signature is None else signature
        ),
    }
    return client.post(
        f"/sandbox/{operator.slug}/copystake/{name}",
        data=raw,
        content_type="application/json",
        headers=headers,
    )


def post_wallet(client, operator, name, body, *, client_id=None, ts=None, signature=None):
    raw = raw_json(body)
    path = f"/sandbox/{operator.slug}/wallet/{name}"
    ts = wallet_timestamp() if ts is None else ts
    headers = {
        "X-VC-Client-ID": operator.wallet_client_id if client_id is None else client_id,
        "X-VC-Client-TS": ts,
        "X-VC-Client-Signature": (
            wallet_signature(operator.wallet_secret, path, ts, raw)
            if signature is None
            else signature
        ),
    }
    return client.post(path, data=raw, content_type="application/json", headers=headers)


@pytest.fixture
def operator(db):
    return sandbox_operator_create(
        slug="acme",
        name="Acme Casino",
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        wallet_client_id=WALLET_CLIENT_ID,
        wallet_secret=WALLET_SECRET,
    )


@pytest.fixture
def other_operator(db):
    return sandbox_operator_create(
        slug="other",
        name="Other Casino",
        api_key="other-api-key-0002",
        secret_key="other-secret-0002",
        wallet_client_id="other-client",
        wallet_secret="other-wallet-secret",
    )


@pytest.fixture
def streamer(operator):
    return sandbox_account_create(
        operator=operator,
        user_id="streamer-1",
        username="Streamer One",
        currency="USD",
        balance=Decimal("805.00000000"),
        is_streamer=True,
    )


@pytest.fixture
def follower(operator):
    return sandbox_account_create(
        operator=operator,
        user_id="follower-1",
        username="Follower One",
        currency="USD",
        balance=Decimal("100"),
    )


@pytest.fixture
def follower_token(follower):
    return sandbox_token_issue(account=follower)


@pytest.fixture
def expired_token(follower):
    return sandbox_token_issue(account=follower, ttl_seconds=-1)


@pytest.fixture
def pauses(monkeypatch):
    """Record fault sleeps instead of sleeping."""
    calls: list[int] = []
    monkeypatch.setattr(faults, "pause", calls.append)
    return calls


@pytest.fixture
def conformance_world(live_server):
    """A sandbox operator over real HTTP and the CopyStake operator pointed at it, with its
    conformance test users (see ``conformance_world_build``)."""
    return conformance_world_build(live_server.url)
