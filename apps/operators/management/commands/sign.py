from django.core.management.base import BaseCommand, CommandError

from apps.operators.conformance.signing import signature_explain
from apps.operators.models import Operator


class Command(BaseCommand):
    help = (
        "Print the headers CopyPool sends for a body (and how the signature was computed), "
        "to check an operator's own signature code against ours."
    )

    def add_arguments(self, parser):
        parser.add_argument("--operator", required=True, help="The operator's code.")
        parser.add_argument("--body", required=True, help="The exact body, e.g. '{...}'.")
        parser.add_argument(
            "--endpoint",
            default="transfer",
            help="A callback (transfer, streamer-balance, game-pool) or wallet/<name> "
            "(wallet/auth, wallet/withdraw, ...). Default: transfer.",
        )
        parser.add_argument(
            "--timestamp", help="Wallet only: X-VC-Client-TS in Unix ms (default: now)."
        )

    def handle(self, *args, **options):
        operator = Operator.objects.filter(code=options["operator"]).first()
        if operator is None:
            raise CommandError(f"no operator with code {options['operator']!r}")
        try:
            explained = signature_explain(
                operator=operator,
                endpoint=options["endpoint"],
                body=options["body"].encode(),
                timestamp=options["timestamp"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        call = explained.call
        self.stdout.write(f"POST {call.url}")
        for name, value in call.headers.items():
            self.stdout.write(f"{name}: {value}")
        self.stdout.write("")
        self.stdout.write("How the signature was computed:")
        for step in explained.steps:
            self.stdout.write(f"  {step}")
