"""The database itself refuses rows that break the money invariants."""

import pytest

from apps.core.tests.db import db_refuses
from apps.followers.models import Follower
from apps.operators.tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db


def test_database_refuses_one_user_twice_as_follower_of_one_operator():
    # given
    operator = OperatorFactory()
    Follower.objects.create(operator=operator, operator_user_id="u-1")
    # then
    assert db_refuses(lambda: Follower.objects.create(operator=operator, operator_user_id="u-1"))
