"""The staff groups: Operations (act), Finance (view and export), Read-only (view).

The data migration ``core.0002_staff_groups`` created them on every database (its permissions
were relabelled to this app by ``backoffice.0001_staff_records``); this module
keeps the same definition for code that needs them again (a flushed test database, or after
new models were added: ``staff_groups_ensure()`` is idempotent).
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

VIEW_MODELS = {
    "operators": ["operator", "historicaloperator", "calllog", "conformancerun"],
    "streamers": ["streamer", "stream", "streameraccess", "streamerinvite"],
    "pools": ["pool", "historicalpool", "poolsnapshot"],
    "followers": ["follower", "playersession", "position"],
    "transactions": [
        "transaction",
        "historicaltransaction",
        "saga",
        "reconciliationrun",
        "discrepancy",
        "dailysettlement",
        "receipt",
    ],
    "backoffice": ["staffaction", "reviewitem", "withdrawallock"],
    # The operator portal's people, invitations and authenticator devices (never their keys):
    # inviting, revoking, granting and resetting are operations actions.
    "portal": ["operatoruser", "portalinvite"],
    "otp_totp": ["totpdevice"],
}
VIEW = [f"{app}.view_{model}" for app, models in VIEW_MODELS.items() for model in models]
# CopyStake's fees and invoices: every group sees them; Finance sees the journal too, adds fee
# schedules and issues, marks paid, voids and credits invoices (``backoffice.act_finance``).
INVOICE_VIEW = [
    "transactions.view_feeschedule",
    "transactions.view_invoice",
    "transactions.view_invoiceline",
]
JOURNAL_VIEW = [
    "transactions.view_journalaccount",
    "transactions.view_journalentry",
    "transactions.view_journalline",
]
FINANCE_ACT = ["transactions.add_feeschedule", "backoffice.act_finance"]
# What Operations may add and edit by hand (every money move is a confirmed staff action,
# ``backoffice.act_operations``, never an edit).
OPERATIONS_EDIT = [
    "operators.change_operator",
    "streamers.add_streamer",
    "streamers.change_streamer",
    "streamers.add_stream",
    "streamers.change_stream",
    "streamers.add_streameraccess",
    "streamers.change_streameraccess",
    "streamers.delete_streameraccess",
    "streamers.add_streamerinvite",
]
OPERATIONS, FINANCE, READ_ONLY = "Operations", "Finance", "Read-only"
GROUPS = {
    OPERATIONS: [*VIEW, *INVOICE_VIEW, *OPERATIONS_EDIT, "backoffice.act_operations"],
    FINANCE: [*VIEW, *INVOICE_VIEW, *JOURNAL_VIEW, "backoffice.export_finance", *FINANCE_ACT],
    READ_ONLY: [*VIEW, *INVOICE_VIEW, *JOURNAL_VIEW],
}


@transaction.atomic
def staff_groups_ensure() -> dict[str, Group]:
    """Create or update the three groups with exactly their permissions."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    groups = {}
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
        groups[name] = group
    return groups
