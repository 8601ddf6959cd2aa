"""The stream and snapshot tasks now live in apps.transactions.tasks (the layers): bring the
stored schedules' task paths up to date. ``schedules_install`` only rewrites what the code
owns (task path, description, expiry); staff's timings stay."""

from django.db import migrations


def install(apps, schema_editor):
    from apps.transactions.schedules import schedules_install_migration

    schedules_install_migration(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0006_saga_awaiting_claim"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
