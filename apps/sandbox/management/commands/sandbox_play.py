"""``manage.py sandbox_play``: make the sandbox streamers' balances rise and fall."""

import time
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from apps.core.money import amount_to_wire
from apps.sandbox.selectors import sandbox_operator_get
from apps.sandbox.services import sandbox_play_round


class Command(BaseCommand):
    help = "Let every sandbox streamer with a balance place and settle one bet per round."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=1, help="0 plays until interrupted.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between rounds.")
        parser.add_argument("--rtp", default="0.96", help="Expected return per unit staked.")
        parser.add_argument("--operator", default=None, help="Sandbox operator slug (default all).")

    def handle(self, *args, rounds: int, interval: float, rtp: str, operator: str | None, **kw):
        try:
            rtp_value = Decimal(rtp)
        except InvalidOperation as error:
            raise CommandError(f"--rtp {rtp!r} is not a number") from error
        if rounds < 0 or interval < 0:
            raise CommandError("--rounds and --interval must not be negative")
        sandbox_operator = None
        if operator:
            sandbox_operator = sandbox_operator_get(slug=operator)
            if sandbox_operator is None:
                raise CommandError(f"no sandbox operator {operator!r}")
        played = 0
        try:
            while rounds == 0 or played < rounds:
                if played:
                    time.sleep(interval)
                try:
                    bets = sandbox_play_round(operator=sandbox_operator, rtp=rtp_value)
                except ValueError as error:
                    raise CommandError(str(error)) from error
                played += 1
                staked = sum((bet.stake for bet in bets), Decimal(0))
                paid = sum((bet.payout for bet in bets), Decimal(0))
                self.stdout.write(
                    f"round {played}: {len(bets)} bets, "
                    f"staked {amount_to_wire(staked)}, paid {amount_to_wire(paid)}"
                )
        except KeyboardInterrupt:
            self.stdout.write(f"stopped after {played} rounds")
