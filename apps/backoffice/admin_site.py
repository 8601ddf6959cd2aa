"""The CopyPool admin site: the dashboard is the index, the money pages come first.

Installed as the default admin site through ``CopyPoolAdminConfig`` (in INSTALLED_APPS in
place of ``django.contrib.admin``), so ``admin.site`` and ``@admin.register`` keep working.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

APP_ORDER = ["backoffice", "pools", "transactions", "operators", "followers", "streamers", "auth"]
MODEL_ORDER = {
    "backoffice": ["reviewitem", "withdrawallock", "staffaction"],
    "transactions": [
        "transaction",
        "saga",
        "discrepancy",
        "reconciliationrun",
        "dailysettlement",
    ],
}


class CopyPoolAdminSite(admin.AdminSite):
    site_header = "CopyPool back office"
    site_title = "CopyPool back office"
    index_title = "Dashboard"
    index_template = "admin/copypool/dashboard.html"
    # Money tables need the width; the dashboard and breadcrumbs lead everywhere.
    enable_nav_sidebar = False

    def index(self, request, extra_context=None):
        from apps.backoffice.dashboard_view import dashboard_context

        return super().index(request, {**dashboard_context(request), **(extra_context or {})})

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            order = MODEL_ORDER.get(app["app_label"])
            if order:
                app["models"].sort(
                    key=lambda m: (
                        order.index(m["object_name"].lower())
                        if m["object_name"].lower() in order
                        else len(order),
                        m["name"],
                    )
                )
        apps.sort(
            key=lambda a: (
                APP_ORDER.index(a["app_label"]) if a["app_label"] in APP_ORDER else len(APP_ORDER),
                a["name"],
            )
        )
        return apps


class CopyPoolAdminConfig(AdminConfig):
    default_site = "apps.backoffice.admin_site.CopyPoolAdminSite"
