"""Streams: the streaming schedule, and starting and ending broadcasts.

Staff schedule a stream (the add form), edit it (the change form) and act on it through
confirmed, audited actions: start now, end and pay out, cancel. Every write is a service's:
``stream_schedule`` and ``stream_update`` behind the form, ``stream_start_scheduled``,
``stream_cancel`` and the stream-end flow (``streams_end``, which pays the streamer's pools
out) behind the actions. Streams are never deleted: a stream that will not happen is
cancelled, and keeps why.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Case, DateTimeField, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.backoffice.admin_actions import StaffActionsMixin, StaffActionSpec
from apps.backoffice.admin_panels import staff_actions_panel
from apps.backoffice.statistics_view import stream_record_panel
from apps.core.admin_display import EMPTY, admin_link, badge, money
from apps.core.admin_filters import DateRangeFilter
from apps.core.errors import ApplicationError, Conflict, ErrorCode
from apps.pools.models import Pool
from apps.pools.selectors import pool_exposure
from apps.streamers.models import Stream
from apps.streamers.services import (
    STREAM_EDITABLE,
    stream_cancel,
    stream_schedule,
    stream_start_scheduled,
    stream_update,
)
from apps.transactions.services import streams_end

STATUS_TONES = {"scheduled": "pending", "live": "active", "ended": "closed", "cancelled": "failed"}
FINISHED = (Stream.Status.ENDED, Stream.Status.CANCELLED)
POOLS_SHOWN = 10


# --- the schedule form ----------------------------------------------------------------------


class StreamForm(forms.ModelForm):
    """Schedule a stream (add) or edit one (change) through the services.

    The service validates and writes in one step, so it runs where a ModelForm validates the
    model (``_post_clean``): what it refuses (a window that ends before it starts, an http
    embed URL, a live stream's times, an ended stream) is shown on the form and nothing is
    written. The admin wraps the whole request in one transaction and has no inline whose
    failure could follow; ``save_model`` then has nothing left to save.
    """

    class Meta:
        model = Stream
        fields = ("streamer", "title", "game", "scheduled_start", "scheduled_end", "embed_url")
        labels = {"embed_url": "Embed URL"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("scheduled_start", "scheduled_end"):
            if name in self.fields:
                self.fields[name].required = True

    def _post_clean(self) -> None:
        if self.errors:
            return
        data = self.cleaned_data
        try:
            if self.instance.pk is None:
                self.instance = stream_schedule(
                    streamer=data["streamer"],
                    starts_at=data["scheduled_start"],
                    ends_at=data["scheduled_end"],
                    title=data.get("title", ""),
                    game=data.get("game", ""),
                    embed_url=data.get("embed_url", ""),
                )
            else:
                changes = {
                    name: data[name] for name in self.changed_data if name in STREAM_EDITABLE
                }
                self.instance = stream_update(stream=self.instance, **changes)
        except ValidationError as error:
            self._add_service_errors(error)
        except ApplicationError as error:
            self.add_error(None, f"{error.code}: {error.message}")

    def _add_service_errors(self, error: ValidationError) -> None:
        """On their fields where the form has them, above the form otherwise."""
        errors = error.error_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error}
        for name, messages in errors.items():
            field = name if name in self.fields else None
            self.add_error(field, ValidationError(messages))


# --- actions --------------------------------------------------------------------------------


def _open_pools(stream: Stream) -> list[Pool]:
    return list(
        Pool.objects.filter(streamer_id=stream.streamer_id, state=Pool.State.OPEN).order_by("pk")
    )


def _end_preview(stream: Stream) -> str:
    """What ending will pay out: each open pool of the streamer and the money in it."""
    pools = _open_pools(stream)
    if not pools:
        return "no open pool: nothing to pay out"
    parts = []
    for pool in pools:
        exposure = pool_exposure(pool=pool)
        what = exposure.describe() if exposure.holds_money else "no followers' money in it"
        parts.append(f"pool #{pool.pk}{' (demo)' if pool.is_demo else ''}: {what}")
    return "; ".join(parts)


def _start_now(stream: Stream, *, request, data) -> str:
    stream = stream_start_scheduled(stream=stream)
    assert stream.started_at is not None  # live now
    return f"live since {timezone.localtime(stream.started_at):%Y-%m-%d %H:%M:%S %Z}"


def _end(stream: Stream, *, request, data) -> str:
    if stream.status != Stream.Status.LIVE:
        code = ErrorCode.STREAM_ENDED if stream.status in FINISHED else ErrorCode.CONFLICT
        raise Conflict(f"The stream is {stream.status}: only a live stream ends", code=code)
    who = request.user.get_username()
    pools = _open_pools(stream)
    stream = streams_end(
        stream=stream, reason=f"stream ended by staff {who}, {data['reason'].strip()}"
    )
    if not pools:
        return f"{stream.status}; no open pool to pay out"
    states = {
        pk: label
        for pk, label in Pool.objects.filter(pk__in=[p.pk for p in pools]).values_list(
            "pk", "state"
        )
    }
    paid = "; ".join(f"pool #{pool.pk} is now {states[pool.pk]}" for pool in pools)
    return f"{stream.status}; {paid}"


def _cancel(stream: Stream, *, request, data) -> str:
    who = request.user.get_username()
    stream_cancel(stream=stream, reason=f"cancelled by staff {who}, {data['reason'].strip()}")
    return "cancelled: it will not start"


def _is(status: str):
    return lambda stream: stream.status == status


STREAM_ACTIONS: tuple[StaffActionSpec[Stream], ...] = (
    StaffActionSpec(
        name="stream_start_now",
        label="Start now",
        run=_start_now,
        description="The scheduled stream goes live at once: followers may join the streamer's "
        "pool from now on. Its scheduled end still ends it (and pays the pool out).",
        available=_is(Stream.Status.SCHEDULED),
        preview=lambda stream: f"{stream.streamer} goes live now",
    ),
    StaffActionSpec(
        name="stream_end",
        label="End stream and pay out",
        run=_end,
        description="Ends the live stream, then pays every follower of the streamer's pool out "
        "at the current NAV (a leave per active position: WITHDRAWAL transfer, then the WIN to "
        "the wallet) and tells the operator CLOSE once the last member has left.",
        dangerous=True,
        max_objects=10,
        available=_is(Stream.Status.LIVE),
        preview=_end_preview,
    ),
    StaffActionSpec(
        name="stream_cancel",
        label="Cancel",
        run=_cancel,
        description="The scheduled stream will not happen: it never starts, and your reason is "
        "kept as its end reason. No money moves (nothing was live).",
        dangerous=True,
        available=_is(Stream.Status.SCHEDULED),
    ),
)


# --- the schedule ---------------------------------------------------------------------------


@admin.register(Stream)
class StreamAdmin(StaffActionsMixin, admin.ModelAdmin):
    """The streaming schedule: live streams first, then the upcoming ones (soonest first),
    then the past ones (latest first)."""

    form = StreamForm
    staff_actions = STREAM_ACTIONS
    list_display = (
        "__str__",
        "streamer",
        "operator_name",
        "game",
        "status_badge",
        "scheduled_start",
        "scheduled_end",
        "started_at",
        "ended_at",
    )
    list_filter = (
        "status",
        "streamer__operator",
        ("scheduled_start", DateRangeFilter),
        ("started_at", DateRangeFilter),
    )
    list_select_related = ("streamer", "streamer__operator")
    search_fields = ("title", "game", "streamer__display_name", "=streamer__operator_user_id")
    search_help_text = "Title, game, or the streamer's name or operator user id."
    autocomplete_fields = ("streamer",)
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50

    SCHEDULE_FIELDS = (
        "streamer",
        "title",
        "game",
        ("scheduled_start", "scheduled_end"),
        "embed_url",
    )
    STATE_FIELDS = (
        "uid",
        "status_badge",
        ("started_at", "ended_at"),
        "end_reason",
        "created_at",
    )
    PANELS = ("stream_record", "streamer_pools", "staff_actions_taken")

    def get_ordering(self, request):
        """As a schedule: live, then upcoming (soonest start first), then past (latest first)."""
        rank = Case(
            When(status=Stream.Status.LIVE, then=Value(0)),
            When(status=Stream.Status.SCHEDULED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        upcoming_at = Case(
            When(status=Stream.Status.SCHEDULED, then=F("scheduled_start")),
            default=None,
            output_field=DateTimeField(),
        )
        return (
            rank.asc(),
            upcoming_at.asc(nulls_last=True),
            F("started_at").desc(nulls_last=True),
            "-created_at",
        )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (("Schedule", {"fields": self.SCHEDULE_FIELDS}),)
        return (
            ("Schedule", {"fields": self.SCHEDULE_FIELDS}),
            ("State", {"fields": self.STATE_FIELDS}),
            ("Track record of this stream", {"fields": ("stream_record",)}),
            ("Pools of this streamer (newest 10)", {"fields": ("streamer_pools",)}),
            ("Staff actions on this stream", {"fields": ("staff_actions_taken",)}),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("streamer", "uid", "status_badge", "started_at", "ended_at", "end_reason")
        fixed += ("created_at", *self.PANELS)
        if obj.status != Stream.Status.SCHEDULED:
            fixed += ("scheduled_start", "scheduled_end")  # a live stream keeps its times
        return fixed

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status in FINISHED:
            return False  # kept as it ended: the page is read-only
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a stream that will not happen is cancelled

    def save_model(self, request, obj, form, change):
        """Nothing left to save: the form's service call wrote the stream (``StreamForm``)."""

    @admin.display(description="Operator", ordering="streamer__operator__name")
    def operator_name(self, stream: Stream):
        return stream.streamer.operator.name

    @admin.display(description="Status", ordering="status")
    def status_badge(self, stream: Stream):
        return badge(stream.get_status_display(), STATUS_TONES.get(stream.status, ""))

    @admin.display(description="Figures")
    def stream_record(self, stream: Stream):
        """The streamer's record over this stream's hours (from the rollups and the ledger)."""
        return stream_record_panel(stream)

    @admin.display(description="Pools")
    def streamer_pools(self, stream: Stream):
        pools = list(
            Pool.objects.filter(streamer_id=stream.streamer_id).order_by("-opened_at", "-pk")[
                :POOLS_SHOWN
            ]
        )
        if not pools:
            return EMPTY
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    admin_link(Pool, pool.pk, f"#{pool.pk}{' (demo)' if pool.is_demo else ''}"),
                    badge(pool.get_state_display(), pool.state),
                    money(pool.balance, pool.currency),
                    f"{timezone.localtime(pool.opened_at):%Y-%m-%d %H:%M}",
                    f"{timezone.localtime(pool.closed_at):%Y-%m-%d %H:%M}"
                    if pool.closed_at
                    else EMPTY,
                    pool.close_reason or EMPTY,
                )
                for pool in pools
            ),
        )
        return format_html(
            '<table class="cp-table" data-testid="stream-pools"><thead><tr><th>Pool</th>'
            "<th>State</th><th>Balance</th><th>Opened</th><th>Closed</th><th>Close reason</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Staff actions")
    def staff_actions_taken(self, stream: Stream):
        return staff_actions_panel(stream)
