"""``journal_mismatch``: the double-entry journal does not agree with the transaction log
(``apps.transactions.finance.ledger.journal_agreement``).

One finding per operator, currency and transaction kind whose moved transactions and journal
entries differ (subject ``journal:<currency>:<kind>``; expected the log's sum, actual the
journal's, the counts and a few transaction ids in the details); one per entry that does not
balance (``journal:entry:<id>``) and one per closed pool whose pool account is not 0 once its
sagas finished (``pool:<id>:journal``). Each resolves itself once the journal agrees again
(``manage.py journal_post_missing`` posts the entries that are missing).
"""

from __future__ import annotations

from decimal import Decimal

from apps.operators.models import Operator
from apps.transactions.finance.ledger import journal_agreement
from apps.transactions.models import Discrepancy
from apps.transactions.reconciliation.findings import Finding

IDS_KEPT = 10


def check_journal(*, operator: Operator) -> tuple[list[Finding], int]:
    """The operator's disagreements between journal and log, and how many moved
    transactions were compared."""
    agreement = journal_agreement(operator)
    findings = [
        Finding(
            kind=Discrepancy.Kind.JOURNAL_MISMATCH,
            subject=f"journal:{row.currency}:{row.kind}",
            expected=row.log_total,
            actual=row.journal_total,
            details={
                "currency": row.currency,
                "transaction_kind": row.kind,
                "log_count": row.log_count,
                "journal_count": row.journal_count,
                "problems": row.problems,
                "transaction_ids": row.transaction_ids[:IDS_KEPT],
            },
        )
        for row in agreement.disagreeing
    ]
    findings += [
        Finding(
            kind=Discrepancy.Kind.JOURNAL_MISMATCH,
            subject=f"journal:entry:{entry.entry_id}",
            expected=Decimal(0),
            actual=entry.total,
            details={
                "entry_id": entry.entry_id,
                "currency": entry.currency,
                "lines": entry.lines,
                "other_currency_lines": entry.other_currency_lines,
            },
        )
        for entry in agreement.unbalanced
    ]
    findings += [
        Finding(
            kind=Discrepancy.Kind.JOURNAL_MISMATCH,
            subject=f"pool:{pool.pool_id}:journal",
            pool_id=pool.pool_id,
            expected=Decimal(0),
            actual=pool.balance,
            details={"account_id": pool.account_id, "currency": pool.currency},
        )
        for pool in agreement.pools_not_zero
    ]
    return findings, sum(row.log_count for row in agreement.kinds)
