"""Re-sending game-pool OPEN/CLOSE on staff's request (reconciliation's repairs: see
test_reconciliation), through the in-memory operator double."""

from decimal import Decimal

import pytest

from apps.core.errors import ApplicationError, Conflict
from apps.followers.models import Position
from apps.pools.models import Pool
from apps.transactions.locks import pool_game_pool_resend
from apps.transactions.services import position_join

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(fake, streamer, make_session):
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert position.status == "active"
    fake.pool_state.clear()
    return Pool.objects.get(pk=position.pool_id)


def test_an_open_never_sent_is_refused(fake, pool):
    # given
    Pool.objects.filter(pk=pool.pk).update(open_sent_at=None)
    # when / then
    with pytest.raises(Conflict) as refused:
        pool_game_pool_resend(pool=pool)
    assert refused.value.code == "ERR_NOTHING_TO_RESEND"
    assert fake.pool_state == {}


def test_an_operator_refusal_raises_and_changes_nothing(fake, pool):
    # given
    Pool.objects.filter(pk=pool.pk).update(lock_state="pending")
    fake.fail("game-pool", "refuse:400:ERR_USER_NOT_FOUND")
    # when / then
    with pytest.raises(ApplicationError) as refused:
        pool_game_pool_resend(pool=pool)
    assert refused.value.code == "ERR_USER_NOT_FOUND"
    assert Pool.objects.get(pk=pool.pk).lock_state == "pending"


def test_close_is_refused_while_the_pool_has_members(fake, pool):
    # given
    Pool.objects.filter(pk=pool.pk).update(state="closing")
    # when / then
    with pytest.raises(Conflict):
        pool_game_pool_resend(pool=pool)
    assert fake.pool_state == {}


def test_close_with_no_saga_owning_it_closes_a_closing_pool(fake, pool):
    # given: the last member left; no close saga waits for the CLOSE
    Position.objects.filter(pool=pool).update(status="closed", units=Decimal(0))
    Pool.objects.filter(pk=pool.pk).update(state="closing")
    # when
    message = pool_game_pool_resend(pool=pool)
    # then
    assert message == "CLOSE acknowledged: the streamer's balance is released"
    assert fake.pool_state == {"streamer-1": "CLOSE"}
    pool.refresh_from_db()
    assert (pool.state, pool.lock_state) == ("closed", "released")


def test_close_of_a_closed_pool_releases_its_lock(fake, pool):
    # given: a closed pool whose CLOSE was never acknowledged
    Position.objects.filter(pool=pool).update(status="closed", units=Decimal(0))
    Pool.objects.filter(pk=pool.pk).update(state="closed", lock_state="locked")
    # when
    pool_game_pool_resend(pool=pool)
    # then
    pool.refresh_from_db()
    assert (pool.state, pool.lock_state) == ("closed", "released")
