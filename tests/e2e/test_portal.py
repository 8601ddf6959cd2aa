"""The operator portal over real HTTP against the sandbox operator: a URL change is checked
with a signed ``streamer-balance`` before it is saved, and a key rotation started in the
portal keeps the old key and secret working through its overlap window, then only the new.
"""

from __future__ import annotations

import re

import httpx
import pytest
from django.urls import reverse

from apps.backoffice.models import StaffAction
from apps.core import wire
from apps.operators.models import Operator
from apps.operators.services import operator_test_connection
from apps.operators.signatures import copystake_signature
from apps.portal.tests.portal_world import member, sign_in
from apps.sandbox.services import sandbox_operator_create
from tests.e2e.world import API_KEY, SLUG, World

pytestmark = pytest.mark.django_db(transaction=True)


def _configuration(operator: Operator, **changes) -> dict:
    values = {
        "callback_url": operator.callback_url,
        "wallet_url": operator.wallet_url,
        "ip_allowlist": operator.ip_allowlist,
        "min_contribution": str(operator.min_contribution),
        "max_contribution": str(operator.max_contribution),
        "max_followers_per_pool": str(operator.max_followers_per_pool),
        "max_pool_value": "",
        "languages": operator.languages,
        "reason": "moving to our new gateway",
    }
    return {**values, **changes}


def _status(world: World, api_key: str, secret: str) -> httpx.Response:
    """A signed ``init-demo`` call, as the operator's systems make it."""
    raw = wire.dumps({"language": "en"})
    return httpx.post(
        f"{world.base}/api/v1/copystake/init-demo",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-API-KEY": api_key,
            "X-REQUEST-SIGNATURE": copystake_signature(secret, raw),
        },
        timeout=30,
    )


def test_a_url_change_is_saved_only_after_a_signed_check_to_it_succeeds(world, client):
    admin = member(world.operator)
    sign_in(client, admin)
    page = reverse("portal:configuration")
    good = world.base.replace("localhost", "127.0.0.1") + f"/sandbox/{SLUG}/copystake"
    assert good != world.operator.callback_url

    # A sandbox operator that does not know our secret: it answers, but refuses the signature.
    sandbox_operator_create(
        slug="stranger",
        name="Stranger",
        api_key="stranger-key",
        secret_key="a-secret-we-do-not-have",
        wallet_client_id="stranger-client",
        wallet_secret="stranger-wallet",
    )
    refused = world.base + "/sandbox/stranger/copystake"
    before = world.operator.callback_url
    response = client.post(page, _configuration(world.operator, callback_url=refused))
    assert response.status_code == 200
    assert b"signed streamer-balance check of the new URL failed" in response.content
    world.operator.refresh_from_db()
    assert world.operator.callback_url == before
    audit = StaffAction.objects.get(action="portal_configuration_change")
    assert audit.outcome == StaffAction.Outcome.REFUSED
    assert audit.username == admin.user.username and audit.reason == "moving to our new gateway"

    # Nobody there at all: refused too.
    nowhere = world.base + "/sandbox/nobody-here/copystake"
    response = client.post(page, _configuration(world.operator, callback_url=nowhere))
    assert b"check of the new URL failed" in response.content
    world.operator.refresh_from_db()
    assert world.operator.callback_url == before

    response = client.post(page, _configuration(world.operator, callback_url=good))
    assert response.status_code == 302, response.content[:2000]
    world.operator.refresh_from_db()
    assert world.operator.callback_url == good
    done = StaffAction.objects.filter(
        action="portal_configuration_change", outcome=StaffAction.Outcome.DONE
    ).get()
    assert before in done.message and good in done.message
    # The history of the operator row says who changed it, as for staff edits.
    latest = world.operator.history.first()
    assert latest is not None and latest.callback_url == good


def test_limits_change_without_a_url_check_and_bad_values_change_nothing(world, client):
    sign_in(client, member(world.operator))
    page = reverse("portal:configuration")
    response = client.post(page, _configuration(world.operator, max_contribution="0.5"))
    assert response.status_code == 200  # below the minimum: the form says so
    world.operator.refresh_from_db()
    assert str(world.operator.max_contribution) == "10000.00000000"
    response = client.post(page, _configuration(world.operator, max_contribution="2500"))
    assert response.status_code == 302
    world.operator.refresh_from_db()
    assert str(world.operator.max_contribution) == "2500.00000000"


def test_support_sees_the_configuration_and_cannot_change_it(world, client):
    sign_in(client, member(world.operator, role="support"))
    page = reverse("portal:configuration")
    assert client.get(page).status_code == 200
    response = client.post(page, _configuration(world.operator, max_contribution="2500"))
    assert response.status_code == 403
    world.operator.refresh_from_db()
    assert str(world.operator.max_contribution) == "10000.00000000"


def test_a_portal_key_rotation_keeps_the_old_key_working_until_it_is_finished(world, client):
    admin = member(world.operator)
    sign_in(client, admin)
    old_secret = world.operator.secret_key
    assert _status(world, API_KEY, old_secret).status_code == 200

    response = client.post(
        reverse("portal:keys"), {"overlap_hours": "24", "reason": "yearly rotation"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    new_key = re.search(r'data-testid="new-api-key">([^<]+)<', page).group(1)
    new_secret = re.search(r'data-testid="new-secret-key">([^<]+)<', page).group(1)
    assert new_key != API_KEY and new_secret != old_secret
    # Shown once: the keys page afterwards shows neither.
    again = client.get(reverse("portal:keys")).content.decode()
    assert new_key not in again and new_secret not in again
    assert "In progress" in again

    # In the window both pairs are accepted; CopyStake still signs its calls to the operator
    # with the old secret, which the operator's (the sandbox's) side still has.
    assert _status(world, API_KEY, old_secret).status_code == 200
    assert _status(world, new_key, new_secret).status_code == 200
    assert _status(world, new_key, "a-wrong-secret").status_code == 401
    world.operator.refresh_from_db()
    assert operator_test_connection(operator=world.operator).ok

    response = client.post(reverse("portal:keys"), {"finish": "yes"})
    assert response.status_code == 302
    refused = _status(world, API_KEY, old_secret)
    assert refused.status_code == 401
    assert refused.json() == {"errorCode": "ERR_UNAUTHORIZED", "errorMessage": "Invalid X-API-KEY"}
    assert _status(world, new_key, new_secret).status_code == 200

    # From now CopyStake signs with the new secret: the operator's side needs it too.
    world.operator.refresh_from_db()
    assert not operator_test_connection(operator=world.operator).ok
    world.sandbox.secret_key = new_secret
    world.sandbox.save()
    assert operator_test_connection(operator=world.operator).ok

    actions = list(
        StaffAction.objects.filter(action__startswith="portal_keys").values_list(
            "action", "outcome", "username"
        )
    )
    assert sorted(actions) == [
        ("portal_keys_finish_rotation", "done", admin.user.username),
        ("portal_keys_rotate", "done", admin.user.username),
    ]
