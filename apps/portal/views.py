"""The portal's own pages (the rest are the back office's ModelAdmins, ``apps.portal.admin``):
configuration, keys, the conformance check, two-factor enrolment, invitations, view-as.
Thin: each asks ``portal_context`` who may do what and calls a service."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from apps.operators.models import ConformanceRun, Operator
from apps.portal import services
from apps.portal.context import PortalContext, portal_context
from apps.portal.forms import ReasonForm
from apps.portal.tenancy import scoped_objects


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
            "in_overlap": operator.rotation_in_overlap(),
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
    runs = scoped_objects(ConformanceRun, portal.operator).order_by("-created_at")[:20]
    return _page(
        request,
        "portal/conformance.html",
        {"title": "Conformance check", "form": form, "may_run": may_run, "runs": runs},
    )
