"""``win_overdue``: a WIN (follower credit) still unpaid ``COPYPOOL_WIN_REVIEW_AFTER`` (24 h)
after it was created. Its saga keeps retrying (and has flagged itself for review)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from apps.transactions.models import Discrepancy, Transaction
from apps.transactions.reconciliation.findings import Finding, tx_details


def check_win_overdue(*, operator_id: int, now: datetime) -> list[Finding]:
    rows = Transaction.objects.filter(
        operator_id=operator_id,
        is_demo=False,
        kind=Transaction.Kind.FOLLOWER_CREDIT,
        status__in=[
            Transaction.Status.PENDING,
            Transaction.Status.UNKNOWN,
            Transaction.Status.FAILED,
        ],
        created_at__lt=now - settings.COPYPOOL_WIN_REVIEW_AFTER,
    ).values(
        "pk",
        "external_id",
        "amount",
        "currency",
        "status",
        "attempts",
        "last_error_code",
        "created_at",
        "saga_id",
        "pool_id",
        "follower_id",
    )
    return [
        Finding(
            kind=Discrepancy.Kind.WIN_OVERDUE,
            subject=f"tx:{row['pk']}",
            transaction_id=row["pk"],
            pool_id=row["pool_id"],
            expected=row["amount"],
            details=tx_details(row),
        )
        for row in rows
    ]
