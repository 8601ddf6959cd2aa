"""The portal's own pages (the rest are the back office's ModelAdmins, ``apps.portal.admin``):
configuration, keys, the conformance check, two-factor enrolment, invitations, view-as.
Thin: each asks ``portal_context`` who may do what and calls a service."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.operators.models import ConformanceRun, Operator
from apps.portal import services
from apps.portal.context import PortalContext, is_verified, membership, portal_context
from apps.portal.forms import DeviceConfirmForm, InviteAcceptForm, ReasonForm


def _site():
    from apps.portal.site import portal_site

    return portal_site


def _page(request: HttpRequest, template: str, context: dict) -> TemplateResponse:
    site = _site()
    request.current_app = site.name
    return TemplateResponse(request, template, {**site.each_context(request), **context})


def _portal(request: HttpRequest, section: str) -> PortalContext:
    portal = portal_context(request)
    if portal is None or not portal.may_view(section):
        raise PermissionDenied
    return portal


# --- configuration --------------------------------------------------------------------------
class ConfigurationForm(forms.ModelForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        help_text="Why: kept in the audit log with your name.",
    )

    class Meta:
        model = Operator
        fields = services.CONFIGURATION_FIELDS


def configuration_view(request: HttpRequest) -> HttpResponse:
    portal = _portal(request, "configuration")
    operator = Operator.objects.get(pk=portal.operator.pk)
    may_change = portal.may_act("configuration")
    form = ConfigurationForm(instance=operator)
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        form = ConfigurationForm(request.POST, instance=Operator.objects.get(pk=operator.pk))
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in services.CONFIGURATION_FIELDS}
            try:
                change = services.configuration_update(
                    operator=operator,
                    user=request.user,
                    values=values,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                note = f" {change.check.verdict}" if change.check else ""
                messages.success(
                    request, f"Saved: {', '.join(sorted(change.changed))}.{note}"[:500]
                )
                return HttpResponseRedirect(reverse("portal:configuration"))
    if not may_change:
        for field in form.fields.values():
            field.disabled = True
    return _page(
        request,
        "portal/configuration.html",
        {
            "title": "Configuration",
            "form": form,
            "may_change": may_change,
            "operator": operator,
            "recent": services.configuration_audit(operator=operator),
        },
    )


# --- keys -----------------------------------------------------------------------------------
OVERLAP_CHOICES = [
    (0, "No overlap: the old key and secret stop working at once"),
    (1, "1 hour"),
    (24, "24 hours"),
    (72, "3 days"),
    (168, "7 days"),
]


class RotateForm(ReasonForm):
    overlap_hours = forms.TypedChoiceField(
        choices=OVERLAP_CHOICES,
        coerce=int,
        initial=24,
        label="Overlap window",
        help_text="While it lasts, CopyStake accepts your old and your new key and secret.",
    )


def keys_view(request: HttpRequest) -> HttpResponse:
    portal = _portal(request, "keys")
    operator = Operator.objects.get(pk=portal.operator.pk)
    may_rotate = portal.may_act("keys")
    form = RotateForm()
    if request.method == "POST":
        if not may_rotate:
            raise PermissionDenied
        if request.POST.get("finish") == "yes":
            services.keys_finish_rotation(operator=operator, user=request.user)
            messages.success(request, "Rotation finished: only the new key and secret work now.")
            return HttpResponseRedirect(reverse("portal:keys"))
        form = RotateForm(request.POST)
        if form.is_valid():
            try:
                revealed = services.keys_rotate(
                    operator=operator,
                    user=request.user,
                    overlap=timedelta(hours=form.cleaned_data["overlap_hours"]),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _page(
                    request,
                    "portal/keys_revealed.html",
                    {
                        "title": "Your new API key and secret",
                        "revealed": revealed,
                        "operator": Operator.objects.get(pk=operator.pk),
                    },
                )
    return _page(
        request,
        "portal/keys.html",
        {
            "title": "API key and secret",
            "form": form,
            "may_rotate": may_rotate,
            "operator": operator,
            "in_overlap": operator.rotation_in_overlap(),  # type: ignore[attr-defined]
        },
    )


# --- conformance ----------------------------------------------------------------------------
def conformance_view(request: HttpRequest) -> HttpResponse:
    portal = _portal(request, "conformance")
    may_run = portal.may_act("conformance")
    form = ReasonForm()
    if request.method == "POST":
        if not may_run:
            raise PermissionDenied
        form = ReasonForm(request.POST)
        if form.is_valid():
            run = services.conformance_start(
                operator=portal.operator, user=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(
                request, f"Conformance check #{run.pk} started: its report appears below."
            )
            return HttpResponseRedirect(reverse("portal:conformance"))
    runs = ConformanceRun.objects.filter(operator=portal.operator).order_by("-created_at")[:20]
    return _page(
        request,
        "portal/conformance.html",
        {"title": "Conformance check", "form": form, "may_run": may_run, "runs": runs},
    )


# --- two-factor enrolment -------------------------------------------------------------------
@never_cache
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the code, type one code to confirm. Reached signed in
    with the password (an operator admin must, before anything else; others may)."""
    from django_otp import login as otp_login
    from django_otp import user_has_device

    member = membership(request.user)
    if member is None:
        return HttpResponseRedirect(reverse("portal:login"))
    if user_has_device(member.user) and not is_verified(request.user):
        return HttpResponseRedirect(reverse("portal:login"))
    device = services.totp_device_pending(user=member.user)
    form = DeviceConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(device=device, token=form.cleaned_data["token"]):
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is on: you will be asked for a code.")
            return HttpResponseRedirect(reverse("portal:index"))
        form.add_error("token", "That code is not right: try the one showing now.")
    return _page(
        request,
        "portal/two_factor.html",
        {
            "title": "Set up two-factor sign-in",
            "form": form,
            "qr_svg": services.totp_qr_data_uri(device),
            "secret": services.totp_secret_text(device),
            "member": member,
        },
    )


# --- invitations ----------------------------------------------------------------------------
@never_cache
def invite_view(request: HttpRequest, token: str) -> HttpResponse:
    invite = services.invite_get_open(token)
    if invite is None:
        return _page(
            request,
            "portal/invite_invalid.html",
            {"title": "This invitation is no longer valid"},
        )
    form = InviteAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.invite_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            auth_login(request, member.user, backend="django.contrib.auth.backends.ModelBackend")
            from apps.portal.middleware import session_started

            session_started(request)
            return HttpResponseRedirect(reverse("portal:two_factor"))
    return _page(
        request,
        "portal/invite.html",
        {"title": f"Join {invite.operator.name}'s portal", "form": form, "invite": invite},
    )


# --- staff: view the portal as an operator ----------------------------------------------------
@never_cache
def view_as_view(request: HttpRequest, operator_id: int) -> HttpResponse:
    user = request.user
    if not (user.is_authenticated and user.is_staff and user.has_perm("operators.view_operator")):
        raise PermissionDenied
    operator = get_object_or_404(Operator, pk=operator_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            services.view_as_start(
                request=request, operator=operator, reason=form.cleaned_data["reason"]
            )
        return HttpResponseRedirect(reverse("portal:index"))
    return _page(
        request,
        "portal/view_as.html",
        {"title": f"View the portal as {operator.name}", "form": form, "operator": operator},
    )


@require_POST
def view_as_stop_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated or not request.user.is_staff:
        raise Http404
    services.view_as_stop(request=request)
    return HttpResponseRedirect(reverse("admin:index"))
