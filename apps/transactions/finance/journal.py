"""The double-entry journal: which accounts each money movement posts to.

Every real-money movement (not play money) posts one balanced entry: the amounts of its lines
add up to zero, positive into an account (a debit), negative out of it (a credit). The
database refuses an entry that does not balance (PostgreSQL: the constraint trigger of
migration ``0011_journal_balanced``). The accounts, per operator and currency:

* ``follower:<id>``: the follower's wallet, as CopyStake moved it;
* ``pool:<id>``: a pool's money in transit between the wallets and the streamer's balance
  (zero once every flow of a quiet pool has finished);
* ``streamer:<id>``: the followers' money held in the streamer's balance (contributions in,
  payouts out; what is left when the pool closes is what the followers lost net, or, when
  negative, what the streamer's own money paid them);
* ``streamer_fees:<id>``: the performance fees the streamer kept;
* ``operator_receivable:<id>`` and ``platform_revenue``: CopyStake's invoices to operators.

=================  ===============================  ===============================
movement           into (+)                         out of (-)
=================  ===============================  ===============================
BET                pool                             follower
transfer DEPOSIT   streamer                         pool
transfer WITHDRAW  pool                             streamer
WIN                follower                         pool
rollback           follower                         pool
performance fee    streamer_fees                    streamer
invoice issued     operator_receivable              platform_revenue
credit note        platform_revenue                 operator_receivable
invoice voided     platform_revenue                 operator_receivable
=================  ===============================  ===============================

A BET is posted once its money is known to have moved: when it succeeded, or when it was
rolled back (an unanswered BET refunded: the refund proves it was taken). A movement of 0
(a WIN of a bust pool) moves nothing and posts nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.transactions.finance.models import Invoice, JournalAccount, JournalEntry, JournalLine
from apps.transactions.models import Transaction

Kind = Transaction.Kind
Status = Transaction.Status
AccountKind = JournalAccount.Kind

# Transaction kind -> (account kind debited, account kind credited).
POSTINGS: dict[str, tuple[str, str]] = {
    Kind.FOLLOWER_DEBIT: (AccountKind.POOL, AccountKind.FOLLOWER),
    Kind.STREAMER_DEPOSIT: (AccountKind.STREAMER, AccountKind.POOL),
    Kind.STREAMER_WITHDRAWAL: (AccountKind.POOL, AccountKind.STREAMER),
    Kind.FOLLOWER_CREDIT: (AccountKind.FOLLOWER, AccountKind.POOL),
    Kind.FOLLOWER_ROLLBACK: (AccountKind.FOLLOWER, AccountKind.POOL),
    Kind.PERFORMANCE_FEE: (AccountKind.STREAMER_FEES, AccountKind.STREAMER),
}
# The statuses in which a transaction's money moved (and its entry exists).
POSTED_STATUSES: dict[str, tuple[str, ...]] = {
    kind: (Status.SUCCEEDED, Status.ROLLED_BACK)
    if kind == Kind.FOLLOWER_DEBIT
    else (Status.SUCCEEDED,)
    for kind in POSTINGS
}

ACCOUNT_NAMES: dict[str, str] = {
    AccountKind.FOLLOWER: "Wallet of follower {label}",
    AccountKind.POOL: "Pool #{label}",
    AccountKind.STREAMER: "Balance of streamer {label}",
    AccountKind.STREAMER_FEES: "Performance fees of streamer {label}",
    AccountKind.OPERATOR_RECEIVABLE: "Fees receivable from {label}",
    AccountKind.PLATFORM_REVENUE: "CopyStake fee revenue ({label})",
}


def account_for(
    kind: str, *, operator_id: int, currency: str, owner_id: int | None, label: str
) -> JournalAccount:
    """The account of ``kind`` for ``owner_id`` (a follower, pool, streamer or operator; None
    for CopyStake's revenue) in ``currency``, created on first use."""
    key = f"{kind}:{owner_id if owner_id is not None else operator_id}:{currency}"
    account = JournalAccount.objects.filter(key=key).first()
    if account is not None:
        return account
    owners: dict[str, str] = {
        AccountKind.FOLLOWER: "follower_id",
        AccountKind.POOL: "pool_id",
        AccountKind.STREAMER: "streamer_id",
        AccountKind.STREAMER_FEES: "streamer_id",
    }
    owner = owners.get(kind)
    fields: dict[str, object] = {
        "kind": kind,
        "currency": currency,
        "operator_id": operator_id,
        "name": ACCOUNT_NAMES[kind].format(label=label)[:200],
    }
    if owner is not None:
        fields[owner] = owner_id
    try:
        with transaction.atomic():
            return JournalAccount.objects.create(key=key, **fields)
    except IntegrityError:  # created meanwhile by another process
        return JournalAccount.objects.get(key=key)


def _owner(tx: Transaction, kind: str) -> tuple[int | None, str]:
    if kind == AccountKind.FOLLOWER:
        return tx.follower_id, str(tx.follower_id)
    if kind == AccountKind.POOL:
        return tx.pool_id, str(tx.pool_id)
    return tx.streamer_id, str(tx.streamer_id)


def journal_post(tx: Transaction) -> JournalEntry | None:
    """Post ``tx``'s entry, once: None when it moved no real money (yet).

    Call it in the database transaction that records the movement, so that the entry exists
    exactly when the movement does; a second call finds the first entry.
    """
    if (
        tx.is_demo
        or tx.amount <= 0
        or tx.kind not in POSTINGS
        or tx.status not in POSTED_STATUSES[tx.kind]
    ):
        return None
    existing = JournalEntry.objects.filter(transaction_id=tx.pk).first()
    if existing is not None:
        return existing
    debit_kind, credit_kind = POSTINGS[tx.kind]
    accounts = []
    for kind in (debit_kind, credit_kind):
        owner_id, label = _owner(tx, kind)
        if owner_id is None:
            raise ValueError(f"transaction #{tx.pk} has no {kind} to post to")
        accounts.append(
            account_for(
                kind,
                operator_id=tx.operator_id,
                currency=tx.currency,
                owner_id=owner_id,
                label=label,
            )
        )
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                kind=tx.kind,
                operator_id=tx.operator_id,
                currency=tx.currency,
                amount=tx.amount,
                transaction=tx,
                description=f"{tx.get_kind_display()} {tx.external_id}"[:255],
                posted_at=tx.completed_at or timezone.now(),
            )
            _lines(entry, debit=accounts[0], credit=accounts[1], amount=tx.amount)
    except IntegrityError:  # posted meanwhile by another process
        return JournalEntry.objects.get(transaction_id=tx.pk)
    return entry


