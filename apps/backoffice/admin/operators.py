"""Operators and the call log in the back office.

Secrets never appear in full on any page or in any form: the change form shows them masked
and offers *replace* fields that are never filled back in; a rotated or generated credential
is shown once, on the page that answers the action, and is not stored in the audit trail.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.backoffice import resend
from apps.backoffice.admin_actions import (
    ActionResult,
    ReasonForm,
    StaffActionsMixin,
    StaffActionSpec,
)
from apps.backoffice.admin_panels import staff_actions_panel
from apps.backoffice.services import staff_action_record
from apps.core.admin_base import AuditedHistoryAdmin, BigTableAdminMixin, ReadOnlyAdminMixin
from apps.core.admin_display import EMPTY, admin_link, badge, number_column, pretty_json
from apps.core.admin_filters import DateRangeFilter
from apps.core.errors import ErrorCode
from apps.followers.selectors import operator_language_codes
from apps.operators import services
from apps.operators.conformance.services import conformance_run_create
from apps.operators.models import CallLog, ConformanceRun, Operator
from apps.transactions.models import Transaction
from apps.transactions.tasks import conformance_check_task

SECRET_REPLACEMENTS = {
    "new_operator_api_key": "operator_api_key",
    "new_secret_key": "secret_key",
    "new_wallet_secret": "wallet_secret",
}
CONFIG_FIELDS = (
    "name",
    "code",
    "enabled",
    "callback_url",
    "wallet_url",
    "wallet_client_id",
    "ip_allowlist",
    "languages",
    "session_ttl_seconds",
    "min_contribution",
    "max_contribution",
    "max_followers_per_pool",
    "max_pool_value",
    "request_timeout_seconds",
    "default_stop_loss_percent",
    "default_performance_fee_percent",
    "test_currency",
    "test_streamer_id",
    "test_follower_id",
    "test_non_streamer_id",
    "test_unknown_id",
)
TEST_USERS = (
    "test_currency",
    ("test_streamer_id", "test_non_streamer_id"),
    ("test_follower_id", "test_unknown_id"),
    "masked_test_follower_token",
    "new_test_follower_token",
    "conformance_runs",
)
LIMITS = (
    "enabled",
    "ip_allowlist",
    "session_ttl_seconds",
    "min_contribution",
    "max_contribution",
    "max_followers_per_pool",
    "max_pool_value",
    "request_timeout_seconds",
    "default_stop_loss_percent",
    "default_performance_fee_percent",
)


def _secret_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=services.MAX_CREDENTIAL_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


class OperatorForm(forms.ModelForm):
    """Configuration only; the secret columns are not form fields, ``new_*`` replace them."""

    new_operator_api_key = _secret_field(
        "Replace operator-issued API key",
        "The X-API-KEY this operator issued to CopyStake. Blank keeps the current one.",
    )
    new_secret_key = _secret_field(
        "Replace signature secret",
        "Signs X-REQUEST-SIGNATURE both ways. Blank keeps the current one.",
    )
    new_wallet_secret = _secret_field(
        "Replace wallet secret",
        "Signs X-VC-Client-Signature. Blank keeps the current one.",
    )
    new_test_follower_token = _secret_field(
        "Replace the test follower's userToken",
        "A live wallet userToken of the test follower (the check's /auth, /withdraw, "
        "/deposit and /rollback use it). Blank keeps the current one.",
    )
    change_reason = forms.CharField(
        label="Reason for this change",
        max_length=100,
        help_text="Kept in the change history with your name.",
    )

    languages = forms.CharField(
        label="Player page languages",
        required=False,
        max_length=100,
        help_text="Codes, comma-separated, of "
        + ", ".join(f"{code} ({name})" for code, name in settings.LANGUAGES)
        + ". The language init asks for is used when it is listed; English otherwise. "
        "Empty: English only.",
    )

    class Meta:
        model = Operator
        fields = CONFIG_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fee = self.fields.get("default_performance_fee_percent")
        if fee is not None:
            fee.required = False
            fee.help_text = (
                "Percent (0 to 50) of a follower's profit above their high-water mark that the "
                "operator's streamers keep on every leave, unless a streamer sets its own. "
                "Empty: 0, no fee. A change applies to new positions only."
            )

    def clean_languages(self):
        """Known codes only, each once, in the order given: ``"ES, pt"`` is ``"es,pt"``."""
        codes = operator_language_codes(self.cleaned_data.get("languages") or "")
        known = [code for code, _ in settings.LANGUAGES]
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise forms.ValidationError(
                f"Unknown language code(s): {', '.join(unknown)}. Known: {', '.join(known)}."
            )
        return ",".join(dict.fromkeys(codes)) or settings.PLAY_DEFAULT_LANGUAGE

    def clean_max_pool_value(self):
        """Said on the field, not as the database constraint's name."""
        value = self.cleaned_data.get("max_pool_value")
        if value is not None and value <= 0:
            raise forms.ValidationError("A capacity must be positive; leave it empty for none.")
        return value

    def clean_default_performance_fee_percent(self):
        """The streamers' fee unless they set their own: 0 to 50 % (``ErrorCode.INVALID_FEE``)."""
        value = self.cleaned_data.get("default_performance_fee_percent")
        if value is None:
            return Decimal(0)
        if not 0 <= value <= 50:
            raise forms.ValidationError(
                "A performance fee is a percent from 0 to 50 of the profit above the "
                "high-water mark; 0 for none.",
                code=ErrorCode.INVALID_FEE,
            )
        return value

    def clean_default_stop_loss_percent(self):
        """A loss of 0 % or 100 % or more is no stop-loss (the position's own limits take
        ``0 < p < 100`` alike)."""
        value = self.cleaned_data.get("default_stop_loss_percent")
        if value is not None and not 0 < value < 100:
            raise forms.ValidationError(
                "A stop-loss is a loss between 0 and 100 percent; leave it empty for none."
            )
        return value

    def apply_secrets(self, operator: Operator) -> list[str]:
        changed = []
        for field, attribute in SECRET_REPLACEMENTS.items():
            value = self.cleaned_data.get(field)
            if value:
                setattr(operator, attribute, value)
                changed.append(attribute)
        token = self.cleaned_data.get("new_test_follower_token")
        if token:
            operator.test_follower_token = token
            changed.append("test_follower_token")
        return changed


