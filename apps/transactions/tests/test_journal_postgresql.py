"""PostgreSQL refuses a journal entry that does not balance (the deferred constraint triggers
of migration ``0011_journal_balanced``, checked at commit), and two concurrent posts of one
movement make one entry."""

import os
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from apps.pools.models import Pool
from apps.transactions.finance.journal import account_for, journal_post
from apps.transactions.finance.models import JournalAccount, JournalEntry, JournalLine
from apps.transactions.models import Transaction

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _require_postgresql(db):
    if connection.vendor != "postgresql" and not os.environ.get("COPYPOOL_REQUIRE_SERVICES"):
        pytest.skip("the journal's triggers are PostgreSQL's (set DATABASE_URL)")
    assert connection.vendor == "postgresql"


@pytest.fixture
def accounts(operator, streamer, make_session):
    follower = make_session("f1").follower

    def account(kind, currency="USD", owner=None):
        return account_for(
            kind,
            operator_id=operator.pk,
            currency=currency,
            owner_id=owner,
            label=str(owner),
        )

    return {
        "follower": account(JournalAccount.Kind.FOLLOWER, owner=follower.pk),
        "streamer": account(JournalAccount.Kind.STREAMER, owner=streamer.pk),
        "streamer_eur": account(JournalAccount.Kind.STREAMER, "EUR", owner=streamer.pk),
    }


def post(operator, lines: list[tuple[JournalAccount, Decimal]]) -> None:
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            kind=JournalEntry.Kind.FOLLOWER_DEBIT,
            operator=operator,
            currency="USD",
            amount=D(10),
            description="by hand",
            posted_at="2026-12-01T12:00:00Z",
        )
        JournalLine.objects.bulk_create(
            [JournalLine(entry=entry, account=account, amount=amount) for account, amount in lines]
        )


def test_a_balanced_entry_is_accepted(operator, accounts):
    post(operator, [(accounts["streamer"], D(10)), (accounts["follower"], -D(10))])
    assert JournalEntry.objects.count() == 1
    assert JournalLine.objects.count() == 2


def test_an_entry_that_does_not_add_up_to_zero_is_refused_at_commit(operator, accounts):
    with pytest.raises(IntegrityError, match="does not balance"):
        post(operator, [(accounts["streamer"], D(10)), (accounts["follower"], -D("9.99999999"))])
    assert not JournalEntry.objects.exists() and not JournalLine.objects.exists()


def test_a_one_line_entry_is_refused_at_commit(operator, accounts):
    # (a single line is never 0, journal_line_not_zero: it cannot balance either)
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        entry = JournalEntry.objects.create(
            kind=JournalEntry.Kind.FOLLOWER_DEBIT,
            operator=operator,
            currency="USD",
            amount=D(10),
            description="one line",
            posted_at="2026-12-01T12:00:00Z",
        )
        JournalLine.objects.create(entry=entry, account=accounts["streamer"], amount=D(10))
    assert not JournalEntry.objects.exists()
    # an entry with no line at all is refused too
    with pytest.raises(IntegrityError, match="at least two"):
        post(operator, [])


def test_an_entry_across_currencies_is_refused_at_commit(operator, accounts):
    with pytest.raises(IntegrityError, match="another currency"):
        post(operator, [(accounts["streamer_eur"], D(10)), (accounts["follower"], -D(10))])
    assert not JournalEntry.objects.exists()


def test_removing_one_line_of_a_posted_entry_is_refused(operator, accounts):
    post(operator, [(accounts["streamer"], D(10)), (accounts["follower"], -D(10))])
    with pytest.raises(IntegrityError, match="does not balance|at least two"), transaction.atomic():
        JournalLine.objects.filter(amount__lt=0).delete()
    assert JournalLine.objects.count() == 2


def test_two_concurrent_posts_of_one_movement_make_one_entry(operator, streamer, make_session):
    # given: a BET that succeeded, not yet posted
    follower = make_session("f1").follower
    pool = Pool.objects.create(operator=operator, streamer=streamer, currency="USD")
    tx = Transaction.objects.create(
        operator=operator,
        kind="follower_debit",
        status="succeeded",
        amount=D(25),
        currency="USD",
        follower=follower,
        pool=pool,
        streamer=streamer,
    )
    barrier = threading.Barrier(4)
    entries: list[int] = []
    errors: list[BaseException] = []

    def post_it():
        try:
            barrier.wait()
            with transaction.atomic():
                entry = journal_post(Transaction.objects.get(pk=tx.pk))
            entries.append(entry.pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    assert len(set(entries)) == 1
    assert JournalEntry.objects.filter(transaction=tx).count() == 1
    assert JournalLine.objects.filter(entry__transaction=tx).count() == 2
