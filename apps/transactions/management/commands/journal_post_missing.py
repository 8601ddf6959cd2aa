"""Post the journal entries missing for transactions whose money moved."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.transactions.reconciliation.repairs import journal_post_missing


class Command(BaseCommand):
    help = (
        "Post the double-entry journal entries missing for transactions whose money moved "
        "(a database from before the journal, or an entry lost), printing the counts; "
        "idempotent. Reconciliation's journal check (finding journal_mismatch) finds what "
        "is missing; its findings resolve themselves on the next run once this posted them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what is missing; post nothing."
        )

    def handle(self, *args, dry_run, **options):
        report = journal_post_missing(dry_run=dry_run)
        for kind, count in sorted(report.by_kind.items()):
            self.stdout.write(f"{kind}: {count} missing")
        if dry_run:
            self.stdout.write(f"Dry run: {report.missing} entries missing, none posted.")
        else:
            self.stdout.write(f"{report.missing} entries missing, {report.posted} posted.")
