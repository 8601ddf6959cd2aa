"""Roll the snapshots up and refresh every streamer's track record now (what
``statistics_task`` does every 5 minutes), and print what it wrote."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.pools.rollups import rollups_refresh
from apps.transactions.statistics.records import records_refresh


class Command(BaseCommand):
    help = (
        "Roll snapshots up into hourly and daily rows (from the hour before the newest one, "
        "or from the oldest snapshot on a first run: a backfill), then recompute every "
        "streamer's track record per window."
    )

    def handle(self, *args, **options):
        stats = rollups_refresh()
        records = records_refresh()
        self.stdout.write(
            f"Rolled up {stats.hours} hour(s) into {stats.hourly_rows} hourly row(s) and "
            f"{stats.days} day(s) into {stats.daily_rows} daily row(s); "
            f"{records} track record(s) refreshed."
        )
