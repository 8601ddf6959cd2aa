"""The site's own pages: the start page at ``/``, the favicon, and the sign-in lockout page."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse


@pytest.mark.django_db
def test_the_start_page_links_to_the_back_office_the_api_docs_and_the_player_page(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for url in (reverse("admin:index"), reverse("swagger-ui"), reverse("redoc"), reverse("play")):
        assert f'href="{url}"' in body
    assert 'rel="icon"' in body


@pytest.mark.django_db
def test_the_start_page_answers_only_reads(client):
    assert client.post("/").status_code == 405


@pytest.mark.django_db
def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("copypool/favicon.svg")


@pytest.mark.django_db(transaction=True)
@override_settings(AXES_ENABLED=True)
def test_a_locked_out_sign_in_gets_a_page_that_says_how_long_to_wait(client):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "right-password-1")
    url = reverse("admin:login")
    for _ in range(5):
        response = client.post(url, {"username": "boss", "password": "wrong"})
    # then: the fifth failure answers 429 with the styled page, not axes' one-line text
    assert response.status_code == 429
    body = response.content.decode()
    assert "Sign-in locked for now" in body
    assert "<strong>boss</strong>" in body
    wait = re.search(r"Try again in <strong>(\d+) minutes?</strong>", body)
    assert wait is not None
    # the cool-off is 15 minutes, counted from the lock: the wait is at most that
    assert 1 <= int(wait.group(1)) <= 15
    assert 'href="/static/copypool/site.css"' in body or "copypool/site.css" in body


def test_manage_py_does_not_print_the_axes_banner():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    # The developer's settings, where axes is on (the test settings turn it off).
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    result = subprocess.run(
        [sys.executable, "manage.py", "help"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "AXES: BEGIN" not in result.stdout + result.stderr
