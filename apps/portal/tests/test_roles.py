"""What each operator role may open and do in the portal, and what a staff grant adds.

The expected pages are written out here per role (not read from ``apps.portal.roles``), so a
change to the roles table that opens or closes a page fails until this file agrees.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.backoffice.models import StaffAction
from apps.backoffice.review import review_queue
from apps.backoffice.tests.admin_world import build_world
from apps.operators.models import ConformanceRun, Operator
from apps.portal import tenancy
from apps.portal.context import VIEW_AS_SESSION_KEY
from apps.portal.middleware import LOGIN_AT, SEEN_AT
from apps.portal.models import OperatorUser
from apps.portal.roles import Role
from apps.portal.tests.portal_world import member, sign_in
from apps.transactions.models import Transaction
from apps.transactions.resources import TransactionResource

pytestmark = pytest.mark.django_db

RETRY, RESOLVE, ROLLBACK = (
    "transaction_retry_now",
    "transaction_mark_resolved",
    "transaction_roll_back",
)

# Each page of the portal: (its nav label or None, its URL name).
PAGES = {
    "dashboard": ("Dashboard", "index"),
    "pools": ("Pools", "pools_pool_changelist"),
    "streams": ("Streams", "streamers_stream_changelist"),
    "streamers": ("Streamers", "streamers_streamer_changelist"),
    "followers": ("Followers", "followers_follower_changelist"),
    "positions": ("Positions", "followers_position_changelist"),
    "transactions": ("Transactions", "transactions_transaction_changelist"),
    "review": ("Review queue", "backoffice_reviewitem_changelist"),
    "settlements": ("Daily settlements", "transactions_dailysettlement_changelist"),
    "invoices": ("Invoices", "transactions_invoice_changelist"),
    "calls": ("Call log", "operators_calllog_changelist"),
    "configuration": ("Configuration", "configuration"),
    "keys": ("API key and secret", "keys"),
    "conformance": ("Conformance check", "conformance"),
}
EVERYTHING = set(PAGES)
OPENS = {
    Role.ADMIN: EVERYTHING,
    Role.SUPPORT: EVERYTHING - {"settlements", "invoices", "keys"},
    Role.FINANCE: {
        "dashboard",
        "pools",
        "streams",
        "streamers",
        "transactions",
        "settlements",
        "invoices",
    },
}


@pytest.fixture
def world():
    return build_world(code="alpha", pools=1, transactions=5)


def _url(name: str, *args) -> str:
    return reverse(f"portal:{name}", args=args)


def nav_labels(response) -> set[str]:
    return {
        entry.label
        for section in response.context["portal_nav"].sections
        for entry in section.entries
    }


def queued(world) -> Transaction:
    tx = tenancy.scoped(review_queue(), world.operator).order_by("pk").first()
    assert tx is not None
    return tx


def action_names(response) -> set[str]:
    form = response.context.get("action_form")
    if form is None:
        return set()
    return {value for value, _ in form.fields["action"].choices if value}


# --- pages per role ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPPORT, Role.FINANCE])
def test_each_role_opens_exactly_its_pages(client, world, role):
    # given
    sign_in(client, member(world.operator, role))
    # when
    statuses = {}
    for page, (_, name) in PAGES.items():
        statuses[page] = client.get(_url(name)).status_code
    nav = nav_labels(client.get(_url("index")))
    # then: its pages answer, the others are refused and not in the top bar
    opens = OPENS[role]
    assert statuses == {page: 200 if page in opens else 403 for page in statuses}
    assert nav == {PAGES[p][0] for p in opens}


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.FINANCE])
def test_support_and_finance_change_no_configuration_keys_or_conformance(client, world, role):
    # given
    sign_in(client, member(world.operator, role))
    before = Operator.objects.get(pk=world.operator.pk)
    runs = ConformanceRun.objects.count()
    # when
    answers = [
        client.post(
            _url("configuration"), {"callback_url": "http://evil.invalid/cb", "reason": "x"}
        ),
        client.post(_url("keys"), {"overlap_hours": "0", "reason": "x"}),
        client.post(_url("keys"), {"finish": "yes"}),
        client.post(_url("conformance"), {"reason": "x"}),
    ]
    # then
    assert [r.status_code for r in answers] == [403, 403, 403, 403]
    after = Operator.objects.get(pk=world.operator.pk)
    assert (after.callback_url, after.api_key_digest, after.secret_key, after.updated_at) == (
        before.callback_url,
        before.api_key_digest,
        before.secret_key,
        before.updated_at,
    )
    assert ConformanceRun.objects.count() == runs


def test_support_reads_the_configuration_without_a_form_to_save(client, world):
    sign_in(client, member(world.operator, Role.SUPPORT))
    response = client.get(_url("configuration"))
    assert response.status_code == 200
    assert response.context["may_change"] is False
    assert all(field.disabled for field in response.context["form"].fields.values())
    conformance = client.get(_url("conformance"))
    assert conformance.context["may_run"] is False
    assert b'data-testid="conformance-run"' not in conformance.content


def _export(client):
    form = {f"transactionresource_{n}": "on" for n in TransactionResource().get_export_order()}
    return client.post(
        _url("transactions_transaction_export"), {"format": "0", "resource": "0", **form}
    )


@pytest.mark.parametrize(
    ("role", "status"), [(Role.ADMIN, 200), (Role.FINANCE, 200), (Role.SUPPORT, 403)]
)
def test_export_is_for_admin_and_finance(client, world, role, status):
    # given
    sign_in(client, member(world.operator, role))
    # when
    page = client.get(_url("transactions_transaction_export"))
    response = _export(client)
    listing = client.get(_url("transactions_transaction_changelist")).content.decode()
    # then
    assert (page.status_code, response.status_code) == (status, status)
    assert (_url("transactions_transaction_export") in listing) == (status == 200)
    if status == 200:
        lines = b"".join(response.streaming_content).decode().strip().splitlines()
        assert len(lines) == 1 + len(world.transactions)


# --- review actions ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPPORT])
def test_review_actions_are_hidden_and_refused_without_the_grant(client, world, role):
    # given: a transaction in A's review queue, a person without the grant
    tx = queued(world)
    sign_in(client, member(world.operator, role))
    # when
    listing = client.get(_url("backoffice_reviewitem_changelist"))
    page = client.get(_url("backoffice_reviewitem_change", tx.pk))
    acts = [
        client.post(
            _url("backoffice_reviewitem_act", tx.pk, name), {"confirm": "yes", "reason": "x"}
        )
        for name in (RETRY, RESOLVE, ROLLBACK)
    ]
    client.post(
        _url("backoffice_reviewitem_changelist"),
        {"action": RESOLVE, "_selected_action": [tx.pk], "confirm": "yes", "reason": "x"},
    )
    # then
    assert listing.status_code == 200
    assert action_names(listing) == set()
    assert page.context["staff_actions"] == []
    assert [r.status_code for r in acts] == [403, 403, 403]
    tx.refresh_from_db()
    assert tx.reviewed_at is None
    assert not StaffAction.objects.exists()


def test_the_grant_offers_retry_and_resolve_and_resolving_is_audited(client, world):
    # given: a support person granted review actions by staff
    tx = queued(world)
    person = member(world.operator, Role.SUPPORT, may_act_on_review=True)
    sign_in(client, person)
    # when: they look, then resolve one transaction with a note
    listing = client.get(_url("backoffice_reviewitem_changelist"))
    page = client.get(_url("backoffice_reviewitem_change", tx.pk))
    confirm = client.get(_url("backoffice_reviewitem_act", tx.pk, RESOLVE))
    rollback = client.get(_url("backoffice_reviewitem_act", tx.pk, ROLLBACK))
    done = client.post(
        _url("backoffice_reviewitem_act", tx.pk, RESOLVE),
        {"confirm": "yes", "reason": "wallet confirmed the credit"},
    )
    # then: retry and resolve offered (never the roll back), the resolve done and audited
    assert action_names(listing) == {RETRY, RESOLVE}
    assert {a["label"] for a in page.context["staff_actions"]} <= {"Retry now", "Mark resolved"}
    assert "Mark resolved" in {a["label"] for a in page.context["staff_actions"]}
    assert (confirm.status_code, rollback.status_code, done.status_code) == (200, 403, 302)
    tx.refresh_from_db()
    assert (tx.needs_review, tx.reviewed_by_id) == (False, person.user_id)
    assert "wallet confirmed the credit" in tx.review_note
    record = StaffAction.objects.get(action=RESOLVE)
    assert (record.username, record.target_id, record.outcome) == (
        person.user.username,
        str(tx.pk),
        "done",
    )


def test_finance_gets_no_review_actions_even_with_the_grant(client, world):
    tx = queued(world)
    sign_in(client, member(world.operator, Role.FINANCE, may_act_on_review=True))
    assert client.get(_url("backoffice_reviewitem_changelist")).status_code == 403
    act = client.post(
        _url("backoffice_reviewitem_act", tx.pk, RESOLVE), {"confirm": "yes", "reason": "x"}
    )
    assert act.status_code == 403
    tx.refresh_from_db()
    assert tx.reviewed_at is None


# --- staff viewing as the operator ------------------------------------------------------------


def _staff_viewing_as(client, operator: Operator, *, superuser: bool = False, grant: bool = False):
    user = get_user_model().objects.create_user(
        "staffer", password="pw", is_staff=True, is_superuser=superuser
    )
    user.user_permissions.add(Permission.objects.get(codename="view_operator"))
    if grant:  # a staff account that is also (wrongly) an operator user with the grant
        OperatorUser.objects.create(
            user=user, operator=operator, role=Role.ADMIN, may_act_on_review=True
        )
    client.force_login(user)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = operator.pk
    session[LOGIN_AT] = session[SEEN_AT] = int(time.time())
    session.save()
    return user


@pytest.mark.parametrize(
    ("superuser", "grant"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_staff_viewing_as_see_everything_and_act_on_nothing(client, world, superuser, grant):
    # given: staff viewing the portal as A
    tx = queued(world)
    _staff_viewing_as(client, world.operator, superuser=superuser, grant=grant)
    before = Operator.objects.get(pk=world.operator.pk)
    # when
    statuses = {page: client.get(_url(name)).status_code for page, (_, name) in PAGES.items()}
    listing = client.get(_url("backoffice_reviewitem_changelist"))
    acts = [
        client.post(
            _url("backoffice_reviewitem_act", tx.pk, name), {"confirm": "yes", "reason": "x"}
        ).status_code
        for name in (RETRY, RESOLVE, ROLLBACK)
    ]
    bulk = client.post(
        _url("backoffice_reviewitem_changelist"),
        {"action": RESOLVE, "_selected_action": [tx.pk], "confirm": "yes", "reason": "x"},
    )
    changes = [
        client.post(
            _url("configuration"), {"callback_url": "http://evil.invalid/cb", "reason": "x"}
        ).status_code,
        client.post(_url("keys"), {"overlap_hours": "0", "reason": "x"}).status_code,
        client.post(_url("keys"), {"finish": "yes"}).status_code,
        client.post(_url("conformance"), {"reason": "x"}).status_code,
        client.post(_url("pools_pool_change", world.pools[0].pk), {}).status_code,
    ]
    # then: every page shows (as the operator's admin sees it); nothing is done
    assert statuses == dict.fromkeys(statuses, 200)
    assert action_names(listing) == set()
    assert acts == [403, 403, 403]
    assert bulk.status_code in (200, 302)
    assert changes == [403, 403, 403, 403, 403]
    tx.refresh_from_db()
    assert tx.reviewed_at is None
    after = Operator.objects.get(pk=world.operator.pk)
    assert (after.callback_url, after.api_key_digest, after.updated_at) == (
        before.callback_url,
        before.api_key_digest,
        before.updated_at,
    )
    assert not ConformanceRun.objects.exists()
    assert not StaffAction.objects.exists()


def test_staff_without_view_operator_or_without_view_as_get_no_portal(client, world):
    # given: staff viewing as A but without the permission; then with it but no view-as
    user = get_user_model().objects.create_user("staffer", password="pw", is_staff=True)
    client.force_login(user)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = world.operator.pk
    session.save()
    # when / then: sent to sign in, whatever the page
    for name in ("index", "pools_pool_changelist", "configuration"):
        response = client.get(_url(name))
        assert response.status_code == 302
        assert response["Location"].startswith(_url("login"))
    user.user_permissions.add(Permission.objects.get(codename="view_operator"))
    session = client.session
    del session[VIEW_AS_SESSION_KEY]
    session.save()
    assert client.get(_url("index"))["Location"].startswith(_url("login"))
