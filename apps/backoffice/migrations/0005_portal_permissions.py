"""Every staff group views the operator portal's people, invitations and authenticator
devices (``apps.backoffice.groups`` holds the same definition); inviting, revoking, granting
and resetting two-factor are operations actions (``backoffice.act_operations``)."""

from django.db import migrations

VIEW = ["portal.view_operatoruser", "portal.view_portalinvite", "otp_totp.view_totpdevice"]
GRANTS = {name: VIEW for name in ("Operations", "Finance", "Read-only")}


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
        ("backoffice", "0004_conformance_permissions"),
        ("portal", "0001_initial"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
