"""CopyStake's fees and invoices in the back office: fee schedules (added, never edited),
invoices and credit notes (read-only; issued, paid, voided and credited through confirmed,
audited actions), their PDF and CSV, and the export of the invoice list.

The rules are ``apps.transactions.finance.invoices``'; this module only describes pages and
actions. Acting needs ``backoffice.act_finance`` (the Finance group); viewing, the model's
view permission.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.backoffice.admin_actions import ReasonForm, StaffActionsMixin, StaffActionSpec
from apps.backoffice.admin_exports import StreamingExportMixin
from apps.backoffice.admin_totals import ChangeListTotalsMixin
from apps.backoffice.models import StaffAction
from apps.backoffice.services import staff_action_record
from apps.core.admin_base import ReadOnlyAdminMixin
from apps.core.admin_display import EMPTY, admin_link, badge, money
from apps.core.errors import ApplicationError
from apps.transactions.finance import invoices as service
from apps.transactions.finance.pdf import invoice_filename, invoice_html, invoice_pdf
from apps.transactions.finance.resources import InvoiceResource, invoice_csv
from apps.transactions.models import FeeSchedule, Invoice

ACT_FINANCE = "backoffice.act_finance"
STATE_TONES = {"draft": "muted", "issued": "info", "paid": "ok", "void": "bad"}


# --- fee schedules -------------------------------------------------------------------


class FeeScheduleForm(forms.ModelForm):
    class Meta:
        model = FeeSchedule
        fields = (
            "operator",
            "currency",
            "effective_from",
            "turnover_percent",
            "ggr_percent",
            "monthly_minimum",
            "note",
        )
        help_texts = {
            "effective_from": "Today (UTC) or later: days already billed keep their schedule.",
        }

    created: FeeSchedule | None = None

    def validate_unique(self) -> None:
        """The service checks (and has already saved) the schedule in ``clean``."""

    def validate_constraints(self) -> None:
        """As ``validate_unique``: the service checked them."""

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.created = service.fee_schedule_create(
                operator=data["operator"],
                currency=data["currency"],
                effective_from=data["effective_from"],
                turnover_percent=data["turnover_percent"],
                ggr_percent=data["ggr_percent"],
                monthly_minimum=data["monthly_minimum"],
                note=data.get("note", ""),
                user=getattr(self, "user", None),
            )
        except ApplicationError as error:
            raise ValidationError(f"{error.code}: {error.message}") from error
        return data


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    form = FeeScheduleForm
    list_display = (
        "operator",
        "currency",
        "effective_from",
        "turnover",
        "ggr",
        "minimum",
        "in_force",
        "created_by",
        "created_at",
    )
    list_filter = ("operator", "currency")
    list_select_related = ("operator", "created_by")
    readonly_fields = ("created_by", "created_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a schedule is history: a new rate is a new schedule

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # type: ignore[attr-defined]
        return form

    def save_model(self, request, obj, form, change):
        created = form.created  # made by the service when the form was validated
        for field in FeeSchedule._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db

    @admin.display(description="Turnover %", ordering="turnover_percent")
    def turnover(self, schedule: FeeSchedule):
        return f"{schedule.turnover_percent.normalize():f} %"

    @admin.display(description="GGR %", ordering="ggr_percent")
    def ggr(self, schedule: FeeSchedule):
        return f"{schedule.ggr_percent.normalize():f} %"

    @admin.display(description="Monthly minimum", ordering="monthly_minimum")
    def minimum(self, schedule: FeeSchedule):
        return money(schedule.monthly_minimum, schedule.currency)

    @admin.display(description="In force", boolean=True)
    def in_force(self, schedule: FeeSchedule):
        return service.fee_schedule_in_force(schedule)


# --- invoice actions -----------------------------------------------------------------


class PaidForm(ReasonForm):
    reference = forms.CharField(
        label="Payment reference",
        max_length=128,
        help_text="The bank transfer's reference, as on the statement.",
    )


class VoidForm(ReasonForm):
    reason = forms.CharField(
        label="Why it is voided",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text="Kept on the invoice and in the staff action log.",
    )


class CreditForm(ReasonForm):
    amount = forms.DecimalField(
        label="Amount to credit",
        max_digits=20,
        decimal_places=8,
        min_value=Decimal("0.00000001"),
        help_text="At most what the invoice still has uncredited.",
    )
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text="Printed on the credit note and recorded with your name.",
    )


def _issue(invoice: Invoice, *, request, data) -> str:
    invoice = service.invoice_issue(invoice=invoice, user=request.user)
    return f"issued as {invoice.number}, total {invoice.total} {invoice.currency}"


def _paid(invoice: Invoice, *, request, data) -> str:
    invoice = service.invoice_mark_paid(
        invoice=invoice, user=request.user, reference=data["reference"]
    )
    return f"marked paid, reference {invoice.payment_reference}"


def _void(invoice: Invoice, *, request, data) -> str:
    service.invoice_void(invoice=invoice, user=request.user, reason=data["reason"])
    return "voided"


def _credit(invoice: Invoice, *, request, data) -> str:
    note = service.credit_note_create(
        invoice=invoice, user=request.user, amount=data["amount"], reason=data["reason"]
    )
    return f"credit note {note.number} for {-note.total} {note.currency}"


def _is_invoice(invoice: Invoice, *states: str) -> bool:
    return invoice.kind == Invoice.Kind.INVOICE and invoice.state in states


ISSUE = StaffActionSpec[Invoice](
    name="invoice_issue",
    label="Issue",
    run=_issue,
    permission=ACT_FINANCE,
    description="Gives the draft the next number of its year's series, freezes it and posts "
    "it to the journal (fees receivable from the operator). An issued invoice is never "
    "edited again: it is corrected by a credit note, or voided before it is paid.",
    available=lambda invoice: _is_invoice(invoice, Invoice.State.DRAFT),
    preview=lambda invoice: (
        f"{invoice.operator} {invoice.currency} {invoice.period_start:%Y-%m}: total {invoice.total}"
    ),
)
MARK_PAID = StaffActionSpec[Invoice](
    name="invoice_mark_paid",
    label="Mark paid",
    run=_paid,
    form_class=PaidForm,
    permission=ACT_FINANCE,
    bulk=False,
    description="Records that the operator paid this invoice. Paid is final.",
    available=lambda invoice: _is_invoice(invoice, Invoice.State.ISSUED),
)
VOID = StaffActionSpec[Invoice](
    name="invoice_void",
    label="Void",
    run=_void,
    form_class=VoidForm,
    permission=ACT_FINANCE,
    bulk=False,
    dangerous=True,
    description="Cancels a draft, or an issued unpaid invoice without credit notes (its "
    "journal entry is reversed). The month may then be billed again by a new draft.",
    available=lambda invoice: _is_invoice(invoice, Invoice.State.DRAFT, Invoice.State.ISSUED),
)
CREDIT = StaffActionSpec[Invoice](
    name="invoice_credit_note",
    label="Credit note",
    run=_credit,
    form_class=CreditForm,
    permission=ACT_FINANCE,
    bulk=False,
    dangerous=True,
    description="Issues a credit note (numbered CN-<year>-...) against this invoice for the "
    "amount below, with a negative total, and posts it to the journal.",
    available=lambda invoice: _is_invoice(invoice, Invoice.State.ISSUED, Invoice.State.PAID),
    preview=lambda invoice: f"still uncredited: {service.uncredited(invoice)} {invoice.currency}",
)


# --- invoices ------------------------------------------------------------------------


class MonthFilter(admin.SimpleListFilter):
    title = "month"
    parameter_name = "month"

    def lookups(self, request, model_admin):
        months = (
            Invoice.objects.order_by("-period_start")
            .values_list("period_start", flat=True)
            .distinct()[:36]
        )
        return [(m.isoformat(), f"{m:%Y-%m}") for m in months]

    def queryset(self, request, queryset):
        return queryset.filter(period_start=self.value()) if self.value() else queryset


class CurrencyFilter(admin.SimpleListFilter):
    title = "currency"
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        currencies = Invoice.objects.order_by().values_list("currency", flat=True).distinct()
        return [(c, c) for c in sorted(set(currencies))]

    def queryset(self, request, queryset):
        return queryset.filter(currency=self.value()) if self.value() else queryset


class GenerateForm(ReasonForm):
    pass


@admin.register(Invoice)
class InvoiceAdmin(
    ChangeListTotalsMixin,
    StreamingExportMixin,
    StaffActionsMixin,
    ReadOnlyAdminMixin,
    admin.ModelAdmin,
):
    resource_classes = [InvoiceResource]
    staff_actions = (ISSUE, MARK_PAID, VOID, CREDIT)
    change_list_template = "finance/admin_invoice_change_list.html"
    totals = (("cp_total", "Total", Sum("total")),)
    list_display = (
        "label",
        "kind",
        "operator",
        "currency",
        "period",
        "state_badge",
        "money_total",
        "downloads",
    )
    list_display_links = ("label",)
    list_filter = ("state", "kind", "operator", CurrencyFilter, MonthFilter)
    list_select_related = ("operator",)
    search_fields = ("number",)
    list_per_page = 50
    fields = (
        "label",
        "kind",
        "state_badge",
        "operator",
        "currency",
        "period",
        "credits_link",
        "credit_notes_panel",
        "fee_schedule_link",
        "lines_panel",
        "money_subtotal",
        "money_minimum_charge",
        "money_total",
        "reason",
        "issued_at",
        "issued_by",
        "paid_at",
        "paid_by",
        "payment_reference",
        "voided_at",
        "voided_by",
        "void_reason",
        "downloads",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    # --- columns -----------------------------------------------------------------------
    @admin.display(description="Number", ordering="number")
    def label(self, invoice: Invoice):
        return invoice.number or f"draft #{invoice.pk}"

    @admin.display(description="Period", ordering="period_start")
    def period(self, invoice: Invoice):
        return f"{invoice.period_start:%Y-%m-%d} to {invoice.period_end:%Y-%m-%d}"

    @admin.display(description="State", ordering="state")
    def state_badge(self, invoice: Invoice):
        return badge(invoice.get_state_display(), STATE_TONES.get(invoice.state, ""))

    @admin.display(description="Total", ordering="total")
    def money_total(self, invoice: Invoice):
        return money(invoice.total, invoice.currency)

    @admin.display(description="Subtotal")
    def money_subtotal(self, invoice: Invoice):
        return money(invoice.subtotal, invoice.currency)

    @admin.display(description="Monthly minimum charge")
    def money_minimum_charge(self, invoice: Invoice):
        return money(invoice.minimum_charge, invoice.currency)

    @admin.display(description="Download")
    def downloads(self, invoice: Invoice):
        return format_html(
            '<a href="{}">PDF</a> · <a href="{}">CSV</a>',
            self._document_url(invoice, "pdf"),
            self._document_url(invoice, "csv"),
        )

    @admin.display(description="Credits")
    def credits_link(self, invoice: Invoice):
        return (
            admin_link(Invoice, invoice.credits_id, str(invoice.credits))
            if invoice.credits_id
            else EMPTY
        )

    @admin.display(description="Fee schedule")
    def fee_schedule_link(self, invoice: Invoice):
        schedule = invoice.fee_schedule
        if schedule is None:
            return EMPTY
        return format_html(
            "{} % of turnover, {} % of GGR, minimum {} (from {})",
            f"{schedule.turnover_percent.normalize():f}",
            f"{schedule.ggr_percent.normalize():f}",
            money(schedule.monthly_minimum, schedule.currency),
            schedule.effective_from,
        )

    @admin.display(description="Credit notes")
    def credit_notes_panel(self, invoice: Invoice):
        notes = list(invoice.credit_notes.order_by("pk"))
        if not notes:
            return EMPTY
        return format_html_join(
            ", ",
            "{} ({})",
            ((admin_link(Invoice, n.pk, n.number or f"#{n.pk}"), money(n.total)) for n in notes),
        )

    @admin.display(description="Lines")
    def lines_panel(self, invoice: Invoice):
        lines = list(invoice.lines.all())
        if not lines:
            return "No lines."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td class='cp-num'>{}</td><td class='cp-num'>{}</td>"
            "<td class='cp-num'>{}</td><td class='cp-num'>{}</td><td class='cp-num'>{}</td></tr>",
            (
                (
                    line.day or "",
                    line.description,
                    money(line.money_in) if line.day else "",
                    money(line.money_out) if line.day else "",
                    money(line.turnover_fee) if line.day else "",
                    money(line.ggr_fee) if line.day else "",
                    money(line.amount),
                )
                for line in lines
            ),
        )
        return format_html(
            '<table class="cp-table"><thead><tr><th>Day</th><th>Description</th>'
            '<th class="cp-num">Money in</th><th class="cp-num">Money out</th>'
            '<th class="cp-num">Turnover fee</th><th class="cp-num">GGR fee</th>'
            '<th class="cp-num">Amount</th></tr></thead><tbody>{}</tbody></table>',
            rows,
        )

    # --- documents and the monthly generation ---------------------------------------------
    def get_urls(self):
        opts = self.opts
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path(
                "<int:object_id>/document.<str:extension>",
                self.admin_site.admin_view(self.document_view),
                name=f"{name}_document",
            ),
            path(
                "generate-last-month/",
                self.admin_site.admin_view(self.generate_view),
                name=f"{name}_generate",
            ),
            *super().get_urls(),
        ]

    def _document_url(self, invoice: Invoice, extension: str) -> str:
        opts = self.opts
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_document",
            args=[invoice.pk, extension],
        )

    def document_view(self, request, object_id: int, extension: str):
        invoice = self.get_object(request, str(object_id))
        if invoice is None or extension not in ("pdf", "csv", "html"):
            raise Http404("No such invoice document")
        if not self.has_view_permission(request, invoice):
            raise PermissionDenied
        if extension == "pdf":
            response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        elif extension == "csv":
            response = HttpResponse(invoice_csv(invoice), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(invoice_html(invoice), content_type="text/html; charset=utf-8")
            response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
            return response
        response["Content-Disposition"] = (
            f'attachment; filename="{invoice_filename(invoice, extension)}"'
        )
        response["Cache-Control"] = "no-store"
        return response

    def generate_view(self, request):
        if not request.user.has_perm(ACT_FINANCE):
            raise PermissionDenied
        month = service.previous_month(service.utc_today())
        changelist = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist"
        )
        confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
        form = GenerateForm(request.POST if confirmed else None)
        if confirmed and form.is_valid():
            drafts = service.invoices_generate_monthly()
            for invoice in drafts:
                staff_action_record(
                    user=request.user,
                    action="invoice_generate",
                    target=invoice,
                    reason=form.cleaned_data["reason"],
                    outcome=StaffAction.Outcome.DONE,
                    message=f"{invoice.get_state_display()}, total {invoice.total}",
                )
            self.message_user(
                request,
                f"Drafts for {month:%Y-%m}: {len(drafts)} invoice(s) generated or recomputed "
                "(issued ones are left as they are).",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(changelist)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Generate the drafts of {month:%Y-%m}: are you sure?",
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "month": month,
            "form": form,
            "cancel_url": changelist,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "finance/admin_invoice_generate.html", context)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and context.get("cl") is not None:
            context["cp_can_generate"] = request.user.has_perm(ACT_FINANCE)
            context["cp_generate_url"] = reverse(
                f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_generate"
            )
        return response
