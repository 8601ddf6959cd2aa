"""One reconciliation run now, with a progress bar and a summary table."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from apps.operators.clients import DEFAULT_BALANCE_CONNECTIONS
from apps.operators.models import Operator
from apps.transactions.models import ReconciliationRun
from apps.transactions.reconciliation import FETCH_BUDGET_SECONDS, Hooks, reconciliation_run


class Command(BaseCommand):
    help = (
        "Reconcile the ledger against every operator now (or --operator CODE): reads each "
        "open pool's balance, checks the ledger and records findings as discrepancies."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--operator", action="append", default=[], help="Operator code (repeatable)."
        )
        parser.add_argument(
            "--connections",
            type=int,
            default=DEFAULT_BALANCE_CONNECTIONS,
            help="Concurrent connections per operator.",
        )
        parser.add_argument(
            "--budget",
            type=float,
            default=FETCH_BUDGET_SECONDS,
            help="Seconds each operator's balance reading may take.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, operator, connections, budget, no_progress, **options):
        operators = None
        if operator:
            operators = list(Operator.objects.filter(code__in=operator).order_by("pk"))
            missing = set(operator) - {op.code for op in operators}
            if missing:
                raise CommandError(f"Unknown operator code(s): {', '.join(sorted(missing))}")
        if connections < 1:
            raise CommandError("--connections must be at least 1")
        console = Console(file=self.stdout, force_terminal=False, width=120)
        progress = Progress(
            TextColumn("[bold]Reading balances"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=no_progress,
            transient=False,
        )
        task = progress.add_task("balances", total=None)
        hooks = Hooks(
            start=lambda total: progress.update(task, total=total),
            answer=lambda: progress.advance(task),
            operator_done=lambda op, run: progress.console.log(
                f"{op.code}: run #{run.pk} {run.status}, {run.findings} finding(s)"
            ),
        )
        with progress:
            report = reconciliation_run(
                operators=operators,
                trigger=ReconciliationRun.Trigger.COMMAND,
                connections=connections,
                budget=budget,
                hooks=hooks,
            )
        console.print(self._runs_table(report))
        found = self._findings_table(report.runs)
        if found.row_count:
            console.print(found)
        for busy in report.busy:
            console.print(f"[yellow]{busy.code}: skipped, a run is already in progress")
        console.print(f"Done in {report.elapsed:.1f} s.")
        if any(run.status == ReconciliationRun.Status.FAILED for run in report.runs):
            raise CommandError("at least one run failed (see the table above)")

    @staticmethod
    def _runs_table(report) -> Table:
        table = Table(title="Reconciliation runs")
        for column in (
            "Operator",
            "Run",
            "Status",
            "Open pools",
            "Read",
            "Skipped",
            "Failed",
            "Findings",
            "Auto-resolved",
            "Seconds",
        ):
            table.add_column(
                column, justify="left" if column in ("Operator", "Status") else "right"
            )
        for run in report.runs:
            checked = run.checked or {}
            # Pools being priced are read again within the run: what is left unread counts.
            unread = checked.get(
                "pools_unread_after_retries",
                checked.get("pools_claimed_skipped", 0)
                + checked.get("pools_priced_during_read", 0),
            )
            skipped = unread + checked.get("balances_not_sent", 0)
            table.add_row(
                run.operator.code,
                f"#{run.pk}",
                run.status + (f": {run.error[:40]}" if run.error else ""),
                str(checked.get("open_pools", 0)),
                str(checked.get("balances_read", 0)),
                str(skipped),
                str(checked.get("balances_failed", 0)),
                str(run.findings),
                str(run.auto_resolved),
                f"{(run.duration_ms or 0) / 1000:.1f}",
            )
        return table

    @staticmethod
    def _findings_table(runs) -> Table:
        table = Table(title="Findings by kind")
        for column in ("Operator", "Kind", "New", "Seen again", "Fixed now"):
            table.add_column(column, justify="left" if column in ("Operator", "Kind") else "right")
        for run in runs:
            for kind, counts in (run.found or {}).items():
                table.add_row(
                    run.operator.code,
                    kind,
                    str(counts.get("new", 0)),
                    str(counts.get("seen", 0)),
                    str(counts.get("fixed", 0)),
                )
        return table
