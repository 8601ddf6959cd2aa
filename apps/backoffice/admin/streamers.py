"""Streamers: registration, limits, suspension, private pools, track records (streams:
``streams``; the track-record panel: ``apps.backoffice.statistics_view``).

Adding and editing a streamer go through ``streamer_create`` / ``streamer_update``, never
around them: the form is judged by the service itself (``ServiceCheckedForm`` runs it in a
savepoint rolled back at once, and shows its errors on the form's fields), then
``save_model`` runs it for real. Operator, user id and currency are read-only once created.
The allowlist and the invite links are inlines saved through ``apps.streamers.access`` the same
way. Suspending, resuming and the check with the operator are confirmed staff actions.

Audit: every change made on this page (the streamer's fields, each allowlist add and remove,
each invite created) is a ``StaffAction`` with the page's reason, shown under "Staff actions";
Django's admin log also records the change (its change message lists the inline rows).
Revoking an invite is a staff action of the invite's own (``StreamerInviteAdmin``). Imports
(CSV, XLSX, ``StreamerResource``) need ``streamers.add_streamer``; import-export writes each
imported row to Django's admin log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import CharField, F, FilteredRelation, Q, Value
from django.forms.models import construct_instance
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV, XLSX

from apps.backoffice.admin_actions import (
    ActionResult,
    ReasonForm,
    StaffActionsMixin,
    StaffActionSpec,
)
from apps.backoffice.admin_panels import CappedInlineFormSet, staff_actions_panel
from apps.backoffice.admin_people_panels import LATEST, streamer_transactions_panel
from apps.backoffice.services import staff_action_record
from apps.backoffice.statistics import chosen_window, streamer_statistics
from apps.backoffice.statistics_view import count_cell, money_cell, percent_cell, track_record_panel
from apps.backoffice.streamers import streamer_check_with_operator, streamer_suspend_by_staff
from apps.core.admin_base import ReadOnlyAdminMixin
from apps.core.admin_display import EMPTY, admin_link, badge, money_column
from apps.followers.tokens import invite_url
from apps.pools.models import Pool
from apps.pools.selectors import pool_exposure
from apps.streamers import access
from apps.streamers.models import Streamer, StreamerAccess, StreamerInvite
from apps.streamers.resources import StreamerResource
from apps.streamers.selectors import streamer_fee_percent, streamer_limits
from apps.streamers.services import (
    EDITABLE,
    LIMITS,
    streamer_create,
    streamer_resume,
    streamer_update,
)

IMPORT_PERMISSION = "streamers.add_streamer"
FEE_SECTION = "Performance fee (empty: the operator's default)"
CHANGE_REASON = "change_reason"


class _DryRun(Exception):
    """Rolls the service's dry run back."""


