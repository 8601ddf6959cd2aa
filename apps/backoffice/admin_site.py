"""The CopyPool admin site: the dashboard is the index, navigation by job on every page.

Installed as the default admin site through ``CopyPoolAdminConfig`` (in INSTALLED_APPS in
place of ``django.contrib.admin``), so ``admin.site`` and ``@admin.register`` keep working.
The sections (Operations, Finance, Integrations, Administration, Sandbox, More) are
``apps.backoffice.navigation``'s; the site adds the global search and the exports page.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import path


class CopyPoolAdminSite(admin.AdminSite):
    site_header = "CopyPool back office"
    site_title = "CopyPool back office"
    index_title = "Dashboard"
    index_template = "admin/copypool/dashboard.html"
    # Money tables need the width; the top bar's sections lead everywhere.
    enable_nav_sidebar = False

    def get_urls(self):
        from apps.backoffice import site_pages

        urls = [
            path(
                "search/",
                self.admin_view(lambda request: site_pages.search_view(request, self)),
                name="search",
            ),
            path(
                "exports/",
                self.admin_view(lambda request: site_pages.exports_view(request, self)),
                name="exports",
            ),
        ]
        return urls + super().get_urls()

    def index(self, request, extra_context=None):
        from apps.backoffice.dashboard_view import dashboard_context

        return super().index(request, {**dashboard_context(request), **(extra_context or {})})


class CopyPoolAdminConfig(AdminConfig):
    default_site = "apps.backoffice.admin_site.CopyPoolAdminSite"
