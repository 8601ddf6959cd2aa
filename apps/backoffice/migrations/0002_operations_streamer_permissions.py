"""The staff groups learn the streamer pages: every group views streamers' allowlists and
invite links; Operations adds and edits streamers, streams, allowlists and invites.

Permissions are normally created after ``migrate`` finishes (post_migrate); they are created
here first so that the groups can be given them on an existing database.
"""

from django.db import migrations

VIEW = [
    "streamers.view_streameraccess",
    "streamers.view_streamerinvite",
]
OPERATIONS = [
    *VIEW,
    "streamers.add_streamer",
    "streamers.change_streamer",
    "streamers.add_stream",
    "streamers.change_stream",
    "streamers.add_streameraccess",
    "streamers.change_streameraccess",
    "streamers.delete_streameraccess",
    "streamers.add_streamerinvite",
]
GRANTS = {"Operations": OPERATIONS, "Finance": VIEW, "Read-only": VIEW}


def _permissions(apps, names):
    Permission = apps.get_model("auth", "Permission")
    for name in names:
        app_label, codename = name.split(".")
        yield Permission.objects.get(content_type__app_label=app_label, codename=codename)


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, perms in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*_permissions(apps, perms))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, perms in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, perms))


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_staff_records"),
        ("streamers", "0002_limits_access_streams"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
