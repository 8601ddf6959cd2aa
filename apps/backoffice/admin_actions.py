"""Confirmed, audited staff actions for ModelAdmins.

A ``StaffActionSpec`` names a service call. ``StaffActionsMixin`` offers each one twice: as a
button on the object's page and (``bulk``) in the changelist's action menu. Either way the
staff member first sees a confirmation page saying what will happen to which objects, and
must give a reason; the service then runs once per object, and every run (done, refused or
failed) is written to ``StaffAction`` with who, why and what came of it, and reported with
``message_user``. Admin classes only describe actions; the services hold the rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.backoffice.models import StaffAction
from apps.backoffice.services import staff_action_record
from apps.core.admin_base import ModelAdminMixin
from apps.core.errors import ApplicationError

logger = logging.getLogger(__name__)

ACT = "backoffice.act_operations"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text="Recorded with your name in the staff action log.",
    )


@dataclass(frozen=True)
class ActionResult:
    """What a run returns when it has more to say than a message (e.g. a one-time secret)."""

    message: str
    reveal: dict[str, str] = field(default_factory=dict)
    level: int = messages.SUCCESS


@dataclass(frozen=True)
class StaffActionSpec[M: models.Model]:
    name: str
    label: str
    # run(obj, *, request, data) -> message or ActionResult; raise ApplicationError or
    # ValidationError to refuse (nothing was done).
    run: Callable[..., str | ActionResult]
    description: str = ""
    form_class: type[forms.Form] = ReasonForm
    permission: str = ACT
    bulk: bool = True
    dangerous: bool = False
    max_objects: int = 50
    # Only for actions that move no money (a reading, a connection test): a money action
    # asks staff to write why, never offers a reason to accept with one click.
    initial_reason: str = ""
    # Whether the button makes sense for this object right now (never a security check).
    available: Callable[[M], bool] | None = None
    # One line per object on the confirmation page: what this will do to it.
    preview: Callable[[M], str] | None = None
    # The result page shows ``ActionResult.reveal`` once instead of redirecting.
    reveals: bool = False


@dataclass
class RunOutcome:
    obj: models.Model
    outcome: str
    message: str
    reveal: dict[str, str] = field(default_factory=dict)
    record: StaffAction | None = None


def _error_text(error: Exception) -> str:
    if isinstance(error, ApplicationError):
        return f"{error.code}: {error.message}"
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)


class StaffActionsMixin(ModelAdminMixin):
    """Mix into a ModelAdmin and list ``staff_actions``."""

    staff_actions: Sequence[StaffActionSpec[Any]] = ()
    change_form_template = "admin/copypool/change_form.html"
    confirm_template = "admin/copypool/confirm_action.html"
    reveal_template = "admin/copypool/reveal_once.html"

    # --- lookup ------------------------------------------------------------------------
    def get_staff_actions(self, request: HttpRequest) -> list[StaffActionSpec]:
        return [spec for spec in self.staff_actions if request.user.has_perm(spec.permission)]

    def _spec(self, request: HttpRequest, name: str) -> StaffActionSpec:
        for spec in self.staff_actions:
            if spec.name == name:
                if not request.user.has_perm(spec.permission):
                    raise PermissionDenied
                return spec
        raise Http404(f"No action {name!r}")

    def staff_action_url(self, obj: models.Model, spec: StaffActionSpec) -> str:
        opts = self.opts
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_act",
            args=[quote(obj.pk), spec.name],
        )

    # --- wiring ------------------------------------------------------------------------
    def get_urls(self):
        opts = self.opts
        return [
            path(
                "<path:object_id>/act/<slug:action>/",
                self.admin_site.admin_view(self.staff_action_view),
                name=f"{opts.app_label}_{opts.model_name}_act",
            ),
            *super().get_urls(),
        ]

    # django-stubs 6.1 describes Django 6.1's admin actions (``Action`` objects and an
    # ``action_location`` argument); Django 6.0, which CopyPool runs on, has neither and keeps
    # actions as (function, name, description) tuples.
    def get_actions(self, request: HttpRequest):  # type: ignore[override]
        actions = super().get_actions(request)
        for spec in self.get_staff_actions(request):
            if spec.bulk:
                action = (self._bulk_action(spec), spec.name, spec.label)
                actions[spec.name] = action  # type: ignore[assignment]
        return actions

    def _bulk_action(self, spec: StaffActionSpec):
        def action(modeladmin, request, queryset):
            objects = list(queryset.order_by("pk")[: spec.max_objects + 1])
            if len(objects) > spec.max_objects:
                modeladmin.message_user(
                    request,
                    f"{spec.label}: select at most {spec.max_objects} at a time.",
                    messages.ERROR,
                )
                return None
            return modeladmin._confirm_or_run(request, spec, objects, bulk=True)

        action.__name__ = spec.name
        return action

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        top_panel = getattr(self, "top_panel", None)
        if obj is not None and not add and top_panel is not None:
            context["cp_top_panel"] = top_panel(obj)
        if obj is not None and not add:
            context["staff_actions"] = [
                {
                    "label": spec.label,
                    "url": self.staff_action_url(obj, spec),
                    "dangerous": spec.dangerous,
                }
                for spec in self.get_staff_actions(request)
                if spec.available is None or spec.available(obj)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- views -------------------------------------------------------------------------
    def staff_action_view(self, request: HttpRequest, object_id: str, action: str):
        spec = self._spec(request, action)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such object")
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return self._confirm_or_run(request, spec, [obj], bulk=False)

    def _confirm_or_run(
        self, request: HttpRequest, spec: StaffActionSpec, objects: list, *, bulk: bool
    ) -> HttpResponse | None:
        confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
        form = spec.form_class(
            request.POST if confirmed else None, initial={"reason": spec.initial_reason}
        )
        if confirmed and form.is_valid():
            outcomes = [self._run_one(request, spec, obj, form.cleaned_data) for obj in objects]
            revealed = [o for o in outcomes if o.reveal]
            if spec.reveals and revealed:
                return self._render_reveal(request, spec, revealed)
            if bulk:
                return None  # back to the changelist, messages shown there
            return HttpResponseRedirect(self._after_url(request, objects[0]))
        return self._render_confirm(request, spec, objects, form, bulk=bulk)

    def _run_one(self, request, spec: StaffActionSpec, obj, data: dict) -> RunOutcome:
        reveal: dict[str, str] = {}
        level = messages.SUCCESS
        try:
            result = spec.run(obj, request=request, data=data)
        except (ApplicationError, ValidationError) as error:
            outcome, text, level = StaffAction.Outcome.REFUSED, _error_text(error), messages.ERROR
        except Exception as error:  # the service broke: say so, keep the audit row
            logger.exception("Staff action %s on %r failed", spec.name, obj)
            outcome = StaffAction.Outcome.ERROR
            text = f"failed: {type(error).__name__}: {error}"
            level = messages.ERROR
        else:
            outcome = StaffAction.Outcome.DONE
            if isinstance(result, ActionResult):
                text, reveal, level = result.message, result.reveal, result.level
            else:
                text = str(result)
        record = staff_action_record(
            user=request.user,
            action=spec.name,
            target=obj,
            reason=data.get("reason", ""),
            outcome=outcome,
            message=text,
        )
        self.message_user(request, f"{spec.label} · {obj}: {text}", level)
        return RunOutcome(obj=obj, outcome=outcome, message=text, reveal=reveal, record=record)

    def _after_url(self, request, obj) -> str:
        """The object's page, or the list when the action took it off this page's list
        (a review item that was settled, a lock that was released)."""
        if self.get_queryset(request).filter(pk=obj.pk).exists():
            return self._change_url(obj)
        opts = self.opts
        return reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")

    def _change_url(self, obj) -> str:
        opts = self.opts
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
            args=[quote(obj.pk)],
        )

    def _render_confirm(self, request, spec, objects, form, *, bulk: bool) -> TemplateResponse:
        opts = self.opts
        rows = [
            {
                "obj": obj,
                "url": self._change_url(obj),
                "preview": spec.preview(obj) if spec.preview else "",
            }
            for obj in objects
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"{spec.label}: are you sure?",
            "subtitle": None,
            "opts": opts,
            "app_label": opts.app_label,
            "spec": spec,
            # Not ``spec.preview`` in the template: the template engine would call it with no
            # object, fail, and read it as empty (the column never showed).
            "has_preview": spec.preview is not None,
            "rows": rows,
            "form": form,
            "bulk": bulk,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": self._change_url(objects[0])
            if not bulk
            else reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist"),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.confirm_template, context)

    def _render_reveal(self, request, spec, outcomes: list[RunOutcome]) -> TemplateResponse:
        opts = self.opts
        context = {
            **self.admin_site.each_context(request),
            "title": f"{spec.label}: done",
            "opts": opts,
            "app_label": opts.app_label,
            "outcomes": [
                {"obj": o.obj, "url": self._change_url(o.obj), "message": o.message, **o.__dict__}
                for o in outcomes
            ],
        }
        request.current_app = self.admin_site.name
        response = TemplateResponse(request, self.reveal_template, context)
        response["Cache-Control"] = "no-store"
        return response
