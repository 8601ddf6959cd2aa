"""A join keeps the streamer's limits (contribution, distinct followers, capacity) and is refused
by a suspended or private streamer or for a blocked player: each before any money moves,
persisting nothing."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.followers.models import Follower, Position
from apps.pools.models import Pool
from apps.streamers.models import StreamerAccess
from apps.transactions.models import Saga, Transaction
from apps.transactions.services import position_join, position_leave
from apps.transactions.tests.test_player_api import client_for

D = Decimal
pytestmark = pytest.mark.django_db


def join(make_session, streamer, user: str, amount: str = "100", **kwargs) -> Position:
    return position_join(
        session=make_session(user, **kwargs), streamer_id=streamer.pk, amount=amount
    )


def refused(make_session, streamer, user: str, amount: str = "100", **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as error:
        join(make_session, streamer, user, amount, **kwargs)
    return error.value


def nothing_persisted(fake, *, calls_before: int, positions: int, pools: int) -> None:
    assert len(fake.calls) == calls_before
    assert Position.objects.count() == positions
    assert Pool.objects.count() == pools


# --- contribution ---------------------------------------------------------------------


def test_the_streamers_minimum_is_named_in_the_refusal(fake, streamer, make_session):
    # given: the streamer's own minimum, above the operator's (1)
    streamer.min_contribution = D("5")
    streamer.save()
    # when
    error = refused(make_session, streamer, "f1", "4.99999999")
    # then
    assert (error.code, error.status) == ("ERR_CONTRIBUTION_LIMIT", 400)
    assert error.message == "The minimum contribution to this pool is 5.00 USD"
    nothing_persisted(fake, calls_before=0, positions=0, pools=0)
    # and the minimum itself is accepted
    assert join(make_session, streamer, "f1", "5").status == "active"


def test_the_streamers_maximum_and_the_operators_fallback(fake, streamer, make_session):
    streamer.max_contribution = D("250.5")
    streamer.save()
    error = refused(make_session, streamer, "f1", "250.50000001")
    assert error.message == "The maximum contribution to this pool is 250.50 USD"
    assert join(make_session, streamer, "f1", "250.5").status == "active"
    # when: the streamer's limit is cleared, the operator's (1 to 1000) applies again
    streamer.max_contribution = None
    streamer.save()
    fake.wallet["f2"] = D(2000)
    assert join(make_session, streamer, "f2", "1000").status == "active"
    error = refused(make_session, streamer, "f3", "1000.00000001")
    assert error.message == "The maximum contribution to this pool is 1000.00 USD"
    assert refused(make_session, streamer, "f3", "0.99").message == (
        "The minimum contribution to this pool is 1.00 USD"
    )


def test_a_demo_pool_names_play_money(fake, streamer, make_session):
    streamer.min_contribution = D("2.5")
    streamer.save()
    error = refused(make_session, streamer, "d1", "1", demo=True)
    assert error.message == "The minimum contribution to this pool is 2.50 DEMO"


# --- distinct followers ----------------------------------------------------------------


def test_the_follower_limit_counts_distinct_followers(fake, streamer, make_session):
    # given: a pool of at most two followers, with two
    streamer.max_followers = 2
    streamer.save()
    join(make_session, streamer, "f1")
    join(make_session, streamer, "f2")
    calls = len(fake.calls)
    # when: a third follower asks
    error = refused(make_session, streamer, "f3")
    # then
    assert (error.code, error.status) == ("ERR_FOLLOWER_LIMIT", 409)
    assert error.message == "The pool is full: it has its maximum of 2 followers"
    nothing_persisted(fake, calls_before=calls, positions=2, pools=1)
    # when: a member joins again, they are not a new follower
    again = join(make_session, streamer, "f1", "50")
    assert again.status == "active"
    assert Position.objects.filter(status="active").count() == 3
    assert refused(make_session, streamer, "f3").code == "ERR_FOLLOWER_LIMIT"


def test_a_follower_who_left_makes_room(fake, streamer, make_session):
    streamer.max_followers = 1
    streamer.save()
    first = join(make_session, streamer, "f1")
    # a second position of the same follower: leaving one keeps them a member
    second = join(make_session, streamer, "f1", "10")
    assert refused(make_session, streamer, "f2").code == "ERR_FOLLOWER_LIMIT"
    position_leave(session=first.session, position_id=first.pk)
    assert refused(make_session, streamer, "f2").code == "ERR_FOLLOWER_LIMIT"
    # when: their last position leaves
    position_leave(session=second.session, position_id=second.pk)
    # then: the pool closed, the next follower opens a new one
    assert join(make_session, streamer, "f2").status == "active"


def test_a_pending_join_takes_its_place(fake, streamer, make_session):
    # given: f1's DEPOSIT has no answer yet: the position is joining
    streamer.max_followers = 1
    streamer.save()
    fake.fail("transfer", *["timeout_before"] * 30)
    assert join(make_session, streamer, "f1").status == "joining"
    # then: f1 is a follower already
    assert refused(make_session, streamer, "f2").code == "ERR_FOLLOWER_LIMIT"


def test_the_operators_follower_limit_is_the_fallback(fake, streamer, make_session, operator):
    operator.max_followers_per_pool = 1
    operator.save()
    join(make_session, streamer, "f1")
    assert refused(make_session, streamer, "f2").code == "ERR_FOLLOWER_LIMIT"
    # and the streamer's own limit overrides it
    streamer.max_followers = 2
    streamer.save()
    assert join(make_session, streamer, "f2").status == "active"


# --- capacity --------------------------------------------------------------------------


def test_capacity_counts_the_last_known_balance_and_says_what_is_left(fake, streamer, make_session):
    # given: the streamer's 1000 plus f1's 100 in the pool, a capacity of 1250
    join(make_session, streamer, "f1")
    assert Pool.objects.get().balance == D(1100)
    streamer.max_pool_value = D("1250")
    streamer.save()
    calls = len(fake.calls)
    # when
    error = refused(make_session, streamer, "f2", "150.00000001")
    # then
    assert (error.code, error.status) == ("ERR_POOL_CAPACITY", 409)
    assert (
        error.message == "The pool can take at most 150.00 USD more (its capacity is 1250.00 USD)"
    )
    nothing_persisted(fake, calls_before=calls, positions=1, pools=1)
    # and exactly what is left is accepted, after which the pool is at capacity
    assert join(make_session, streamer, "f2", "150").status == "active"
    error = refused(make_session, streamer, "f3", "1")
    assert error.message == "The pool is at its capacity of 1250.00 USD"


def test_capacity_counts_joins_still_pending(fake, streamer, make_session, operator):
    # given: the operator's capacity of 1300; f1 in (1100), f2's 100 still joining
    operator.max_pool_value = D("1300")
    operator.save()
    join(make_session, streamer, "f1")
    fake.fail("transfer", *["timeout_before"] * 30)
    assert join(make_session, streamer, "f2").status == "joining"
    # when / then: 1100 known + 100 pending leaves room for 100, not 200
    error = refused(make_session, streamer, "f3", "100.5")
    assert (
        error.message == "The pool can take at most 100.00 USD more (its capacity is 1300.00 USD)"
    )


def test_a_join_above_the_capacity_of_a_pool_not_open_yet_opens_nothing(
    fake, streamer, make_session
):
    # given: no pool yet (its balance is not known: it counts as 0)
    streamer.max_pool_value = D("50")
    streamer.save()
    # when
    error = refused(make_session, streamer, "f1", "60")
    # then: no pool was opened for it, nothing sent
    assert error.message == "The pool can take at most 50.00 USD more (its capacity is 50.00 USD)"
    nothing_persisted(fake, calls_before=0, positions=0, pools=0)


def test_a_demo_pool_counts_its_play_money(fake, streamer, make_session):
    # given: a demo pool opens with the streamer's 1000 of play money
    streamer.max_pool_value = D("1100")
    streamer.save()
    error = refused(make_session, streamer, "d1", "100.01", demo=True)
    assert (
        error.message == "The pool can take at most 100.00 DEMO more (its capacity is 1100.00 DEMO)"
    )
    assert Pool.objects.count() == 0
    assert join(make_session, streamer, "d2", "100", demo=True).status == "active"


# --- who may join ----------------------------------------------------------------------


def test_a_suspended_streamer_is_not_a_missing_one(fake, streamer, make_session):
    streamer.status = "suspended"
    streamer.save()
    error = refused(make_session, streamer, "f1")
    assert (error.code, error.status) == ("ERR_STREAMER_SUSPENDED", 409)
    nothing_persisted(fake, calls_before=0, positions=0, pools=0)


def test_a_private_streamer_admits_only_its_allowlist(fake, streamer, make_session):
    streamer.is_private = True
    streamer.save()
    error = refused(make_session, streamer, "f1")
    assert (error.code, error.status) == ("ERR_STREAMER_PRIVATE", 403)
    # demo players are never on an allowlist
    assert refused(make_session, streamer, "f1", demo=True).code == "ERR_STREAMER_PRIVATE"
    nothing_persisted(fake, calls_before=0, positions=0, pools=0)
    # when: f1 is listed
    StreamerAccess.objects.create(streamer=streamer, operator_user_id="f1")
    assert join(make_session, streamer, "f1").status == "active"
    assert refused(make_session, streamer, "f2").code == "ERR_STREAMER_PRIVATE"


def test_a_blocked_follower_is_refused_first(fake, streamer, make_session):
    session = make_session("f1")
    session.follower.is_blocked = True
    session.follower.blocked_at = timezone.now()
    session.follower.save()
    streamer.is_private = True
    streamer.status = "suspended"
    streamer.save()
    with pytest.raises(ApplicationError) as error:
        position_join(session=session, streamer_id=streamer.pk, amount="0.5")
    assert (error.value.code, error.value.status) == ("ERR_FOLLOWER_BLOCKED", 403)
    nothing_persisted(fake, calls_before=0, positions=0, pools=0)


def test_private_answers_before_suspended(fake, streamer, make_session):
    """A player outside an invite-only pool learns nothing more about its streamer."""
    streamer.is_private = True
    streamer.status = "suspended"
    streamer.save()
    assert refused(make_session, streamer, "f1").code == "ERR_STREAMER_PRIVATE"
    StreamerAccess.objects.create(streamer=streamer, operator_user_id="f1")
    assert refused(make_session, streamer, "f1").code == "ERR_STREAMER_SUSPENDED"


def test_contribution_answers_before_the_pool_limits(fake, streamer, make_session):
    streamer.max_followers = 1
    streamer.max_pool_value = D("1100")
    streamer.save()
    join(make_session, streamer, "f1")
    # full and at capacity: the amount is what the player can fix first
    assert refused(make_session, streamer, "f2", "0.5").code == "ERR_CONTRIBUTION_LIMIT"
    # then the followers
    assert refused(make_session, streamer, "f2", "10").code == "ERR_FOLLOWER_LIMIT"
    # a member is past the follower limit: the capacity answers
    assert refused(make_session, streamer, "f1", "10").code == "ERR_POOL_CAPACITY"
    assert not Saga.objects.filter(status="running").exists()
    assert Transaction.objects.count() == 2  # f1's BET and DEPOSIT only


@pytest.mark.django_db(transaction=True)
def test_the_player_api_answers_the_limit_with_its_message(fake, streamer, make_session):
    streamer.min_contribution = D("5")
    streamer.save()
    response = client_for(make_session("f1")).post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "1"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "ERR_CONTRIBUTION_LIMIT",
        "errorMessage": "The minimum contribution to this pool is 5.00 USD",
    }


def test_a_block_after_the_session_was_loaded_still_refuses(fake, streamer, make_session):
    # given: the session (and its follower) loaded before staff blocked the follower
    session = make_session("f1")
    assert session.follower.is_blocked is False
    Follower.objects.filter(pk=session.follower_id).update(is_blocked=True)
    # when / then
    with pytest.raises(ApplicationError) as error:
        position_join(session=session, streamer_id=streamer.pk, amount="10")
    assert error.value.code == "ERR_FOLLOWER_BLOCKED"
    nothing_persisted(fake, calls_before=0, positions=0, pools=0)
