"""The database itself refuses rows that break the money invariants."""

from decimal import Decimal

import pytest

from apps.core.tests.db import db_refuses
from apps.operators.tests.factories import OperatorFactory
from apps.transactions.models import Transaction

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", [Decimal("-0.00000001"), Decimal("-5")])
def test_database_refuses_a_negative_transaction_amount(amount):
    # given
    operator = OperatorFactory()

    def negative():
        Transaction.objects.create(
            operator=operator, kind="follower_credit", amount=amount, currency="USD"
        )

    # then
    assert db_refuses(negative)
    assert Transaction.objects.count() == 0


def test_database_refuses_a_zero_amount_except_for_a_win():
    # given
    operator = OperatorFactory()

    def zero_bet():
        Transaction.objects.create(
            operator=operator, kind="follower_debit", amount=Decimal("0"), currency="USD"
        )

    # when
    win = Transaction.objects.create(
        operator=operator, kind="follower_credit", amount=Decimal("0"), currency="USD"
    )
    # then
    assert db_refuses(zero_bet)
    assert list(Transaction.objects.all()) == [win]


def test_database_refuses_a_reused_external_id_for_one_operator_only():
    # given
    operator, other = OperatorFactory(), OperatorFactory()
    values = {"kind": "follower_debit", "amount": Decimal("1"), "currency": "USD"}
    Transaction.objects.create(operator=operator, external_id="tx-1", **values)
    # when
    Transaction.objects.create(operator=other, external_id="tx-1", **values)
    # then
    assert db_refuses(
        lambda: Transaction.objects.create(operator=operator, external_id="tx-1", **values)
    )
