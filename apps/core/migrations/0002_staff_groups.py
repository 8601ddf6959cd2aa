"""Staff groups: Operations (act), Finance (view and export), Read-only (view).

Permissions are normally created after ``migrate`` finishes (post_migrate); they are created
here first so that the groups can be given them on a fresh database.
"""

from django.db import migrations

VIEW_MODELS = {
    "operators": ["operator", "historicaloperator", "calllog"],
    "streamers": ["streamer", "stream"],
    "pools": ["pool", "historicalpool", "poolsnapshot"],
    "followers": ["follower", "playersession", "position"],
    "transactions": [
        "transaction",
        "historicaltransaction",
        "saga",
        "reconciliationrun",
        "discrepancy",
        "dailysettlement",
    ],
    "core": ["staffaction", "reviewitem", "withdrawallock"],
}
VIEW = [f"{app}.view_{model}" for app, models in VIEW_MODELS.items() for model in models]
GROUPS = {
    "Operations": [*VIEW, "operators.change_operator", "core.act_operations"],
    "Finance": [*VIEW, "core.export_finance"],
    "Read-only": VIEW,
}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("operators", "0001_initial"),
        ("streamers", "0001_initial"),
        ("pools", "0001_initial"),
        ("followers", "0001_initial"),
        ("transactions", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
