"""``POST /api/v1/invites/redeem``: a player opens a private streamer's invite link."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from apps.followers.tokens import invite_url, player_token_issue
from apps.streamers.access import invite_create, invite_revoke
from apps.streamers.models import StreamerAccess, StreamerInvite
from apps.streamers.selectors import streamer_admits
from apps.streamers.tests.factories import StreamerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/invites/redeem"


def client_for(session) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}")
    return client


@pytest.fixture
def private(operator):
    return StreamerFactory(operator=operator, is_private=True, display_name="Secret Sam")


def test_redeem_puts_the_player_on_the_allowlist(make_session, private):
    # given
    invite = invite_create(streamer=private, valid_for=timedelta(days=1), max_uses=5)
    # when
    response = client_for(make_session("f1")).post(URL, {"code": invite.code}, format="json")
    # then
    assert response.status_code == 200, response.content
    assert response.json() == {"streamerId": private.pk, "name": "Secret Sam"}
    assert streamer_admits(streamer=private, operator_user_id="f1")
    assert StreamerInvite.objects.get(pk=invite.pk).uses == 1


def test_redeem_again_answers_the_same_and_uses_nothing_up(make_session, private):
    invite = invite_create(streamer=private, valid_for=timedelta(days=1), max_uses=1)
    client = client_for(make_session("f1"))
    first = client.post(URL, {"code": invite.code}, format="json")
    second = client.post(URL, {"code": invite.code}, format="json")
    assert first.json() == second.json()
    assert second.status_code == 200
    assert StreamerInvite.objects.get(pk=invite.pk).uses == 1


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown", "No invite link has this code"),
        ("revoked", "This invite link was revoked"),
        ("demo", "Invite links are for real players, not demo sessions"),
        ("used up", "This invite link has been used up (1 uses)"),
    ],
)
def test_an_unusable_link_answers_404_saying_why(make_session, private, case, message):
    # given
    invite = invite_create(streamer=private, valid_for=timedelta(days=1), max_uses=1)
    code = invite.code
    if case == "unknown":
        code = "not-a-code"
    if case == "revoked":
        invite_revoke(invite=invite)
    if case == "used up":
        client_for(make_session("someone-else")).post(URL, {"code": code}, format="json")
    session = make_session("f1", demo=case == "demo")
    # when
    response = client_for(session).post(URL, {"code": code}, format="json")
    # then
    assert response.status_code == 404
    assert response.json() == {"errorCode": "ERR_INVITE_INVALID", "errorMessage": message}
    assert not StreamerAccess.objects.filter(operator_user_id="f1").exists()


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 12}, {"code": "x" * 41}])
def test_a_malformed_body_answers_400(make_session, private, body):
    response = client_for(make_session("f1")).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_VALIDATION"


def test_redeem_needs_a_player_token(private):
    invite = invite_create(streamer=private, valid_for=timedelta(days=1))
    response = APIClient().post(URL, {"code": invite.code}, format="json")
    assert response.status_code == 401
    assert not StreamerAccess.objects.exists()


def test_the_invite_link_is_the_play_page_with_the_code(settings):
    settings.PUBLIC_BASE_URL = "https://copystake.example"
    assert invite_url("abc-DEF_1") == "https://copystake.example/play/?invite=abc-DEF_1"
