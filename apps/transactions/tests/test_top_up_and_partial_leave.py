"""Top-up and partial leave over the player API, with the sagas talking to the in-memory
operator (streamer balance 1000, wallets 500, contributions 1 to 1000), and their receipts."""

from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.followers.models import Position
from apps.followers.tokens import player_token_issue
from apps.pools.accounting import payout_for_units, units_for_contribution
from apps.pools.models import Pool
from apps.streamers.models import Stream
from apps.transactions.models import Receipt, Saga, Transaction
from conftest import run_due

pytestmark = pytest.mark.django_db(transaction=True)

STREAMER = "streamer-1"


def client_for(session) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}")
    return client


def joined(client, streamer, amount="100") -> str:
    response = client.post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": amount}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def top_up(client, position_id, amount, **headers):
    return client.post(
        f"/api/v1/positions/{position_id}/top-up", {"amount": amount}, format="json", **headers
    )


def leave(client, position_id, body=None):
    if body is None:
        return client.post(f"/api/v1/positions/{position_id}/leave")
    return client.post(f"/api/v1/positions/{position_id}/leave", body, format="json")


def snapshot(position_id):
    """What a refused request must not change."""
    position = Position.objects.get(pk=position_id)
    return (
        position.status,
        position.units,
        position.contributed,
        position.payout,
        Saga.objects.count(),
        Transaction.objects.count(),
        Receipt.objects.count(),
    )


def assert_receipt_keeps_the_unit_rule(receipt: Receipt) -> None:
    """SPEC section 4's rule, recomputed from the receipt's figures: exactly, but for SQLite's
    storage of decimals as REAL (about 15 digits; PostgreSQL runs it exactly)."""
    dust = Decimal(0) if connection.vendor != "sqlite" else Decimal("1e-10")
    if receipt.kind == Receipt.Kind.LEAVE:
        amount = payout_for_units(
            units=receipt.units, balance=receipt.balance, total_units=receipt.total_units_before
        )
        assert abs(receipt.amount - amount) <= (dust and Decimal("0.00000001"))
        after = receipt.total_units_before - receipt.units
    else:
        units = units_for_contribution(
            amount=receipt.amount, balance=receipt.balance, total_units=receipt.total_units_before
        )
        assert abs(receipt.units - units) <= dust
        after = receipt.total_units_before + receipt.units
    assert abs(receipt.total_units_after - after) <= dust


# --- top-up ------------------------------------------------------------------------------


def test_top_up_adds_units_priced_at_the_nav_of_the_moment(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)  # 100 units of 1100 at NAV 1
    fake.streamer_balance[STREAMER] += Decimal("110")  # the streamer won: NAV 1.1
    # when
    response = top_up(client, position_id, "55")
    # then: 55 / 1.1 = 50 more units in the same position
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["units"], body["contributed"]) == (
        position_id,
        "active",
        "150.000000000000000000",
        "155.00000000",
    )
    assert fake.wallet["f1"] == Decimal("345")
    assert fake.streamer_balance[STREAMER] == Decimal("1265")
    pool = Pool.objects.get()
    assert pool.total_units == Decimal("1150")
    join, added = Receipt.objects.filter(position_id=position_id).order_by("priced_at", "pk")
    assert (added.kind, added.amount, added.balance, added.nav, added.units) == (
        "top_up",
        Decimal("55"),
        Decimal("1210"),
        Decimal("1.1"),
        Decimal("50"),
    )
    assert (added.total_units_before, added.total_units_after) == (Decimal(1100), Decimal(1150))
    saga = Saga.objects.get(kind="top_up")
    ids = dict(saga.transactions.values_list("kind", "external_id"))
    assert added.bet_external_id == ids["follower_debit"]
    assert added.deposit_external_id == ids["streamer_deposit"]
    assert join.kind == "join" and join.units == Decimal(100)
    for receipt in (join, added):
        assert_receipt_keeps_the_unit_rule(receipt)


