"""What reconciliation repairs by itself, through services and the saga engine (never the
operator clients directly): the withdrawal lock (OPEN/CLOSE re-sent), empty open pools
(closed), bust pools (paid out), findings no longer observed (auto-resolved), and journal entries
missing for movements (``journal_post_missing``, run by hand)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.followers.models import Position
from apps.pools import services as pools
from apps.pools.models import Pool
from apps.transactions import sagas
from apps.transactions.finance.journal import journal_post
from apps.transactions.finance.ledger import moved_q
from apps.transactions.locks import CLOSE_DRIVE_SECONDS, pool_game_pool_resend
from apps.transactions.models import Discrepancy, ReconciliationRun, Transaction
from apps.transactions.reconciliation.findings import (
    AUTO_RESOLVED_KINDS,
    FindingSink,
    run_operator_id,
)
from apps.transactions.tasks import sagas_drive

logger = logging.getLogger(__name__)


def pool_lock_resend(*, pool: Pool) -> str:
    """Re-send the OPEN or CLOSE the pool's lock is stuck on; returns what was done."""
    return pool_game_pool_resend(pool=pool, repair=True)


def pool_empty_close(*, pool_id: int) -> str:
    """Close an open pool with no members as the sagas do; returns the pool's state after."""
    close = sagas.close_begin(pool_id=pool_id)
    if close is not None:
        sagas.saga_advance(close.pk, budget=CLOSE_DRIVE_SECONDS, follow=False)
    return Pool.objects.values_list("state", flat=True).get(pk=pool_id)


def pool_bust_start(*, pool_id: int) -> bool:
    """Mark a pool read at zero bust and start paying its followers out (a WIN of 0 each).

    False when it was bust already (its pay-out is under way).
    """
    if not pools.pool_mark_bust(pool_id=pool_id):
        return False
    logger.warning("Pool %s is bust (zero balance read)", pool_id)
    sagas_drive(
        sagas.pool_pay_out_all(Pool.objects.get(pk=pool_id), reason=Position.LeaveReason.BUST)
    )
    return True


def findings_auto_resolve(*, run: ReconciliationRun, sink: FindingSink) -> int:
    """Resolve the operator's open self-repairing findings that this run no longer saw."""
    operator_id = run_operator_id(run)
    stale = [
        pk
        for pk, kind, subject in Discrepancy.objects.filter(
            operator_id=operator_id,
            state=Discrepancy.State.OPEN,
            kind__in=list(AUTO_RESOLVED_KINDS),
        ).values_list("pk", "kind", "subject")
        if (kind, subject) not in sink.subjects
    ]
    if not stale:
        return 0
    return Discrepancy.objects.filter(pk__in=stale, state=Discrepancy.State.OPEN).update(
        state=Discrepancy.State.RESOLVED,
        resolved_at=timezone.now(),
        resolution_note=f"Auto-resolved: no longer observed by reconciliation run #{run.pk}.",
    )


@dataclass
class JournalPostReport:
    missing: int  # moved transactions that had no journal entry
    posted: int  # entries posted now (0 on a dry run)
    by_kind: dict[str, int]


def journal_post_missing(*, dry_run: bool = False, chunk: int = 500) -> JournalPostReport:
    """Post the journal entries missing for transactions whose money moved (a database from
    before the journal, or an entry lost): each through ``journal_post``, in its own database
    transaction, by chunks of ids; idempotent (a second run finds nothing missing)."""
    missing = Transaction.objects.filter(moved_q(), journal_entry__isnull=True)
    by_kind = {
        row["kind"]: row["count"]
        for row in missing.order_by().values("kind").annotate(count=Count("pk"))
    }
    total = sum(by_kind.values())
    posted = 0
    if dry_run or not total:
        return JournalPostReport(missing=total, posted=0, by_kind=by_kind)
    last = 0
    while True:
        ids = list(missing.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            break
        for tx in Transaction.objects.filter(pk__in=ids).order_by("pk"):
            with transaction.atomic():
                locked = Transaction.objects.select_for_update().get(pk=tx.pk)
                if journal_post(locked) is not None:
                    posted += 1
        last = ids[-1]
    return JournalPostReport(missing=total, posted=posted, by_kind=by_kind)