class RotateForm(ReasonForm):
    which = forms.ChoiceField(
        label="Credential",
        choices=[
            ("api_key", "API key CopyStake issued to the operator (inbound X-API-KEY)"),
            ("secret_key", "Signature secret (X-REQUEST-SIGNATURE, both ways)"),
            ("wallet_secret", "Wallet secret (X-VC-Client-Signature)"),
            ("operator_api_key", "Operator-issued API key (outbound X-API-KEY)"),
        ],
        help_text="A new random value replaces the current one at once; the operator must be "
        "given it before their next call.",
    )


def _rotate(operator: Operator, *, request, data) -> ActionResult:
    which = data["which"]
    value = services.operator_rotate_credential(operator=operator, which=which)
    return ActionResult(f"{which} rotated; the new value was shown once", reveal={which: value})


def _test_connection(operator: Operator, *, request, data) -> ActionResult:
    check = services.operator_test_connection(operator=operator)
    return ActionResult(
        f"{check.verdict} ({check.latency_ms} ms)",
        level=messages.SUCCESS if check.ok else messages.ERROR,
    )


def _conformance_check(operator: Operator, *, request, data) -> ActionResult:
    run = conformance_run_create(operator=operator, started_by=request.user)
    transaction.on_commit(lambda: conformance_check_task.delay(run.pk))
    return ActionResult(
        f"conformance check #{run.pk} started: its report is on the conformance run's page",
        level=messages.SUCCESS,
    )


def _set_enabled(enabled: bool):
    def run(operator: Operator, *, request, data) -> str:
        services.operator_set_enabled(operator=operator, enabled=enabled)
        return (
            "enabled"
            if enabled
            else f"disabled: every operator call answers {ErrorCode.COPYSTAKE_OFF}"
        )

    return run


