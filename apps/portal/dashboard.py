"""The portal's dashboard: the operator's own figures (``apps.portal.tenancy`` scopes them)."""

from __future__ import annotations

from django.db.models import Count, Sum
from django.http import HttpRequest

from apps.backoffice.models import ReviewItem
from apps.backoffice.review import review_queue
from apps.core.admin_display import changelist_url
from apps.followers.models import Position
from apps.operators.models import CallLog
from apps.pools.models import Pool
from apps.portal.context import PortalContext
from apps.portal.tenancy import scoped, scoped_objects


def portal_dashboard_context(request: HttpRequest, portal: PortalContext) -> dict:
    operator = portal.operator
    pools = scoped_objects(Pool, operator).filter(is_demo=False)
    open_pools = pools.filter(state__in=["open", "closing"])
    by_currency = list(
        open_pools.values("currency").annotate(count=Count("pk"), value=Sum("balance"))
    )
    followers_in_pools = (
        scoped_objects(Position, operator)
        .filter(status="open", is_demo=False)
        .values("follower")
        .distinct()
        .count()
    )
    review_open = scoped(review_queue(), operator).filter(is_demo=False)
    failed_calls = scoped_objects(CallLog, operator).exclude(outcome="success")
    return {
        "figures": {
            "open_pools": open_pools.count(),
            "by_currency": by_currency,
            "followers_in_pools": followers_in_pools,
            "review_open": review_open.count() if portal.may_view("review") else None,
            "failed_calls": failed_calls.count() if portal.may_view("calls") else None,
        },
        "links": {
            "open_pools": changelist_url(Pool, state__in="open,closing"),
            "review": changelist_url(ReviewItem),
            "calls": changelist_url(CallLog, outcome__exact="unknown"),
        },
    }
