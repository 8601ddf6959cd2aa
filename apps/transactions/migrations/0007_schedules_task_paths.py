"""The stream and snapshot tasks now live in apps.transactions.tasks (the layers): bring the
stored schedules' task paths up to date. ``schedules_install`` only rewrites what the code
owns (task path, description, expiry); staff's timings stay."""

from django.db import migrations


def install(apps, schema_editor):
    from apps.transactions.schedules import BeatModels, schedules_install

    schedules_install(
        models=BeatModels(
            PeriodicTask=apps.get_model("django_celery_beat", "PeriodicTask"),
            PeriodicTasks=apps.get_model("django_celery_beat", "PeriodicTasks"),
            IntervalSchedule=apps.get_model("django_celery_beat", "IntervalSchedule"),
            CrontabSchedule=apps.get_model("django_celery_beat", "CrontabSchedule"),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0006_saga_awaiting_claim"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