@admin.register(Operator)
class OperatorAdmin(StaffActionsMixin, AuditedHistoryAdmin):
    form = OperatorForm
    staff_actions = (
        StaffActionSpec(
            name="operator_test_connection",
            label="Test connection",
            run=_test_connection,
            description="Sends a signed streamer-balance call for one of the operator's streamers "
            "and reports whether the operator answered and accepted our key and signature. "
            "The call is written to the call log.",
            initial_reason="Connection check",
            max_objects=20,
        ),
        StaffActionSpec(
            name="operator_conformance_check",
            label="Run conformance check",
            run=_conformance_check,
            description="Runs the signed probes of the conformance check in the background "
            "against the operator's callbacks and wallet, with the test users set below: it "
            "moves small amounts on the test streamer's and follower's balances and moves "
            "them back. The report (PASS, FAIL with the request to reproduce, SKIP) is "
            "kept as a conformance run.",
            bulk=False,
        ),
        StaffActionSpec(
            name="operator_rotate_credential",
            label="Rotate a credential",
            run=_rotate,
            form_class=RotateForm,
            description="Replaces one credential with a fresh random value, shown to you once.",
            dangerous=True,
            bulk=False,
            reveals=True,
        ),
        StaffActionSpec(
            name="operator_enable",
            label="Enable",
            run=_set_enabled(True),
            description="Operator calls are served again.",
            available=lambda operator: not operator.enabled,
        ),
        StaffActionSpec(
            name="operator_disable",
            label="Disable",
            run=_set_enabled(False),
            description=f"Every operator call answers {ErrorCode.COPYSTAKE_OFF} until enabled again. "
            "Running sagas carry on (money already moving is never abandoned).",
            dangerous=True,
            available=lambda operator: operator.enabled,
        ),
    )
    list_display = (
        "name",
        "code",
        "enabled_badge",
        "callback_url",
        "wallet_url",
        "masked_api_key",
        "created_at",
    )
    list_filter = ("enabled",)
    search_fields = ("name", "code", "wallet_client_id")
    readonly_fields = (
        "enabled_badge",
        "masked_api_key",
        "masked_operator_api_key",
        "masked_secret_key",
        "masked_wallet_secret",
        "masked_test_follower_token",
        "conformance_runs",
        "created_at",
        "updated_at",
        "staff_actions_taken",
        "portal_view_as",
        "key_rotation",
    )

    def get_fieldsets(self, request, obj=None):
        replace = tuple(SECRET_REPLACEMENTS)
        config = (
            ("name", "code"),
            ("callback_url", "wallet_url"),
            "wallet_client_id",
            "ip_allowlist",
            "languages",
        )
        limits = (
            ("min_contribution", "max_contribution"),
            ("max_followers_per_pool", "max_pool_value"),
            ("session_ttl_seconds", "request_timeout_seconds"),
            "default_stop_loss_percent",
        )
        fees = ("default_performance_fee_percent",)
        if obj is None:
            return (
                (None, {"fields": (*config, "enabled")}),
                ("Limits", {"fields": limits}),
                ("Performance fee", {"fields": fees}),
                (
                    "Credentials (optional: generated and shown once when left blank)",
                    {"fields": replace},
                ),
                (None, {"fields": ("change_reason",)}),
            )
        return (
            (None, {"fields": (*config, "enabled_badge")}),
            ("Limits", {"fields": limits}),
            ("Performance fee", {"fields": fees}),
            (
                "Credentials (masked)",
                {
                    "fields": (
                        ("masked_api_key", "masked_operator_api_key"),
                        ("masked_secret_key", "masked_wallet_secret"),
                        "key_rotation",
                    )
                },
            ),
            ("Replace credentials", {"fields": replace, "classes": ("collapse",)}),
            (
                "Conformance check: the operator's test users",
                {
                    "fields": TEST_USERS,
                    "description": "Users the operator created for the check: a streamer, a "
                    "follower with a live wallet token, a user who is not a streamer, and an id "
                    "that does not exist. Use dedicated test accounts: the check moves small "
                    "amounts and moves them back, and sends game-pool OPEN then CLOSE.",
                },
            ),
            (None, {"fields": ("change_reason", ("created_at", "updated_at"))}),
            ("Operator portal", {"fields": ("portal_view_as",)}),
            ("Staff actions", {"fields": ("staff_actions_taken",)}),
        )

    def get_changeform_initial_data(self, request):
        return {"change_reason": "New operator"}

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # operators own the ledger's rows; disable them instead

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason", "")
        if change:
            obj._change_reason = reason
            replaced = form.apply_secrets(obj)
            super().save_model(request, obj, form, change)
            if replaced:
                staff_action_record(
                    user=request.user,
                    action="operator_replace_credential",
                    target=obj,
                    reason=reason,
                    outcome="done",
                    message=f"replaced {', '.join(replaced)}",
                )
            return
        given = {
            attribute: form.cleaned_data.get(field) or None
            for field, attribute in SECRET_REPLACEMENTS.items()
        }
        operator, credentials = services.operator_create(
            name=obj.name,
            code=obj.code,
            callback_url=obj.callback_url,
            wallet_url=obj.wallet_url,
            wallet_client_id=obj.wallet_client_id or None,
            **given,
            **{name: getattr(obj, name) for name in LIMITS},
        )
        obj.pk = operator.pk
        obj._state.adding = False
        obj.api_key_hint = operator.api_key_hint
        request._cp_new_credentials = credentials
        staff_action_record(
            user=request.user,
            action="operator_create",
            target=operator,
            reason=reason,
            outcome="done",
            message="created; credentials shown once",
        )

    def response_add(self, request, obj, post_url_continue=None):
        credentials = getattr(request, "_cp_new_credentials", None)
        if not credentials:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Operator {obj} created",
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "outcomes": [
                {
                    "obj": obj,
                    "url": self._change_url(obj),
                    "message": "Give these credentials to the operator's integration team.",
                    "reveal": credentials,
                }
            ],
        }
        response = TemplateResponse(request, self.reveal_template, context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.display(description="Enabled", ordering="enabled")
    def enabled_badge(self, operator: Operator):
        return badge("enabled", "active") if operator.enabled else badge("disabled", "failed")

    @admin.display(description="Key rotation")
    def key_rotation(self, operator: Operator):
        """An operator's own rotation (started in its portal): until when the replaced API key
        and secret are still accepted, and CopyStake's callbacks still signed with the old."""
        if not operator.rotation_in_overlap():
            return "None in progress"
        return format_html(
            "In progress: the replaced key and secret are accepted until {} UTC, and callbacks "
            "are signed with the replaced secret until then.",
            f"{operator.rotation_overlap_until:%Y-%m-%d %H:%M}",
        )

    @admin.display(description="API key (issued by CopyStake)")
    def masked_api_key(self, operator: Operator):
        return operator.masked_api_key or EMPTY

    @admin.display(description="API key (issued by the operator)")
    def masked_operator_api_key(self, operator: Operator):
        return operator.masked_operator_api_key or EMPTY

    @admin.display(description="Signature secret")
    def masked_secret_key(self, operator: Operator):
        return operator.masked_secret_key or EMPTY

    @admin.display(description="Wallet secret")
    def masked_wallet_secret(self, operator: Operator):
        return operator.masked_wallet_secret or EMPTY

    @admin.display(description="Test follower's userToken")
    def masked_test_follower_token(self, operator: Operator):
        return operator.masked_test_follower_token or EMPTY

    @admin.display(description="Latest conformance checks")
    def conformance_runs(self, operator: Operator):
        runs = list(operator.conformance_runs.order_by("-created_at", "-pk")[:5])
        if not runs:
            return EMPTY
        return format_html_join(
            "",
            '<div class="cp-conformance-run">{} {} {} passed, {} failed, {} skipped</div>',
            (
                (
                    admin_link(run, text=f"#{run.pk}"),
                    badge(run.state, STATE_TONES.get(run.state, "")),
                    run.passed,
                    run.failed,
                    run.skipped,
                )
                for run in runs
            ),
        )

    @admin.display(description="Staff actions")
    def staff_actions_taken(self, operator: Operator):
        return staff_actions_panel(operator)

    @admin.display(description="Portal")
    def portal_view_as(self, operator: Operator):
        # By URL name: the portal is a layer above the back office (never imported here).
        return format_html(
            '<a class="button" href="{}" data-testid="portal-view-as-link">View the portal as '
            "this operator</a> (read-only; you give a reason, kept in the audit log)",
            reverse("portal:view_as", args=[operator.pk]),
        )


# --- conformance runs -------------------------------------------------------------------

STATE_TONES = {"passed": "done", "failed": "failed", "error": "error", "running": "running"}
VERDICT_TONES = {"PASS": "done", "FAIL": "failed", "SKIP": "pending"}


@admin.register(ConformanceRun)
class ConformanceRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: runs are started from the operator's page (or ``manage.py check_operator``)."""

    list_display = (
        "__str__",
        "operator",
        "state_badge",
        "passed",
        "failed",
        "skipped",
        "started_by",
        "started_at",
        "finished_at",
    )
    list_filter = ("state", "operator")
    list_select_related = ("operator", "started_by")
    fields = (
        "operator",
        "state_badge",
        "started_by",
        ("started_at", "finished_at"),
        ("passed", "failed", "skipped"),
        "report_table",
    )
    readonly_fields = (
        "operator",
        "state_badge",
        "started_by",
        "started_at",
        "finished_at",
        "passed",
        "failed",
        "skipped",
        "report_table",
    )

    @admin.display(description="State", ordering="state")
    def state_badge(self, run: ConformanceRun):
        return badge(run.state, STATE_TONES.get(run.state, ""))

    @admin.display(description="Report")
    def report_table(self, run: ConformanceRun):
        probes = run.report.get("probes") or []
        if not probes:
            return run.report.get("error") or EMPTY
        rows = format_html_join(
            "",
            "<tr><td><code>{}</code><br>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    probe["name"],
                    probe["title"],
                    badge(probe["verdict"], VERDICT_TONES[probe["verdict"]]),
                    probe["expected"] or EMPTY,
                    probe["got"] or probe["why"] or EMPTY,
                    _request_block(probe.get("request")),
                )
                for probe in probes
            ),
        )
        return format_html(
            '<table class="cp-table cp-conformance-report"><thead><tr><th>Probe</th><th>Verdict</th>'
            "<th>Expected</th><th>Got</th><th>Request to reproduce</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )


def _request_block(request: dict | None):
    if not request:
        return EMPTY
    headers = "\n".join(f"{name}: {value}" for name, value in request["headers"].items())
    # Folded: a FAIL's request is what an operator's engineer opens, not what a reader scans.
    return format_html(
        '<details class="cp-request"><summary>{} {}</summary>'
        '<pre class="cp-pre">{} {}\n{}\n\n{}</pre></details>',
        request["method"],
        request["url"].rsplit("/", 1)[-1] or request["url"],
        request["method"],
        request["url"],
        headers,
        request["body"],
    )


# --- call log ------------------------------------------------------------------------

ENDPOINTS = (
    "streamer-balance",
    "transfer",
    "game-pool",
    "wallet/auth",
    "wallet/withdraw",
    "wallet/deposit",
    "wallet/rollback",
    "init",
    "init-demo",
    "transaction-status",
)


class EndpointFilter(admin.SimpleListFilter):
    """Fixed choices: no DISTINCT over the whole call log."""

    title = "endpoint"
    parameter_name = "endpoint"

    def lookups(self, request, model_admin):
        return [(name, name) for name in ENDPOINTS]

    def queryset(self, request, queryset):
        return queryset.filter(endpoint=self.value()) if self.value() else queryset


class FollowerCallsFilter(admin.SimpleListFilter):
    """The calls of one follower's transactions (``?follower=<id>``, the link on the
    follower's page): their operator's calls carrying those transactions' external ids. Shown
    only while applied (nothing to choose from otherwise)."""

    title = "follower"
    parameter_name = "follower"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, f"Follower #{value}")] if value else []

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        theirs = Transaction.objects.filter(follower_id=int(value)).order_by()
        return queryset.filter(
            operator_id__in=theirs.values("operator_id"),
            external_id__in=theirs.values("external_id"),
        )


