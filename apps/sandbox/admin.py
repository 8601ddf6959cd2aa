"""Admin for the sandbox operator: accounts, the withdrawal lock, faults, and the books.

Secrets are never shown in full: the change form shows them masked and offers a field to
*replace* each one (left blank, the stored value is kept).
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin_base import ReadableDecimalsMixin
from apps.core.errors import ApplicationError
from apps.core.fields import mask_secret
from apps.sandbox.models import (
    SandboxAccount,
    SandboxBet,
    SandboxFault,
    SandboxOperator,
    SandboxTransfer,
    SandboxUserToken,
    SandboxWalletTx,
)
from apps.sandbox.services import sandbox_cashout, sandbox_token_issue

SECRET_FIELDS = ("api_key", "secret_key", "wallet_secret")
MISBEHAVIOURS = (
    "uses_wrong_secret",
    "ignores_transfer_ids",
    "no_wallet_duplicate_409",
    "wrong_error_codes",
    "accepts_bad_signatures",
)


class SandboxOperatorForm(forms.ModelForm):
    """The secret columns are not form fields: ``new_*`` fields replace them when filled."""

    new_api_key = forms.CharField(
        label="New API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="X-API-KEY this operator issued to CopyStake. Blank keeps the current one.",
    )
    new_secret_key = forms.CharField(
        label="New secret key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs X-REQUEST-SIGNATURE. Blank keeps the current one.",
    )
    new_wallet_secret = forms.CharField(
        label="New wallet secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs X-VC-Client-Signature. Blank keeps the current one.",
    )

    class Meta:
        model = SandboxOperator
        fields = ("slug", "name", "wallet_client_id", *MISBEHAVIOURS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            for name in SECRET_FIELDS:
                self.fields[f"new_{name}"].required = True

    def save(self, commit: bool = True) -> SandboxOperator:
        for name in SECRET_FIELDS:
            value = self.cleaned_data.get(f"new_{name}")
            if value:
                setattr(self.instance, name, value)
        return super().save(commit=commit)


class SandboxFaultInline(admin.TabularInline):
    model = SandboxFault
    extra = 0
    fields = (
        "route",
        "mode",
        "probability",
        "latency_ms",
        "remaining",
        "error_code",
        "enabled",
        "fired_count",
    )
    readonly_fields = ("fired_count",)


@admin.register(SandboxOperator)
class SandboxOperatorAdmin(admin.ModelAdmin):
    form = SandboxOperatorForm
    list_display = (
        "slug",
        "name",
        "masked_api_key",
        "wallet_client_id",
        "masked_wallet_secret",
        "misbehaving",
        "created_at",
    )
    search_fields = ("slug", "name", "wallet_client_id")
    readonly_fields = (
        "masked_api_key",
        "masked_secret_key",
        "masked_wallet_secret",
        "created_at",
    )
    inlines = [SandboxFaultInline]

    @admin.display(description="Misbehaviour switches on")
    def misbehaving(self, operator: SandboxOperator) -> str:
        on = [name.replace("_", " ") for name in MISBEHAVIOURS if getattr(operator, name)]
        return ", ".join(on) or "none"

    def get_fieldsets(self, request, obj=None):
        replace = ("new_api_key", "new_secret_key", "new_wallet_secret")
        if obj is None:
            return [(None, {"fields": ("slug", "name", "wallet_client_id", *replace)})]
        return [
            (None, {"fields": ("slug", "name", "wallet_client_id", "created_at")}),
            (
                "Secrets (masked)",
                {
                    "fields": (
                        "masked_api_key",
                        "masked_secret_key",
                        "masked_wallet_secret",
                    )
                },
            ),
            ("Replace secrets", {"fields": replace, "classes": ("collapse",)}),
            (
                "Misbehaviour switches",
                {
                    "fields": MISBEHAVIOURS,
                    "description": "Make this operator integrate badly on purpose, to see "
                    "what the conformance check (manage.py check_operator) reports. Leave "
                    "them all off for a correct operator.",
                },
            ),
        ]


@admin.register(SandboxAccount)
class SandboxAccountAdmin(ReadableDecimalsMixin, admin.ModelAdmin):
    list_display = (
        "user_id",
        "username",
        "operator",
        "balance",
        "currency",
        "is_streamer",
        "pool_state",
        "pool_state_changed_at",
    )
    list_filter = ("operator", "is_streamer", "pool_state", "currency")
    search_fields = ("user_id", "username")
    list_select_related = ("operator",)
    raw_id_fields = ("operator",)
    readonly_fields = ("pool_state_changed_at", "created_at", "updated_at")
    actions = ["cash_out_balance", "issue_session_token"]

    @admin.action(description="Cash out the whole balance (refused while the pool is OPEN)")
    def cash_out_balance(self, request: HttpRequest, queryset: QuerySet) -> None:
        for account in queryset.order_by("pk"):
            if account.balance <= Decimal(0):
                self.message_user(
                    request, f"{account.user_id}: nothing to cash out", messages.WARNING
                )
                continue
            amount = account.balance
            try:
                sandbox_cashout(account=account, amount=amount)
            except ApplicationError as error:
                self.message_user(
                    request, f"{account.user_id}: {error.code}: {error.message}", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    f"{account.user_id}: cashed out {amount} {account.currency}",
                    messages.SUCCESS,
                )

    @admin.action(description="Issue a session token (userToken, 1 hour)")
    def issue_session_token(self, request: HttpRequest, queryset: QuerySet) -> None:
        for account in queryset.order_by("pk"):
            token = sandbox_token_issue(account=account)
            # Play money only: the token is shown once so a tester can launch a session.
            self.message_user(request, f"{account.user_id}: userToken {token.token}")


@admin.register(SandboxUserToken)
class SandboxUserTokenAdmin(admin.ModelAdmin):
    list_display = ("masked_token", "account", "expires_at", "created_at")
    list_select_related = ("account", "account__operator")
    list_filter = ("account__operator",)
    search_fields = ("account__user_id", "account__username")
    raw_id_fields = ("account",)
    fields = ("masked_token", "account", "expires_at", "created_at")
    readonly_fields = ("masked_token", "account", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued through the account action

    @admin.display(description="Token")
    def masked_token(self, obj: SandboxUserToken) -> str:
        return mask_secret(obj.token)


class _ReadOnlyAdmin(ReadableDecimalsMixin, admin.ModelAdmin):
    """Books are written by the contracts only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(SandboxTransfer)
