"""The moves a simulated history is made of, one class each.

A move draws what it does from the simulation's random generator and calls the same services
the APIs, tasks, staff actions and the sandbox operator call. Adding a money move to the
product (a top-up, a partial leave, a stop-loss, a fee) means adding one class here, to
``MOVES``, and the invariant it must keep to ``invariants.py``.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings

from apps.backoffice.followers import follower_block_by_staff, position_force_leave
from apps.backoffice.streamers import streamer_suspend_by_staff
from apps.core.money import AMOUNT_QUANTUM, round_amount_down
from apps.followers.models import Follower, Position
from apps.followers.selectors import position_value
from apps.followers.services import follower_unblock, position_limits_set
from apps.sandbox.models import SandboxAccount
from apps.sandbox.services import sandbox_play_bet
from apps.sandbox.simulation.world import Tenant, World
from apps.streamers.models import Stream, Streamer
from apps.streamers.services import stream_start, streamer_resume
from apps.transactions.models import Saga
from apps.transactions.services import (
    position_join,
    position_leave,
    position_leave_part,
    position_top_up,
    sagas_resume,
    streams_end,
)


@dataclass
class Step:
    """What the runner gives a move: the world and the seeded generator."""

    world: World
    rng: random.Random


class Move(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def weight(self) -> int: ...

    def run(self, step: Step) -> bool:
        """Do it; False when there was nothing to do (no candidate)."""
        ...


def _tenant(step: Step) -> Tenant:
    return step.rng.choice(step.world.tenants)


def _streamer_account(step: Step) -> SandboxAccount:
    """A streamer of a tenant, drawn from the seed: their account at the sandbox."""
    tenant = _tenant(step)
    streamer = step.rng.choice(tenant.streamers)
    return SandboxAccount.objects.get(operator=tenant.sandbox, user_id=streamer.operator_user_id)


def _live_streamers(tenant: Tenant) -> list[Streamer]:
    live = set(
        Stream.objects.filter(streamer__in=tenant.streamers, status=Stream.Status.LIVE).values_list(
            "streamer_id", flat=True
        )
    )
    return [streamer for streamer in tenant.streamers if streamer.pk in live]


class Join:
    """A follower joins a live streamer's pool with a random amount (refusals included:
    more than the wallet holds, below the minimum, a bust pool)."""

    name = "join"
    weight = 10

    def run(self, step: Step) -> bool:
        tenant = _tenant(step)
        streamers = _live_streamers(tenant)
        if not streamers:
            return False
        user_id = step.rng.choice(sorted(tenant.sessions))
        wallet = SandboxAccount.objects.get(operator=tenant.sandbox, user_id=user_id).balance
        ceiling = max(min(wallet * Decimal("0.6"), tenant.operator.max_contribution), Decimal(1))
        if step.rng.random() < 0.05:
            ceiling = wallet + 100  # now and then more than the wallet holds: a 402
        amount = round_amount_down(Decimal(str(step.rng.uniform(0.5, float(ceiling)))))
        position_join(
            session=tenant.sessions[user_id],
            streamer_id=step.rng.choice(streamers).pk,
            amount=str(amount),
        )
        return True


def _active_positions(tenant: Tenant) -> list[tuple[uuid.UUID, str]]:
    """The tenant's active positions (id, follower's user id) in the order the history made
    them: position ids are random UUIDs, so never order by them."""
    return list(
        Position.objects.filter(
            pool__operator=tenant.operator, status=Position.Status.ACTIVE, is_demo=False
        )
        .order_by("created_at", "follower__operator_user_id")
        .values_list("pk", "follower__operator_user_id")
    )


def _pick_active(step: Step) -> tuple[Tenant, uuid.UUID, str] | None:
    """A tenant, then one of its active positions (id, follower's user id), drawn from the
    seed; None when the tenant has none."""
    tenant = _tenant(step)
    active = _active_positions(tenant)
    if not active:
        return None
    position_id, user_id = step.rng.choice(active)
    return tenant, position_id, user_id


class Leave:
    """A follower leaves one of their active positions."""

    name = "leave"
    weight = 6

    def run(self, step: Step) -> bool:
        picked = _pick_active(step)
        if picked is None:
            return False
        tenant, position_id, user_id = picked
        position_leave(session=tenant.sessions[user_id], position_id=position_id)
        return True


class StopLoss:
    """A follower sets a stop-loss or a take-profit 1 to 10 % from an active position's
    current value, as a value or as a percent of the contribution (the seed decides); the
    Play moves then move the balance, and the next observed balance (a join's or leave's
    pricing) pays it out. A limit reached already is refused (``ErrorCode.INVALID_LIMIT``)."""

    name = "stop_loss"
    weight = 2

    def run(self, step: Step) -> bool:
        picked = _pick_active(step)
        if picked is None:
            return False
        tenant, position_id, user_id = picked
        position = Position.objects.select_related("pool").get(pk=position_id)
        value = Decimal(position_value(position))
        distance = Decimal(step.rng.randint(1, 10)) / 100
        loss = step.rng.random() < 0.6
        level = value * (1 - distance) if loss else value * (1 + distance) + AMOUNT_QUANTUM
        if step.rng.random() < 0.3:  # as a percent of the contribution: near the value when
            # the level is on the limit's side of the contribution, else farther or refused
            percent = (1 - level / position.contributed) * 100
            limit = f"{percent if loss else -percent:.4f}%"
        else:
            limit = f"{round_amount_down(level):.8f}"
        position_limits_set(
            follower=tenant.sessions[user_id].follower,
            position_id=position_id,
            changes={"stop_loss" if loss else "take_profit": limit},
        )
        return True


class TopUp:
    """A follower adds a random amount to one of their active positions (refusals included:
    more than the wallet holds, past the maximum contribution, a busy position)."""

    name = "top_up"
    weight = 3

    def run(self, step: Step) -> bool:
        picked = _pick_active(step)
        if picked is None:
            return False
        tenant, position_id, user_id = picked
        wallet = SandboxAccount.objects.get(operator=tenant.sandbox, user_id=user_id).balance
        ceiling = max(min(wallet * Decimal("0.4"), tenant.operator.max_contribution), Decimal(1))
        if step.rng.random() < 0.05:
            ceiling = wallet + 100  # now and then more than the wallet holds: a 402
        amount = round_amount_down(Decimal(str(step.rng.uniform(0.5, float(ceiling)))))
        position_top_up(
            session=tenant.sessions[user_id], position_id=position_id, amount=str(amount)
        )
        return True


class PartialLeave:
    """A follower takes part of a position out: a fraction, or a number of its units (now and
    then all but a speck of them: the dust rule makes that a full leave)."""

    name = "partial_leave"
    weight = 2

    def run(self, step: Step) -> bool:
        picked = _pick_active(step)
        if picked is None:
            return False
        tenant, position_id, user_id = picked
        session = tenant.sessions[user_id]
        draw = step.rng.random()
        if draw < 0.5:
            fraction = Decimal(step.rng.randint(1, 100)) / Decimal(100)
            position_leave_part(session=session, position_id=position_id, fraction=str(fraction))
            return True
        units = Position.objects.values_list("units", flat=True).get(pk=position_id)
        if draw < 0.6:
            part = units - Decimal("1e-18")  # a rest worth nothing
        else:
            part = (units * Decimal(step.rng.randint(1, 99)) / 100).quantize(Decimal("1e-18"))
        if part <= 0:
            return False
        position_leave_part(session=session, position_id=position_id, units=f"{part:f}")
        return True


STAFF = "sim-staff"


class ForceLeave:
    """Staff pay a random active position out (the back office's Force leave)."""

    name = "force_leave"
    weight = 2

    def run(self, step: Step) -> bool:
        picked = _pick_active(step)
        if picked is None:
            return False
        tenant, position_id, _ = picked
        position_force_leave(
            position=Position.objects.get(pk=position_id), who=STAFF, reason="simulated"
        )
        return True


class Block:
    """Staff block a random follower and pay their open positions out now; a follower who is
    blocked already is unblocked instead, so the world keeps moving (their joins meanwhile
    answer ``ErrorCode.FOLLOWER_BLOCKED``)."""

    name = "block"
    weight = 1

    def run(self, step: Step) -> bool:
        tenant = _tenant(step)
        user_id = step.rng.choice(sorted(tenant.sessions))
        follower = Follower.objects.get(pk=tenant.sessions[user_id].follower_id)
        if follower.is_blocked:
            follower_unblock(follower=follower, reason="simulated: cleared")
        else:
            follower_block_by_staff(
                follower=follower, pay_out_now=True, who=STAFF, reason="simulated"
            )
        return True


class Suspend:
    """Staff suspend a random streamer, paying the open pool out now or leaving it to the
    stream's end (the seed decides); a suspended streamer is resumed instead. Meanwhile
    joins answer ``ErrorCode.STREAMER_SUSPENDED`` and the streamer cannot go live."""

    name = "suspend"
    weight = 1

    def run(self, step: Step) -> bool:
        streamer = Streamer.objects.get(pk=step.rng.choice(_tenant(step).streamers).pk)
        if streamer.status == Streamer.Status.SUSPENDED:
            streamer_resume(streamer=streamer)
        else:
            streamer_suspend_by_staff(
                streamer=streamer,
                pay_out_now=step.rng.random() < 0.5,
                who=STAFF,
                reason="simulated",
            )
        return True


class Play:
    """A streamer bets part of the balance: a win or a loss, settled at once."""

    name = "play"
    weight = 8

    def run(self, step: Step) -> bool:
        account = _streamer_account(step)
        percent = Decimal(step.rng.randint(100, 2000)) / Decimal(10000)
        return sandbox_play_bet(account=account, percent=percent, wins=step.rng.random() < 0.48)


class Bust:
    """A streamer loses everything: the pool is bust, its followers leave with nothing."""

    name = "bust"
    weight = 1

    def run(self, step: Step) -> bool:
        return sandbox_play_bet(account=_streamer_account(step), percent=Decimal(1), wins=False)


class StreamEnd:
    """A live stream ends: every position in the streamer's pool is paid out."""

    name = "stream_end"
    weight = 2

    def run(self, step: Step) -> bool:
        tenant = _tenant(step)
        streamers = _live_streamers(tenant)
        if not streamers:
            return False
        streamer = step.rng.choice(streamers)
        streams_end(
            stream=Stream.objects.get(streamer=streamer, status=Stream.Status.LIVE),
            reason="simulation: the stream ended",
        )
        return True


class StreamStart:
    """An offline streamer goes live again."""

    name = "stream_start"
    weight = 2

    def run(self, step: Step) -> bool:
        tenant = _tenant(step)
        live = {streamer.pk for streamer in _live_streamers(tenant)}
        offline = [streamer for streamer in tenant.streamers if streamer.pk not in live]
        if not offline:
            return False
        stream_start(streamer=step.rng.choice(offline), title="back on")
        return True


class Resume:
    """A worker's resume pass (faults still on). Leases left by crashed passes have
    expired by now: in this single-threaded world no saga is running between moves."""

    name = "resume"
    weight = 4

    def run(self, step: Step) -> bool:
        leases_expire()
        sagas_resume(budget=settings.COPYPOOL_INLINE_SAGA_SECONDS)
        return True


def leases_expire() -> int:
    """Time travel: every saga lease has expired and every backoff has passed."""
    return Saga.objects.filter(status=Saga.Status.RUNNING).update(
        next_run_at=None, lease_owner="", lease_expires_at=None
    )


MOVES: tuple[Move, ...] = (
    Join(),
    Leave(),
    StopLoss(),
    ForceLeave(),
    Block(),
    Suspend(),
    Play(),
    Bust(),
    StreamEnd(),
    StreamStart(),
    Resume(),
    TopUp(),
    PartialLeave(),
)