INVOICE_POSTINGS: dict[str, tuple[str, str]] = {
    JournalEntry.Kind.INVOICE: (AccountKind.OPERATOR_RECEIVABLE, AccountKind.PLATFORM_REVENUE),
    JournalEntry.Kind.CREDIT_NOTE: (AccountKind.PLATFORM_REVENUE, AccountKind.OPERATOR_RECEIVABLE),
    JournalEntry.Kind.INVOICE_VOID: (AccountKind.PLATFORM_REVENUE, AccountKind.OPERATOR_RECEIVABLE),
}


def journal_post_invoice(invoice: Invoice, *, kind: str) -> JournalEntry | None:
    """Post an invoice's issue, a credit note's issue or an issued invoice's voiding, once
    each (``kind`` a ``JournalEntry.Kind`` of ``INVOICE_POSTINGS``); None for a total of 0."""
    amount = abs(invoice.total)
    if amount == 0:
        return None
    existing = JournalEntry.objects.filter(invoice=invoice, kind=kind).first()
    if existing is not None:
        return existing
    debit_kind, credit_kind = INVOICE_POSTINGS[kind]
    label: dict[str, str] = {
        AccountKind.OPERATOR_RECEIVABLE: str(invoice.operator),
        AccountKind.PLATFORM_REVENUE: invoice.currency,
    }
    accounts = [
        account_for(
            account_kind,
            operator_id=invoice.operator_id,
            currency=invoice.currency,
            owner_id=invoice.operator_id
            if account_kind == AccountKind.OPERATOR_RECEIVABLE
            else None,
            label=label[account_kind],
        )
        for account_kind in (debit_kind, credit_kind)
    ]
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            kind=kind,
            operator_id=invoice.operator_id,
            currency=invoice.currency,
            amount=amount,
            invoice=invoice,
            description=f"{JournalEntry.Kind(kind).label} {invoice.number or invoice.pk}"[:255],
            posted_at=timezone.now(),
        )
        _lines(entry, debit=accounts[0], credit=accounts[1], amount=amount)
    return entry


def _lines(
    entry: JournalEntry, *, debit: JournalAccount, credit: JournalAccount, amount: Decimal
) -> None:
    JournalLine.objects.bulk_create(
        [
            JournalLine(entry=entry, account=debit, amount=amount),
            JournalLine(entry=entry, account=credit, amount=-amount),
        ]
    )
