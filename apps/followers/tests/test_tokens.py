from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apps.core.errors import SessionExpired, Unauthorized
from apps.followers.authentication import IsPlayer, PlayerTokenAuthentication
from apps.followers.tests.factories import FollowerFactory, PlayerSessionFactory
from apps.followers.tokens import SALT, player_token_issue, player_token_read, player_url
from apps.operators.services import operator_set_enabled

pytestmark = pytest.mark.django_db


class WhoAmIApi(APIView):
    """A throwaway player endpoint: the real player API uses the same two classes."""

    authentication_classes = [PlayerTokenAuthentication]
    permission_classes = [IsPlayer]

    def get(self, request):
        return Response(
            {"follower": request.user.operator_user_id, "session": request.auth.uid.hex}
        )


def call(authorization: str | None = None):
    extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    request = APIRequestFactory().get("/api/v1/whoami", data=None, **extra)
    response = WhoAmIApi.as_view()(request)
    response.render()
    return response


def forge(payload: dict) -> str:
    return signing.dumps(payload, salt=SALT, compress=True)


# --- tokens ---------------------------------------------------------------------------------


def test_issued_token_reads_back_to_its_session():
    # given
    session = PlayerSessionFactory()
    # when
    read = player_token_read(player_token_issue(session))
    # then
    assert read == session
    assert read.follower == session.follower


def test_token_payload_carries_session_operator_user_currency_expiry_and_demo_flag():
    # given
    session = PlayerSessionFactory(currency="EUR", follower__is_demo=True)
    # when
    payload = signing.loads(player_token_issue(session), salt=SALT)
    # then
    assert payload == {
        "sid": session.uid.hex,
        "op": session.follower.operator_id,
        "uid": session.follower.operator_user_id,
        "cur": "EUR",
        "exp": int(session.expires_at.timestamp()),
        "demo": True,
    }


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a:b:c", "x" * 5000, "ü" * 10, None, 12],
)
def test_garbage_tokens_are_unauthorized(token):
    with pytest.raises(Unauthorized):
        player_token_read(token)


def test_tampered_token_is_unauthorized():
    # given
    token = player_token_issue(PlayerSessionFactory())
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    # then
    with pytest.raises(Unauthorized):
        player_token_read(tampered)


def test_token_signed_with_another_salt_is_unauthorized():
    # given
    session = PlayerSessionFactory()
    payload = signing.loads(player_token_issue(session), salt=SALT)
    token = signing.dumps(payload, salt="some-other-purpose", compress=True)
    # then
    with pytest.raises(Unauthorized):
        player_token_read(token)


def test_token_of_an_unknown_session_is_unauthorized():
    # given
    session = PlayerSessionFactory()
    token = player_token_issue(session)
    session.delete()
    # then
    with pytest.raises(Unauthorized):
        player_token_read(token)


@pytest.mark.parametrize(
    ("field", "value"),
    [("op", 999_999), ("uid", "someone-else"), ("cur", "EUR"), ("demo", True), ("sid", "zz")],
)
def test_token_whose_payload_does_not_match_its_session_is_unauthorized(field, value):
    # given: a validly signed token (as if SECRET_KEY leaked) that lies about the session
    session = PlayerSessionFactory()
    payload = signing.loads(player_token_issue(session), salt=SALT)
    payload[field] = value
    # then
    with pytest.raises(Unauthorized):
        player_token_read(forge(payload))


def test_expired_token_raises_session_expired():
    # given
    session = PlayerSessionFactory(expired=True)
    token = player_token_issue(session)
    # then
    with pytest.raises(SessionExpired):
        player_token_read(token)


def test_moving_the_session_expiry_into_the_past_revokes_its_tokens():
    # given
    session = PlayerSessionFactory()
    token = player_token_issue(session)
    session.expires_at = timezone.now() - timedelta(seconds=1)
    session.save(update_fields=["expires_at"])
    # then
    with pytest.raises(SessionExpired):
        player_token_read(token)


def test_player_url_has_token_and_stream(settings):
    # given
    settings.PUBLIC_BASE_URL = "https://cs.example"
    session = PlayerSessionFactory(stream_uid="7b699688-f4ad-407d-baf5-c006ba8d50e2")
    session.refresh_from_db()
    # when
    url = player_url(session)
    # then
    token = player_token_issue(session)
    assert url == (
        f"https://cs.example/play/?token={token}&stream=7b699688-f4ad-407d-baf5-c006ba8d50e2"
    )


# --- authentication -------------------------------------------------------------------------


def test_bearer_token_authenticates_the_follower_and_session():
    # given
    session = PlayerSessionFactory()
    # when
    response = call(f"Bearer {player_token_issue(session)}")
    # then
    assert response.status_code == 200
    assert response.data == {
        "follower": session.follower.operator_user_id,
        "session": session.uid.hex,
    }


def test_missing_authorization_answers_401_with_bearer_challenge():
    # when
    response = call()
    # then
    assert response.status_code == 401
    assert response.data["errorCode"] == "ERR_UNAUTHORIZED"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer garbage", "Bearer a b", "Basic dXNlcjpwYXNz", "Bearer \u00e9t\u00e9"],
)
def test_bad_authorization_answers_401(header):
    # when
    response = call(header)
    # then
    assert response.status_code == 401
    assert response.data["errorCode"] == "ERR_UNAUTHORIZED"


def test_tampered_bearer_token_answers_401():
    # given
    token = player_token_issue(PlayerSessionFactory())
    # when
    response = call(f"Bearer {token[:-2]}xx")
    # then
    assert response.status_code == 401
    assert response.data["errorCode"] == "ERR_UNAUTHORIZED"


def test_expired_bearer_token_answers_401_session_expired():
    # given
    token = player_token_issue(PlayerSessionFactory(expired=True))
    # when
    response = call(f"Bearer {token}")
    # then
    assert response.status_code == 401
    assert response.data == {
        "errorCode": "ERR_SESSION_EXPIRED",
        "errorMessage": "Player session expired",
    }


def test_player_of_a_disabled_operator_gets_copystake_off():
    # given
    follower = FollowerFactory()
    token = player_token_issue(PlayerSessionFactory(follower=follower))
    operator_set_enabled(operator=follower.operator, enabled=False)
    # when
    response = call(f"Bearer {token}")
    # then
    assert response.status_code == 400
    assert response.data["errorCode"] == "ERR_COPYSTAKE_OFF"
