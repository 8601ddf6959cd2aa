"""The staff groups learn CopyStake's fees and invoices: a new permission
``backoffice.act_finance`` (issue, mark paid, void, credit invoices) for Finance, which also
views the journal and adds fee schedules; every group views fee schedules, invoices and their
lines, and the positions' pricing receipts (``apps.backoffice.groups`` holds the same
definition).

Permissions are normally created after ``migrate`` finishes (post_migrate); they are created
here first so that the groups can be given them on an existing database.
"""

from django.db import migrations

INVOICE_VIEW = [
    # Pricing receipts (with their performance fees) are seen by every group.
    "transactions.view_receipt",
    "transactions.view_feeschedule",
    "transactions.view_invoice",
    "transactions.view_invoiceline",
]
JOURNAL_VIEW = [
    "transactions.view_journalaccount",
    "transactions.view_journalentry",
    "transactions.view_journalline",
]
GRANTS = {
    "Operations": INVOICE_VIEW,
    "Finance": [
        *INVOICE_VIEW,
        *JOURNAL_VIEW,
        "transactions.add_feeschedule",
        "backoffice.act_finance",
    ],
    "Read-only": [*INVOICE_VIEW, *JOURNAL_VIEW],
}


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
        ("backoffice", "0002_operations_streamer_permissions"),
        ("transactions", "0012_invoice_schedule"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="staffaction",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    (
                        "act_operations",
                        "Can run operations actions (refresh, settle, retry, roll back, "
                        "release, rotate)",
                    ),
                    ("export_finance", "Can export finance data (transactions, settlements)"),
                    ("act_finance", "Can issue, void and credit invoices"),
                ],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
