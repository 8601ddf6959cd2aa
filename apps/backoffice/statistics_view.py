"""How the staff pages show track records: money to 2 places with the exact value on hover,
ratios as percents to 2 places, the streamer page's table, charts and lists, the
dashboard's leaders and followers chart.

Read-only figures: whoever may view streamers sees them (``streamers.view_streamer``, every
staff group of ``apps.backoffice.groups``); the followers chart needs ``pools.view_pool``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.backoffice.statistics import (
    Leaders,
    StreamerStatistics,
    followers_in_pools_series,
    week_leaders,
)
from apps.core.admin_display import EMPTY, admin_link, badge, changelist_url, money
from apps.core.charts import Series, line_chart
from apps.pools.models import Pool, StreamerRecord
from apps.streamers.models import Stream, Streamer
from apps.transactions.statistics.figures import WINDOWS
from apps.transactions.statistics.records import TrackRecord, stream_record

if TYPE_CHECKING:
    from apps.operators.models import Operator

VIEW_STATISTICS = "streamers.view_streamer"
VIEW_FOLLOWERS_CHART = "pools.view_pool"
WINDOW_LABELS = dict(StreamerRecord.Window.choices)
FOLLOWERS_RANGES = (7, 30, 90, 365)
BUCKET_WORDS = {"minute": "per minute", "hour": "hourly", "day": "daily"}


# --- cells ---------------------------------------------------------------------------------


def money_cell(value: Decimal | None, currency: str = "") -> SafeString | str:
    """``1,234.57 USD``, the exact amount on hover: the back office's one money rule
    (``apps.core.admin_display.money``)."""
    return money(value, currency)


def percent_cell(ratio: Decimal | None, *, signed: bool = False) -> SafeString | str:
    """A ratio as a percent to 2 places (``0.1234`` is ``12.34 %``), the exact ratio on hover;
    ``signed`` colours gains and losses."""
    if ratio is None:
        return EMPTY
    percent = ratio * 100
    text = f"{percent:+,.2f} %" if signed else f"{percent:,.2f} %"
    tone = "up" if percent > 0 else "down" if percent < 0 else "flat"
    return format_html(
        '<span class="cp-money{}" title="{}">{}</span>',
        f" cp-{tone}" if signed else "",
        f"{ratio:f}",
        text,
    )


def count_cell(value: int | Decimal) -> SafeString:
    return format_html('<span class="cp-money">{}</span>', f"{value:,}")


def whole_number(value: float) -> str:
    """An axis tick of a count: whole numbers without decimals."""
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def when(moment: datetime | None) -> str:
    return EMPTY if moment is None else f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


# --- the streamer page ---------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    cell: Callable[[TrackRecord], SafeString | str]
    hint: str = ""


FIGURES: tuple[Figure, ...] = (
    Figure("ROI", lambda r: percent_cell(r.roi, signed=True), "NAV growth, chained across pools"),
    Figure("Maximum drawdown", lambda r: percent_cell(r.max_drawdown), "largest fall from a peak"),
    Figure("Pooled value now", lambda r: money_cell(r.aum, r.currency)),
    Figure("Pooled value at peak", lambda r: money_cell(r.aum_peak, r.currency)),
    Figure("Followers now", lambda r: count_cell(r.followers_now)),
    Figure("Distinct followers", lambda r: count_cell(r.followers_distinct)),
    Figure("Money joined", lambda r: money_cell(r.joined, r.currency), "less rollbacks"),
    Figure("Paid out", lambda r: money_cell(r.paid_out, r.currency)),
    Figure(
        "Followers' net result",
        lambda r: money_cell(r.net_result, r.currency),
        "gain (loss when negative)",
    ),
    Figure("Streams", lambda r: count_cell(r.streams), "started in the window"),
    Figure("Hours live", lambda r: count_cell(r.hours_live)),
    Figure("Streamer's own share", lambda r: percent_cell(r.streamer_share), "of the open pool"),
)

# A stream's record: the "now" figures (pooled value now, followers now, the share) are the
# streamer's, not the stream's, so they are left out.
STREAM_FIGURES = tuple(
    f
    for f in FIGURES
    if f.label not in ("Pooled value now", "Followers now", "Streamer's own share")
)


def _charts(record: TrackRecord, window_label: str) -> SafeString:
    points = record.series
    nav = line_chart(
        [Series("NAV index", [(p.at, p.index) for p in points], color="#9333ea")],
        title=f"Chained NAV index, {window_label} (1 at the start)",
        width=520,
        height=240,
        empty_text="No readings in this window",
    )
    value = line_chart(
        [Series(f"Pooled value ({record.currency})", [(p.at, p.balance) for p in points])],
        title=f"Pooled value, {record.currency}",
        width=520,
        height=240,
        point_format=lambda v: f"{v:,.8f}",
        empty_text="No readings in this window",
    )
    followers = line_chart(
        [Series("Followers", [(p.at, Decimal(p.members)) for p in points], color="#16a34a")],
        title="Followers in the pool",
        width=520,
        height=240,
        value_format=whole_number,
        point_format=lambda v: f"{v:,.0f}",
        empty_text="No readings in this window",
    )
    return format_html('<div class="cp-charts">{}{}{}</div>', nav, value, followers)


def track_record_panel(request: HttpRequest, stats: StreamerStatistics) -> SafeString:
    """The "Track record" panel of a streamer's change page."""
    streamer = stats.streamer
    base = request.path
    windows = [
        {
            "name": name,
            "label": WINDOW_LABELS[name],
            "url": f"{base}?window={name}",
            "current": name == stats.window,
        }
        for name in WINDOWS
    ]
    rows = [
        {"label": f.label, "hint": f.hint, "cells": [f.cell(r) for r in stats.records]}
        for f in FIGURES
    ]
    context = {
        "stats": stats,
        "windows": windows,
        "window_label": WINDOW_LABELS[stats.window],
        "records": stats.records,
        "columns": [
            {"name": r.window, "label": WINDOW_LABELS[r.window], "is_new": r.is_new}
            for r in stats.records
        ],
        "rows": rows,
        "charts": _charts(stats.chosen, WINDOW_LABELS[stats.window]),
        "streams": [
            {
                "link": admin_link(Stream, s.pk, s.title or f"Stream #{s.pk}"),
                "status": badge(s.get_status_display(), s.status),
                "scheduled_start": when(s.scheduled_start),
                "started_at": when(s.started_at),
                "ended_at": when(s.ended_at),
                "end_reason": s.end_reason,
            }
            for s in stats.streams
        ],
        "pools": [
            {
                "link": admin_link(Pool, p.pk),
                "state": badge(p.get_state_display(), p.state),
                "is_demo": p.is_demo,
                "is_bust": p.is_bust,
                "opened_at": when(p.opened_at),
                "closed_at": when(p.closed_at),
                "close_reason": p.close_reason,
            }
            for p in stats.pools
        ],
        "all_streams": changelist_url(Stream, streamer__id__exact=streamer.pk),
        "all_pools": changelist_url(Pool, streamer__id__exact=streamer.pk),
        "computed_at": when(stats.chosen.computed_at),
    }
    return render_to_string("admin/streamers/streamer/track_record.html", context, request)


