"""Seed the periodic tasks (django-celery-beat) from apps.transactions.schedules.

Idempotent and non-destructive: existing schedules keep the timing staff gave them.
``manage.py setup_schedules`` does the same on a live database (e.g. after a deploy that
adds a schedule).
"""

from django.db import migrations


def install(apps, schema_editor):
    from apps.transactions.schedules import schedules_install_migration

    schedules_install_migration(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0002_reconciliation_records"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
