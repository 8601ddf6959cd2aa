""" "Run now" on the reconciliation runs and daily settlements changelists.

A button in the changelist's object tools opens a confirmation page (what will happen, a form
with the reason), and the POST runs the job through ``apps.backoffice.run_now``. The
permission is the job's: reconciliation is operations' (``backoffice.act_operations``), a
settlement finance's (``backoffice.act_finance``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.backoffice import run_now
from apps.backoffice.admin_actions import ReasonForm
from apps.core.admin_base import ModelAdminMixin
from apps.core.admin_display import changelist_url
from apps.core.errors import ApplicationError
from apps.operators.models import Operator
from apps.transactions.finance.invoices import utc_today
from apps.transactions.models import DailySettlement, ReconciliationRun

ACT_OPERATIONS = "backoffice.act_operations"
ACT_FINANCE = "backoffice.act_finance"


class ReconcileNowForm(ReasonForm):
    operator = forms.ModelChoiceField(
        queryset=Operator.objects.order_by("name"),
        required=False,
        empty_label="Every operator that needs one",
        help_text="Enabled operators and any operator that still has an unclosed pool.",
    )
    field_order = ["operator", "reason"]


class SettleNowForm(ReasonForm):
    day = forms.DateField(
        label="Day (UTC)",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Today's row is provisional until the day is over; the schedule recomputes "
        "the last two days every hour.",
    )
    field_order = ["day", "reason"]

    def clean_day(self):
        day = self.cleaned_data["day"]
        try:
            run_now.settlement_day_check(day)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error
        return day


class RunNowMixin(ModelAdminMixin):
    """Adds ``<changelist>/run-now/``: a confirmed, audited run of the admin's job."""

    run_now_permission: ClassVar[str]
    run_now_label: ClassVar[str]
    run_now_description: ClassVar[str]
    run_now_form: ClassVar[type[ReasonForm]]

    def run_now_perform(self, request, form) -> tuple[str, int, str]:
        """Run the job; returns the message, its level and where to go next."""
        raise NotImplementedError

    def run_now_initial(self, request) -> dict[str, Any]:
        return {}

    def get_urls(self):
        opts = self.opts
        return [
            path(
                "run-now/",
                self.admin_site.admin_view(self.run_now_view),
                name=f"{opts.app_label}_{opts.model_name}_run_now",
            ),
            *super().get_urls(),
        ]

    def run_now_url(self) -> str:
        opts = self.opts
        return reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_run_now")

    def changelist_view(self, request, extra_context=None):
        extra = {
            "cp_run_now_url": self.run_now_url()
            if request.user.has_perm(self.run_now_permission)
            else "",
            "cp_run_now_label": self.run_now_label,
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def run_now_view(self, request):
        if not request.user.has_perm(self.run_now_permission):
            raise PermissionDenied
        changelist = changelist_url(self.model)
        form = (
            self.run_now_form(request.POST)
            if request.method == "POST"
            else self.run_now_form(initial=self.run_now_initial(request))
        )
        if request.method == "POST" and form.is_valid():
            try:
                message, level, target = self.run_now_perform(request, form)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, message, level)
                return HttpResponseRedirect(target)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{self.run_now_label}: are you sure?",
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "form": form,
            "label": self.run_now_label,
            "description": self.run_now_description,
            "cancel_url": changelist,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/copypool/run_now.html", context)


class ReconciliationRunNowMixin(RunNowMixin):
    run_now_permission = ACT_OPERATIONS
    run_now_label = "Run reconciliation now"
    run_now_description = (
        "Reads the balance of every open pool of the chosen operator (or of every operator "
        "that needs one) from the operator, checks the ledger against it and records what it "
        "finds as discrepancies, as the schedule does every few minutes. It moves no money "
        "beyond the automatic repairs the schedule makes too, and takes as long as the "
        f"operators take to answer (at most {run_now.RUN_NOW_BUDGET_SECONDS:.0f} s each)."
    )
    run_now_form = ReconcileNowForm

    def run_now_perform(self, request, form):
        outcome = run_now.reconciliation_run_now(
            user=request.user,
            reason=form.cleaned_data["reason"],
            operator=form.cleaned_data["operator"],
        )
        failed = any(run.status == ReconciliationRun.Status.FAILED for run in outcome.runs)
        level = messages.WARNING if failed or outcome.busy else messages.SUCCESS
        if len(outcome.runs) == 1:
            target = reverse(
                f"{self.admin_site.name}:transactions_reconciliationrun_change",
                args=[outcome.runs[0].pk],
            )
        else:
            target = changelist_url(ReconciliationRun, trigger__exact="manual")
        return outcome.describe(), level, target


class SettlementRunNowMixin(RunNowMixin):
    run_now_permission = ACT_FINANCE
    run_now_label = "Compute a day's settlement now"
    run_now_description = (
        "Recomputes the day's settlement of every operator and currency from the ledger: "
        "money in and out, rollbacks, CopyStake's fees under the fee schedule in force, the "
        "streamers' fees and the open exposure. Rows already there are replaced with the "
        "figures of now; no money moves."
    )
    run_now_form = SettleNowForm

    def run_now_initial(self, request):
        return {"day": utc_today()}

    def run_now_perform(self, request, form):
        day = form.cleaned_data["day"]
        rows = run_now.settlement_run_now(
            user=request.user, day=day, reason=form.cleaned_data["reason"]
        )
        message = f"Settlement of {day:%Y-%m-%d}: {len(rows)} row(s) computed."
        target = changelist_url(DailySettlement, day__from=day.isoformat(), day__to=day.isoformat())
        return message, messages.SUCCESS, target
