"""``PUT /api/v1/positions/{id}/limits``: a follower's stop-loss and take-profit (the view and
service are apps.followers'; here, as a join makes the position)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.followers.models import Position
from apps.followers.services import LimitSetting, limit_parse, position_limits_set
from apps.followers.tokens import player_token_issue
from apps.transactions.services import position_join

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


def client_for(session) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}")
    return client


@pytest.fixture
def position(fake, streamer, make_session):
    """f1's 100 in a pool of 1100 at NAV 1: its value is 100."""
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert position.status == "active"
    return position


def put(position, body, session=None):
    client = client_for(session or position.session)
    return client.put(f"/api/v1/positions/{position.pk}/limits", body, format="json")


def test_limit_notation():
    assert limit_parse("80.5", name="x", loss_sign="-") == LimitSetting(value=D("80.5"))
    assert limit_parse("20%", name="x", loss_sign="-") == LimitSetting(percent=D(20))
    assert limit_parse("-20%", name="x", loss_sign="-") == LimitSetting(percent=D(20))
    assert limit_parse("+20%", name="x", loss_sign="+") == LimitSetting(percent=D(20))
    assert limit_parse(None, name="x", loss_sign="-") == LimitSetting()


def test_set_values_answers_the_position_with_its_limits(position):
    response = put(position, {"stopLoss": "80.5", "takeProfit": "150"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stopLoss"], body["stopLossPercent"]) == ("80.50000000", None)
    assert (body["takeProfit"], body["takeProfitPercent"]) == ("150.00000000", None)
    position.refresh_from_db()
    assert (position.stop_loss, position.take_profit) == (D("80.5"), D(150))


@pytest.mark.parametrize("stop_loss", ["20%", "-20%"])
def test_a_stop_loss_percent_is_a_loss_either_way(position, stop_loss):
    body = put(position, {"stopLoss": stop_loss, "takeProfit": "+50%"}).json()
    assert (body["stopLoss"], body["stopLossPercent"]) == ("80.00000000", "20.0000")
    assert (body["takeProfit"], body["takeProfitPercent"]) == ("150.00000000", "50.0000")
    position.refresh_from_db()
    assert (position.stop_loss, position.stop_loss_percent) == (None, D(20))


def test_a_value_replaces_a_percent_and_null_clears(position):
    put(position, {"stopLoss": "20%", "takeProfit": "50%"})
    # when: a value for the stop-loss, the take-profit left out
    body = put(position, {"stopLoss": "70"}).json()
    # then
    assert (body["stopLoss"], body["stopLossPercent"]) == ("70.00000000", None)
    assert body["takeProfitPercent"] == "50.0000"
    # when: cleared
    body = put(position, {"stopLoss": None, "takeProfit": None}).json()
    assert [
        body[k] for k in ("stopLoss", "stopLossPercent", "takeProfit", "takeProfitPercent")
    ] == [None] * 4


def test_the_same_put_again_answers_the_same(position):
    first = put(position, {"stopLoss": "-25%", "takeProfit": "130"})
    again = put(position, {"stopLoss": "-25%", "takeProfit": "130"})
    assert first.status_code == again.status_code == 200
    strip = lambda body: {k: v for k, v in body.items() if k != "updatedAt"}  # noqa: E731
    assert strip(first.json()) == strip(again.json())


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"stopLoss": "100"}, "below the position's current value"),  # at the value
        ({"stopLoss": "120"}, "below the position's current value"),
        ({"stopLoss": "0%"}, "between 0% and 100%"),
        ({"stopLoss": "100%"}, "between 0% and 100%"),
        ({"stopLoss": "+20%"}, "is a loss"),
        ({"stopLoss": "-5"}, "must be a value"),
        ({"stopLoss": "abc"}, "must be a value"),
        ({"stopLoss": "1.123456789"}, "must be a value"),
        ({"stopLoss": "20.12345%"}, "must be a value"),
        ({"stopLoss": 80}, "must be a string"),
        ({"takeProfit": "100"}, "above the position's current value"),
        ({"takeProfit": "50"}, "above the position's current value"),
        ({"takeProfit": "0%"}, "gain above 0%"),
        ({"takeProfit": "-20%"}, "is a gain"),
        ({"takeProfit": ""}, "must be a value"),
        ({"stopLoss": "50", "takeProfit": "90"}, "takeProfit"),
    ],
)
def test_invalid_limits_are_refused_and_change_nothing(position, body, says):
    put(position, {"stopLoss": "10"})
    # when
    response = put(position, body)
    # then
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["errorCode"] == "ERR_INVALID_LIMIT"
    assert says in error["errorMessage"]
    position.refresh_from_db()
    assert (position.stop_loss, position.take_profit) == (D(10), None)
    assert (position.stop_loss_percent, position.take_profit_percent) == (None, None)


def test_another_players_position_is_not_found(position, make_session):
    response = put(position, {"stopLoss": "50"}, session=make_session("f2"))
    assert response.status_code == 404
    assert response.json()["errorCode"] == "ERR_POSITION_NOT_FOUND"
    position.refresh_from_db()
    assert position.stop_loss is None


def test_a_malformed_id_is_not_found(position):
    response = client_for(position.session).put(
        "/api/v1/positions/nope/limits", {"stopLoss": "50"}, format="json"
    )
    assert response.status_code == 404


def test_a_position_that_is_not_active_is_refused(position):
    Position.objects.filter(pk=position.pk).update(status="closed", payout=D(100))
    response = put(position, {"stopLoss": "50"})
    assert response.status_code == 409
    assert response.json()["errorCode"] == "ERR_POSITION_NOT_ACTIVE"


def test_the_service_keeps_what_is_left_out(position):
    position_limits_set(
        follower=position.follower, position_id=position.pk, changes={"take_profit": "200"}
    )
    updated = position_limits_set(
        follower=position.follower, position_id=position.pk, changes={"stop_loss": "50%"}
    )
    assert (updated.take_profit, updated.stop_loss_percent) == (D(200), D(50))


def test_a_position_answers_its_limits_in_every_read(position):
    put(position, {"stopLoss": "30%"})
    client = client_for(position.session)
    [listed] = client.get("/api/v1/positions").json()
    detail = client.get(f"/api/v1/positions/{position.pk}").json()
    assert listed["stopLoss"] == detail["stopLoss"] == "70.00000000"
    assert listed["takeProfit"] is None
