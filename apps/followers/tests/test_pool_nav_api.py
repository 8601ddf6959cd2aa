"""GET pools/{id}/nav: the pool's last snapshots, oldest first, for the broadcast's chart."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.followers.tokens import player_token_issue
from apps.operators.tests.factories import OperatorFactory
from apps.pools.models import Pool, PoolSnapshot
from apps.streamers.models import Streamer

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(streamer):
    pool = Pool.objects.create(streamer=streamer, operator=streamer.operator, currency="USD")
    start = timezone.now() - timedelta(hours=1)
    for i in range(5):
        PoolSnapshot.objects.create(
            pool=pool,
            balance=Decimal(100 + i),
            total_units=Decimal(100),
            nav=Decimal(100 + i) / 100,
            taken_at=start + timedelta(minutes=i),
        )
    return pool


def get_nav(client, session, path):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}")


def test_the_last_points_oldest_first(client, make_session, pool):
    # when
    response = get_nav(client, make_session("f1"), f"/api/v1/pools/{pool.pk}/nav?points=3")
    # then: the three newest, in time order
    assert response.status_code == 200, response.content
    assert [point["nav"] for point in response.json()] == [
        "1.020000000000000000",
        "1.030000000000000000",
        "1.040000000000000000",
    ]
    assert response.json()[-1]["balance"] == "104.00000000"


@pytest.mark.parametrize("points", ["0", "-1", "abc", "100000"])
def test_a_points_out_of_range_is_the_default(client, make_session, pool, points):
    response = get_nav(client, make_session("f1"), f"/api/v1/pools/{pool.pk}/nav?points={points}")
    assert response.status_code == 200 and len(response.json()) == 5


def test_another_operators_pool_or_a_demo_sessions_view_of_a_real_pool_is_not_found(
    client, make_session, pool
):
    # given: a pool of another operator
    other = OperatorFactory(code="other")
    streamer = Streamer.objects.create(
        operator=other, operator_user_id="s9", display_name="X", currency="USD"
    )
    foreign = Pool.objects.create(streamer=streamer, operator=other, currency="USD")
    # when / then
    for session, pool_id in [
        (make_session("f1"), foreign.pk),
        (make_session("d", demo=True), pool.pk),
    ]:
        response = get_nav(client, session, f"/api/v1/pools/{pool_id}/nav")
        assert response.status_code == 404
        assert response.json()["errorCode"] == "ERR_NOT_FOUND"
