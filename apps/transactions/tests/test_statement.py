"""``GET /api/v1/statement``: the follower's money movements in a period, JSON or CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.followers.tokens import player_token_issue
from apps.transactions.models import Receipt, Saga, Transaction
from apps.transactions.services import position_join, position_leave
from apps.transactions.statements import statement_period

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


def client_for(session) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}")
    return client


@pytest.fixture
def history(fake, streamer, make_session):
    """f1 joined with 100 and left for 100; a second join of 30 failed (BET refunded); f2
    joined too."""
    session = make_session("f1")
    first = position_join(session=session, streamer_id=streamer.pk, amount="100")
    position_leave(session=session, position_id=first.pk)
    fake.fail("transfer", "refuse:400:ERR_UNKNOWN")
    failed = position_join(session=session, streamer_id=streamer.pk, amount="30")
    assert failed.status == "failed"
    position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="50")
    return session, first, failed


def get(session, **params):
    return client_for(session).get("/api/v1/statement", params)


def test_the_statement_lists_the_players_movements_newest_first(history):
    session, first, failed = history
    # when
    response = get(session)
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    kinds = [(m["kind"], m["amount"], m["positionId"]) for m in body["movements"]]
    # the refunded BET is dated by its refund, the wallet's last answer about it
    assert kinds == [
        ("BET", "30.00000000", str(failed.pk)),
        ("ROLLBACK", "30.00000000", str(failed.pk)),
        ("WIN", "100.00000000", str(first.pk)),
        ("BET", "100.00000000", str(first.pk)),
    ]
    times = [m["time"] for m in body["movements"]]
    assert times == sorted(times, reverse=True)
    assert {m["streamerName"] for m in body["movements"]} == {"S"}
    assert {m["currency"] for m in body["movements"]} == {"USD"}
    external_ids = set(
        Transaction.objects.filter(position__follower=session.follower)
        .exclude(kind__startswith="streamer")
        .values_list("external_id", flat=True)
    )
    assert {m["externalId"] for m in body["movements"]} == external_ids
    assert body["totals"] == [
        {
            "currency": "USD",
            "moneyIn": "130.00000000",
            "moneyOut": "130.00000000",
            "net": "0.00000000",
            "fees": "0.00000000",
        }
    ]


def test_another_players_movements_never_appear(history, make_session):
    session, *_ = history
    other = get(make_session("f2")).json()
    mine = get(session).json()
    assert [m["amount"] for m in other["movements"]] == ["50.00000000"]
    assert other["totals"][0]["net"] == "-50.00000000"
    assert not {m["externalId"] for m in other["movements"]} & {
        m["externalId"] for m in mine["movements"]
    }
    # a player with no movements has an empty statement
    empty = get(make_session("f3")).json()
    assert (empty["movements"], empty["totals"]) == ([], [])


def test_the_window_is_from_inclusive_to_exclusive(history):
    session, first, _ = history
    bet = Transaction.objects.get(position=first, kind="follower_debit")
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    Transaction.objects.filter(pk=bet.pk).update(completed_at=at)
    # inclusive start
    inside = get(session, **{"from": "2026-03-01T12:00:00Z", "to": "2026-03-02"}).json()
    assert [m["externalId"] for m in inside["movements"]] == [bet.external_id]
    assert inside["totals"][0]["moneyOut"] == "100.00000000"
    # exclusive end
    before = get(session, **{"from": "2026-02-01", "to": "2026-03-01T12:00:00Z"}).json()
    assert before["movements"] == []
    # the default (the last 30 days) does not reach back to March
    recent = get(session).json()
    assert bet.external_id not in {m["externalId"] for m in recent["movements"]}


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"from": "2026-02-30"},
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"from": "2026-03-01", "to": "2026-03-01"},
        {"from": "2025-01-01", "to": "2026-03-01"},
        {"to": "0001-01-02"},
        {"to": "2026-03-01T25:00"},
    ],
)
def test_a_bad_period_is_refused(history, params):
    session, *_ = history
    response = get(session, **params)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_INVALID_PERIOD"
    # asked as CSV, the error is still JSON
    response = get(session, format="csv", **params)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"


def test_periods_of_366_days_and_offsets_are_taken():
    period = statement_period(start="2024-01-01", end="2025-01-01")
    assert period.end - period.start == timedelta(days=366)
    period = statement_period(start="2026-03-01T02:00+02:00", end="2026-03-02T00:00")
    assert period.start == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    now = timezone.now()
    period = statement_period(start=None, end=None, now=now)
    assert (period.start, period.end) == (now - timedelta(days=30), now)


@pytest.mark.parametrize("how", ["accept", "format"])
def test_the_csv_says_what_the_json_says(history, how):
    session, *_ = history
    json_body = get(session).json()
    client = client_for(session)
    if how == "accept":
        response = client.get("/api/v1/statement", HTTP_ACCEPT="text/csv")
    else:
        response = client.get("/api/v1/statement?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [
        (r["positionId"], r["streamerName"], r["kind"], r["amount"], r["currency"], r["externalId"])
        for r in rows
    ] == [
        (m["positionId"], m["streamerName"], m["kind"], m["amount"], m["currency"], m["externalId"])
        for m in json_body["movements"]
    ]
    assert [datetime.fromisoformat(r["time"]) for r in rows] == [
        datetime.fromisoformat(m["time"].replace("Z", "+00:00")) for m in json_body["movements"]
    ]


def test_a_movement_carries_the_receipt_of_its_saga(history):
    # given: the sagas wrote the receipts of the join and the leave (the failed join, whose
    # transfer was refused, priced nothing)
    session, first, _ = history
    join = Receipt.objects.get(saga__position=first, saga__kind=Saga.Kind.JOIN)
    leave = Receipt.objects.get(saga__position=first, saga__kind=Saga.Kind.LEAVE)
    # when
    body = get(session).json()
    # then: the BET carries the join's price, the WIN the leave's; the refund carries none
    by_kind = {m["kind"]: m for m in body["movements"] if m["positionId"] == str(first.pk)}
    assert by_kind["BET"]["receipt"]["kind"] == "join"
    assert by_kind["BET"]["receipt"]["units"] == f"{join.units:.18f}"
    assert by_kind["BET"]["receipt"]["balance"] == f"{join.balance:.8f}"
    assert by_kind["WIN"]["receipt"]["kind"] == "leave"
    assert by_kind["WIN"]["receipt"]["nav"] == f"{leave.nav:.18f}"
    others = [m for m in body["movements"] if m["positionId"] != str(first.pk)]
    assert others and all(m["receipt"] is None for m in others)
    rows = list(
        csv.DictReader(
            io.StringIO(client_for(session).get("/api/v1/statement?format=csv").content.decode())
        )
    )
    priced = sorted(r["receiptKind"] for r in rows if r["receiptKind"])
    assert priced == ["join", "leave"]
    [bet_row] = [r for r in rows if r["receiptKind"] == "join"]
    assert (bet_row["receiptNav"], bet_row["receiptBalance"]) == (
        f"{join.nav:.18f}",
        f"{join.balance:.8f}",
    )
