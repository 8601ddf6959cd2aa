"""The simulated world: operators wired to sandbox operators, streamers live, followers with
wallets and player sessions, built from the seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from apps.followers.models import PlayerSession
from apps.followers.services import player_session_open
from apps.operators.models import Operator
from apps.operators.services import operator_create
from apps.sandbox.models import SandboxOperator
from apps.sandbox.services import (
    sandbox_account_create,
    sandbox_operator_create,
    sandbox_token_issue,
)
from apps.streamers.models import Streamer
from apps.streamers.services import stream_start, streamer_create

CURRENCY = "USD"
# Never resolved: the simulation's transport answers every call in-process.
HOST = "http://sim.invalid"


@dataclass
class Tenant:
    """One operator: ours and its sandbox twin, its streamers and followers."""

    sandbox: SandboxOperator
    operator: Operator
    streamers: list[Streamer] = field(default_factory=list)
    sessions: dict[str, PlayerSession] = field(default_factory=dict)
    initial: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class World:
    tenants: list[Tenant]

    @property
    def operators(self) -> list[Operator]:
        return [tenant.operator for tenant in self.tenants]


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    """A random amount with 2 to 8 decimal places."""
    places = rng.randint(2, 8)
    return Decimal(rng.randint(low * 10**places, high * 10**places)).scaleb(-places)


def _limits_draw(rng: random.Random, streamer: Streamer, *, balance: Decimal) -> None:
    """Some streamers take few followers, some have a capacity a little above their balance,
    so joins meet ``ErrorCode.FOLLOWER_LIMIT`` and ``ErrorCode.POOL_CAPACITY`` (refused
    before any money moves)."""
    max_followers = rng.choice([None, None, 2, 3])
    max_pool_value = rng.choice([None, balance + rng.randint(300, 1500)])
    # The limits are staff settings (the streamer admin); set directly in this test world.
    Streamer.objects.filter(pk=streamer.pk).update(
        max_followers=max_followers, max_pool_value=max_pool_value
    )
    streamer.max_followers, streamer.max_pool_value = max_followers, max_pool_value


# The performance fees the simulated streamers charge: none, the operator's default (0 here),
# some, and the most allowed (apps.pools.accounting.MAX_PERFORMANCE_FEE_PERCENT).
FEE_PERCENTS = (None, Decimal(0), Decimal("12.5"), Decimal(20), Decimal("33.3333"), Decimal(50))


def _fee_draw(rng: random.Random, streamer: Streamer) -> None:
    """Each simulated streamer charges a performance fee drawn from ``FEE_PERCENTS``, so leaves
    meet fees of 0 up to 50 % (a staff setting, set directly in this test world)."""
    percent = rng.choice(FEE_PERCENTS)
    Streamer.objects.filter(pk=streamer.pk).update(performance_fee_percent=percent)
    streamer.performance_fee_percent = percent


def world_build(
    *, rng: random.Random, prefix: str, operators: int, streamers: int, followers: int
) -> World:
    """``operators`` tenants, each with ``streamers`` live streamers and ``followers``
    followers, balances drawn from ``rng``."""
    tenants = []
    for o in range(operators):
        slug = f"{prefix}-{o}"
        sandbox = sandbox_operator_create(
            slug=slug,
            name=f"Simulated casino {slug}",
            api_key=f"{slug}-operator-key",
            secret_key=f"{slug}-secret",
            wallet_client_id=f"{slug}-client",
            wallet_secret=f"{slug}-wallet-secret",
        )
        operator, _ = operator_create(
            name=f"Simulated casino {slug}",
            code=slug,
            callback_url=f"{HOST}/sandbox/{slug}/copystake",
            wallet_url=f"{HOST}/sandbox/{slug}/wallet",
            api_key=f"{slug}-inbound-key",
            operator_api_key=sandbox.api_key,
            secret_key=sandbox.secret_key,
            wallet_client_id=sandbox.wallet_client_id,
            wallet_secret=sandbox.wallet_secret,
            min_contribution=Decimal("1"),
            max_contribution=Decimal("500"),
        )
        tenant = Tenant(sandbox=sandbox, operator=operator)
        for s in range(streamers):
            user_id = f"{slug}-streamer-{s}"
            balance = _money(rng, 200, 5000)
            sandbox_account_create(
                operator=sandbox,
                user_id=user_id,
                username=user_id,
                currency=CURRENCY,
                balance=balance,
                is_streamer=True,
            )
            streamer = streamer_create(
                operator=operator, operator_user_id=user_id, currency=CURRENCY
            )
            _limits_draw(rng, streamer, balance=balance)
            _fee_draw(rng, streamer)
            stream_start(streamer=streamer, title=f"{user_id} live")
            tenant.streamers.append(streamer)
            tenant.initial[user_id] = balance
        for f in range(followers):
            user_id = f"{slug}-follower-{f}"
            balance = _money(rng, 100, 3000)
            account = sandbox_account_create(
                operator=sandbox,
                user_id=user_id,
                username=user_id,
                currency=CURRENCY,
                balance=balance,
            )
            token = sandbox_token_issue(account=account, ttl_seconds=7 * 24 * 3600).token
            tenant.sessions[user_id] = player_session_open(
                operator=operator, operator_user_id=user_id, user_token=token, currency=CURRENCY
            )
            tenant.initial[user_id] = balance
        tenants.append(tenant)
    return World(tenants=tenants)
