"""Navigation by job: the sections each staff group sees, the sandbox's section only when its
admin is registered, every registered model reachable, the current page marked, and the bar
on every kind of admin page."""

import re

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from apps.backoffice.admin_site import CopyPoolAdminSite
from apps.backoffice.groups import FINANCE, OPERATIONS, READ_ONLY
from apps.backoffice.navigation import MORE, nav_sections
from apps.backoffice.site_pages import site_nav
from apps.backoffice.tests.admin_world import make_pool, secret_operator, staff_user, superuser

pytestmark = pytest.mark.django_db


def nav_for(user, path="/admin/", site=None):
    request = RequestFactory().get(path)
    request.user = user
    return site_nav(request, site or admin.site)


def labels(nav):
    return {section.label: [entry.label for entry in section.entries] for section in nav.sections}


# --- the pure function ---------------------------------------------------------------------


def app(label, *models):
    return {
        "app_label": label,
        "models": [
            {"object_name": name, "name": name.title() + "s", "admin_url": url}
            for name, url in models
        ],
    }


def test_sections_keep_their_order_drop_empty_ones_and_collect_the_unplaced():
    app_list = [
        app("zeta", ("Thing", "/admin/zeta/thing/")),
        app("pools", ("Pool", "/admin/pools/pool/")),
        app("operators", ("Operator", "/admin/operators/operator/")),
        app("auth", ("User", None)),  # may add, not view: no page of its own
    ]
    sections = nav_sections(app_list, path="/admin/pools/pool/", page_urls={"dashboard": "/admin/"})
    assert [(s.label, [e.label for e in s.entries]) for s in sections] == [
        ("Operations", ["Dashboard", "Pools"]),
        ("Integrations", ["Operators"]),
        (MORE, ["Things"]),
    ]
    # no Finance (nothing in it), no Administration (the user model has no URL), no Sandbox


def test_the_active_entry_is_the_longest_prefix_and_the_dashboard_only_itself():
    app_list = [
        app("pools", ("Pool", "/admin/pools/pool/"), ("PoolSnapshot", "/admin/pools/poolsnapshot/"))
    ]
    pages = {"dashboard": "/admin/", "search": "/admin/search/"}

    def active(path):
        sections = nav_sections(app_list, path=path, page_urls=pages)
        return [(s.label, e.key) for s in sections for e in s.entries if e.active]

    assert active("/admin/") == [("Operations", "dashboard")]
    assert active("/admin/pools/pool/7/change/") == [("Operations", "pools.pool")]
    assert active("/admin/pools/poolsnapshot/") == [("Operations", "pools.poolsnapshot")]
    assert active("/admin/search/?q=1") == [("Operations", "search")]
    assert active("/admin/password_change/") == []


def test_the_sandbox_section_holds_the_sandbox_apps_models():
    app_list = [app("sandbox", ("SandboxBet", "/admin/sandbox/sandboxbet/"))]
    [sandbox] = nav_sections(app_list, path="/admin/", page_urls={})
    assert (sandbox.label, [e.key for e in sandbox.entries]) == ("Sandbox", ["sandbox.sandboxbet"])


# --- per group -----------------------------------------------------------------------------


def test_operations_sees_its_work_and_no_exports_nor_sandbox():
    nav = labels(nav_for(staff_user("olga", OPERATIONS)))
    assert list(nav) == ["Operations", "Finance", "Integrations", "Administration"]
    assert nav["Operations"][:6] == [
        "Dashboard",
        "Pools",
        "Review queue",
        "Withdrawal locks",
        "Streams",
        "Search",
    ]
    assert nav["Finance"] == ["Transactions", "Daily settlements", "Invoices", "Fee schedules"]
    assert nav["Integrations"] == [
        "Operators",
        "Call log",
        "Reconciliation",
        "Conformance runs",
        "Operator portal users",
        "Operator portal invites",
    ]
    # no users, groups, schedules or login attempts: the staff actions, and the portal's
    # authenticator devices (never their keys)
    assert nav["Administration"] == ["Staff actions", "Two-factor devices"]


def test_finance_sees_exports_and_the_journal():
    nav = labels(nav_for(staff_user("fiona", FINANCE)))
    assert list(nav) == ["Operations", "Finance", "Integrations", "Administration"]
    assert nav["Finance"] == [
        "Transactions",
        "Daily settlements",
        "Invoices",
        "Exports",
        "Journal entries",
        "Journal accounts",
        "Fee schedules",
    ]


def test_read_only_sees_the_journal_but_no_exports():
    nav = labels(nav_for(staff_user("rita", READ_ONLY)))
    assert "Exports" not in nav["Finance"]
    assert "Journal entries" in nav["Finance"]
    assert "Users" not in nav["Administration"]


