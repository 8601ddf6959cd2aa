"""The portal's forms: sign-in with a one-time code, accepting an invite, enrolling a device."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django_otp.forms import OTPAuthenticationFormMixin

from apps.portal.context import membership

STAFF_REFUSED = (
    "This sign-in is for operators' teams. CopyStake staff open an operator's portal from the "
    "back office (Operators, View the portal as this operator)."
)


DEACTIVATED = (
    "This account was deactivated. Ask your operator's CopyStake contact if you need access again."
)


class PortalAuthenticationForm(OTPAuthenticationFormMixin, AuthenticationForm):
    """Username, password and, for those with a device, the one-time code, in one form.

    A wrong code counts as a failed sign-in for the lockout (django-axes), like a wrong
    password: without that, a known password would leave the code open to guessing.
    """

    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_token = forms.CharField(
        required=False,
        label="One-time code",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
        help_text="The 6 digits your authenticator app shows (required once you have one).",
    )
    otp_challenge = forms.CharField(required=False, widget=forms.HiddenInput)

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if user.is_staff:
            raise ValidationError(STAFF_REFUSED, code="staff")
        if membership(user) is None:
            member = getattr(user, "operator_membership", None)
            if member is not None and not member.is_active:
                raise ValidationError(DEACTIVATED, code="deactivated")
            raise ValidationError(
                "This account has no access to an operator portal.", code="no_membership"
            )

    def clean(self):
        from django_otp import devices_for_user, user_has_device

        cleaned = super().clean()
        user = self.get_user()
        if user is None or not user_has_device(user):
            # No authenticator yet: the password alone signs in; an operator admin is then
            # kept on the enrolment page until they have one (``PortalSessionMiddleware``).
            return cleaned
        if not self.cleaned_data.get("otp_device"):
            # One authenticator per person (enrolling a new one removes the old): the code
            # is checked against that one, so the page asks for no choice of device.
            device = next(devices_for_user(user, confirmed=True))
            self.cleaned_data["otp_device"] = device.persistent_id
        try:
            self.clean_otp(user)
        except ValidationError:
            user_login_failed.send(
                sender=__name__,
                credentials={"username": self.cleaned_data.get("username")},
                request=self.request,
            )
            raise
        return cleaned


class InviteAcceptForm(forms.Form):
    username = forms.CharField(max_length=150)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def clean_username(self) -> str:
        from django.contrib.auth import get_user_model

        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError("That username is taken: choose another.")
        return username

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            raise ValidationError({"password2": "The two passwords differ."})
        if first:
            try:
                password_validation.validate_password(first)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class DeviceConfirmForm(forms.Form):
    token = forms.CharField(
        label="One-time code",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        help_text="Why: kept in the audit log with your name.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Say why.")
        return reason
