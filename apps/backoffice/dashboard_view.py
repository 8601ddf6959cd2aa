"""The dashboard's template context: the selectors' figures, links into the pages behind
them, the pooled-value chart, the week's best and worst streamers and the followers-in-pools
chart (``statistics_view.dashboard_statistics``)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.safestring import SafeString

from apps.backoffice.dashboard import Dashboard, dashboard_summary
from apps.backoffice.models import ReviewItem, StaffAction, WithdrawalLock
from apps.backoffice.statistics_view import dashboard_statistics
from apps.core.admin_display import changelist_url
from apps.core.charts import Series, line_chart
from apps.pools.models import Pool
from apps.transactions.models import Discrepancy, ReconciliationRun

RECENT_ACTIONS = 8
# What one point of the pooled-value chart stands for (``dashboard.chart_bucket``).
BUCKET_WORDS = {"minute": "per minute", "hour": "hourly", "day": "daily"}


def pooled_value_chart(summary: Dashboard) -> SafeString:
    """The pooled-value chart of a dashboard's summary (7 days, one line per currency)."""
    return line_chart(
        [Series(currency, points) for currency, points in sorted(summary.pooled_value.items())],
        title=f"Value held in pools, last 7 days ({BUCKET_WORDS[summary.chart_bucket]} average)",
        width=1100,
        height=300,
        empty_text="No pool snapshots in the last 7 days",
    )


def dashboard_context(request: HttpRequest) -> dict:
    summary = dashboard_summary(chart_days=7)
    chart = pooled_value_chart(summary)
    recent = []
    if request.user.has_perm("backoffice.view_staffaction"):
        recent = list(StaffAction.objects.order_by("-created_at", "-id")[:RECENT_ACTIONS])
    return {
        **dashboard_statistics(request, week_bucket=summary.chart_bucket),
        "dashboard": summary,
        "pooled_chart": chart,
        "recent_staff_actions": recent,
        "links": {
            "open_pools": changelist_url(Pool, state__in="open,closing", is_demo__exact="0"),
            "locks": changelist_url(WithdrawalLock),
            "stale_locks": changelist_url(WithdrawalLock, stale="yes"),
            "unknown": changelist_url(ReviewItem, status__exact="unknown", resolution="all"),
            "review": changelist_url(ReviewItem),
            "discrepancies": changelist_url(Discrepancy, state__exact="open"),
            "reconciliation": changelist_url(ReconciliationRun),
            "staff_actions": changelist_url(StaffAction),
        },
    }
