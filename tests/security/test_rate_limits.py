"""Rate limits: the operator API counted per operator, the player API per follower; over the
rate, 429 ``ERR_THROTTLED`` in the usual shape with ``Retry-After``. Rates and the shared
cache come from the environment."""

import os
import subprocess
import sys

import pytest

from apps.followers.tokens import player_token_issue
from apps.operators.models import CallLog
from apps.operators.tests.factories import encode, make_operator, post_signed
from tests.test_settings import ROOT

pytestmark = pytest.mark.django_db

INIT_DEMO = "/api/v1/copystake/init-demo"
STATUS = "/api/v1/copystake/transaction-status"


@pytest.fixture
def rates(settings):
    def set_rates(**rates: str) -> None:
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**current, **rates},
        }

    return set_rates


def assert_throttled(response, *, within: int) -> None:
    assert response.status_code == 429
    body = response.json()
    assert body["errorCode"] == "ERR_THROTTLED"
    assert set(body) == {"errorCode", "errorMessage"}
    assert 1 <= int(response["Retry-After"]) <= within


def test_an_operator_over_its_rate_is_answered_429_on_every_endpoint(client, rates):
    # given: 3 calls a minute
    rates(operator="3/min")
    _, credentials = make_operator()
    # when: three calls, spread over two endpoints, then a fourth and a fifth
    assert post_signed(client, credentials, INIT_DEMO, b"{}").status_code == 200
    assert post_signed(client, credentials, STATUS, encode({"id": "x"})).status_code == 404
    assert post_signed(client, credentials, INIT_DEMO, b"{}").status_code == 200
    # then
    assert_throttled(post_signed(client, credentials, INIT_DEMO, b"{}"), within=60)
    assert_throttled(post_signed(client, credentials, STATUS, encode({"id": "x"})), within=60)
    # and: the refusal is in the call log like any other answer
    refused = CallLog.objects.filter(error_code="ERR_THROTTLED")
    assert refused.count() == 2


def test_operators_are_counted_apart(client, rates):
    rates(operator="1/min")
    _, first = make_operator()
    _, second = make_operator()
    assert post_signed(client, first, INIT_DEMO, b"{}").status_code == 200
    assert post_signed(client, first, INIT_DEMO, b"{}").status_code == 429
    assert post_signed(client, second, INIT_DEMO, b"{}").status_code == 200


def test_a_bad_signature_is_refused_before_it_counts(client, rates):
    rates(operator="1/min")
    _, credentials = make_operator()
    forged = {**credentials, "secret_key": "wrong"}
    for _ in range(3):
        assert post_signed(client, forged, INIT_DEMO, b"{}").status_code == 401
    assert post_signed(client, credentials, INIT_DEMO, b"{}").status_code == 200


def test_a_follower_over_the_rate_is_answered_429_and_others_are_not(
    client, rates, make_session, streamer
):
    # given: 2 calls a minute per follower; two sessions of f1 and one of f2
    rates(player="2/min")
    first, again = make_session("f1"), make_session("f1")
    other = make_session("f2")

    def lobby(session):
        token = player_token_issue(session)
        return client.get("/api/v1/lobby", HTTP_AUTHORIZATION=f"Bearer {token}")

    # when
    assert lobby(first).status_code == 200
    assert (
        client.get(
            "/api/v1/positions", HTTP_AUTHORIZATION=f"Bearer {player_token_issue(first)}"
        ).status_code
        == 200
    )
    # then: the follower's third call is refused, whichever session makes it
    assert_throttled(lobby(again), within=60)
    assert lobby(other).status_code == 200


def test_a_missing_token_is_refused_before_it_counts(client, rates, make_session, streamer):
    rates(player="1/min")
    for _ in range(3):
        assert client.get("/api/v1/lobby").status_code == 401
    token = player_token_issue(make_session("f1"))
    assert client.get("/api/v1/lobby", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def read_settings(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CACHE_URL", "COPYPOOL_OPERATOR_API_RATE", "COPYPOOL_PLAYER_API_RATE"}
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings.local")
    program = f"import django; django.setup(); from django.conf import settings as s; {code}"
    return subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_rates_and_the_cache_come_from_the_environment():
    code = (
        "print(s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['operator'], "
        "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['player'], s.CACHES['default']['BACKEND'])"
    )
    defaults = read_settings(code)
    assert defaults.returncode == 0, defaults.stderr[-2000:]
    assert defaults.stdout.split() == [
        "6000/min",
        "600/min",
        "django.core.cache.backends.locmem.LocMemCache",
    ]
    configured = read_settings(
        code,
        COPYPOOL_OPERATOR_API_RATE="100/s",
        COPYPOOL_PLAYER_API_RATE="30/min",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )
    assert configured.returncode == 0, configured.stderr[-2000:]
    assert configured.stdout.split() == [
        "100/s",
        "30/min",
        "django.core.cache.backends.redis.RedisCache",
    ]


@pytest.mark.parametrize("rate", ["lots", "0/min", "10/fortnight", "10"])
def test_a_malformed_rate_refuses_to_start(rate):
    result = read_settings("print(1)", COPYPOOL_PLAYER_API_RATE=rate)
    assert result.returncode != 0
    assert "COPYPOOL_PLAYER_API_RATE must look like 600/min" in result.stderr