# --- the dashboard -------------------------------------------------------------------------


def _leader_rows(records: list[StreamerRecord]) -> list[dict]:
    return [
        {
            "link": admin_link(Streamer, r.streamer_id, r.streamer.display_name),
            "user_id": r.streamer.operator_user_id,
            "roi": percent_cell(r.roi, signed=True),
            "drawdown": percent_cell(r.max_drawdown),
            "aum": money_cell(r.aum, r.currency),
            "followers": count_cell(r.followers_now),
        }
        for r in records
    ]


def followers_range(request: HttpRequest) -> int:
    """The days of the followers chart, from ``?followers_days=``; 7 unless one of
    ``FOLLOWERS_RANGES``."""
    try:
        days = int(request.GET.get("followers_days", "7"))
    except ValueError:
        return 7
    return days if days in FOLLOWERS_RANGES else 7


def leaders_panel(*, operator: Operator | None = None) -> dict:
    """The week's best and worst streamers as table rows (``leaders_table.html``), links to
    the streamer pages of the site being drawn; ``operator``'s streamers only if given."""
    leaders: Leaders = week_leaders(operator=operator)
    return {"top": _leader_rows(leaders.top), "bottom": _leader_rows(leaders.bottom)}


def followers_chart_panel(
    request: HttpRequest, *, week_bucket: str, operator: Operator | None = None
) -> dict:
    """The followers-in-pools chart over ``?followers_days=`` (``week_bucket`` for 7 days, the
    pooled-value chart's) and its range switch; ``operator``'s pools only if given."""
    days = followers_range(request)
    bucket = week_bucket if days == 7 else "day"
    points = followers_in_pools_series(days=days, kind=bucket, operator=operator)
    return {
        "followers_chart": line_chart(
            [Series("Followers", [(t, Decimal(n)) for t, n in points], color="#16a34a")],
            title=f"Followers in pools, last {days} days ({BUCKET_WORDS[bucket]})",
            width=1100,
            height=260,
            value_format=whole_number,
            point_format=lambda v: f"{v:,.0f}",
            empty_text=f"No pool readings in the last {days} days",
        ),
        "followers_ranges": [
            {"days": d, "url": f"?followers_days={d}", "current": d == days}
            for d in FOLLOWERS_RANGES
        ],
    }


def dashboard_statistics(
    request: HttpRequest, *, week_bucket: str, operator: Operator | None = None
) -> dict:
    """The dashboard's leaders of the week and its followers-in-pools chart, for whoever may
    see them (staff permissions); ``week_bucket`` is the pooled-value chart's bucket (reused
    for 7 days). The operator portal, whose people have roles rather than permissions, asks
    for the panels its roles allow (``leaders_panel``, ``followers_chart_panel``)."""
    context: dict = {"followers_chart": None, "leaders": None}
    user = request.user
    if user.has_perm(VIEW_STATISTICS):
        context["leaders"] = leaders_panel(operator=operator)
    if user.has_perm(VIEW_FOLLOWERS_CHART):
        context.update(followers_chart_panel(request, week_bucket=week_bucket, operator=operator))
    return context


# --- the stream page -----------------------------------------------------------------------


def stream_record_panel(stream: Stream) -> SafeString | str:
    """The figures of one stream (its streamer's record over the stream's hours) and its
    NAV chart: the "Track record of this stream" panel of a stream's page."""
    record = stream_record(stream)
    if record is None:
        return EMPTY
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}<div class="help">{}</div></th><td class="cp-num">{}</td></tr>',
        ((f.label, f.hint, f.cell(record)) for f in STREAM_FIGURES),
    )
    return format_html(
        '<table class="cp-table" data-testid="stream-record"><tbody>{}</tbody></table>{}',
        rows,
        _charts(record, "this stream"),
    )
