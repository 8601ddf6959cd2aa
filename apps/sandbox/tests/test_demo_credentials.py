"""``bin/demo`` keeps its operator key and admin password from run to run, or says it changed."""

import stat

import pytest
from django.contrib.auth import get_user_model

from apps.operators.models import Operator, api_key_digest
from apps.sandbox.demo import demo_setup

BASE = "http://127.0.0.1:8000"


def key_works(key: str) -> bool:
    return Operator.objects.filter(api_key_digest=api_key_digest(key)).exists()


@pytest.mark.django_db
def test_a_second_run_prints_the_same_key_and_password(tmp_path):
    kept = tmp_path / "demo-credentials.json"
    first = demo_setup(base_url=BASE, credentials_file=kept)
    second = demo_setup(base_url=BASE, credentials_file=kept)

    assert (first.api_key_status, first.password_status) == ("new", "new")
    assert (second.api_key_status, second.password_status) == ("kept", "kept")
    assert second.operator_api_key == first.operator_api_key and key_works(first.operator_api_key)
    admin = get_user_model().objects.get(username="admin")
    assert second.admin_password == first.admin_password
    assert admin.check_password(first.admin_password)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # owner-only: it holds secrets


@pytest.mark.django_db
def test_lost_or_stale_credentials_are_replaced_and_said_so(tmp_path):
    kept = tmp_path / "demo-credentials.json"
    first = demo_setup(base_url=BASE, credentials_file=kept)
    kept.unlink()
    second = demo_setup(base_url=BASE, credentials_file=kept)
    assert (second.api_key_status, second.password_status) == ("replaced", "replaced")
    assert not key_works(first.operator_api_key) and key_works(second.operator_api_key)

    kept.write_text('{"api_key": "stale", "admin_password": "wrong"}')
    third = demo_setup(base_url=BASE, credentials_file=kept)
    assert (third.api_key_status, third.password_status) == ("replaced", "replaced")
    assert key_works(third.operator_api_key)

    kept.write_text("not json")
    fourth = demo_setup(base_url=BASE, credentials_file=kept)
    assert fourth.api_key_status == "replaced" and key_works(fourth.operator_api_key)
