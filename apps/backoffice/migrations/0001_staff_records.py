"""``StaffAction`` and the review-queue and withdrawal-lock proxies, moved from ``core``.

The models are taken over in the state with the table they have (``core_staffaction``); the
content types are relabelled (their permissions, and the staff groups holding those, follow
them), then the table gets this app's name.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ["staffaction", "reviewitem", "withdrawallock"]


def relabel_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    # A content type created for the new label before this ran (never on a migrated
    # database) would block the relabelling: drop it, keeping the old one and its permissions.
    ContentType.objects.using(db).filter(app_label="backoffice", model__in=MOVED).delete()
    ContentType.objects.using(db).filter(app_label="core", model__in=MOVED).update(
        app_label="backoffice"
    )


def unlabel_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    ContentType.objects.using(db).filter(app_label="backoffice", model__in=MOVED).update(
        app_label="core"
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("core", "0003_staff_records_to_backoffice"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("pools", "0001_initial"),
        ("transactions", "0004_review_and_reference_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ReviewItem",
                    fields=[],
                    options={
                        "verbose_name": "review item",
                        "verbose_name_plural": "rollbacks and review queue",
                        "proxy": True,
                        "indexes": [],
                        "constraints": [],
                    },
                    bases=("transactions.transaction",),
                ),
                migrations.CreateModel(
                    name="WithdrawalLock",
                    fields=[],
                    options={
                        "verbose_name": "withdrawal lock",
                        "verbose_name_plural": "withdrawal locks",
                        "proxy": True,
                        "indexes": [],
                        "constraints": [],
                    },
                    bases=("pools.pool",),
                ),
                migrations.CreateModel(
                    name="StaffAction",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("username", models.CharField(max_length=150)),
                        ("action", models.CharField(db_index=True, max_length=64)),
                        (
                            "target_type",
                            models.CharField(
                                help_text="app_label.model, e.g. pools.pool", max_length=100
                            ),
                        ),
                        ("target_id", models.CharField(max_length=64)),
                        ("target_repr", models.CharField(blank=True, max_length=200)),
                        ("reason", models.TextField()),
                        (
                            "outcome",
                            models.CharField(
                                choices=[("done", "Done"), ("refused", "Refused"), ("error", "Error")],
                                max_length=10,
                            ),
                        ),
                        (
                            "message",
                            models.TextField(blank=True, help_text="What the staff member was told."),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "core_staffaction",
                        "ordering": ["-created_at", "-id"],
                        "permissions": [
                            (
                                "act_operations",
                                "Can run operations actions (refresh, settle, retry, roll back, release, rotate)",
                            ),
                            ("export_finance", "Can export finance data (transactions, settlements)"),
                        ],
                        "indexes": [
                            models.Index(fields=["target_type", "target_id"], name="staffaction_target")
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("outcome__in", ["done", "refused", "error"])),
                                name="staffaction_outcome_valid",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("reason", ""), _negated=True),
                                name="staffaction_reason_required",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_content_types, unlabel_content_types),
        migrations.AlterModelTable(name="staffaction", table=None),
    ]
