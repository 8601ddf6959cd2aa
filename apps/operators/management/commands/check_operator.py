import json
import sys

from django.core.management.base import BaseCommand, CommandError

from apps.operators.conformance.report import report_table
from apps.operators.conformance.services import conformance_run_create, conformance_run_execute
from apps.operators.models import ConformanceRun, Operator


class Command(BaseCommand):
    help = (
        "Run the conformance check against an operator's callback and wallet endpoints "
        "(signed probes with its test users); exits 1 on any FAIL."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="The operator's code.")
        parser.add_argument(
            "--json", action="store_true", help="Print the report as JSON (for CI)."
        )

    def handle(self, *args, **options):
        operator = Operator.objects.filter(code=options["code"]).first()
        if operator is None:
            raise CommandError(f"no operator with code {options['code']!r}")
        run = conformance_run_create(operator=operator)
        run = conformance_run_execute(run_id=run.pk)
        if options["json"]:
            self.stdout.write(json.dumps(run.report, indent=2))
        else:
            self.stdout.write(report_table(run.report))
        if run.state != ConformanceRun.State.PASSED:
            sys.exit(1)
