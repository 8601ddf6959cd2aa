from io import StringIO

import pytest
from django.core.management import call_command

from apps.followers.models import Position
from apps.transactions.models import Saga
from apps.transactions.services import position_join

pytestmark = pytest.mark.django_db(transaction=True)


def test_resume_operations_finishes_a_saga_left_waiting(fake, streamer, make_session):
    # given: a join whose transfer timed out, left for later
    fake.fail("transfer", "timeout_before", "timeout_before", "timeout_before", "timeout_before")
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="10")
    assert position.status == "joining"
    fake.faults["transfer"].clear()
    Saga.objects.update(next_run_at=None)
    out = StringIO()
    # when
    call_command("resume_operations", stdout=out)
    # then
    assert Position.objects.get(pk=position.pk).status == "active"
    assert "resumed 1 saga(s); 0 still running" in out.getvalue()
