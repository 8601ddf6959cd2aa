"""Balance findings from a reading of an open operator pool, when the streamer has not played
since the balance our ledger last confirmed (``Pool.balance`` at ``balance_at``, set from
every transfer answer and every recorded reading).

``pool_overvalued``
    The operator's balance ``B`` of an open pool is below the value owed to the followers:
    their units ``F = total_units - streamer_units`` valued at the confirmed balance:
    ``B < F * balance / total_units`` (rounded down to 8 places). Only raised when no stream
    of the streamer has been live since ``balance_at``: while the streamer plays, the balance
    falling is the streamer losing, which unit accounting passes on to the followers pro rata
    (the followers' units being worth less than they were priced at is not a finding). With
    no play, money left the account outside our flows (a cash-out through the withdrawal
    lock, an operator-side adjustment, a transfer applied that we think failed) and the
    followers would be paid less than they are owed.
``balance_moved_offline``
    No stream of the streamer has been live since ``balance_at`` and the operator's balance
    differs from ``Pool.balance`` (either way, any amount). ``pool_overvalued`` is its
    serious subset. Each movement is kept in ``details["movements"]``; the new balance
    becomes the last known one (so it is reported once, not on every reading).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Max
from django.utils import timezone

from apps.pools.accounting import value_of_units
from apps.pools.snapshots import PoolView
from apps.streamers.models import Stream
from apps.transactions.models import Discrepancy
from apps.transactions.reconciliation.findings import Finding

Kind = Discrepancy.Kind


class StreamHistory:
    """When each of an operator's streamers was last live, to tell play from no play."""

    def __init__(self, *, operator_id: int) -> None:
        streams = Stream.objects.filter(streamer__operator_id=operator_id)
        self.live_now = set(
            streams.filter(status=Stream.Status.LIVE).values_list("streamer_id", flat=True)
        )
        self.last_end = dict(
            streams.filter(started_at__isnull=False, ended_at__isnull=False)
            .values("streamer_id")
            .annotate(last=Max("ended_at"))
            .values_list("streamer_id", "last")
        )

    def offline_since(self, streamer_id: int, since: datetime | None) -> bool:
        """True when no stream of the streamer was live at any moment since ``since``."""
        if since is None or streamer_id in self.live_now:
            return False
        last = self.last_end.get(streamer_id)
        return last is None or last < since


def balance_findings(view: PoolView, balance: Decimal, history: StreamHistory) -> list[Finding]:
    """What a recorded reading of an operator pool shows (see the module doc)."""
    if not history.offline_since(view.streamer_id, view.balance_at):
        return []
    findings: list[Finding] = []
    subject = f"pool:{view.id}"
    base: dict[str, Any] = {
        "currency": view.currency,
        "since": view.balance_at,
        "observed_at": timezone.now(),
        "last_stream_ended_at": history.last_end.get(view.streamer_id),
    }
    if balance != view.balance:
        findings.append(
            Finding(
                kind=Kind.BALANCE_MOVED_OFFLINE,
                subject=subject,
                pool_id=view.id,
                expected=view.balance,
                actual=balance,
                details={
                    **base,
                    "from": view.balance,
                    "to": balance,
                    "delta": balance - view.balance,
                },
            )
        )
    if view.follower_units > 0 and view.total_units > 0:
        owed = value_of_units(
            units=view.follower_units, balance=view.balance, total_units=view.total_units
        )
        if balance < owed:
            findings.append(
                Finding(
                    kind=Kind.POOL_OVERVALUED,
                    subject=subject,
                    pool_id=view.id,
                    expected=owed,
                    actual=balance,
                    details={
                        **base,
                        "follower_units": view.follower_units,
                        "total_units": view.total_units,
                        "confirmed_balance": view.balance,
                        "shortfall": owed - balance,
                    },
                )
            )
    return findings