def test_a_staff_user_in_no_group_sees_the_dashboard_alone():
    nav = labels(nav_for(staff_user("nobody")))
    assert nav == {"Operations": ["Dashboard"]}


def test_the_superuser_sees_every_section_and_the_sandbox():
    nav = labels(nav_for(superuser()))
    assert list(nav) == ["Operations", "Finance", "Integrations", "Administration", "Sandbox"]
    assert nav["Administration"][:4] == ["Users", "Groups", "Schedules", "Login attempts"]
    assert "Exports" in nav["Finance"]


def test_every_registered_model_is_reachable_for_the_superuser():
    user = superuser()
    nav = nav_for(user)
    urls = {entry.url for section in nav.sections for entry in section.entries}
    request = RequestFactory().get("/admin/")
    request.user = user
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_permission(request):
            continue
        opts = model._meta
        assert reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") in urls, opts.label
    # and only the pages are not models: Dashboard, Search, Exports
    assert len(urls) == len(admin.site._registry) + 3


def test_the_sandbox_section_only_when_the_sandbox_admin_is_registered():
    user = superuser()
    unmounted = CopyPoolAdminSite()
    unmounted._registry = {
        model: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label != "sandbox"
    }
    assert "Sandbox" not in labels(nav_for(user, site=unmounted))
    assert MORE not in labels(nav_for(user, site=unmounted))
    assert "Sandbox" in labels(nav_for(user))


# --- on the pages ----------------------------------------------------------------------------


def current_entries(html: str) -> list[str]:
    return re.findall(r'data-entry="([^"]+)" class="is-active" aria-current="page"', html)


def active_section(html: str) -> list[str]:
    return re.findall(r'class="cp-nav-section is-active" data-section="([^"]+)"', html)


@pytest.mark.parametrize(
    ("url_name", "args", "section", "entry"),
    [
        ("admin:index", [], "operations", "dashboard"),
        ("admin:pools_pool_changelist", [], "operations", "pools.pool"),
        (
            "admin:transactions_journalaccount_trial_balance",
            [],
            "finance",
            "transactions.journalaccount",
        ),
        ("admin:auth_user_changelist", [], "administration", "auth.user"),
        ("admin:sandbox_sandboxfault_changelist", [], "sandbox", "sandbox.sandboxfault"),
        ("admin:search", [], "operations", "search"),
        ("admin:exports", [], "finance", "exports"),
    ],
)
def test_the_bar_is_on_every_kind_of_page_with_the_current_entry(
    client, url_name, args, section, entry
):
    client.force_login(superuser())
    html = client.get(reverse(url_name, args=args)).content.decode()
    assert 'id="cp-nav"' in html
    assert active_section(html) == [section]
    assert current_entries(html) == [entry]
    assert 'action="/admin/search/"' in html


def test_a_change_page_marks_its_list(client):
    client.force_login(staff_user("olga", OPERATIONS))
    pool = make_pool(secret_operator(), 1, snapshots=0)
    html = client.get(reverse("admin:pools_pool_change", args=[pool.pk])).content.decode()
    assert current_entries(html) == ["pools.pool"]
    # a group's user never sees a link it may not open
    assert "/admin/auth/user/" not in html
    assert "/admin/exports/" not in html


def test_the_login_page_has_no_bar(client):
    html = client.get(reverse("admin:login")).content.decode()
    assert 'id="cp-nav"' not in html


def test_the_dashboard_lists_the_sections(client):
    client.force_login(staff_user("fiona", FINANCE))
    html = client.get(reverse("admin:index")).content.decode()
    listed = html.split('data-testid="dashboard-sections"')[1]
    assert re.findall(r"<h2>([^<]+)</h2>", listed)[:4] == [
        "Operations",
        "Finance",
        "Integrations",
        "Administration",
    ]
    assert 'href="/admin/exports/"' in listed
    assert "app-list" not in html.split('id="content-main"')[1].split("</main>")[0]


# --- the exports page ------------------------------------------------------------------------


def test_the_exports_page_is_for_those_who_may_export(client):
    client.force_login(staff_user("fiona", FINANCE))
    response = client.get(reverse("admin:exports"))
    assert response.status_code == 200
    exports = response.context["exports"]
    assert [e.label for e in exports] == [
        "Daily settlements",
        "Invoices",
        "Journal entries",
        "Positions",
        "Transactions",
    ]
    for export in exports:
        assert client.get(export.list_url).status_code == 200, export.label
        assert client.get(export.export_url).status_code == 200, export.label
        assert export.note
    transactions = next(e for e in exports if e.label == "Transactions")
    assert len(transactions.resources) == 2
    for group in (OPERATIONS, READ_ONLY):
        client.force_login(staff_user(f"user-{group}", group))
        assert client.get(reverse("admin:exports")).status_code == 403, group
