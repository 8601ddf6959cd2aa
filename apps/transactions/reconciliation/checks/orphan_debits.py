"""``orphan_debit``: a BET (follower debit) that succeeded in a join saga that has finished
(done or failed) with no succeeded DEPOSIT and no rollback: the follower paid and the money
is nowhere."""

from __future__ import annotations

from datetime import datetime

from apps.transactions.models import Discrepancy, Saga, Transaction
from apps.transactions.reconciliation.findings import Finding, tx_details

TxKind = Transaction.Kind
TxStatus = Transaction.Status

QUERY_CHUNK = 500


def check_orphan_debits(*, operator_id: int, since: datetime | None) -> tuple[list[Finding], int]:
    """Succeeded BETs of finished join sagas with neither a succeeded DEPOSIT nor a rollback.

    Three plain queries and a set difference rather than one anti-join: the result does not
    hinge on the planner's row estimates (a correlated NOT EXISTS on freshly loaded tables
    was measured at 8 s for 10,000 debits).
    """
    debits = Transaction.objects.filter(
        operator_id=operator_id,
        is_demo=False,
        kind=TxKind.FOLLOWER_DEBIT,
        saga__status__in=[Saga.Status.DONE, Saga.Status.FAILED],
    )
    if since is not None:
        debits = debits.filter(saga__finished_at__gte=since)
    candidates = {
        row["pk"]: row
        for row in debits.filter(status=TxStatus.SUCCEEDED).values(
            "pk",
            "external_id",
            "amount",
            "currency",
            "saga_id",
            "saga__status",
            "pool_id",
            "follower_id",
            "completed_at",
        )
    }
    deposited: set[int] = set()
    rolled_back: set[int] = set()
    ids = sorted(candidates)
    for start in range(0, len(ids), QUERY_CHUNK):
        chunk = ids[start : start + QUERY_CHUNK]
        sagas_of_chunk = {candidates[pk]["saga_id"] for pk in chunk}
        deposited |= set(
            Transaction.objects.filter(
                saga_id__in=sagas_of_chunk,
                kind=TxKind.STREAMER_DEPOSIT,
                status=TxStatus.SUCCEEDED,
            ).values_list("saga_id", flat=True)
        )
        rolled_back |= set(
            Transaction.objects.filter(
                rolls_back_id__in=chunk,
                kind=TxKind.FOLLOWER_ROLLBACK,
                status=TxStatus.SUCCEEDED,
            ).values_list("rolls_back_id", flat=True)
        )
    findings = [
        Finding(
            kind=Discrepancy.Kind.ORPHAN_DEBIT,
            subject=f"tx:{pk}",
            transaction_id=pk,
            pool_id=row["pool_id"],
            expected=row["amount"],
            details=tx_details(row),
        )
        for pk, row in sorted(candidates.items())
        if row["saga_id"] not in deposited and pk not in rolled_back
    ]
    return findings, debits.count()
