"""The sandbox admin: pages render without N+1, secrets stay masked, the cash-out action."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.sandbox.admin import MISBEHAVIOURS
from apps.sandbox.models import SandboxAccount, SandboxOperator, SandboxUserToken
from apps.sandbox.services import (
    sandbox_fault_set,
    sandbox_game_pool_set,
    sandbox_token_issue,
)
from apps.sandbox.tests.conftest import API_KEY, SECRET_KEY, WALLET_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw-12345678")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "sandboxoperator",
        "sandboxaccount",
        "sandboxusertoken",
        "sandboxtransfer",
        "sandboxwallettx",
        "sandboxfault",
        "sandboxbet",
    ],
)
def test_changelists_render_without_secrets(staff_client, operator, streamer, follower, model):
    # given
    sandbox_token_issue(account=follower)
    sandbox_fault_set(operator=operator, route="transfer", mode="drop")
    # when
    response = staff_client.get(reverse(f"admin:sandbox_{model}_changelist"))
    # then
    assert response.status_code == 200
    page = response.content.decode()
    for secret in (API_KEY, SECRET_KEY, WALLET_SECRET):
        assert secret not in page
    token = SandboxUserToken.objects.get().token
    assert token not in page


def test_operator_change_page_masks_secrets(staff_client, operator):
    response = staff_client.get(reverse("admin:sandbox_sandboxoperator_change", args=[operator.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "••••••0001" in page
    for label in ("API key", "Secret key", "Wallet secret"):
        assert f"<label>{label}:</label>" in page
    for secret in (API_KEY, SECRET_KEY, WALLET_SECRET):
        assert secret not in page


def test_operator_change_with_blank_secrets_keeps_them_and_filled_one_replaces(
    staff_client, operator
):
    # given
    url = reverse("admin:sandbox_sandboxoperator_change", args=[operator.pk])
    form = {
        "slug": "acme",
        "name": "Acme Renamed",
        "wallet_client_id": "copystake-client",
        "new_api_key": "",
        "new_secret_key": "rotated-secret",
        "new_wallet_secret": "",
        "faults-TOTAL_FORMS": "0",
        "faults-INITIAL_FORMS": "0",
        "faults-MIN_NUM_FORMS": "0",
        "faults-MAX_NUM_FORMS": "1000",
    }
    # when
    response = staff_client.post(url, form)
    # then
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.name == "Acme Renamed"
    assert (operator.api_key, operator.secret_key, operator.wallet_secret) == (
        API_KEY,
        "rotated-secret",
        WALLET_SECRET,
    )


def test_operator_add_requires_every_secret(staff_client, db):
    url = reverse("admin:sandbox_sandboxoperator_add")
    form = {
        "slug": "new",
        "name": "New",
        "wallet_client_id": "c",
        "new_api_key": "k",
        "new_secret_key": "s",
        "new_wallet_secret": "",
        "faults-TOTAL_FORMS": "0",
        "faults-INITIAL_FORMS": "0",
        "faults-MIN_NUM_FORMS": "0",
        "faults-MAX_NUM_FORMS": "1000",
    }
    assert staff_client.post(url, form).status_code == 200  # re-rendered with an error
    assert not SandboxOperator.objects.filter(slug="new").exists()
    form["new_wallet_secret"] = "w"
    assert staff_client.post(url, form).status_code == 302
    created = SandboxOperator.objects.get(slug="new")
    assert (created.api_key, created.secret_key, created.wallet_secret) == ("k", "s", "w")


def test_cash_out_action_is_refused_while_locked_and_allowed_after_close(
    staff_client, operator, streamer
):
    # given
    sandbox_game_pool_set(operator=operator, user_id="streamer-1", state="OPEN")
    url = reverse("admin:sandbox_sandboxaccount_changelist")
    action = {"action": "cash_out_balance", "_selected_action": [streamer.pk]}
    # when
    locked = staff_client.post(url, action, follow=True)
    streamer.refresh_from_db()
    balance_while_locked = streamer.balance
    sandbox_game_pool_set(operator=operator, user_id="streamer-1", state="CLOSE")
    allowed = staff_client.post(url, action, follow=True)
    # then
    assert balance_while_locked == Decimal("805")
    assert "ERR_WITHDRAWAL_LOCKED" in locked.content.decode()
    assert "cashed out 805" in allowed.content.decode()
    assert SandboxAccount.objects.get(pk=streamer.pk).balance == Decimal("0")


def test_issue_token_action(staff_client, follower):
    url = reverse("admin:sandbox_sandboxaccount_changelist")
    response = staff_client.post(
        url, {"action": "issue_session_token", "_selected_action": [follower.pk]}, follow=True
    )
    token = SandboxUserToken.objects.get(account=follower)
    assert f"userToken {token.token}" in response.content.decode()


def test_account_changelist_query_count_does_not_grow(
    staff_client, operator, django_assert_max_num_queries
):
    # given
    for index in range(15):
        SandboxAccount.objects.create(
            operator=operator, user_id=f"u{index}", username=f"U{index}", currency="USD"
        )
    # when / then
    with django_assert_max_num_queries(12):
        staff_client.get(reverse("admin:sandbox_sandboxaccount_changelist"))


@pytest.mark.parametrize(
    "model",
    [
        "sandboxaccount",
        "sandboxusertoken",
        "sandboxtransfer",
        "sandboxwallettx",
        "sandboxfault",
        "sandboxbet",
    ],
)
def test_changelist_queries_do_not_grow_with_rows(staff_client, model):
    # given: one operator's worth of rows, then five operators' worth
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.sandbox.tests.factories import populate

    url = reverse(f"admin:sandbox_{model}_changelist")
    populate("a")
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(url).status_code == 200
    for prefix in "bcde":
        populate(prefix)
    # when
    with CaptureQueriesContext(connection) as many:
        assert staff_client.get(url).status_code == 200
    # then
    assert len(many) == len(few)


def test_misbehaviour_switches_are_set_from_the_operator_page(staff_client, operator):
    # given
    url = reverse("admin:sandbox_sandboxoperator_change", args=[operator.pk])
    page = staff_client.get(url).content.decode()
    assert "Misbehaviour switches" in page and 'name="wrong_error_codes"' in page
    form = {
        "slug": "acme",
        "name": "Acme Casino",
        "wallet_client_id": "copystake-client",
        "ignores_transfer_ids": "on",
        "wrong_error_codes": "on",
        "faults-TOTAL_FORMS": "0",
        "faults-INITIAL_FORMS": "0",
        "faults-MIN_NUM_FORMS": "0",
        "faults-MAX_NUM_FORMS": "1000",
    }
    # when
    response = staff_client.post(url, form)
    # then
    assert response.status_code == 302
    operator.refresh_from_db()
    assert [getattr(operator, name) for name in MISBEHAVIOURS] == [
        False,
        True,
        False,
        True,
        False,
    ]
    listing = staff_client.get(reverse("admin:sandbox_sandboxoperator_changelist"))
    assert "ignores transfer ids, wrong error codes" in listing.content.decode()
