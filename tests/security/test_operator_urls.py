"""Operator URLs: CopyPool's workers post signed calls to them, so they may point only at a
public https host (apps/operators/validators.py), wherever an operator is created or edited:
the service, the create_operator command, the admin form."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.backoffice.tests.admin_world import superuser
from apps.operators.models import Operator
from apps.operators.services import operator_create
from apps.operators.tests.factories import OperatorFactory
from apps.operators.validators import validate_operator_url
from tests.test_settings import FERNET, ROOT

PUBLIC = [
    "https://casino.example/copystake",
    "https://casino.example:8443/wallet",
    "https://api.casino.example./cb",
    "https://93.184.216.34/cb",  # a public address, written as an IP
    "https://[2606:2800:220:1:248:1893:25c8:1946]/cb",
]
# Refused in production, allowed by the development switch (the sandbox on 127.0.0.1).
DEVELOPMENT_ONLY = [
    "http://casino.example/cb",
    "http://127.0.0.1:8000/sandbox/acme/copystake",
    "https://127.0.0.1/cb",
    "https://127.1/cb",  # the same address in the spellings resolvers accept
    "https://2130706433/cb",
    "https://0x7f000001/cb",
    "https://[::1]/cb",
    "https://[::ffff:127.0.0.1]/cb",
    "https://localhost/cb",
    "https://LOCALHOST./cb",
    "https://api.localhost/cb",
    "https://10.1.2.3/cb",
    "https://172.16.0.1/cb",
    "https://192.168.1.10/cb",
    "https://100.64.0.1/cb",  # shared address space: not public either
]
# Refused whatever the switch says.
NEVER = [
    "ftp://casino.example/cb",
    "file:///etc/passwd",
    "gopher://casino.example:70/_",
    "javascript:alert(1)",
    "https://user:pass@casino.example/cb",
    "https://user@casino.example/cb",
    "https://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "https://169.254.1.1/cb",
    "https://[fe80::1]/cb",
    "https://224.0.0.1/cb",
    "https://[ff02::1]/cb",
    "https://0.0.0.0/cb",
    "https://[::]/cb",
    "https://240.0.0.1/cb",
    "https://casino.example:22/cb",
    "https://casino.example:25/cb",
    "https://casino.example:3306/cb",
    "https://casino.example:5432/cb",
    "https://casino.example:6379/cb",
    "https://casino.example:11211/cb",
    "https://casino.example:80/cb",  # a port below 1024 that is not the scheme's
    "https://casino.example:99999/cb",
    "https:///cb",
]


@pytest.fixture
def production(settings):
    settings.COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS = False
    return settings


@pytest.fixture
def development(settings):
    settings.COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS = True
    return settings


@pytest.mark.parametrize("url", PUBLIC)
def test_public_https_urls_are_accepted(production, url):
    validate_operator_url(url)


@pytest.mark.parametrize("url", DEVELOPMENT_ONLY + NEVER)
def test_without_the_development_switch_only_public_https_is_accepted(production, url):
    with pytest.raises(ValidationError):
        validate_operator_url(url)


@pytest.mark.parametrize("url", PUBLIC + DEVELOPMENT_ONLY)
def test_the_development_switch_allows_http_and_this_machine(development, url):
    validate_operator_url(url)


@pytest.mark.parametrize(
    "url",
    NEVER
    + [
        "http://127.0.0.1:6379/",
        "http://localhost:5432/",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "http://user:pw@127.0.0.1:8000/cb",
    ],
)
def test_the_development_switch_still_refuses_schemes_ports_and_metadata(development, url):
    with pytest.raises(ValidationError):
        validate_operator_url(url)


@pytest.mark.parametrize(
    "module, expected",
    [
        ("config.settings.production", "False"),
        ("config.settings.local", "True"),
        ("config.settings.test", "True"),
    ],
)
def test_the_switch_is_off_in_production_and_on_in_development(module, expected):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS)"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS", "DATABASE_URL"}
    }
    env.update(DJANGO_SETTINGS_MODULE=module, SECRET_KEY="x" * 50, FIELD_ENCRYPTION_KEY=FERNET)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [expected]


# --- every way in ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["callback_url", "wallet_url"])
def test_operator_create_refuses_an_internal_url_and_creates_nothing(production, field):
    urls = {"callback_url": "https://casino.example/cb", "wallet_url": "https://casino.example/w"}
    urls[field] = "https://169.254.169.254/latest"
    with pytest.raises(ValidationError) as error:
        operator_create(name="Acme", **urls)
    assert set(error.value.message_dict) == {field}
    assert not Operator.objects.exists()


@pytest.mark.django_db
def test_the_model_refuses_an_internal_url_on_full_clean(production):
    operator = OperatorFactory(callback_url="https://casino.example/cb")
    operator.wallet_url = "https://10.0.0.7:8080/wallet"
    with pytest.raises(ValidationError) as error:
        operator.full_clean()
    assert set(error.value.message_dict) == {"wallet_url"}


@pytest.mark.django_db
def test_create_operator_command_refuses_credentials_in_the_url(production):
    with pytest.raises(CommandError, match="must not contain a user name or password"):
        call_command(
            "create_operator",
            "--name",
            "Acme",
            "--callback-url",
            "https://ops:hunter2@casino.example/cb",
            "--wallet-url",
            "https://casino.example/wallet",
        )
    assert not Operator.objects.exists()


@pytest.mark.django_db
def test_the_admin_form_refuses_an_internal_url_on_edit(production, client):
    # given: an operator, edited by staff
    operator = OperatorFactory(
        callback_url="https://casino.example/cb", wallet_url="https://casino.example/w"
    )
    client.force_login(superuser())
    form = {
        "name": operator.name,
        "code": operator.code,
        "callback_url": "https://casino.example:6379/cb",
        "wallet_url": operator.wallet_url,
        "wallet_client_id": operator.wallet_client_id,
        "ip_allowlist": "",
        "session_ttl_seconds": "3600",
        "min_contribution": "1",
        "max_contribution": "10000",
        "max_followers_per_pool": "1000",
        "request_timeout_seconds": "5",
        "change_reason": "moved",
    }
    # when
    response = client.post(reverse("admin:operators_operator_change", args=[operator.pk]), form)
    # then: the form again, with the error; nothing saved
    assert response.status_code == 200
    assert "Port 6379 is Redis" in response.content.decode()
    operator.refresh_from_db()
    assert operator.callback_url == "https://casino.example/cb"