class SandboxTransferAdmin(_ReadOnlyAdmin):
    list_display = (
        "transfer_id",
        "operator",
        "user_id",
        "transfer_type",
        "amount",
        "currency",
        "succeeded",
        "response_status",
        "balance_after",
        "created_at",
    )
    list_filter = ("operator", "transfer_type", "succeeded", "response_status")
    search_fields = ("transfer_id", "user_id")
    list_select_related = ("operator", "account")
    date_hierarchy = "created_at"


@admin.register(SandboxWalletTx)
class SandboxWalletTxAdmin(_ReadOnlyAdmin):
    list_display = (
        "provider_tx_id",
        "operator",
        "kind",
        "status",
        "user_id",
        "amount",
        "currency",
        "rollback_of",
        "old_balance",
        "new_balance",
        "created_at",
    )
    list_filter = ("operator", "kind", "status")
    search_fields = ("provider_tx_id", "rollback_of", "user_id", "client_tx_id")
    list_select_related = ("operator", "account")
    date_hierarchy = "created_at"


@admin.register(SandboxFault)
class SandboxFaultAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "operator",
        "route",
        "mode",
        "probability",
        "latency_ms",
        "remaining",
        "error_code",
        "enabled",
        "fired_count",
    )
    list_editable = ("probability", "latency_ms", "remaining", "enabled")
    list_filter = ("operator", "route", "mode", "enabled")
    list_select_related = ("operator",)
    readonly_fields = ("fired_count", "created_at", "updated_at")
    actions = ["enable", "disable"]

    @admin.action(description="Enable the selected faults")
    def enable(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.update(enabled=True)
        self.message_user(request, f"{count} faults enabled")

    @admin.action(description="Disable the selected faults")
    def disable(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.update(enabled=False)
        self.message_user(request, f"{count} faults disabled")


@admin.register(SandboxBet)
class SandboxBetAdmin(_ReadOnlyAdmin):
    list_display = ("account", "stake", "payout", "balance_after", "created_at")
    list_filter = ("account__operator",)
    search_fields = ("account__user_id", "account__username")
    list_select_related = ("account", "account__operator")
    date_hierarchy = "created_at"