def _resend(call: CallLog, *, request, data) -> str:
    outcome = resend.call_resend(call=call)
    return f"{outcome.message} (via {outcome.via})"


def signature_verdict(valid: bool | None):
    tone, text = {None: ("none", "not checked"), True: ("ok", "valid"), False: ("bad", "invalid")}[
        valid
    ]
    return format_html('<span class="cp-verdict-{}">{}</span>', tone, text)


@admin.register(CallLog)
class CallLogAdmin(StaffActionsMixin, ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    staff_actions = (
        StaffActionSpec(
            name="call_resend",
            label="Re-send",
            run=_resend,
            description="Re-sends a failed outbound call, signed afresh, only where the operator "
            "treats a repeat as the same request. A money call with a running saga is retried "
            "through the saga; a BET is never re-posted outside it.",
            max_objects=20,
            available=lambda call: resend.call_resend_refusal(call) is None,
            preview=lambda call: resend.call_resend_refusal(call) or f"re-send {call.endpoint}",
        ),
    )
    list_display = (
        "created_at",
        "direction_badge",
        "operator",
        "endpoint",
        "response_status",
        "outcome_badge",
        "num_latency",
        "verdict",
        "short_external_id",
    )
    list_filter = (
        "direction",
        "outcome",
        "operator",
        EndpointFilter,
        "signature_valid",
        FollowerCallsFilter,
        ("created_at", DateRangeFilter),
    )
    list_select_related = ("operator",)
    search_fields = ("external_id",)
    search_help_text = "An external (transaction) id or a call #, exactly."
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("created_at", "direction_badge", "operator"),
                    ("method", "endpoint", "url"),
                    ("response_status", "outcome_badge", "num_latency"),
                    ("verdict", "remote_addr"),
                    ("error_code", "error_message"),
                    "transaction_link",
                )
            },
        ),
        ("Request (masked)", {"fields": ("headers_json", "request_json")}),
        ("Response (masked)", {"fields": ("response_json",)}),
        ("Staff actions", {"fields": ("staff_actions_taken",)}),
    )
    readonly_fields = (
        "created_at",
        "direction_badge",
        "operator",
        "method",
        "endpoint",
        "url",
        "response_status",
        "outcome_badge",
        "num_latency",
        "verdict",
        "remote_addr",
        "error_code",
        "error_message",
        "transaction_link",
        "headers_json",
        "request_json",
        "response_json",
        "staff_actions_taken",
    )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        if not term:
            return queryset, False
        ids = queryset.model.objects.order_by().values("pk")
        matches = ids.filter(external_id=term)
        if term.isdigit() and len(term) < 19:
            matches = matches.union(ids.filter(pk=int(term)))
        return queryset.filter(pk__in=matches), False

    @admin.display(description="Direction", ordering="direction")
    def direction_badge(self, call: CallLog):
        return badge(
            "in" if call.direction == "in" else "out",
            "open" if call.direction == "in" else "pending",
        )

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_badge(self, call: CallLog):
        return badge(call.get_outcome_display(), call.outcome)

    num_latency = number_column("latency_ms", "Latency (ms)", places=0, ordering="latency_ms")

    @admin.display(description="Signature")
    def verdict(self, call: CallLog):
        if call.direction == CallLog.Direction.OUTBOUND:
            return format_html('<span class="cp-verdict-none">{}</span>', "signed by us")
        return signature_verdict(call.signature_valid)

    @admin.display(description="External id", ordering="external_id")
    def short_external_id(self, call: CallLog):
        if not call.external_id:
            return EMPTY
        return format_html('<code title="{}">{}…</code>', call.external_id, call.external_id[:12])

    @admin.display(description="Transaction")
    def transaction_link(self, call: CallLog):
        if not call.external_id or call.operator_id is None:  # no operator: no transaction
            return EMPTY
        tx = (
            Transaction.objects.filter(operator_id=call.operator_id, external_id=call.external_id)
            .only("pk", "kind", "status")
            .first()
        )
        if tx is None:
            return EMPTY
        return admin_link(Transaction, tx.pk, f"#{tx.pk} {tx.get_kind_display()} ({tx.status})")

    @admin.display(description="Headers")
    def headers_json(self, call: CallLog):
        return pretty_json(call.request_headers)

    @admin.display(description="Body")
    def request_json(self, call: CallLog):
        return pretty_json(call.request_body)

    @admin.display(description="Body")
    def response_json(self, call: CallLog):
        return pretty_json(call.response_body)

    @admin.display(description="Staff actions")
    def staff_actions_taken(self, call: CallLog):
        return staff_actions_panel(call)
