"""Compute the daily settlement now: a day, or the last N days, and print what came out."""

from __future__ import annotations

import datetime as dt
import io
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from apps.transactions.finance.invoices import utc_today
from apps.transactions.settlement import settlement_compute


def _money(value) -> str:
    return f"{value:.8f}"


class Command(BaseCommand):
    help = (
        "Recompute the DailySettlement rows (figures and CopyStake's fees) of one UTC day "
        "(--date, default today) or of the --days days ending there, and print them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The (last) UTC day, YYYY-MM-DD; default today.")
        parser.add_argument(
            "--days", type=int, default=1, help="How many days ending at --date (default 1)."
        )

    def handle(self, *args, date: str | None, days: int, **options):
        try:
            last = utc_today() if date is None else dt.date.fromisoformat(date)
        except ValueError as error:
            raise CommandError(f"--date must be YYYY-MM-DD: {error}") from error
        if days < 1 or days > 3660:
            raise CommandError("--days must be 1 to 3660")
        table = Table(title=f"Settlement, {days} day(s) to {last.isoformat()} (UTC)")
        for column in (
            "day",
            "operator",
            "currency",
            "money in",
            "money out",
            "turnover fee",
            "GGR fee",
            "fees",
            "perf. fees",
            "schedule",
            "txs",
        ):
            table.add_column(column, justify="left" if column in ("day", "operator") else "right")
        count = 0
        for offset in range(days - 1, -1, -1):
            day: dt.date = last - timedelta(days=offset)
            for row in settlement_compute(day=day):
                count += 1
                table.add_row(
                    day.isoformat(),
                    str(row.operator),
                    row.currency,
                    _money(row.money_in),
                    _money(row.money_out),
                    _money(row.turnover_fee),
                    _money(row.ggr_fee),
                    _money(row.fees),
                    _money(row.performance_fees),
                    f"#{row.fee_schedule_id}" if row.fee_schedule_id else "none",
                    str(row.transactions_count),
                )
        rendered = io.StringIO()
        Console(file=rendered, force_terminal=False, width=240).print(table)
        self.stdout.write(rendered.getvalue(), ending="")
        self.stdout.write(f"{count} settlement row(s) computed.")
