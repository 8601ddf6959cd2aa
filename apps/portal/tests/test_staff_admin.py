"""The staff side of the portal in the back office: inviting, revoking, acting on operator
users (confirmed and audited, by group), and authenticator devices without their keys."""

from base64 import b32encode

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.backoffice.groups import OPERATIONS, READ_ONLY
from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import secret_operator, staff_user
from apps.portal.models import OperatorUser, PortalInvite
from apps.portal.roles import Role
from apps.portal.tests.portal_world import member, totp_device

pytestmark = pytest.mark.django_db

ADD = "admin:portal_portalinvite_add"


def _act(client, model: str, obj, action: str, reason: str = "Asked by the operator"):
    url = reverse(f"admin:portal_{model}_act", args=[obj.pk, action])
    return client.post(url, {"confirm": "yes", "reason": reason})


@pytest.fixture
def ops(client):
    client.force_login(staff_user("ops", OPERATIONS))
    return client


@pytest.fixture
def reader(client):
    client.force_login(staff_user("reader", READ_ONLY))
    return client


def test_inviting_sends_the_email_audits_and_shows_the_link_once(ops):
    operator = secret_operator("alpha")
    listing = ops.get(reverse("admin:portal_portalinvite_changelist")).content.decode()
    assert 'data-testid="portal-invite-add"' in listing and "Invite someone" in listing
    add = ops.get(reverse(ADD))
    assert add.status_code == 200 and b"Invite someone" in add.content
    # when
    response = ops.post(
        reverse(ADD),
        {
            "operator": operator.pk,
            "email": "dana@example.com",
            "role": Role.FINANCE,
            "reason": "New finance person, ticket 7",
        },
    )
    # then: the link on the page, the same in the e-mail
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    invite = PortalInvite.objects.get()
    assert (invite.operator, invite.email, invite.role) == (operator, "dana@example.com", "finance")
    assert len(mail.outbox) == 1
    link = next(word for word in mail.outbox[0].body.split() if "/portal/invite/" in word)
    assert link in response.content.decode()
    row = StaffAction.objects.get(action="portal_invite_create")
    assert (row.username, row.target_id, row.reason, row.outcome) == (
        "ops",
        str(invite.pk),
        "New finance person, ticket 7",
        "done",
    )
    # and never again: not on the invite's page nor the list
    page = ops.get(reverse("admin:portal_portalinvite_change", args=[invite.pk])).content.decode()
    listing = ops.get(reverse("admin:portal_portalinvite_changelist")).content.decode()
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in page and token not in listing
    assert ">open<" in listing


def test_an_invite_needs_a_reason(ops):
    operator = secret_operator("alpha")
    response = ops.post(
        reverse(ADD), {"operator": operator.pk, "email": "d@example.com", "role": "admin"}
    )
    assert response.status_code == 200
    assert not PortalInvite.objects.exists() and not mail.outbox


def test_read_only_staff_see_the_lists_and_may_not_act(reader):
    operator = secret_operator("alpha")
    person = member(operator, Role.SUPPORT)
    from apps.portal import services

    invite = services.invite_create(
        operator=operator, email="x@example.com", role="support", invited_by=None
    ).invite
    assert reader.get(reverse("admin:portal_portalinvite_changelist")).status_code == 200
    assert reader.get(reverse("admin:portal_operatoruser_changelist")).status_code == 200
    assert reader.get(reverse(ADD)).status_code == 403
    listing = reader.get(reverse("admin:portal_portalinvite_changelist")).content.decode()
    assert 'data-testid="portal-invite-add"' not in listing
    assert _act(reader, "portalinvite", invite, "portal_invite_revoke").status_code == 403
    assert _act(reader, "operatoruser", person, "portal_user_deactivate").status_code == 403
    invite.refresh_from_db()
    person.refresh_from_db()
    assert invite.revoked_at is None and person.is_active
    assert not StaffAction.objects.exists()


