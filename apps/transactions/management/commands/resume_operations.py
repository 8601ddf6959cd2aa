"""Drive every unfinished saga forward: the crash-recovery entry point."""

import time

from django.core.management.base import BaseCommand

from apps.transactions.models import Saga
from apps.transactions.services import sagas_resume


class Command(BaseCommand):
    help = "Resume every unfinished join, leave and close-pool saga whose time has come."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep resuming until interrupted.")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="Seconds between passes with --loop."
        )
        parser.add_argument("--limit", type=int, default=1000, help="Sagas per pass.")

    def handle(self, *args, loop: bool, interval: float, limit: int, **options):
        while True:
            resumed = sagas_resume(limit=limit)
            running = Saga.objects.filter(status=Saga.Status.RUNNING).count()
            self.stdout.write(f"resumed {resumed} saga(s); {running} still running")
            if not loop:
                return
            time.sleep(interval)
