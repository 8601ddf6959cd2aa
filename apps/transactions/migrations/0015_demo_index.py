"""A partial index on play money's transactions, newest first (the admin's demo filter)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0014_review_queue_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(("is_demo", True)),
                fields=["-created_at", "-id"],
                name="tx_demo_recent",
            ),
        ),
    ]
