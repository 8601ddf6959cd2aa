"""Admin login lockout (django-axes): on wherever it is not explicitly turned off, and locking
the attacked account only. (Five failures lock out, even the right password then:
apps/backoffice/tests/test_admin_site.py::test_failed_admin_logins_are_rate_limited.)"""

import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from tests.test_settings import FERNET, ROOT


@pytest.mark.parametrize("module", ["config.settings.production", "config.settings.local"])
def test_axes_is_on_with_five_tries_and_a_cool_off(module):
    code = (
        "import django; django.setup(); from axes.conf import settings as s; "
        "print(s.AXES_ENABLED, s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()))"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"AXES_ENABLED", "DATABASE_URL"}}
    env.update(DJANGO_SETTINGS_MODULE=module, SECRET_KEY="x" * 50, FIELD_ENCRYPTION_KEY=FERNET)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "5", "900"]


@pytest.mark.django_db(transaction=True)
@override_settings(AXES_ENABLED=True)
def test_a_locked_out_account_does_not_lock_out_the_others(client):
    users = get_user_model().objects
    users.create_superuser("boss", "boss@example.com", "right-password-1")
    users.create_superuser("ops", "ops@example.com", "right-password-2")
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": "boss", "password": "wrong"})
    assert client.post(url, {"username": "boss", "password": "right-password-1"}).status_code == 429
    # when: a colleague logs in from the same address
    response = client.post(
        f"{url}?next=/admin/", {"username": "ops", "password": "right-password-2"}
    )
    # then
    assert response.status_code == 302
