"""Copy stop-loss over real HTTP: a follower sets it through the player API, the sandbox
streamer loses, the next observed balance pays the position out; the statement says so."""

import csv
import io
from decimal import Decimal

import pytest

from apps.sandbox.services import sandbox_play_bet
from tests.e2e.conftest import assert_ledgers_match
from tests.e2e.world import Player, settle

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_stop_loss_fires_when_the_streamer_loses(world):
    # given: f1 in s1's pool with 50 (the pool: s1's 1000 and f1's 50), a stop-loss at -20 %
    f1, f2 = Player.init(world, "f1"), Player.init(world, "f2")
    position = f1.join("s1", "50").json()
    limits = f1.client.put(f"positions/{position['id']}/limits", json={"stopLoss": "-20%"})
    assert limits.status_code == 200, limits.text
    assert (limits.json()["stopLoss"], limits.json()["stopLossPercent"]) == (
        "40.00000000",
        "20.0000",
    )
    # a limit the value has reached already is refused, and changes nothing
    refused = f1.client.put(f"positions/{position['id']}/limits", json={"stopLoss": "60"})
    assert refused.status_code == 400 and refused.json()["errorCode"] == "ERR_INVALID_LIMIT"
    # when: the streamer loses half the balance at the casino, and f2's join reads it
    assert sandbox_play_bet(account=world.account("s1"), percent=Decimal("0.5"), wins=False)
    assert f2.join("s1", "10").status_code == 201
    settle()
    # then: f1 was paid what the units were worth at that balance (50 / 1050 of 525)
    after = f1.position(position["id"])
    assert (after["status"], after["leaveReason"], after["payout"]) == (
        "closed",
        "stop_loss",
        "25.00000000",
    )
    assert world.balance("f1") == Decimal(475)
    assert f2.lobby()[0]["pool"]["followers"] == 1  # f2 stays
    # and f1's statement lists the BET and the WIN
    statement = f1.client.get("statement")
    assert statement.status_code == 200, statement.text
    body = statement.json()
    assert [(m["kind"], m["amount"]) for m in body["movements"]] == [
        ("WIN", "25.00000000"),
        ("BET", "50.00000000"),
    ]
    assert body["totals"] == [
        {
            "currency": "USD",
            "moneyIn": "25.00000000",
            "moneyOut": "50.00000000",
            "net": "-25.00000000",
            "fees": "0.00000000",
        }
    ]
    as_csv = f1.client.get("statement", headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["kind"], r["amount"], r["externalId"]) for r in rows] == [
        (m["kind"], m["amount"], m["externalId"]) for m in body["movements"]
    ]
    assert_ledgers_match(world)
