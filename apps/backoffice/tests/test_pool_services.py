"""Pool services that staff and schedules use outside the sagas."""

from decimal import Decimal

import pytest

from apps.backoffice.services import pool_refresh_balance
from apps.core.errors import Conflict
from apps.followers.models import Position
from apps.pools.models import Pool, PoolSnapshot
from apps.pools.services import pool_record_reading
from apps.transactions.services import position_join
from conftest import run_due

pytestmark = pytest.mark.django_db(transaction=True)


def test_refresh_records_the_operators_balance_and_a_snapshot(fake, streamer, make_session):
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    fake.streamer_balance["streamer-1"] = Decimal("1234.5")
    pool = pool_refresh_balance(pool=Pool.objects.get(pk=position.pool_id))
    assert pool.balance == Decimal("1234.5")
    assert PoolSnapshot.objects.filter(pool=pool).latest("taken_at").balance == Decimal("1234.5")


def test_refresh_is_refused_while_a_transfer_prices_the_pool(fake, streamer, make_session):
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    Pool.objects.filter(pk=position.pool_id).update(pricing_saga=999)
    with pytest.raises(Conflict) as error:
        pool_refresh_balance(pool=Pool.objects.get(pk=position.pool_id))
    assert error.value.code == "ERR_POOL_BUSY"
    assert Pool.objects.get(pk=position.pool_id).balance == Decimal(1100)


def test_a_reading_older_than_a_transfers_answer_is_dropped(fake, streamer, make_session):
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    pool = Pool.objects.get(pk=position.pool_id)
    read_since = pool.balance_at
    # a transfer answered (and wrote the balance) while our reading was in flight
    position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="50")
    assert not pool_record_reading(pool_id=pool.pk, balance=Decimal("1100"), read_since=read_since)
    assert Pool.objects.get(pk=pool.pk).balance == Decimal("1150")


def test_a_refresh_that_takes_a_position_past_its_stop_loss_pays_it_out(
    fake, streamer, make_session
):
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    Position.objects.filter(pk=position.pk).update(stop_loss=Decimal(80))
    fake.streamer_balance["streamer-1"] = Decimal(550)  # NAV 0.5: the 100 units are worth 50
    # when
    pool_refresh_balance(pool=Pool.objects.get(pk=position.pool_id))
    run_due()
    # then
    position.refresh_from_db()
    assert (position.status, position.leave_reason, position.payout) == (
        "closed",
        "stop_loss",
        Decimal(50),
    )
