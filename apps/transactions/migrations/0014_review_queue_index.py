"""The review queue's partial index (apps.backoffice.review.IN_QUEUE)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0013_statistics_schedules"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(
                    ("status", "unknown"),
                    models.Q(("attempts__gte", 2), ("status", "failed")),
                    ("needs_review", True),
                    _connector="OR",
                ),
                fields=[
                    "id",
                    "status",
                    "attempts",
                    "needs_review",
                    "reviewed_at",
                    "is_demo",
                    "kind",
                    "operator",
                    "currency",
                    "amount",
                ],
                name="tx_review_queue",
            ),
        ),
    ]
