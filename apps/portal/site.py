"""The operator portal: a second admin site, built from the back office's own pages.

Same theme, components, charts and totals as the staff back office, because its pages are
the back office's ModelAdmins with the portal's rules on top (``apps.portal.admin``): every
row through ``tenancy.scoped``, what a role may see and do from ``roles``, nothing editable
but the operator's configuration and keys (``views``). Operators' people sign in here with a
password and a one-time code; CopyStake staff come in from the back office, read-only.
"""

from __future__ import annotations

from functools import update_wrapper

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse

from apps.core.admin_display import current_admin_site
from apps.portal.context import membership, portal_context

SITE_NAME = "portal"


class OperatorPortalSite(admin.AdminSite):
    site_header = "CopyStake operator portal"
    site_title = "CopyStake operator portal"
    index_title = "Dashboard"
    index_template = "portal/dashboard.html"
    login_template = "portal/login.html"
    enable_nav_sidebar = False

    def __init__(self) -> None:
        super().__init__(name=SITE_NAME)
        from apps.portal.forms import PortalAuthenticationForm

        self.login_form = PortalAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return portal_context(request) is not None

    def admin_view(self, view, cacheable=False):
        """Every portal page draws its links to the portal (``current_admin_site``)."""
        inner = super().admin_view(view, cacheable)

        def wrapper(request, *args, **kwargs):
            token = current_admin_site.set(SITE_NAME)
            try:
                response = inner(request, *args, **kwargs)
                render = getattr(response, "render", None)
                if render is not None and not getattr(response, "is_rendered", True):
                    response = render()  # draw inside the site, links and all
                return response
            finally:
                current_admin_site.reset(token)

        return update_wrapper(wrapper, view)

    def each_context(self, request: HttpRequest) -> dict:
        from apps.portal.navigation import portal_nav

        context = super().each_context(request)
        portal = portal_context(request)
        context["portal"] = portal
        context["portal_nav"] = portal_nav(request, self, portal) if portal else []
        return context

    def login(self, request: HttpRequest, extra_context=None):
        response = super().login(request, extra_context)
        member = membership(request.user)
        if request.method == "POST" and member is not None and request.user.is_authenticated:
            from apps.portal.middleware import must_enrol, session_started

            session_started(request)
            if must_enrol(member):
                # An operator admin without a device yet: enrol one before anything else.
                return HttpResponseRedirect(reverse(f"{SITE_NAME}:two_factor"))
        return response

    def get_urls(self):
        from apps.portal import auth_views, views

        def wrap(view, cacheable=False):
            return self.admin_view(view, cacheable)

        urls = [
            path("configuration/", wrap(views.configuration_view), name="configuration"),
            path("keys/", wrap(views.keys_view), name="keys"),
            path("conformance/", wrap(views.conformance_view), name="conformance"),
            path("two-factor/", auth_views.two_factor_view, name="two_factor"),
            path("invite/<str:token>/", auth_views.invite_view, name="invite"),
            path("view-as/stop/", auth_views.view_as_stop_view, name="view_as_stop"),
            path("view-as/<int:operator_id>/", auth_views.view_as_view, name="view_as"),
        ]
        # No "view on site" redirect (``r/<content type>/<id>/``): it would answer for any
        # object of any operator.
        inherited = [
            url for url in super().get_urls() if getattr(url, "name", None) != "view_on_site"
        ]
        return urls + inherited

    def index(self, request: HttpRequest, extra_context=None):
        from apps.portal.dashboard import portal_dashboard_context

        portal = portal_context(request)
        assert portal is not None  # admin_view let the request in
        return super().index(
            request, {**portal_dashboard_context(request, portal), **(extra_context or {})}
        )


portal_site = OperatorPortalSite()
