"""``balance_mismatch``: an operator's answer that contradicts itself: a wallet withdraw,
deposit or rollback whose ``newBalance`` is not ``oldBalance`` -/+ the amount; or a streamer
transfer, made while no stream of the streamer was live, whose answered balance is not the
balance it was priced on +/- the amount."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q

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
    wallet = answered.filter(kind__in=list(WALLET_SIGN), balance_before__isnull=False)
    wallet_checked = 0
    for row in wallet.values(*fields).iterator(chunk_size=2000):
        wallet_checked += 1
        expected = row["balance_before"] + WALLET_SIGN[row["kind"]] * row["amount"]
        if expected != row["balance_after"]:
            findings.append(_mismatch(row, expected, "wallet answer"))
    transfers = answered.filter(
        kind__in=[TxKind.STREAMER_DEPOSIT, TxKind.STREAMER_WITHDRAWAL],
        priced_balance__isnull=False,
    )
    intervals = _live_intervals(operator_id, since)
    transfers_checked = 0
    for row in transfers.values(*fields).iterator(chunk_size=2000):
        sent, answered_at = row["created_at"], row["completed_at"] or row["created_at"]
        if any(
            start <= answered_at and (end is None or end >= sent)
            for start, end in intervals.get(row["streamer_id"], ())
        ):
            continue  # the streamer was playing: the balance may have moved in between
        transfers_checked += 1
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
