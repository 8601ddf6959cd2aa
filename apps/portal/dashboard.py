"""The portal's dashboard: the staff dashboard's figures and charts, of one operator.

The same selectors as the back office's dashboard (``apps.backoffice.dashboard``,
``statistics``), given the operator: every figure, chart and leader counts that operator's
rows only, filtered in the queries themselves, so the page reads as many queries for ten pools
as for two. Left out: what is CopyStake's own (staff actions, reconciliation runs and their
discrepancies, the staleness of withdrawal locks, whose page the portal has not). A figure
links to the portal page behind it only when the role may see that page.
"""

from __future__ import annotations

from datetime import datetime, time

from django.http import HttpRequest
from django.utils import timezone

from apps.backoffice.dashboard import dashboard_summary
from apps.backoffice.dashboard_view import pooled_value_chart
from apps.backoffice.models import ReviewItem
from apps.backoffice.statistics_view import followers_chart_panel, leaders_panel
from apps.core.admin_display import changelist_url, money
from apps.operators.models import CallLog
from apps.pools.models import Pool
from apps.portal.context import PortalContext
from apps.portal.tenancy import scoped_objects
from apps.transactions.models import Transaction

LIVE_STATES = f"{Pool.State.OPEN},{Pool.State.CLOSING}"
CALLS_WITHOUT_SUCCESS = f"{CallLog.Outcome.ERROR},{CallLog.Outcome.UNKNOWN}"


def _calls_without_success_today(portal: PortalContext) -> int:
    """The operator's calls since local midnight whose outcome was not a success (the
    ``(operator, -created_at)`` index)."""
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    return (
        scoped_objects(CallLog, portal.operator)
        .filter(created_at__gte=midnight)
        .exclude(outcome=CallLog.Outcome.SUCCESS)
        .count()
    )


def _links(portal: PortalContext) -> dict[str, str]:
    """The portal pages behind the figures, for the sections the role may see ("" when not:
    the figure is then shown without a link)."""
    may = portal.may_view
    today = timezone.localdate().isoformat()
    pools = may("pools")
    if may("review"):
        unknown = changelist_url(ReviewItem, status__exact="unknown", resolution="all")
    elif may("transactions"):
        unknown = changelist_url(Transaction, status__exact="unknown", is_demo__exact="0")
    else:
        unknown = ""
    return {
        "open_pools": changelist_url(Pool, state__in=LIVE_STATES, is_demo__exact="0")
        if pools
        else "",
        "locks": changelist_url(
            Pool, lock_state__exact="locked", state__in=LIVE_STATES, is_demo__exact="0"
        )
        if pools
        else "",
        "unknown": unknown,
        "review": changelist_url(ReviewItem) if may("review") else "",
        "calls": changelist_url(
            CallLog, outcome__in=CALLS_WITHOUT_SUCCESS, created_at__from=today, created_at__to=today
        )
        if may("calls")
        else "",
    }


def portal_dashboard_context(request: HttpRequest, portal: PortalContext) -> dict:
    operator = portal.operator
    summary = dashboard_summary(chart_days=7, operator=operator)
    context: dict = {
        "dashboard": summary,
        "value_by_currency": [
            {"currency": total.currency, "value": money(total.value, total.currency)}
            for total in summary.value_by_currency
        ],
        "pooled_chart": pooled_value_chart(summary),
        "links": _links(portal),
        "show_review": portal.may_view("review"),
        "show_unknown": portal.may_view("review") or portal.may_view("transactions"),
        "calls_without_success": _calls_without_success_today(portal)
        if portal.may_view("calls")
        else None,
        "leaders": leaders_panel(operator=operator) if portal.may_view("streamers") else None,
        "followers_chart": None,
    }
    if portal.may_view("pools"):
        context.update(
            followers_chart_panel(request, week_bucket=summary.chart_bucket, operator=operator)
        )
    return context
