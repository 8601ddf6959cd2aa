"""Run a seeded history with faults, recover, check the invariants, report."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from django.core.exceptions import ValidationError
from django.test import override_settings

from apps.core.errors import ApplicationError
from apps.operators import clients
from apps.sandbox.simulation import invariants
from apps.sandbox.simulation.moves import MOVES, Move, Step, leases_expire
from apps.sandbox.simulation.transport import FaultPlan, FaultyTransport, SimulatedCrash
from apps.sandbox.simulation.world import world_build
from apps.transactions.models import Receipt, Saga, Transaction
from apps.transactions.services import sagas_resume

# No wall clock may decide anything: the engine's budgets are out of reach and it never
# sleeps through a retry (every wait ends the run; the next resume pass takes it up).
NO_DEADLINE_SECONDS = 24 * 3600.0
SETTINGS = {
    "COPYPOOL_INLINE_SAGA_SECONDS": NO_DEADLINE_SECONDS,
    "COPYPOOL_INLINE_WAIT_SECONDS": 0.0,
}


@dataclass(frozen=True)
class SimulationConfig:
    seed: int
    operations: int = 300
    fault_rate: float = 0.15
    crash_rate: float = 0.03
    operators: int = 2
    streamers: int = 3
    followers: int = 6
    max_recovery_rounds: int = 60
    prefix: str = "sim"


@dataclass
class SimulationReport:
    config: SimulationConfig
    moves: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    calls: int = 0
    history_seconds: float = 0.0
    recovery_rounds: int = 0
    recovery_seconds: float = 0.0
    violations: list[str] = field(default_factory=list)
    # The performance fees the history charged: rows, and leaves priced at a fee rate above 0.
    fees: int = 0
    leaves_at_a_fee_rate: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def replay(self) -> str:
        c = self.config
        return (
            f"manage.py simulate --seed {c.seed} --operations {c.operations} "
            f"--faults {c.fault_rate} --crashes {c.crash_rate} --operators {c.operators} "
            f"--streamers {c.streamers} --followers {c.followers}"
        )


@contextmanager
def operator_network(transport: httpx.BaseTransport) -> Iterator[None]:
    """Every outbound call of this process goes through ``transport`` meanwhile."""
    previous = clients._client
    clients._client = httpx.Client(transport=transport)
    try:
        yield
    finally:
        clients._client.close()
        clients._client = previous


def recover(*, max_rounds: int) -> int:
    """Run the resume pass until no saga is left, as workers and beat would once the faults
    have stopped; each round first lets every lease expire and every backoff pass. Returns
    the rounds it took; raises when they were not enough."""
    for round_number in range(1, max_rounds + 1):
        leases_expire()
        sagas_resume(budget=NO_DEADLINE_SECONDS)
        if not Saga.objects.filter(status=Saga.Status.RUNNING).exists():
            return round_number
    raise RecoveryStalled(max_rounds)


class RecoveryStalled(Exception):
    def __init__(self, rounds: int):
        super().__init__(f"sagas still running after {rounds} recovery rounds")


def simulate(config: SimulationConfig) -> SimulationReport:
    """Build the world from ``config.seed``, play ``config.operations`` moves with faults and
    crashes on every outbound route, then stop the faults, recover and check the invariants.
    The same config plays the same history."""
    report = SimulationReport(config=config)
    rng = random.Random(config.seed)
    world = world_build(
        rng=random.Random(rng.random()),
        prefix=config.prefix,
        operators=config.operators,
        streamers=config.streamers,
        followers=config.followers,
    )
    transport = FaultyTransport(
        rng=random.Random(rng.random()),
        plan=FaultPlan(rate=config.fault_rate, crash_rate=config.crash_rate),
    )
    step = Step(world=world, rng=random.Random(rng.random()))
    weights = [move.weight for move in MOVES]
    with (
        override_settings(**SETTINGS),
        operator_network(transport),
    ):
        started = time.monotonic()
        for _ in range(config.operations):
            move = step.rng.choices(MOVES, weights=weights)[0]
            report.moves[move.name] += _play(move, step, report)
        report.history_seconds = time.monotonic() - started
        transport.plan = FaultPlan()  # the faults stop
        started = time.monotonic()
        try:
            report.recovery_rounds = recover(max_rounds=config.max_recovery_rounds)
        except RecoveryStalled as stalled:
            report.recovery_rounds = config.max_recovery_rounds
            report.violations.append(str(stalled))
        report.recovery_seconds = time.monotonic() - started
    report.faults = transport.counts
    report.calls = transport.calls
    report.violations.extend(invariants.violations(world))
    report.fees = Transaction.objects.filter(
        operator__in=world.operators, kind=Transaction.Kind.PERFORMANCE_FEE
    ).count()
    report.leaves_at_a_fee_rate = Receipt.objects.filter(
        position__pool__operator__in=world.operators,
        kind=Receipt.Kind.LEAVE,
        fee_percent__gt=0,
    ).count()
    return report


def _play(move: Move, step: Step, report: SimulationReport) -> int:
    """Play one move; a refusal is part of a history, a crash is a restart."""
    try:
        return int(move.run(step))
    except SimulatedCrash:
        report.crashes += 1
    except ApplicationError as refusal:
        report.refusals[str(refusal.code)] += 1
    except ValidationError:
        report.refusals["validation"] += 1
    return 1
