"""Adds the statistics (every 5 minutes) and retention (daily at 03:30 UTC) schedules
(apps.transactions.schedules). ``schedules_install`` creates only what is missing."""

from django.db import migrations


def install(apps, schema_editor):
    from apps.transactions.schedules import schedules_install_migration

    schedules_install_migration(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0012_invoice_schedule"),
        ("pools", "0003_statistics"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
