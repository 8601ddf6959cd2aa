"""``balance_mismatch``: an operator's answer that contradicts itself: a wallet withdraw,
deposit or rollback whose ``newBalance`` is not ``oldBalance`` -/+ the amount; or a streamer
transfer, made while no stream of the streamer was live, whose answered balance is not the
balance it was priced on +/- the amount."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, Q

from apps.streamers.models import Stream
from apps.transactions.models import Discrepancy, Transaction
from apps.transactions.reconciliation.findings import Finding, tx_details

TxKind = Transaction.Kind
TxStatus = Transaction.Status

WALLET_SIGN = {
    TxKind.FOLLOWER_DEBIT: -1,
    TxKind.FOLLOWER_CREDIT: +1,
    TxKind.FOLLOWER_ROLLBACK: +1,
}


LiveInterval = tuple[datetime, datetime | None]


def _live_intervals(operator_id: int, since: datetime | None) -> dict[int, list[LiveInterval]]:
    """Per streamer, when its streams (of the window) were live: ``(started, ended or None)``."""
    streams = Stream.objects.filter(streamer__operator_id=operator_id, started_at__isnull=False)
    if since is not None:
        streams = streams.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=since))
    intervals: dict[int, list[LiveInterval]] = defaultdict(list)
    for streamer_id, started_at, ended_at in streams.values_list(
        "streamer_id", "started_at", "ended_at"
    ):
        if started_at is not None:  # always (filtered above); tells the type checker
            intervals[streamer_id].append((started_at, ended_at))
    return intervals


def check_answered_balances(
    *, operator_id: int, since: datetime | None
) -> tuple[list[Finding], int, int]:
    """Operator answers that contradict themselves (see ``balance_mismatch``)."""
    answered = Transaction.objects.filter(
        operator_id=operator_id,
        is_demo=False,
        status=TxStatus.SUCCEEDED,
        balance_after__isnull=False,
    )
    if since is not None:
        answered = answered.filter(completed_at__gte=since)
    findings: list[Finding] = []
    fields = (
        "pk",
        "kind",
        "external_id",
        "amount",
        "currency",
        "balance_before",
        "balance_after",
        "priced_balance",
        "created_at",
        "completed_at",
        "pool_id",
        "streamer_id",
    )
    # The database picks the candidates (``balance_after`` other than the balance the answer
    # implies, exact numeric arithmetic as Decimal's) and counts what was checked, so only
    # the answers that contradict themselves travel; the rule is applied again here.
    wallet = answered.filter(kind__in=list(WALLET_SIGN), balance_before__isnull=False)
    wallet_checked = wallet.count()
    debit = Q(kind=TxKind.FOLLOWER_DEBIT)
    contradicting = wallet.filter(
        (debit & ~Q(balance_after=F("balance_before") - F("amount")))
        | (~debit & ~Q(balance_after=F("balance_before") + F("amount")))
    )
    for row in contradicting.order_by("pk").values(*fields):
        expected = row["balance_before"] + WALLET_SIGN[row["kind"]] * row["amount"]
        if expected != row["balance_after"]:
            findings.append(_mismatch(row, expected, "wallet answer"))
    transfers = answered.filter(
        kind__in=[TxKind.STREAMER_DEPOSIT, TxKind.STREAMER_WITHDRAWAL],
        priced_balance__isnull=False,
    )
    intervals = _live_intervals(operator_id, since)

    def played(streamer_id: int, sent: datetime, answered_at: datetime | None) -> bool:
        """A stream of the streamer was live while the transfer was under way."""
        answered_at = answered_at or sent
        return any(
            start <= answered_at and (end is None or end >= sent)
            for start, end in intervals.get(streamer_id, ())
        )

    transfers_checked = sum(
        1
        for streamer_id, sent, answered_at in transfers.values_list(
            "streamer_id", "created_at", "completed_at"
        ).iterator(chunk_size=2000)
        if not played(streamer_id, sent, answered_at)
    )
    deposit = Q(kind=TxKind.STREAMER_DEPOSIT)
    contradicting = transfers.filter(
        (deposit & ~Q(balance_after=F("priced_balance") + F("amount")))
        | (~deposit & ~Q(balance_after=F("priced_balance") - F("amount")))
    )
    for row in contradicting.order_by("pk").values(*fields):
        if played(row["streamer_id"], row["created_at"], row["completed_at"]):
            continue  # the streamer was playing: the balance may have moved in between
        sign = 1 if row["kind"] == TxKind.STREAMER_DEPOSIT else -1
        expected = row["priced_balance"] + sign * row["amount"]
        if expected != row["balance_after"]:
            findings.append(_mismatch(row, expected, "transfer answer, no stream live"))
    return findings, wallet_checked, transfers_checked


def _mismatch(row: dict[str, Any], expected: Decimal, source: str) -> Finding:
    return Finding(
        kind=Discrepancy.Kind.BALANCE_MISMATCH,
        subject=f"tx:{row['pk']}",
        transaction_id=row["pk"],
        pool_id=row["pool_id"],
        expected=expected,
        actual=row["balance_after"],
        details={
            **tx_details(row),
            "source": source,
            "difference": row["balance_after"] - expected,
        },
    )
