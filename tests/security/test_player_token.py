"""The player token stays out of URLs and logs: ``/play/?token=`` is exchanged for the page's
cookie by a redirect, the page gets its token from the server, and log lines that carry a
``token=`` (Django's request lines, gunicorn's access log) are redacted."""

import logging
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from apps.core.logging import RedactTokensFilter, redact_tokens
from apps.followers.tokens import player_token_issue, player_url
from apps.followers.views import PLAY_COOKIE
from tests.test_settings import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(make_session):
    return player_token_issue(make_session("f1"))


def test_the_init_url_is_exchanged_for_a_cookie_and_a_url_without_the_token(client, token):
    # when: the follower's browser opens the URL init returned, with other parameters
    response = client.get("/play/", {"token": token, "stream": "abc", "lang": "en"})
    # then: redirected to the same page without the token
    assert response.status_code == 302
    assert response["Location"] == "/play/?stream=abc&lang=en"
    assert token not in response["Location"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    # and: the token is in a cookie only the page sees, for as long as the session lives
    cookie = response.cookies[PLAY_COOKIE]
    assert cookie.value == token
    assert (cookie["path"], cookie["httponly"]) == ("/play/", True)
    assert 3590 <= int(cookie["max-age"]) <= 3600


def test_the_page_gets_its_token_from_the_cookie(client, token):
    # given
    client.get("/play/", {"token": token})
    # when
    response = client.get("/play/", {"stream": "abc"})
    # then: the page's config carries the token for its script, the URL does not
    assert response.status_code == 200
    config = response.context["config"]
    assert (config["token"], config["streamId"], config["fromStorage"]) == (token, "abc", False)
    assert response.wsgi_request.get_full_path() == "/play/?stream=abc"


def test_over_https_the_cookie_works_inside_the_operators_frame(client, token):
    response = client.get("/play/", {"token": token}, secure=True)
    header = response.cookies[PLAY_COOKIE].output()
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/play/"):
        assert attribute in header
    assert "X-Frame-Options" not in response


def test_over_plain_http_off_loopback_the_cookie_is_lax_and_not_secure(client, token):
    # SameSite=None without Secure is refused by browsers: plain http gets Lax instead.
    response = client.get("/play/", {"token": token})
    header = response.cookies[PLAY_COOKIE].output()
    assert "SameSite=Lax" in header and "Secure" not in header and "Partitioned" not in header


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_on_loopback_the_cookie_is_secure_as_browsers_allow(client, token, settings, host):
    settings.ALLOWED_HOSTS = [host]
    response = client.get("/play/", {"token": token}, HTTP_HOST=f"{host}:8000")
    header = response.cookies[PLAY_COOKIE].output()
    assert "Secure" in header and "SameSite=None" in header


def test_a_bad_token_sets_no_cookie_and_says_so(client):
    response = client.get("/play/", {"token": "not-a-token"})
    assert response.status_code == 401
    assert b"ERR_UNAUTHORIZED" in response.content
    assert PLAY_COOKIE not in response.cookies


def test_an_expired_cookie_is_cleared(client, make_session):
    # given: a cookie whose session has ended since
    session = make_session("f1")
    client.get("/play/", {"token": player_token_issue(session)})
    session.expires_at = timezone.now() - timedelta(seconds=1)
    session.save(update_fields=["expires_at"])
    # when
    response = client.get("/play/")
    # then
    assert response.status_code == 401
    assert b"ERR_SESSION_EXPIRED" in response.content
    assert response.cookies[PLAY_COOKIE].value == ""
    assert response.cookies[PLAY_COOKIE]["max-age"] == 0


def test_the_init_url_still_carries_the_token_for_the_exchange(make_session, settings):
    settings.PUBLIC_BASE_URL = "https://copystake.example"
    url = player_url(make_session("f1"))
    assert url.startswith("https://copystake.example/play/?token=")


# --- logs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        '"GET /play/?token=eyJzaWQ.abc:def HTTP/1.1" 302 0',
        '"GET /play/?stream=1&token=eyJzaWQ.abc:def&lang=en HTTP/1.1" 302 0',
        "Not Found: /admin/login/?next=/play/%3Ftoken%3DeyJzaWQ.abc:def",
    ],
)
def test_log_lines_lose_the_token(line):
    redacted = redact_tokens(line)
    assert "eyJzaWQ.abc:def" not in redacted
    assert "[redacted]" in redacted


def test_every_log_handler_redacts_and_django_request_lines_go_through_it():
    handlers = settings.LOGGING["handlers"]
    assert all("redact_tokens" in handler.get("filters", []) for handler in handlers.values())
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["console"]
    # and the filter rewrites a request-line record as Django's server writes it
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /play/?token=T1 x", 302, 0),
        None,
    )
    assert RedactTokensFilter().filter(record) is True
    assert record.getMessage() == '"GET /play/?token=[redacted] x" 302 0'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_gunicorns_access_log_redacts_the_token(tmp_path):
    # given: gunicorn started the documented way
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    log = tmp_path / "access.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "-w", "1"]
        + ["-b", f"127.0.0.1:{port}", "--access-logfile", str(log), "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/play/?stream=s1&token=SECRET-TOKEN-123", timeout=5
                )
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert answer.status_code == 401  # not a token the server issued
    finally:
        server.terminate()
        server.wait(timeout=20)
    # then: the request was logged, its token was not
    text = log.read_text()
    assert "GET /play/?stream=s1&token=[redacted] HTTP/1.1" in text
    assert "SECRET-TOKEN-123" not in text
