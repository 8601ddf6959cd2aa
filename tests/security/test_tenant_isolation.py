"""Tenants apart: an operator's credentials reach only its own data, and a follower only their
own positions, whatever ids they send. (Same-operator followers and transaction-status across
operators are also in apps/transactions/tests: test_player_api.py,
test_transaction_status_api.py; init with another operator's stream in
apps/followers/tests/test_operator_api.py.)"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.followers.models import Follower, PlayerSession
from apps.followers.tokens import player_token_issue
from apps.operators.tests.factories import encode, make_operator, post_signed
from apps.streamers.models import Stream, Streamer
from apps.transactions.models import Transaction

pytestmark = pytest.mark.django_db

STATUS = "/api/v1/copystake/transaction-status"


def test_operator_a_cannot_read_operator_bs_transaction(client, operator):
    # given: a transaction of operator B (the shared fixture), and operator A's own credentials
    theirs = Transaction.objects.create(
        operator=operator,
        kind=Transaction.Kind.FOLLOWER_DEBIT,
        status=Transaction.Status.SUCCEEDED,
        amount=Decimal("10"),
        currency="USD",
    )
    me, credentials = make_operator()
    mine = Transaction.objects.create(
        operator=me,
        kind=Transaction.Kind.FOLLOWER_DEBIT,
        status=Transaction.Status.SUCCEEDED,
        amount=Decimal("5"),
        currency="USD",
    )
    # when: A asks for B's id, correctly signed with A's own secret
    response = post_signed(client, credentials, STATUS, encode({"id": theirs.external_id}))
    # then: as if it did not exist; A's own id still answers
    assert response.status_code == 404
    assert response.json()["errorCode"] == "ERR_TRANSACTION_NOT_FOUND"
    assert "10" not in response.content.decode()
    own = post_signed(client, credentials, STATUS, encode({"id": mine.external_id}))
    assert own.status_code == 200


def player(session: PlayerSession) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}")
    return api


def session_at(operator, user_id: str) -> PlayerSession:
    follower = Follower.objects.create(operator=operator, operator_user_id=user_id)
    return PlayerSession.objects.create(
        follower=follower,
        user_token=f"wallet-token-{user_id}",
        currency="USD",
        expires_at=timezone.now() + timedelta(hours=1),
    )


def test_a_follower_of_a_cannot_see_or_leave_bs_positions(fake, streamer, make_session):
    # given: B's follower (same user id as A's!) holds a position in B's pool
    owner = player(make_session("u-1"))
    joined = owner.post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "10"}, format="json"
    )
    assert joined.status_code == 201
    position_id = joined.json()["id"]
    other_operator, _ = make_operator()
    intruder = player(session_at(other_operator, "u-1"))
    # when / then: B's position does not exist for A's follower
    assert intruder.get(f"/api/v1/positions/{position_id}").status_code == 404
    left = intruder.post(f"/api/v1/positions/{position_id}/leave")
    assert (left.status_code, left.json()["errorCode"]) == (404, "ERR_POSITION_NOT_FOUND")
    assert intruder.get("/api/v1/positions").json() == []
    # and: the owner's position is untouched
    assert owner.get(f"/api/v1/positions/{position_id}").json()["status"] == "active"


def test_a_follower_of_a_cannot_join_bs_streamer_or_see_it_in_the_lobby(fake, streamer):
    # given: B's live streamer (the shared fixture), and a follower of operator A
    other_operator, _ = make_operator()
    own = Streamer.objects.create(
        operator=other_operator, operator_user_id="s-a", display_name="A's", currency="USD"
    )
    Stream.objects.create(streamer=own, status=Stream.Status.LIVE, started_at=timezone.now())
    intruder = player(session_at(other_operator, "f-a"))
    # when
    lobby = intruder.get("/api/v1/lobby").json()
    joined = intruder.post(
        "/api/v1/pools/join", {"streamerId": streamer.pk, "amount": "10"}, format="json"
    )
    # then
    assert [entry["streamerId"] for entry in lobby] == [own.pk]
    assert joined.status_code == 404
    assert joined.json()["errorCode"] == "ERR_STREAMER_NOT_FOUND"
    assert fake.calls == []  # nothing was sent to anyone's wallet
