"""The portal's sign-in side: two-factor enrolment, invitations, and staff viewing the
portal as an operator. Thin: the work is in ``apps.portal.services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.operators.models import Operator
from apps.portal import services
from apps.portal.context import is_verified, membership
from apps.portal.forms import DeviceConfirmForm, InviteAcceptForm, ReasonForm
from apps.portal.roles import TWO_FACTOR_REQUIRED
from apps.portal.views import _page


# --- two-factor enrolment -------------------------------------------------------------------
@never_cache
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Two-factor sign-in: the state of it for a person signed in with their code, else
    enrolment (scan the code, type one code to confirm). An operator admin must enrol before
    anything else; others may, or skip for now."""
    from django_otp import login as otp_login
    from django_otp import user_has_device

    member = membership(request.user)
    if member is None:
        return HttpResponseRedirect(reverse("portal:login"))
    has_device = user_has_device(member.user)
    if has_device and not is_verified(request.user):
        return HttpResponseRedirect(reverse("portal:login"))
    required = member.role in TWO_FACTOR_REQUIRED
    if has_device and request.method != "POST" and "new" not in request.GET:
        return _page(
            request,
            "portal/two_factor.html",
            {
                "title": "Two-factor sign-in",
                "member": member,
                "enrolled": True,
                "required": required,
                "devices": services.totp_devices(user=member.user),
            },
        )
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
            "enrolled": False,
            "replacing": has_device,
            "required": required,
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
