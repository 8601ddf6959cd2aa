"""Install the periodic tasks of apps.transactions.schedules in django-celery-beat."""

from __future__ import annotations

from typing import TextIO, cast

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.table import Table

from apps.transactions.schedules import schedules_install


class Command(BaseCommand):
    help = (
        "Create every periodic task CopyPool needs (idempotent). Existing schedules keep the "
        "timing staff gave them unless --reset."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Put every schedule's timing back to the default and enable it.",
        )

    def handle(self, *args, reset: bool, **options):
        changes = schedules_install(reset=reset)
        table = Table(title="Periodic tasks")
        for column in ("Schedule", "Task", "Timing", "Enabled", "Action"):
            table.add_column(column)
        for change in changes:
            table.add_row(
                change.schedule.name,
                change.schedule.task,
                change.timing,
                "yes" if change.enabled else "no",
                change.action,
            )
        # OutputWrapper is a file by delegation to the stream it wraps, not an IO subclass.
        Console(file=cast(TextIO, self.stdout), force_terminal=False, width=160).print(table)
