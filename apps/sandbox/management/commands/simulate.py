"""``manage.py simulate``: a seeded history with faults and crashes, recovered and checked."""

from __future__ import annotations

import random
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.sandbox.simulation import SimulationConfig, SimulationReport, simulate


class Command(BaseCommand):
    help = (
        "Play a seeded random history of joins, leaves, stream ends, wins and losses, staff "
        "force-leaves, blocks and suspensions against "
        "the sandbox operator with faults on every outbound route and process crashes, then "
        "recover and check that no money was lost or doubled. Prints the figures; exits 1 "
        "with the seed to replay when an invariant is broken. Everything it creates is rolled "
        "back at the end unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, help="default: a random one (printed)")
        parser.add_argument("--operations", type=int, default=2000)
        parser.add_argument("--faults", type=float, default=0.15, help="chance of a fault per call")
        parser.add_argument(
            "--crashes", type=float, default=0.03, help="chance of a crash per call"
        )
        parser.add_argument("--operators", type=int, default=3)
        parser.add_argument("--streamers", type=int, default=4)
        parser.add_argument("--followers", type=int, default=10)
        parser.add_argument("--seeds", type=int, default=1, help="run this many seeds in a row")
        parser.add_argument("--keep", action="store_true", help="keep the simulated world")

    def handle(self, *args: Any, **options: Any) -> None:
        first = options["seed"] if options["seed"] is not None else random.randrange(10**9)
        failed = []
        for n in range(options["seeds"]):
            config = SimulationConfig(
                seed=first + n,
                operations=options["operations"],
                fault_rate=options["faults"],
                crash_rate=options["crashes"],
                operators=options["operators"],
                streamers=options["streamers"],
                followers=options["followers"],
                prefix=f"sim{first + n}",
            )
            report = self._run(config, keep=options["keep"])
            self._print(report)
            if not report.ok:
                failed.append(report)
        if failed:
            raise CommandError(
                "invariants broken; replay with:\n"
                + "\n".join(f"  {report.replay}" for report in failed)
            )

    def _run(self, config: SimulationConfig, *, keep: bool) -> SimulationReport:
        with transaction.atomic():
            report = simulate(config)
            if not keep:
                transaction.set_rollback(True)
        return report

    def _print(self, report: SimulationReport) -> None:
        c = report.config
        moves = ", ".join(f"{name} {count}" for name, count in sorted(report.moves.items()))
        faults = sum(n for kind, n in report.faults.items() if ":" not in kind)
        kinds = ", ".join(
            f"{kind} {n}" for kind, n in sorted(report.faults.items()) if ":" not in kind
        )
        refusals = ", ".join(f"{code} {n}" for code, n in report.refusals.most_common())
        self.stdout.write(
            f"seed {c.seed}: {c.operations} operations ({moves})\n"
            f"  outbound calls {report.calls}, faults {faults} ({kinds}), "
            f"crashes {report.crashes}; performance fees {report.fees} "
            f"of {report.leaves_at_a_fee_rate} leaves at a fee rate\n"
            f"  refusals: {refusals or 'none'}\n"
            f"  history {report.history_seconds:.1f} s; recovery after the faults stopped: "
            f"{report.recovery_rounds} rounds, {report.recovery_seconds:.1f} s\n"
            + (
                "  invariants: all hold"
                if report.ok
                else "  BROKEN:\n" + "\n".join(f"    {v}" for v in report.violations[:40])
            )
        )
