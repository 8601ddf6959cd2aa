"""Rolled-back joins in the review queue: their own filter, and why each was rolled back."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.backoffice import review
from apps.backoffice.tests.admin_world import superuser
from apps.transactions.models import Transaction
from apps.transactions.services import position_join

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)
QUEUE = reverse("admin:backoffice_reviewitem_changelist")


@pytest.fixture
def root(client):
    client.force_login(superuser())
    return client


def test_rolled_back_joins_have_their_own_filter(root, fake, streamer, make_session):
    # given: one join whose BET answer was lost (rolled back automatically), one that worked
    fake.fail("withdraw", "timeout_after")
    failed = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    joined = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="50")
    debit = Transaction.objects.get(position=failed, kind="follower_debit")
    assert debit.status == "rolled_back"
    kept = Transaction.objects.get(position=joined, kind="follower_debit")

    # then: not work to do (not in the open queue), but found under "Rolled-back joins"
    open_queue = root.get(QUEUE)
    assert debit.external_id[:8].encode() not in open_queue.content
    assert b"Rolled-back joins" in open_queue.content
    page = root.get(QUEUE, {"resolution": review.ROLLED_BACK})
    assert page.status_code == 200
    shown = {tx.pk for tx in page.context["cl"].result_list}
    assert shown == {debit.pk}
    assert kept.pk not in shown
    assert b"rolled back automatically after ERR_" in page.content


def test_a_rollback_by_staff_says_so(root, fake, streamer, make_session):
    fake.fail("game-pool", *["http_500"] * 10)
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    bet = Transaction.objects.get(kind="follower_debit")
    fake.faults["game-pool"].clear()
    url = reverse("admin:backoffice_reviewitem_act", args=[bet.pk, "transaction_roll_back"])
    root.post(url, {"confirm": "yes", "reason": "Operator cannot open pools today"})
    bet.refresh_from_db()
    assert bet.status == "rolled_back"

    page = root.get(QUEUE, {"resolution": review.ROLLED_BACK})
    assert [tx.pk for tx in page.context["cl"].result_list] == [bet.pk]
    assert b"rolled back by staff" in page.content