class ServiceCheckedForm(forms.ModelForm):
    """A ModelForm judged by the service that will save it.

    Where a ModelForm would ``full_clean`` its instance (``_post_clean``), this one runs
    ``service_save`` in a savepoint that is always rolled back, and shows the service's
    ``ValidationError`` on the form (each message under its field, or above the form). The
    admin's ``save_model`` / ``save_formset`` then call ``service_save`` for real, so nothing is
    ever saved that the service did not accept.
    """

    def service_save(self) -> Any:
        raise NotImplementedError

    def needs_service_check(self) -> bool:
        return True

    def _post_clean(self) -> None:
        opts = self._meta
        try:
            self.instance = construct_instance(self, self.instance, opts.fields, opts.exclude)
        except ValidationError as error:
            self.report(error)
        if self.errors or not self.needs_service_check():
            return  # the fields are not clean: the service would only repeat it
        try:
            with transaction.atomic():
                self.service_save()
                raise _DryRun
        except _DryRun:
            pass
        except ValidationError as error:
            self.report(error)

    def report(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages_ in error.message_dict.items():
            if name in self.fields:
                self.add_error(name, messages_)
            elif name == NON_FIELD_ERRORS:
                self.add_error(None, messages_)
            else:
                self.add_error(None, [f"{name}: {message}" for message in messages_])


# --- the streamer form ----------------------------------------------------------------


class StreamerForm(ServiceCheckedForm):
    change_reason = forms.CharField(
        label="Reason for this change",
        max_length=300,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text="Recorded with your name in the staff action log (also for the allowlist "
        "and invite changes below).",
    )

    class Meta:
        model = Streamer
        fields = (
            "operator",
            "operator_user_id",
            "display_name",
            "currency",
            *LIMITS,
            "is_private",
            "performance_fee_percent",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "display_name" in self.fields:
            self.fields["display_name"].required = False
            self.fields["display_name"].help_text = "Empty: the operator's user id."
        if "currency" in self.fields:
            self.fields[
                "currency"
            ].help_text = "3 to 8 capital letters, e.g. USD. Fixed once created."

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def service_save(self) -> Streamer:
        data = self.cleaned_data
        if self.instance._state.adding:
            return streamer_create(
                operator=data["operator"],
                operator_user_id=data["operator_user_id"],
                currency=data["currency"],
                display_name=data.get("display_name") or "",
                is_private=bool(data.get("is_private")),
                performance_fee_percent=data.get("performance_fee_percent"),
                **{name: data.get(name) for name in LIMITS},
            )
        changes = {name: data.get(name) for name in EDITABLE if name in self.fields}
        return streamer_update(streamer=self.instance, **changes)


# --- actions --------------------------------------------------------------------------


class SuspendForm(ReasonForm):
    pay_out = forms.ChoiceField(
        label="The open pool",
        choices=[
            ("now", "Pay it out now: every follower leaves at the current NAV"),
            ("stream_end", "Keep it until the stream ends (no new joins meanwhile)"),
        ],
        widget=forms.RadioSelect,
        help_text="Either way the streamer takes no new joins and cannot go live.",
    )


def _check(streamer: Streamer, *, request, data) -> ActionResult:
    verdict = streamer_check_with_operator(streamer=streamer)
    return ActionResult(verdict.text, level=messages.SUCCESS if verdict.ok else messages.ERROR)


def _suspend(streamer: Streamer, *, request, data) -> str:
    pay_out_now = data["pay_out"] == "now"
    outcome = streamer_suspend_by_staff(
        streamer=streamer,
        pay_out_now=pay_out_now,
        who=request.user.get_username(),
        reason=data["reason"],
    )
    return outcome.describe(pay_out_now=pay_out_now)


def _resume(streamer: Streamer, *, request, data) -> str:
    streamer_resume(streamer=streamer)
    return "resumed: joins are accepted again and the streamer may go live"


def _pools_preview(streamer: Streamer) -> str:
    pools = Pool.objects.filter(streamer=streamer, state=Pool.State.OPEN).order_by("pk")
    parts = []
    for pool in pools:
        exposure = pool_exposure(pool=pool)
        held = exposure.describe() if exposure.holds_money else "no followers' money"
        parts.append(f"open pool #{pool.pk}: {held}")
    return "; ".join(parts) or "no open pool"


STREAMER_ACTIONS: tuple[StaffActionSpec[Streamer], ...] = (
    StaffActionSpec(
        name="streamer_check_with_operator",
        label="Check with operator",
        run=_check,
        description="Asks the operator for the streamer's balance (a signed streamer-balance "
        "call, written to the call log) and says what it answered. Display only: no pool is "
        "touched and no money moves.",
        initial_reason="Streamer check",
        max_objects=20,
    ),
    StaffActionSpec(
        name="streamer_suspend",
        label="Suspend",
        run=_suspend,
        form_class=SuspendForm,
        description="The streamer takes no new joins and cannot go live until resumed. Choose "
        "what happens to the open pool: paid out now (every follower leaves at the current "
        "NAV, the pool closes) or when the stream ends.",
        dangerous=True,
        max_objects=10,
        available=lambda streamer: streamer.status == Streamer.Status.ACTIVE,
        preview=_pools_preview,
    ),
    StaffActionSpec(
        name="streamer_resume",
        label="Resume",
        run=_resume,
        description="Lifts the suspension: the pool takes joins again and the streamer may go "
        "live.",
        available=lambda streamer: streamer.status == Streamer.Status.SUSPENDED,
    ),
)


# --- inlines --------------------------------------------------------------------------


class AllowlistForm(ServiceCheckedForm):
    class Meta:
        model = StreamerAccess
        fields = ("operator_user_id", "note")

    def needs_service_check(self) -> bool:
        return self.instance._state.adding  # listed rows are never edited

    def service_save(self) -> StreamerAccess:
        return access.allowlist_add(
            streamer=self.instance.streamer,
            operator_user_id=self.cleaned_data["operator_user_id"],
            note=self.cleaned_data.get("note") or "",
        )


class AllowlistInline(admin.TabularInline):
    """Add by the operator's user id, remove with the delete box; rows are never edited."""

    model = StreamerAccess
    form = AllowlistForm
    formset = CappedInlineFormSet
    extra = 0
    classes = ("cp-inline",)
    verbose_name = "allowlisted player"
    verbose_name_plural = "Allowlist (private pool: who may see and join it; newest 50)"
    fields = ("operator_user_id", "note", "source", "invite_link", "created_at")
    readonly_fields = ("source", "invite_link", "created_at")
    ordering = ("-created_at", "-id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invite")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Invite")
    def invite_link(self, row: StreamerAccess):
        invite = row.invite
        if invite is None:
            return EMPTY
        return admin_link(StreamerInvite, invite.pk, f"{invite.code[:6]}…")


class InviteForm(ServiceCheckedForm):
    valid_for_days = forms.IntegerField(
        label="Valid for (days)",
        min_value=1,
        max_value=access.MAX_INVITE_VALIDITY.days,
        widget=forms.NumberInput(attrs={"placeholder": "e.g. 7", "style": "width: 6em"}),
    )

    class Meta:
        model = StreamerInvite
        fields = ("max_uses",)

    def needs_service_check(self) -> bool:
        return self.instance._state.adding

    def service_save(self) -> StreamerInvite:
        return access.invite_create(
            streamer=self.instance.streamer,
            valid_for=timedelta(days=self.cleaned_data["valid_for_days"]),
            max_uses=self.cleaned_data.get("max_uses"),
            created_by=getattr(self, "created_by", ""),
        )


class InviteInline(admin.TabularInline):
    """Create with a validity and a number of uses; the full link is shown to copy; revoking
    is a confirmed staff action (``StreamerInviteAdmin``)."""

    model = StreamerInvite
    form = InviteForm
    formset = CappedInlineFormSet
    extra = 0
    can_delete = False
    classes = ("cp-inline",)
    verbose_name = "invite link"
    verbose_name_plural = "Invite links (newest 50)"
    fields = (
        "link",
        "valid_for_days",
        "max_uses",
        "uses",
        "expires_at",
        "state_badge",
        "created_by",
        "revoke",
    )
    readonly_fields = ("link", "uses", "expires_at", "state_badge", "created_by", "revoke")
    ordering = ("-created_at", "-id")
    request: HttpRequest | None = None

    def get_formset(self, request, obj=None, **kwargs):
        self.request = request  # inline instances are made per request
        return super().get_formset(request, obj, **kwargs)

    def get_queryset(self, request):
        # Listed links show their ``valid_for_days`` column (a field of new rows only) empty.
        return (
            super()
            .get_queryset(request)
            .annotate(valid_for_days=Value("", output_field=CharField()))
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Link to copy")
    def link(self, invite: StreamerInvite):
        return EMPTY if invite.pk is None else _invite_link(invite)

    @admin.display(description="Status")
    def state_badge(self, invite: StreamerInvite):
        if invite.pk is None:
            return EMPTY
        state = access.invite_state(invite)
        return badge(state.label, "active" if state.usable else "closed")

    @admin.display(description="")
    def revoke(self, invite: StreamerInvite):
        if invite.pk is None or invite.revoked_at is not None:
            return ""
        request = self.request
        if request is None or not request.user.has_perm(INVITE_REVOKE.permission):
            return ""
        url = reverse("admin:streamers_streamerinvite_act", args=[invite.pk, INVITE_REVOKE.name])
        return format_html('<a href="{}" class="button cp-revoke">Revoke</a>', url)


# --- the streamer page ----------------------------------------------------------------


@admin.register(Streamer)
class StreamerAdmin(ImportMixin, StaffActionsMixin, admin.ModelAdmin):
    form = StreamerForm
    staff_actions = STREAMER_ACTIONS
    resource_classes = [StreamerResource]
    import_formats = [CSV, XLSX]
    import_template_name = "admin/streamers/streamer/import.html"
    import_error_display = ("message", "row")
    list_display = (
        "display_name",
        "operator_user_id",
        "operator",
        "currency",
        "status_badge",
        "is_private",
        "week_roi_column",
        "week_aum_column",
        "week_followers_column",
        "created_at",
    )
    list_filter = ("operator", "status", "is_private", "currency")
    list_select_related = ("operator",)
    search_fields = ("=operator_user_id", "display_name")

    def get_fieldsets(self, request, obj=None):
        identity = ("operator", "operator_user_id", "display_name", "currency")
        limits = (("min_contribution", "max_contribution"), ("max_followers", "max_pool_value"))
        if obj is None:
            return (
                (None, {"fields": (*identity, "is_private")}),
                ("Limits (empty: the operator's)", {"fields": limits}),
                (FEE_SECTION, {"fields": ("performance_fee_percent",)}),
                (None, {"fields": (CHANGE_REASON,)}),
            )
        return (
            (None, {"fields": (*identity, ("status_badge", "is_private"))}),
            ("Limits (empty: the operator's)", {"fields": (*limits, "limits_in_force")}),
            (FEE_SECTION, {"fields": (("performance_fee_percent", "fee_in_force"),)}),
            (None, {"fields": (CHANGE_REASON, ("money_demo_balance", "created_at"))}),
            (
                f"Latest transactions of its pools (newest {LATEST})",
                {"fields": ("latest_transactions",), "classes": ("cp-wide",)},
            ),
            ("Staff actions", {"fields": ("staff_actions_taken",)}),
        )

    def get_readonly_fields(self, request, obj=None):
        shown = (
            "status_badge",
            "limits_in_force",
            "fee_in_force",
            "money_demo_balance",
            "created_at",
        )
        if obj is None:
            return ()
        return (
            "operator",
            "operator_user_id",
            "currency",
            *shown,
            "latest_transactions",
            "staff_actions_taken",
        )

    def get_inlines(self, request, obj):
        # Streams are listed (the most recent, with links) in the track-record panel.
        return () if obj is None else (AllowlistInline, InviteInline)

    def get_queryset(self, request):
        """Each streamer with its 7-day record's ROI, pooled value and followers: one LEFT
        JOIN on ``StreamerRecord`` (window "7d"), sortable like any column."""
        week = FilteredRelation("records", condition=Q(records__window="7d"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                week=week,
                week_roi=F("week__roi"),
                week_aum=F("week__aum"),
                week_followers=F("week__followers_now"),
            )
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            stats = streamer_statistics(
                streamer=obj, window=chosen_window(request.GET.get("window"))
            )
            context["cp_top_panel"] = track_record_panel(request, stats)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            operator = obj.operator
            own = {
                "min_contribution": operator.min_contribution,
                "max_contribution": operator.max_contribution,
                "max_followers": operator.max_followers_per_pool,
                "max_pool_value": operator.max_pool_value,
            }
            for name, value in own.items():
                if name in form.base_fields:
                    form.base_fields[name].help_text = (
                        "Empty: no limit (the operator sets none)."
                        if value is None
                        else f"Empty: the operator's {_plain(value, obj.currency)}."
                    )
            if "performance_fee_percent" in form.base_fields:
                form.base_fields["performance_fee_percent"].help_text = (
                    "Percent (0 to 50) of a follower's profit above their high-water mark "
                    "that the streamer keeps on every leave. Empty: the operator's default, "
                    f"{operator.default_performance_fee_percent.normalize():f} %. A change "
                    "applies to new positions only."
                )
        return form

    @admin.display(description="Fee in force")
    def fee_in_force(self, obj: Streamer) -> str:
        """What a position opened now pays: the streamer's own percent, else the operator's."""
        own = obj.performance_fee_percent is not None
        percent = streamer_fee_percent(obj)
        return f"{percent.normalize():f} % ({'its own' if own else 'the operator default'})"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # pools and transfers refer to it; suspend instead

    # --- saving through the services ----------------------------------------------------

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get(CHANGE_REASON, "")
        changed = [name for name in form.changed_data if name != CHANGE_REASON]
        streamer = form.service_save()
        for field in Streamer._meta.concrete_fields:
            setattr(obj, field.attname, getattr(streamer, field.attname))
        obj._state.adding = False
        if change and not changed:
            return
        staff_action_record(
            user=request.user,
            action="streamer_update" if change else "streamer_create",
            target=streamer,
            reason=reason,
            outcome="done",
            message=(f"changed {', '.join(changed)}" if change else _summary(streamer))[:5000],
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is StreamerAccess:
            return self._save_allowlist(request, form, formset)
        if formset.model is StreamerInvite:
            return self._save_invites(request, form, formset)
        return super().save_formset(request, form, formset, change)

    def _new_forms(self, formset) -> list:
        return [
            f
            for f in formset.extra_forms
            if f.has_changed() and not (formset.can_delete and formset._should_delete_form(f))
        ]

    def _save_allowlist(self, request, form, formset) -> None:
        reason = form.cleaned_data.get(CHANGE_REASON, "")
        streamer = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for deleted in formset.deleted_forms:
            row = deleted.instance
            if row.pk is None:
                continue
            if access.allowlist_remove(streamer=streamer, operator_user_id=row.operator_user_id):
                formset.deleted_objects.append(row)
                self._audit(request, streamer, "streamer_allowlist_remove", reason, _listed(row))
        for new in self._new_forms(formset):
            new.instance.streamer = streamer
            row = new.service_save()
            formset.new_objects.append(row)
            self._audit(request, streamer, "streamer_allowlist_add", reason, _listed(row))

    def _save_invites(self, request, form, formset) -> None:
        reason = form.cleaned_data.get(CHANGE_REASON, "")
        streamer = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for new in self._new_forms(formset):
            new.instance.streamer = streamer
            new.created_by = request.user.get_username()
            invite = new.service_save()
            formset.new_objects.append(invite)
            uses = "any number of uses" if invite.max_uses is None else f"{invite.max_uses} use(s)"
            self._audit(
                request,
                streamer,
                "streamer_invite_create",
                reason,
                f"invite {invite.code[:6]}… until {invite.expires_at:%Y-%m-%d %H:%M} UTC, {uses}",
            )

    def _audit(self, request, streamer: Streamer, action: str, reason: str, message: str) -> None:
        staff_action_record(
            user=request.user,
            action=action,
            target=streamer,
            reason=reason,
            outcome="done",
            message=message,
        )

    # --- import -------------------------------------------------------------------------

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm(IMPORT_PERMISSION)

    def get_import_data_kwargs(self, **kwargs):
        # The confirmed import meets the database as it is then, not as the preview saw it:
        # a row that turns bad meanwhile rolls the whole file back.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            rows = [f"row {row.number}: {_row_errors(row)}" for row in result.invalid_rows]
            rows += [
                f"row {number}: {error.error}"
                for number, errors in result.row_errors()
                for error in errors
            ]
            rows += [str(error.error) for error in result.base_errors]
            self.message_user(
                request,
                "Nothing was imported: " + "; ".join(rows)[:2000],
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:streamers_streamer_import"))
        return super().process_result(result, request)

    # --- display ------------------------------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_badge(self, streamer: Streamer):
        return badge(
            streamer.get_status_display(), "active" if streamer.status == "active" else "failed"
        )

    @admin.display(description="In force now")
    def limits_in_force(self, streamer: Streamer):
        limits = streamer_limits(streamer)
        capacity = (
            "no capacity limit"
            if limits.max_pool_value is None
            else f"pool value up to {_plain(limits.max_pool_value, streamer.currency)}"
        )
        return (
            f"joins of {_plain(limits.min_contribution, streamer.currency)} to "
            f"{_plain(limits.max_contribution, streamer.currency)}; at most "
            f"{limits.max_followers} followers; {capacity}"
        )

    money_demo_balance = money_column("demo_balance", "Demo balance", currency=None)

    @admin.display(description="ROI 7 d", ordering="week_roi")
    def week_roi_column(self, streamer: Streamer):
        return percent_cell(getattr(streamer, "week_roi", None), signed=True)

    @admin.display(description="Pooled value", ordering="week_aum")
    def week_aum_column(self, streamer: Streamer):
        return money_cell(getattr(streamer, "week_aum", None), streamer.currency)

    @admin.display(description="Followers", ordering="week_followers")
    def week_followers_column(self, streamer: Streamer):
        followers = getattr(streamer, "week_followers", None)
        return EMPTY if followers is None else count_cell(followers)

    @admin.display(description="")
    def latest_transactions(self, streamer: Streamer):
        return streamer_transactions_panel(streamer)

    @admin.display(description="Staff actions on this streamer")
    def staff_actions_taken(self, streamer: Streamer):
        return staff_actions_panel(streamer)


def _plain(value, currency: str) -> str:
    if value is None:
        return "none (no limit)"
    if isinstance(value, int):
        return f"{value:,} followers"
    return f"{value:,.8f} {currency}"


def _summary(streamer: Streamer) -> str:
    own = [
        f"{name} {getattr(streamer, name)}"
        for name in LIMITS
        if getattr(streamer, name) is not None
    ]
    private = ", private" if streamer.is_private else ""
    limits = f"own limits: {', '.join(own)}" if own else "the operator's limits"
    return f"created in {streamer.currency}{private}; {limits}"


def _listed(row: StreamerAccess) -> str:
    return f"{row.operator_user_id} ({row.note})" if row.note else row.operator_user_id


def _invite_link(invite: StreamerInvite):
    return format_html(
        '<input type="text" readonly value="{}" size="58" class="cp-invite-link" '
        'aria-label="Invite link">',
        invite_url(invite.code),
    )


def _row_errors(row) -> str:
    return "; ".join(
        f"{name}: {' '.join(str(m) for m in messages_)}"
        for name, messages_ in row.error_dict.items()
    )


# --- invite links, on their own: the revoke action ------------------------------------


def _revoke(invite: StreamerInvite, *, request, data) -> str:
    invite = access.invite_revoke(invite=invite)
    return (
        f"revoked at {timezone.localtime(invite.revoked_at):%Y-%m-%d %H:%M}; the "
        f"{invite.grants.count()} player(s) it listed stay on the allowlist"
    )


INVITE_REVOKE: StaffActionSpec[StreamerInvite] = StaffActionSpec(
    name="invite_revoke",
    label="Revoke",
    run=_revoke,
    description="The link stops working at once. Players it already put on the allowlist "
    "stay there (remove them on the streamer's page).",
    available=lambda invite: invite.revoked_at is None,
    preview=lambda invite: f"{invite.uses} use(s) so far; {access.invite_state(invite).label}",
)


@admin.register(StreamerInvite)
class StreamerInviteAdmin(StaffActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Invite links of every private streamer (created on the streamer's page)."""

    staff_actions = (INVITE_REVOKE,)
    list_display = (
        "__str__",
        "streamer",
        "state_badge",
        "uses",
        "max_uses",
        "expires_at",
        "created_by",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("streamer",)
    search_fields = ("=code", "=streamer__operator_user_id")
    fields = (
        "streamer_link",
        "link",
        "state_badge",
        ("uses", "max_uses"),
        ("expires_at", "revoked_at"),
        ("created_by", "created_at"),
        "staff_actions_taken",
    )
    readonly_fields = (
        "streamer_link",
        "link",
        "state_badge",
        "uses",
        "max_uses",
        "expires_at",
        "revoked_at",
        "created_by",
        "created_at",
        "staff_actions_taken",
    )

    @admin.display(description="Streamer")
    def streamer_link(self, invite: StreamerInvite):
        return admin_link(Streamer, invite.streamer_id, invite.streamer.display_name)

    @admin.display(description="Link to copy")
    def link(self, invite: StreamerInvite):
        return _invite_link(invite)

    @admin.display(description="Status")
    def state_badge(self, invite: StreamerInvite):
        state = access.invite_state(invite)
        return badge(state.label, "active" if state.usable else "closed")

    @admin.display(description="Staff actions on this link")
    def staff_actions_taken(self, invite: StreamerInvite):
        return staff_actions_panel(invite)

    def _after_url(self, request, obj) -> str:
        """Back to the streamer's page, where the link is listed."""
        return reverse("admin:streamers_streamer_change", args=[obj.streamer_id])


@admin.register(StreamerAccess)
class StreamerAccessAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every private streamer's allowlist, searchable by user id (edited on the streamer's
    page)."""

    list_display = ("operator_user_id", "streamer", "source", "note", "created_at")
    list_filter = ("source",)
    list_select_related = ("streamer",)
    search_fields = ("=operator_user_id", "=streamer__operator_user_id")
    raw_id_fields = ("streamer", "invite")