def test_the_same_idempotency_key_twice_is_one_top_up(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    # when
    first = top_up(client, position_id, "20", HTTP_IDEMPOTENCY_KEY="k-1")
    second = top_up(client, position_id, "20", HTTP_IDEMPOTENCY_KEY="k-1")
    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert Saga.objects.filter(kind="top_up").count() == 1
    assert fake.wallet["f1"] == Decimal("380")
    assert Position.objects.get(pk=position_id).contributed == Decimal("120")


def test_a_refused_bet_fails_the_top_up_and_leaves_the_position_as_it_was(
    fake, streamer, make_session
):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    before = Position.objects.get(pk=position_id)
    fake.fail("withdraw", "refuse:402:ERR_INSUFFICIENT_BALANCE")
    # when
    response = top_up(client, position_id, "20")
    # then
    assert response.status_code == 402
    body = response.json()
    assert body["errorCode"] == "ERR_INSUFFICIENT_BALANCE"
    assert body["position"]["status"] == "active"
    after = Position.objects.get(pk=position_id)
    assert (after.status, after.units, after.contributed, after.failure_code) == (
        "active",
        before.units,
        before.contributed,
        "",
    )
    saga = Saga.objects.get(kind="top_up")
    assert (saga.status, saga.failure_code) == ("failed", "ERR_INSUFFICIENT_BALANCE")
    assert Receipt.objects.filter(kind="top_up").count() == 0
    assert Pool.objects.get().state == "open"  # still a member: the pool stays


def test_a_refused_deposit_refunds_the_top_up(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    fake.fail("transfer", "refuse:403:ERR_TRANSFER_FORBIDDEN")
    # when
    response = top_up(client, position_id, "20")
    # then: the BET was rolled back, the position untouched
    assert response.status_code == 403
    assert fake.wallet["f1"] == Decimal("400")
    assert Position.objects.get(pk=position_id).units == Decimal(100)
    bet = Transaction.objects.get(saga__kind="top_up", kind="follower_debit")
    assert bet.status == "rolled_back"


def test_a_top_up_in_doubt_answers_202_then_lands(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    fake.fail("transfer", *["timeout_before"] * 30)
    # when
    response = top_up(client, position_id, "20")
    # then: still running, the position as it was; a leave meanwhile is refused as busy
    assert response.status_code == 202
    assert response.json()["units"] == "100.000000000000000000"
    busy = leave(client, position_id, {"fraction": "0.5"})
    assert (busy.status_code, busy.json()["errorCode"]) == (409, "ERR_POSITION_BUSY")
    assert leave(client, position_id).json()["errorCode"] == "ERR_POSITION_BUSY"
    again = top_up(client, position_id, "5")
    assert again.json()["errorCode"] == "ERR_POSITION_BUSY"
    fake.faults["transfer"].clear()
    run_due()
    position = Position.objects.get(pk=position_id)
    assert (position.status, position.units, position.contributed) == (
        "active",
        Decimal(120),
        Decimal(120),
    )


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("901", "ERR_CONTRIBUTION_LIMIT"),  # 100 + 901 > 1000: the total counts
        ("0", "ERR_INVALID_AMOUNT"),
        ("1e3", "ERR_INVALID_AMOUNT"),
        ("1.123456789", "ERR_INVALID_AMOUNT"),
    ],
)
def test_a_top_up_past_the_limits_or_invalid_is_refused_and_changes_nothing(
    fake, streamer, make_session, amount, code
):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    before = snapshot(position_id)
    # when
    response = top_up(client, position_id, amount)
    # then
    assert response.status_code == 400 and response.json()["errorCode"] == code
    assert snapshot(position_id) == before
    assert "900.00 USD more" in top_up(client, position_id, "950").json()["errorMessage"]


def test_a_top_up_up_to_the_maximum_is_taken(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    fake.wallet["f1"] = Decimal(2000)
    assert top_up(client, position_id, "900").status_code == 200


def test_top_up_is_refused_as_a_join_is(fake, streamer, make_session):
    session = make_session("f1")
    client = client_for(session)
    position_id = joined(client, streamer)
    before = snapshot(position_id)
    # a suspended streamer
    streamer.status = "suspended"
    streamer.save()
    assert top_up(client, position_id, "5").json()["errorCode"] == "ERR_STREAMER_SUSPENDED"
    streamer.status = "active"
    streamer.save()
    # an offline streamer
    Stream.objects.update(status="ended")
    assert top_up(client, position_id, "5").json()["errorCode"] == "ERR_STREAMER_OFFLINE"
    Stream.objects.update(status="live")
    # a blocked follower
    session.follower.is_blocked = True
    session.follower.save()
    response = top_up(client, position_id, "5")
    assert (response.status_code, response.json()["errorCode"]) == (403, "ERR_FOLLOWER_BLOCKED")
    session.follower.is_blocked = False
    session.follower.save()
    # a disabled operator
    streamer.operator.enabled = False
    streamer.operator.save()
    assert top_up(client, position_id, "5").json()["errorCode"] == "ERR_COPYSTAKE_OFF"
    assert snapshot(position_id) == before


def test_only_the_callers_active_position_takes_a_top_up(fake, streamer, make_session):
    mine = client_for(make_session("f1"))
    theirs = client_for(make_session("f2"))
    position_id = joined(mine, streamer)
    response = top_up(theirs, position_id, "5")
    assert (response.status_code, response.json()["errorCode"]) == (404, "ERR_POSITION_NOT_FOUND")
    assert leave(mine, position_id).status_code == 200
    closed = top_up(mine, position_id, "5")
    assert (closed.status_code, closed.json()["errorCode"]) == (409, "ERR_POSITION_NOT_ACTIVE")


# --- partial leave -------------------------------------------------------------------------


def test_a_partial_leave_pays_that_part_and_keeps_the_rest_active(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)  # 100 of 1100 units
    fake.streamer_balance[STREAMER] += Decimal("1100")  # NAV 2
    # when
    response = leave(client, position_id, {"units": "30"})
    # then: 30 units at NAV 2 paid 60; 70 units stay
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["units"], body["payout"]) == (
        "active",
        "70.000000000000000000",
        "60.00000000",
    )
    assert fake.wallet["f1"] == Decimal("460")
    assert Pool.objects.get().total_units == Decimal(1070)
    receipt = Receipt.objects.get(kind="leave")
    saga = Saga.objects.get(kind="leave")
    ids = dict(saga.transactions.values_list("kind", "external_id"))
    assert (receipt.units, receipt.amount, receipt.nav) == (Decimal(30), Decimal(60), Decimal(2))
    assert receipt.withdrawal_external_id == ids["streamer_withdrawal"]
    assert receipt.win_external_id == ids["follower_credit"]
    assert_receipt_keeps_the_unit_rule(receipt)
    # when: half of the rest, then all of it
    assert leave(client, position_id, {"fraction": "0.5"}).json()["units"] == (
        "35.000000000000000000"
    )
    final = leave(client, position_id)
    # then: payout is the total paid out, the WINs each leave's own
    assert final.status_code == 200
    assert (final.json()["status"], final.json()["payout"]) == ("closed", "200.00000000")
    wins = Transaction.objects.filter(kind="follower_credit").order_by("pk")
    assert [w.amount for w in wins] == [Decimal(60), Decimal(70), Decimal(70)]
    assert fake.wallet["f1"] == Decimal("600")
    assert Pool.objects.get().state == "closed"
    for receipt in Receipt.objects.all():
        assert_receipt_keeps_the_unit_rule(receipt)


def test_all_the_units_or_a_fraction_of_one_is_a_full_leave(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    first = joined(client, streamer)
    second = joined(client, streamer)
    assert leave(client, first, {"units": "100"}).json()["status"] == "closed"
    assert leave(client, second, {"fraction": 1}).json()["status"] == "closed"
    assert list(Saga.objects.filter(kind="leave").values_list("units", flat=True)) == [None, None]
    assert set(Position.objects.values_list("leave_reason", flat=True)) == {"follower"}


def test_a_rest_worth_nothing_goes_with_the_leave(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    # when: all but 1e-18 of a unit (worth far less than 0.00000001)
    response = leave(client, position_id, {"units": "99.999999999999999999"})
    # then: the dust is not left behind in an active position
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["units"]) == (
        "closed",
        "0.000000000000000000",
    )
    assert Position.objects.get(pk=position_id).leave_reason == "follower"


@pytest.mark.parametrize(
    "body",
    [
        {"units": "10", "fraction": "0.5"},
        {"fraction": "0"},
        {"fraction": 0},
        {"fraction": "1.5"},
        {"units": "100.5"},
        {"units": "0"},
        {"units": "-1"},
        {"units": "abc"},
        {"units": "1e2"},
        {"units": "1.0000000000000000001"},
        {"units": True},
        {"fraction": [1]},
    ],
)
def test_a_bad_leave_body_is_refused_and_changes_nothing(fake, streamer, make_session, body):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    before = snapshot(position_id)
    wallet = fake.wallet["f1"]
    # when
    response = leave(client, position_id, body)
    # then
    assert response.status_code == 400, response.content
    assert response.json()["errorCode"] == "ERR_INVALID_UNITS"
    assert snapshot(position_id) == before
    assert fake.wallet["f1"] == wallet


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"[]", "an array"),
        (b"null", "null"),
        (b"0", "a number"),
        (b'""', "a string"),
        (b"false", "true or false"),
        (b'[{"fraction": "0.5"}]', "an array"),
    ],
)
def test_a_leave_body_that_is_not_an_object_is_refused_not_taken_for_no_body(
    fake, streamer, make_session, raw, kind
):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    before = snapshot(position_id)
    wallet = fake.wallet["f1"]
    response = client.post(
        f"/api/v1/positions/{position_id}/leave", data=raw, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json() == {
        "errorCode": "ERR_VALIDATION",
        "errorMessage": f"The body must be a JSON object (or no body), not {kind}",
    }
    assert snapshot(position_id) == before
    assert fake.wallet["f1"] == wallet


def test_a_malformed_leave_body_is_refused(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    before = snapshot(position_id)
    response = client.post(
        f"/api/v1/positions/{position_id}/leave", data=b"{units", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_MALFORMED_JSON"
    assert snapshot(position_id) == before


def test_a_partial_leave_in_doubt_is_asked_again_and_a_stream_end_takes_the_rest(
    fake, streamer, make_session
):
    from apps.transactions.services import streams_end

    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    fake.fail("transfer", *["timeout_after"] * 3)
    # when: the WITHDRAWAL is applied but its answer lost; the stream ends meanwhile
    response = leave(client, position_id, {"units": "40"})
    assert response.status_code == 202 and response.json()["status"] == "active"
    streams_end(stream=Stream.objects.get(), reason="stream ended on schedule")
    run_due()
    # then: 40 units and then the other 60 were paid, once each
    position = Position.objects.get(pk=position_id)
    assert (position.status, position.units, position.payout) == (
        "closed",
        Decimal(0),
        Decimal(100),
    )
    assert fake.wallet["f1"] == Decimal(500)
    assert fake.streamer_balance[STREAMER] == Decimal(1000)
    assert Pool.objects.get().state == "closed"
    assert sorted(r.units for r in Receipt.objects.filter(kind="leave")) == [
        Decimal(40),
        Decimal(60),
    ]


def test_position_detail_lists_its_receipts_and_the_list_does_not(fake, streamer, make_session):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    top_up(client, position_id, "10")
    leave(client, position_id, {"units": "5"})
    # when
    detail = client.get(f"/api/v1/positions/{position_id}").json()
    listed = client.get("/api/v1/positions").json()
    # then
    assert [r["kind"] for r in detail["receipts"]] == ["join", "top_up", "leave"]
    assert detail["receipts"][1]["amount"] == "10.00000000"
    assert detail["receipts"][2]["winId"] != ""
    assert "receipts" not in listed[0]


def test_a_leave_as_a_form_with_fields_is_refused_not_taken_for_a_full_leave(
    fake, streamer, make_session
):
    client = client_for(make_session("f1"))
    position_id = joined(client, streamer)
    before = snapshot(position_id)
    # when: a form naming units (the API takes JSON only)
    response = client.post(f"/api/v1/positions/{position_id}/leave", {"units": "10"})
    # then
    assert response.status_code == 415
    assert snapshot(position_id) == before


def test_a_demo_pool_tops_up_leaves_in_part_and_writes_receipts(
    streamer, make_session, monkeypatch
):
    from apps.followers.models import Follower
    from apps.operators import clients

    def no_http(*args, **kwargs):
        raise AssertionError("a demo pool never calls the operator")

    for name in ("wallet_withdraw", "wallet_deposit", "transfer", "streamer_balance", "game_pool"):
        monkeypatch.setattr(clients, name, no_http)
    session = make_session("d1", demo=True)
    client = client_for(session)
    position_id = joined(client, streamer)
    # when
    topped = top_up(client, position_id, "50")
    part = leave(client, position_id, {"fraction": "0.5"})
    # then
    assert (topped.status_code, part.status_code) == (200, 200), (topped.content, part.content)
    assert part.json()["status"] == "active"
    kinds = list(Receipt.objects.filter(position_id=position_id).values_list("kind", flat=True))
    assert kinds == ["join", "top_up", "leave"]
    for receipt in Receipt.objects.filter(position_id=position_id):
        assert receipt.currency == "DEMO"
        assert_receipt_keeps_the_unit_rule(receipt)
    paid = Decimal(part.json()["payout"])
    assert Follower.objects.get(pk=session.follower_id).demo_balance == Decimal(850) + paid
