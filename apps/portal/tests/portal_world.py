"""Operators' people for portal tests, and a signed-in test client for one of them."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.operators.models import Operator
from apps.portal.middleware import LOGIN_AT, SEEN_AT
from apps.portal.models import OperatorUser
from apps.portal.roles import Role

PASSWORD = "a long portal password 42"


def member(
    operator: Operator, role: str = Role.ADMIN, username: str | None = None, **extra
) -> OperatorUser:
    username = username or f"{operator.code}-{role}"
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD
    )
    return OperatorUser.objects.create(user=user, operator=operator, role=role, **extra)


def totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, person: OperatorUser):
    """The client signed in as ``person``, past the one-time code when they have a device
    (an operator admin always gets one), as the sign-in page would leave it."""
    client.force_login(person.user)
    session = client.session
    if person.role == Role.ADMIN or TOTPDevice.objects.filter(user=person.user).exists():
        device = TOTPDevice.objects.filter(user=person.user).first() or totp_device(person.user)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    now = int(time.time())
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session.save()
    return client
