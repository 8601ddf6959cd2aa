"""The back office's own records: who did what to the money, and why.

``StaffAction`` is the audit row every confirmed admin action writes (success, refusal or
error alike). Its ``Meta.permissions`` are the two capabilities the staff groups are built
from: acting on money (operations) and exporting the books (finance).

``ReviewItem`` and ``WithdrawalLock`` are proxies of other apps' models: two admin pages (the
review queue, the withdrawal locks) with their own columns, filters and permissions, and no
table or column of their own.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.backoffice.action_labels import staff_action_label
from apps.pools.models import Pool
from apps.transactions.models import Transaction


class StaffAction(models.Model):
    """One staff action taken through the admin: who, on what, why, and what came of it."""

    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        REFUSED = "refused", "Refused"
        ERROR = "error", "Error"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept when the user is deleted: the audit trail outlives accounts.
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=100, help_text="app_label.model, e.g. pools.pool")
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=200, blank=True)
    reason = models.TextField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    message = models.TextField(blank=True, help_text="What the staff member was told.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="staffaction_target")]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["done", "refused", "error"]),
                name="staffaction_outcome_valid",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="staffaction_reason_required"),
        ]
        permissions = [
            (
                "act_operations",
                "Can run operations actions (refresh, settle, retry, roll back, release, rotate)",
            ),
            ("export_finance", "Can export finance data (transactions, settlements)"),
            ("act_finance", "Can issue, void and credit invoices"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.target_type}:{self.target_id} ({self.outcome})"

    @property
    def action_label(self) -> str:
        """What the action is called on the pages ("Refresh balance"), not its code."""
        return staff_action_label(self.action)


class ReviewItem(Transaction):
    """A transaction in the review queue: unknown, failed after retries, or flagged."""

    class Meta:
        proxy = True
        verbose_name = "review item"
        verbose_name_plural = "rollbacks and review queue"


class WithdrawalLock(Pool):
    """A streamer whose balance the operator keeps locked for an open pool."""

    class Meta:
        proxy = True
        verbose_name = "withdrawal lock"
        verbose_name_plural = "withdrawal locks"