def test_revoking_an_invite_is_confirmed_and_audited(ops):
    from apps.portal import services

    invite = services.invite_create(
        operator=secret_operator("alpha"), email="x@example.com", role="admin", invited_by=None
    ).invite
    url = reverse("admin:portal_portalinvite_act", args=[invite.pk, "portal_invite_revoke"])
    # when: the confirmation page first
    confirm = ops.get(url)
    assert confirm.status_code == 200 and b"are you sure?" in confirm.content
    invite.refresh_from_db()
    assert invite.revoked_at is None
    _act(ops, "portalinvite", invite, "portal_invite_revoke", "Wrong address")
    # then
    invite.refresh_from_db()
    assert services.invite_state(invite) == "revoked"
    row = StaffAction.objects.get(action="portal_invite_revoke")
    assert (row.outcome, row.reason) == ("done", "Wrong address")
    # and a second revoke is refused, audited as such
    _act(ops, "portalinvite", invite, "portal_invite_revoke")
    assert StaffAction.objects.filter(action="portal_invite_revoke", outcome="refused").count() == 1


@pytest.mark.parametrize(
    ("action", "field", "before", "after"),
    [
        ("portal_user_grant_review", "may_act_on_review", False, True),
        ("portal_user_deactivate", "is_active", True, False),
    ],
)
def test_acting_on_an_operator_user(ops, action, field, before, after):
    person = member(secret_operator("alpha"), Role.SUPPORT)
    assert getattr(person, field) is before
    # when
    response = _act(ops, "operatoruser", person, action)
    # then
    assert response.status_code == 302
    person.refresh_from_db()
    assert getattr(person, field) is after
    row = StaffAction.objects.get(action=action)
    assert (row.username, row.target_id, row.outcome) == ("ops", str(person.pk), "done")


def test_withdraw_and_reactivate_undo_them(ops):
    person = member(secret_operator("alpha"), Role.SUPPORT, may_act_on_review=True, is_active=False)
    _act(ops, "operatoruser", person, "portal_user_withdraw_review")
    _act(ops, "operatoruser", person, "portal_user_reactivate")
    person.refresh_from_db()
    assert (person.may_act_on_review, person.is_active) == (False, True)


def test_reset_two_factor_removes_the_devices(ops):
    person = member(secret_operator("alpha"), Role.ADMIN)
    other = member(secret_operator("beta"), Role.ADMIN)
    totp_device(person.user)
    totp_device(other.user)
    # when
    _act(ops, "operatoruser", person, "portal_user_reset_two_factor", "Lost phone")
    # then
    assert not TOTPDevice.objects.filter(user=person.user).exists()
    assert TOTPDevice.objects.filter(user=other.user).count() == 1
    row = StaffAction.objects.get(action="portal_user_reset_two_factor")
    assert (row.reason, row.outcome) == ("Lost phone", "done")


def test_operator_users_have_no_free_editing(ops):
    person = member(secret_operator("alpha"), Role.SUPPORT)
    url = reverse("admin:portal_operatoruser_change", args=[person.pk])
    assert ops.get(url).status_code == 200
    response = ops.post(url, {"role": "admin", "is_active": "on"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.role == Role.SUPPORT
    assert OperatorUser.objects.count() == 1


def test_the_device_admin_never_shows_the_key(client):
    root = staff_user("root2", OPERATIONS)
    root.is_superuser = True
    root.save()
    client.force_login(root)
    person = member(secret_operator("alpha"), Role.ADMIN)
    device = totp_device(person.user)
    hex_key = device.key
    b32_key = b32encode(device.bin_key).decode().rstrip("=")
    pages = [
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        content = response.content.decode()
        assert hex_key not in content and b32_key not in content, page
        assert "qrcode" not in content.lower(), page
    # no add page (its form asks for the key), no config or QR view
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code in (302, 404)
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code in (302, 404)


def test_the_operator_page_links_to_view_as(reader):
    operator = secret_operator("alpha")
    page = reader.get(reverse("admin:operators_operator_change", args=[operator.pk]))
    assert f'href="/portal/view-as/{operator.pk}/"' in page.content.decode()
