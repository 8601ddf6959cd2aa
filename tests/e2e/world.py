"""A small world for end-to-end tests over real HTTP: the sandbox operator, our Operator
wired to it through the live server, streamers with live streams, followers with sandbox
accounts and session tokens; and clients for the operator API and the player API.

Plain functions and classes (no fixtures) so that the browser tests can build the same world.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx

from apps.core import wire
from apps.operators import clients
from apps.operators.models import Operator
from apps.operators.services import operator_create
from apps.operators.signatures import copystake_signature
from apps.sandbox.models import SandboxAccount, SandboxOperator
from apps.sandbox.services import (
    sandbox_account_create,
    sandbox_operator_create,
    sandbox_token_issue,
)
from apps.streamers.models import Stream, Streamer
from apps.streamers.services import stream_start, streamer_create
from apps.transactions.models import Saga
from apps.transactions.services import sagas_resume

SLUG = "e2e"
CURRENCY = "USD"
API_KEY = "e2e-inbound-api-key"
TIMEOUT_SECONDS = 0.6
# Longer than the client's timeout, so every timeout fault really times the client out.
FAULT_LATENCY_MS = 1200


@dataclass
class World:
    base: str
    sandbox: SandboxOperator
    operator: Operator
    streamers: dict[str, Streamer] = field(default_factory=dict)
    streams: dict[str, Stream] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    initial: dict[str, Decimal] = field(default_factory=dict)
    players: list[Player] = field(default_factory=list)

    def account(self, user_id: str) -> SandboxAccount:
        return SandboxAccount.objects.get(operator=self.sandbox, user_id=user_id)

    def balance(self, user_id: str) -> Decimal:
        return self.account(user_id).balance

    def close(self) -> None:
        """Close every kept-alive HTTP connection, so the live server's request threads end
        and give their database connections back (PostgreSQL drops the test database after)."""
        for player in self.players:
            player.client.close()
        if clients._client is not None:
            clients._client.close()
            clients._client = None


def build_world(
    base: str,
    *,
    streamers: tuple[tuple[str, str], ...] = (("s1", "1000"), ("s2", "500")),
    followers: tuple[tuple[str, str], ...] = (("f1", "500"), ("f2", "500"), ("f3", "500")),
    timeout_seconds: float = TIMEOUT_SECONDS,
) -> World:
    base = base.rstrip("/")
    sandbox = sandbox_operator_create(
        slug=SLUG,
        name="E2E Casino",
        api_key="e2e-operator-issued-key",
        secret_key="e2e-secret-key",
        wallet_client_id="e2e-client",
        wallet_secret="e2e-wallet-secret",
    )
    operator, _ = operator_create(
        name="E2E Casino",
        code=SLUG,
        callback_url=f"{base}/sandbox/{SLUG}/copystake",
        wallet_url=f"{base}/sandbox/{SLUG}/wallet",
        api_key=API_KEY,
        operator_api_key=sandbox.api_key,
        secret_key=sandbox.secret_key,
        wallet_client_id=sandbox.wallet_client_id,
        wallet_secret=sandbox.wallet_secret,
        request_timeout_seconds=timeout_seconds,
        min_contribution=Decimal("1"),
        max_contribution=Decimal("10000"),
    )
    world = World(base=base, sandbox=sandbox, operator=operator)
    for user_id, balance in streamers:
        sandbox_account_create(
            operator=sandbox,
            user_id=user_id,
            username=f"Streamer {user_id}",
            currency=CURRENCY,
            balance=Decimal(balance),
            is_streamer=True,
        )
        streamer = streamer_create(
            operator=operator,
            operator_user_id=user_id,
            currency=CURRENCY,
            display_name=f"Streamer {user_id}",
        )
        world.streamers[user_id] = streamer
        world.streams[user_id] = stream_start(streamer=streamer, title=f"{user_id} live")
        world.initial[user_id] = Decimal(balance)
    for user_id, balance in followers:
        account = sandbox_account_create(
            operator=sandbox,
            user_id=user_id,
            username=f"Follower {user_id}",
            currency=CURRENCY,
            balance=Decimal(balance),
        )
        world.tokens[user_id] = sandbox_token_issue(account=account).token
        world.initial[user_id] = Decimal(balance)
    httpx.get(f"{base}/play/", timeout=10)  # warm the server up before the short timeouts
    return world


# --- the operator API (signed) -----------------------------------------------------------


def operator_call(world: World, name: str, payload: dict) -> httpx.Response:
    raw = wire.dumps(payload)
    return httpx.post(
        f"{world.base}/api/v1/copystake/{name}",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-API-KEY": API_KEY,
            "X-REQUEST-SIGNATURE": copystake_signature(world.operator.secret_key, raw),
        },
        timeout=30,
    )


def init_url(world: World, user_id: str, *, stream: Stream | None = None) -> str:
    """``init`` over HTTP, as the operator calls it: the page URL with the player token."""
    payload = {
        "operatorUserId": user_id,
        "userToken": world.tokens[user_id],
        "currency": CURRENCY,
        "language": "en",
        "username": f"Follower {user_id}",
    }
    if stream is not None:
        payload["streamId"] = str(stream.uid)
    response = operator_call(world, "init", payload)
    assert response.status_code == 200, response.text
    return response.json()["url"]


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


# --- the player API ----------------------------------------------------------------------


class Player:
    """The player API over HTTP with the token that ``init`` put in the page URL."""

    def __init__(self, world: World, token: str):
        self.world = world
        self.client = httpx.Client(
            base_url=f"{world.base}/api/v1/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        world.players.append(self)

    @classmethod
    def init(cls, world: World, user_id: str) -> Player:
        return cls(world, token_of(init_url(world, user_id)))

    def join(self, streamer_user_id: str, amount: str | int) -> httpx.Response:
        streamer = self.world.streamers[streamer_user_id]
        return self.client.post(
            "pools/join",
            json={"streamerId": streamer.pk, "amount": str(amount)},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    def leave(self, position_id: str) -> httpx.Response:
        return self.client.post(f"positions/{position_id}/leave")

    def leave_part(self, position_id: str, **part: str) -> httpx.Response:
        """A partial leave: ``units="10"`` or ``fraction="0.5"``."""
        return self.client.post(f"positions/{position_id}/leave", json=part)

    def top_up(self, position_id: str, amount: str | int) -> httpx.Response:
        return self.client.post(
            f"positions/{position_id}/top-up",
            json={"amount": str(amount)},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    def position(self, position_id: str) -> dict:
        response = self.client.get(f"positions/{position_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def lobby(self) -> list[dict]:
        response = self.client.get("lobby")
        assert response.status_code == 200, response.text
        return response.json()


def settle(max_rounds: int = 60) -> None:
    """Resume every unfinished saga until none is left, skipping each backoff."""
    for _ in range(max_rounds):
        if not Saga.objects.filter(status=Saga.Status.RUNNING).exists():
            return
        Saga.objects.filter(status=Saga.Status.RUNNING).update(next_run_at=None)
        sagas_resume(budget=10.0)
    running = list(
        Saga.objects.filter(status=Saga.Status.RUNNING).values("pk", "kind", "step", "last_error")
    )
    raise AssertionError(f"sagas did not settle: {running}")
