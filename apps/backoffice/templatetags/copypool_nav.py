"""``{% copypool_nav as sections %}``: the navigation sections for the page's user (the
admin's ``available_apps`` from the context when the page has them)."""

from __future__ import annotations

from django import template
from django.contrib import admin

from apps.backoffice.site_pages import SiteNav, site_nav

register = template.Library()


@register.simple_tag(takes_context=True)
def copypool_nav(context) -> SiteNav | None:
    request = context.get("request")
    if request is None or not getattr(request, "user", None) or not request.user.is_staff:
        return None
    # Once a request: the top bar and the dashboard's list both show it.
    nav = getattr(request, "_copypool_nav", None)
    if nav is None:
        nav = site_nav(request, admin.site, context.get("available_apps"))
        request._copypool_nav = nav
    return nav
