"""The database itself refuses rows that break the money invariants."""

from decimal import Decimal

import pytest

from apps.core.tests.db import db_refuses
from apps.operators.models import Operator
from apps.operators.tests.factories import OperatorFactory, make_operator

pytestmark = pytest.mark.django_db


def test_database_refuses_contribution_limits_out_of_order():
    # then
    assert db_refuses(lambda: OperatorFactory(min_contribution=Decimal("0")))
    assert db_refuses(
        lambda: OperatorFactory(min_contribution=Decimal("10"), max_contribution=Decimal("5"))
    )
    assert Operator.objects.count() == 0


def test_operator_factory_exposes_the_plain_api_key_and_stores_only_its_digest():
    # when
    operator, credentials = make_operator(api_key="plain-key-1234")
    # then
    assert credentials["api_key"] == "plain-key-1234"
    assert operator.api_key_hint == "1234"
    assert operator.masked_api_key == "••••••1234"
    assert "plain-key-1234" not in operator.api_key_digest
