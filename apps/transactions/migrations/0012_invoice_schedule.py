"""Adds the monthly invoice schedule (apps.transactions.schedules): on the 1st at 02:00 UTC,
last month's drafts. ``schedules_install`` creates only what is missing; staff's timings stay."""

from django.db import migrations


def install(apps, schema_editor):
    from apps.transactions.schedules import schedules_install_migration

    schedules_install_migration(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0011_journal_balanced"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
