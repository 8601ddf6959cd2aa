"""Signing in to the operator portal, end to end through its own pages: the invitation link,
two-factor enrolment, the sign-in form with its one-time code, the lockout, session expiry,
and CopyStake staff viewing the portal read-only."""

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.backoffice.groups import READ_ONLY
from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import secret_operator, staff_user
from apps.portal import services
from apps.portal.forms import DEACTIVATED, STAFF_REFUSED
from apps.portal.middleware import LOGIN_AT, SEEN_AT
from apps.portal.models import OperatorUser, PortalInvite
from apps.portal.roles import Role
from apps.portal.tests.portal_world import PASSWORD, current_code, member, totp_device

pytestmark = pytest.mark.django_db

LOGIN = "/portal/login/"
NEW_PASSWORD = "another long password 7"


def _invite(operator, role=Role.SUPPORT, email="dana@example.com"):
    return services.invite_create(operator=operator, email=email, role=role, invited_by=None)


def _accept(client, url: str, username: str = "dana"):
    return client.post(
        url, {"username": username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )


def _sign_in(client, username: str, password: str = PASSWORD, code: str = ""):
    return client.post(
        f"{LOGIN}?next=/portal/", {"username": username, "password": password, "otp_token": code}
    )


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- invitations ----------------------------------------------------------------------------
def test_the_invitation_email_carries_a_link_that_works_once(client):
    # given
    operator = secret_operator("alpha")
    invitation = _invite(operator)
    # then: the e-mail went out with the link, and only the token's digest is kept
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dana@example.com"]
    assert invitation.url in mail.outbox[0].body
    path = invitation.url.removeprefix(settings.PUBLIC_BASE_URL)
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert token not in invitation.invite.token_digest
    assert client.get(path).status_code == 200
    # when
    response = _accept(client, path)
    # then: the account exists, signed in, on to two-factor enrolment
    assert response.status_code == 302 and response["Location"] == reverse("portal:two_factor")
    person = OperatorUser.objects.get(user__username="dana")
    assert (person.operator, person.role, person.user.email, person.user.is_staff) == (
        operator,
        Role.SUPPORT,
        "dana@example.com",
        False,
    )
    invitation.invite.refresh_from_db()
    assert invitation.invite.accepted_user == person.user
    # and the link is used up
    client.logout()
    again = client.get(path)
    assert b'data-testid="invite-invalid"' in again.content
    assert _accept(client, path, "dana2").status_code == 200
    assert not get_user_model().objects.filter(username="dana2").exists()


@pytest.mark.parametrize("spoil", ["expired", "revoked"])
def test_an_expired_or_revoked_invitation_is_refused(client, spoil):
    invitation = _invite(secret_operator("alpha"))
    invite = invitation.invite
    if spoil == "expired":
        PortalInvite.objects.filter(pk=invite.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    else:
        services.invite_revoke(invite=invite)
    path = invitation.url.removeprefix(settings.PUBLIC_BASE_URL)
    # when
    response = _accept(client, path)
    # then
    assert b'data-testid="invite-invalid"' in response.content
    assert not OperatorUser.objects.exists()
    assert not get_user_model().objects.filter(username="dana").exists()


def test_a_taken_username_is_refused_and_nothing_is_made(client):
    get_user_model().objects.create_user("dana", password="x")
    invitation = _invite(secret_operator("alpha"))
    path = invitation.url.removeprefix(settings.PUBLIC_BASE_URL)
    users = get_user_model().objects.count()
    # when
    response = _accept(client, path, "DANA")
    # then
    assert response.status_code == 200
    assert "That username is taken" in response.content.decode()
    assert get_user_model().objects.count() == users
    assert not OperatorUser.objects.exists()
    invitation.invite.refresh_from_db()
    assert invitation.invite.accepted_at is None
    assert not _signed_in(client)


# --- two-factor enrolment -------------------------------------------------------------------
def test_an_operator_admin_must_enrol_before_seeing_any_page(client):
    invitation = _invite(secret_operator("alpha"), role=Role.ADMIN)
    _accept(client, invitation.url.removeprefix(settings.PUBLIC_BASE_URL))
    # when: any page but enrolment
    for page in [reverse("portal:index"), reverse("portal:pools_pool_changelist"), LOGIN]:
        response = client.get(page)
        # then
        assert response.status_code == 302, page
        assert response["Location"] == reverse("portal:two_factor"), page
    page = client.get(reverse("portal:two_factor"))
    content = page.content.decode()
    assert 'data-testid="totp-qr"' in content and 'data-testid="two-factor-required"' in content
    assert 'data-testid="two-factor-skip"' not in content
    # when: a wrong code, then the right one
    device = TOTPDevice.objects.get(user__username="dana", confirmed=False)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    assert client.post(reverse("portal:two_factor"), {"token": wrong}).status_code == 200
    # (django-otp then throttles the device for a second: not waited for here)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    response = client.post(reverse("portal:two_factor"), {"token": current_code(device)})
    # then
    assert response["Location"] == reverse("portal:index")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("portal:index")).status_code == 200


def test_support_may_skip_enrolment_and_see_its_state_later(client):
    invitation = _invite(secret_operator("alpha"), role=Role.SUPPORT)
    _accept(client, invitation.url.removeprefix(settings.PUBLIC_BASE_URL))
    page = client.get(reverse("portal:two_factor")).content.decode()
    assert 'data-testid="two-factor-skip"' in page
    # when: skipped
    dashboard = client.get(reverse("portal:index"))
    # then
    assert dashboard.status_code == 200
    assert 'data-testid="portal-two-factor-link"' in dashboard.content.decode()
    # when: enrolled after all
    device = TOTPDevice.objects.get(user__username="dana", confirmed=False)
    client.post(reverse("portal:two_factor"), {"token": current_code(device)})
    state = client.get(reverse("portal:two_factor")).content.decode()
    # then: the state, no key on show
    assert 'data-testid="two-factor-state"' in state
    assert 'data-testid="totp-secret"' not in state


# --- sign-in ----------------------------------------------------------------------------
def test_sign_in_with_password_and_the_current_code(client):
    person = member(secret_operator("alpha"), Role.ADMIN)
    device = totp_device(person.user)
    # when
    response = _sign_in(client, person.user.username, code=current_code(device))
    # then
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert client.get(reverse("portal:index")).status_code == 200


def test_a_person_with_a_device_needs_the_code(client):
    person = member(secret_operator("alpha"), Role.SUPPORT)
    totp_device(person.user)
    response = _sign_in(client, person.user.username)
    assert response.status_code == 200 and not _signed_in(client)


def test_support_without_a_device_signs_in_with_the_password(client):
    person = member(secret_operator("alpha"), Role.SUPPORT)
    response = _sign_in(client, person.user.username)
    assert response.status_code == 302
    assert client.get(reverse("portal:index")).status_code == 200


def test_an_admin_without_a_device_is_sent_to_enrolment(client):
    person = member(secret_operator("alpha"), Role.ADMIN)
    response = _sign_in(client, person.user.username)
    assert response["Location"] == reverse("portal:two_factor")
    assert client.get(reverse("portal:index"))["Location"] == reverse("portal:two_factor")


@pytest.mark.django_db(transaction=True)
@override_settings(AXES_ENABLED=True)
def test_wrong_codes_count_as_failed_sign_ins_and_lock_out(client):
    person = member(secret_operator("alpha"), Role.ADMIN)
    device = totp_device(person.user)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    username = person.user.username
    # when: a wrong code with the right password
    response = _sign_in(client, username, code=wrong)
    # then: refused, and counted
    assert response.status_code == 200 and not _signed_in(client)
    assert AccessAttempt.objects.get(username=username).failures_since_start == 1
    # when: up to the limit
    for _ in range(settings.AXES_FAILURE_LIMIT - 2):
        assert _sign_in(client, username, code=wrong).status_code == 200
    locked = _sign_in(client, username, code=wrong)
    # then: the styled lockout page, even for the right code now
    assert locked.status_code == 429
    assert 'data-testid="lockout"' in locked.content.decode()
    assert _sign_in(client, username, code=current_code(device)).status_code == 429
    assert not _signed_in(client)


def test_staff_are_refused_at_the_portal_sign_in(client):
    user = staff_user("ops", READ_ONLY)
    user.set_password(PASSWORD)
    user.save()
    response = _sign_in(client, "ops")
    assert response.status_code == 200
    assert escape(STAFF_REFUSED) in response.content.decode()
    assert not _signed_in(client)


def test_a_deactivated_person_is_refused_and_signed_out(client):
    person = member(secret_operator("alpha"), Role.SUPPORT)
    assert _sign_in(client, person.user.username).status_code == 302
    # when: deactivated while signed in
    services.operator_user_set_active(member=person, active=False)
    response = client.get(reverse("portal:index"))
    # then
    assert response["Location"] == f"{LOGIN}?deactivated=1"
    assert not _signed_in(client)
    refused = _sign_in(client, person.user.username)
    assert refused.status_code == 200 and escape(DEACTIVATED) in refused.content.decode()


def test_sign_out_is_a_post(client):
    person = member(secret_operator("alpha"), Role.SUPPORT)
    _sign_in(client, person.user.username)
    response = client.post(reverse("portal:logout"))
    assert response.status_code == 200 and not _signed_in(client)
    assert client.get(reverse("portal:index")).status_code == 302


# --- session expiry -------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["idle", "absolute"])
def test_a_session_expires_when_idle_and_after_its_maximum(client, which):
    person = member(secret_operator("alpha"), Role.SUPPORT)
    _sign_in(client, person.user.username)
    assert client.get(reverse("portal:index")).status_code == 200
    session = client.session
    now = int(time.time())
    if which == "idle":
        session[SEEN_AT] = now - settings.PORTAL_SESSION_IDLE_SECONDS - 5
    else:
        session[LOGIN_AT] = now - settings.PORTAL_SESSION_MAX_SECONDS - 5
        session[SEEN_AT] = now
    session.save()
    # when
    response = client.get(reverse("portal:pools_pool_changelist"))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=%2Fportal%2Fpools%2Fpool%2F")
    assert "expired=1" in response["Location"]
    assert not _signed_in(client)
    page = client.get(response["Location"])
    assert 'data-testid="session-expired"' in page.content.decode()


def test_an_active_session_stays(client):
    person = member(secret_operator("alpha"), Role.SUPPORT)
    _sign_in(client, person.user.username)
    session = client.session
    session[SEEN_AT] = int(time.time()) - settings.PORTAL_SESSION_IDLE_SECONDS + 60
    session.save()
    assert client.get(reverse("portal:index")).status_code == 200
    assert client.session[SEEN_AT] >= int(time.time()) - 5


# --- staff viewing as the operator ------------------------------------------------------------
def test_staff_view_as_is_audited_and_read_only(client):
    operator = secret_operator("alpha")
    staff = staff_user("reader", READ_ONLY)
    client.force_login(staff)  # the back office's sign-in is not what is tested here
    url = reverse("portal:view_as", args=[operator.pk])
    assert url == f"/portal/view-as/{operator.pk}/"
    # when: no reason, then a reason
    assert client.post(url, {"reason": "  "}).status_code == 200
    assert not StaffAction.objects.filter(action="portal_view_as").exists()
    response = client.post(url, {"reason": "Ticket 42: the operator asks about a pool"})
    # then
    assert response["Location"] == reverse("portal:index")
    row = StaffAction.objects.get(action="portal_view_as")
    assert (row.username, row.target_id, row.reason) == (
        "reader",
        str(operator.pk),
        "Ticket 42: the operator asks about a pool",
    )
    assert b"Alpha" in client.get(reverse("portal:index")).content
    # and nothing can be changed
    before = operator.callback_url
    changed = client.post(
        reverse("portal:configuration"),
        {"callback_url": "http://evil.invalid/cb", "reason": "x"},
    )
    assert changed.status_code == 403
    operator.refresh_from_db()
    assert operator.callback_url == before
    hint = operator.api_key_hint
    assert client.post(reverse("portal:keys"), {"reason": "x"}).status_code == 403
    operator.refresh_from_db()
    assert operator.api_key_hint == hint
    # and stopping leads back to the back office
    assert client.post(reverse("portal:view_as_stop"))["Location"] == reverse("admin:index")
    assert client.get(reverse("portal:index")).status_code == 302
