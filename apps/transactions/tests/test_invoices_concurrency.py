"""Invoice numbers under concurrency (PostgreSQL): many issuers at once, no gaps, no
repeats; and the series row's lock is what serialises them. The journal's trigger accepts
every entry they post."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from apps.operators.tests.factories import OperatorFactory
from apps.transactions.finance.invoices import invoice_issue, number_next
from apps.transactions.models import Invoice, InvoiceSequence, JournalEntry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql" and not os.environ.get("COPYPOOL_REQUIRE_SERVICES"):
        pytest.skip("row-level locks need PostgreSQL (set DATABASE_URL)")


def test_concurrent_issuers_get_consecutive_numbers(operator):
    # given: twelve drafts of twelve operators for one month
    drafts = [
        Invoice.objects.create(
            operator=operator if i == 0 else OperatorFactory(name=f"O{i}", code=f"o{i}"),
            currency="USD",
            period_start=date(2026, 10, 1),
            period_end=date(2026, 10, 31),
            subtotal=Decimal(i + 1),
            total=Decimal(i + 1),
        )
        for i in range(12)
    ]
    barrier = threading.Barrier(len(drafts))

    def issue(draft):
        try:
            barrier.wait()
            return invoice_issue(invoice=draft, user=None).number
        finally:
            connections.close_all()

    # when: all at once
    with ThreadPoolExecutor(max_workers=len(drafts)) as pool:
        numbers = list(pool.map(issue, drafts))
    # then: 1 to 12, each once, and every issue posted
    assert sorted(numbers) == [f"INV-2026-{n:06d}" for n in range(1, 13)]
    assert InvoiceSequence.objects.get(series="INV-2026").last_number == 12
    assert JournalEntry.objects.filter(kind="invoice").count() == 12


def test_a_second_issuer_waits_for_the_first_and_a_rollback_gives_the_number_back(db):
    number_next("INV-2030")  # the series row exists: 1 given
    holding, proceed = threading.Event(), threading.Event()
    results = []

    def first():
        try:
            with transaction.atomic():
                results.append(("first", number_next("INV-2030")))
                holding.set()
                proceed.wait(5)
                raise RuntimeError("the issue fails after numbering")
        except RuntimeError:
            pass
        finally:
            connections.close_all()

    def second():
        try:
            holding.wait(5)
            results.append(("second", number_next("INV-2030")))
        finally:
            connections.close_all()

    a = threading.Thread(target=first)
    b = threading.Thread(target=second)
    a.start()
    b.start()
    holding.wait(5)
    b.join(0.5)
    # then: the second is blocked on the series row while the first holds it
    assert b.is_alive()
    proceed.set()
    a.join(5)
    b.join(5)
    # the first rolled back: its number 2 went to the second
    assert results == [("first", "INV-2030-000002"), ("second", "INV-2030-000002")]
