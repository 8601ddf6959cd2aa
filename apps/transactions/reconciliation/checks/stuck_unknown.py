"""``stuck_unknown``: a transaction whose outcome has been unknown (sent, answer lost) for
more than ``STUCK_UNKNOWN_AFTER``. Its saga keeps asking; this makes the doubt visible."""

from __future__ import annotations

from datetime import datetime, timedelta

from apps.transactions.models import Discrepancy, Transaction
from apps.transactions.reconciliation.findings import Finding, tx_details

STUCK_UNKNOWN_AFTER = timedelta(minutes=15)


def check_stuck_unknown(*, operator_id: int, now: datetime) -> list[Finding]:
    rows = Transaction.objects.filter(
        operator_id=operator_id,
        is_demo=False,
        status=Transaction.Status.UNKNOWN,
        created_at__lt=now - STUCK_UNKNOWN_AFTER,
    ).values(
        "pk",
        "kind",
        "external_id",
        "amount",
        "currency",
        "attempts",
        "last_error_code",
        "last_attempt_at",
        "created_at",
        "saga_id",
        "pool_id",
    )
    return [
        Finding(
            kind=Discrepancy.Kind.STUCK_UNKNOWN,
            subject=f"tx:{row['pk']}",
            transaction_id=row["pk"],
            pool_id=row["pool_id"],
            expected=row["amount"],
            details=tx_details(row),
        )
        for row in rows
    ]
