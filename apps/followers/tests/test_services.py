"""Blocking and unblocking a follower: a reason each time, idempotent. (What a join answers a
blocked follower: apps/backoffice/tests/test_follower_services.py.)"""

import pytest
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.followers.models import Follower
from apps.followers.services import follower_block, follower_unblock

pytestmark = pytest.mark.django_db


def test_block_records_why_and_when(make_session):
    session = make_session("f1")
    before = timezone.now()
    # when
    blocked = follower_block(follower=session.follower, reason="  Chargeback fraud  ")
    # then
    stored = Follower.objects.get(pk=session.follower.pk)
    assert (stored.is_blocked, stored.blocked_reason) == (True, "Chargeback fraud")
    assert stored.blocked_at is not None and stored.blocked_at >= before
    assert blocked.blocked_at == stored.blocked_at


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_block_and_unblock_need_a_reason(make_session, reason):
    follower = make_session("f1").follower
    with pytest.raises(ApplicationError) as error:
        follower_block(follower=follower, reason=reason)
    assert (error.value.code, error.value.status) == ("ERR_REASON_REQUIRED", 400)
    assert not Follower.objects.get(pk=follower.pk).is_blocked
    follower_block(follower=follower, reason="fraud")
    with pytest.raises(ApplicationError) as error:
        follower_unblock(follower=follower, reason=reason)
    assert error.value.code == "ERR_REASON_REQUIRED"
    assert Follower.objects.get(pk=follower.pk).is_blocked


def test_blocking_twice_keeps_the_first_reason_and_time(make_session):
    follower = make_session("f1").follower
    first = follower_block(follower=follower, reason="first")
    # when
    again = follower_block(follower=follower, reason="second")
    # then
    stored = Follower.objects.get(pk=follower.pk)
    assert (stored.blocked_reason, stored.blocked_at) == ("first", first.blocked_at)
    assert again.blocked_reason == "first"


def test_a_long_reason_is_cut_to_the_column(make_session):
    follower = follower_block(follower=make_session("f1").follower, reason="x" * 500)
    assert follower.blocked_reason == "x" * 300


def test_unblock_clears_the_block(make_session):
    follower = make_session("f1").follower
    follower_block(follower=follower, reason="fraud")
    # when
    follower_unblock(follower=follower, reason="Cleared by the operator, ticket 42")
    # then
    stored = Follower.objects.get(pk=follower.pk)
    assert (stored.is_blocked, stored.blocked_reason, stored.blocked_at) == (False, "", None)
    # and unblocking again changes nothing
    assert follower_unblock(follower=stored, reason="again").is_blocked is False
