"""The admin site's own pages besides the dashboard: the navigation every page shows, the
global search and the exports list. Thin views: the search is ``apps.backoffice.search``,
the sections ``apps.backoffice.navigation``; permissions are each ModelAdmin's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from apps.backoffice.admin_exports import EXPORT_PERMISSION, StreamingExportMixin
from apps.backoffice.navigation import NavEntry, NavSection, nav_sections
from apps.backoffice.search import KINDS, LIMIT, global_search
from apps.followers.models import Follower
from apps.pools.models import Pool
from apps.streamers.models import Streamer
from apps.transactions.models import Saga, Transaction

SEARCH_MODELS: dict[str, type[Model]] = {
    "pool": Pool,
    "follower": Follower,
    "streamer": Streamer,
    "transaction": Transaction,
    "saga": Saga,
}
SEARCH_TITLES = {
    "pool": ("Pools", "by pool #, or the streamer's id or name"),
    "follower": ("Followers", "by follower #, operator user id (or its start), username start"),
    "streamer": ("Streamers", "by streamer #, operator user id (or its start), name start"),
    "transaction": (
        "Transactions",
        "by transaction #, external id (or its first 6+ characters), operator reference",
    ),
    "saga": ("Sagas", "by saga #"),
}
# One line on what each export holds, by model label (``app_label.model_name``).
EXPORT_NOTES = {
    "transactions.transaction": (
        "Money movements as the list filters them: ids, kind, status, amount, currency, "
        "pool, saga, follower and streamer, balances before and after; or, with the resource "
        "FeeResource, the performance fees with their leave receipt's gross value, net payout "
        "and mark."
    ),
    "transactions.dailysettlement": (
        "One row per operator, day and currency: money in and out, rollbacks, turnover, GGR "
        "and performance fees, open exposure and the transactions counted."
    ),
    "transactions.invoice": (
        "Invoices to operators: number, kind, state, period, subtotal, minimum charge, total, "
        "credits, issue, payment and void dates."
    ),
    "transactions.journalentry": (
        "The ledger, one row per journal line: entry, posting time, account, amount, "
        "currency, and the transaction or invoice behind it."
    ),
    "followers.position": (
        "Followers' positions: contributed, payout, fees paid, units, status and their "
        "receipts (how many, and the last one's money movements)."
    ),
}


# --- navigation ------------------------------------------------------------------------


def search_kinds(request: HttpRequest, site: AdminSite) -> frozenset[str]:
    """The kinds of the global search the user may view (by their ModelAdmin)."""
    return frozenset(
        kind
        for kind, model in SEARCH_MODELS.items()
        if model in site._registry and site._registry[model].has_view_permission(request)
    )


@dataclass(frozen=True)
class ExportLink:
    label: str
    note: str
    list_url: str
    export_url: str
    resources: list[str]


def export_links(request: HttpRequest, site: AdminSite) -> list[ExportLink]:
    """The streaming exports (``StreamingExportMixin``) the user may run."""
    if not request.user.has_perm(EXPORT_PERMISSION):
        return []
    links = []
    for model, model_admin in site._registry.items():
        if not isinstance(model_admin, StreamingExportMixin):
            continue
        if not (
            model_admin.has_view_permission(request) and model_admin.has_export_permission(request)
        ):
            continue
        opts = model._meta
        try:
            export_url = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_export")
        except NoReverseMatch:
            continue
        resources = [
            str(getattr(resource, "get_display_name", lambda r=resource: r.__name__)())
            for resource in model_admin.get_export_resource_classes(request)
        ]
        links.append(
            ExportLink(
                label=str(opts.verbose_name_plural).capitalize(),
                note=EXPORT_NOTES.get(opts.label_lower, "The list's rows, as it is filtered."),
                list_url=reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist"),
                export_url=export_url,
                resources=resources,
            )
        )
    return sorted(links, key=lambda link: link.label)


@dataclass(frozen=True)
class SiteNav:
    sections: list[NavSection]
    search_url: str | None  # None: the user may search nothing

    @property
    def current(self) -> NavEntry | None:
        for section in self.sections:
            for entry in section.entries:
                if entry.active:
                    return entry
        return None


def site_nav(request: HttpRequest, site: AdminSite, app_list: list[dict] | None = None) -> SiteNav:
    """The sections for ``request``'s user (``app_list`` from the page's context if given)."""
    if app_list is None:
        app_list = site.get_app_list(request)
    page_urls = {"dashboard": reverse(f"{site.name}:index")}
    if search_kinds(request, site):
        page_urls["search"] = reverse(f"{site.name}:search")
    if export_links(request, site):
        page_urls["exports"] = reverse(f"{site.name}:exports")
    sections = nav_sections(app_list, path=request.path, page_urls=page_urls)
    return SiteNav(sections, page_urls.get("search"))


# --- pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    title: str
    detail: str
    url: str


def _hit(kind: str, row, site: AdminSite) -> Hit:
    opts = row._meta
    url = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
    if kind == "pool":
        detail = f"{row.streamer.display_name} · {row.get_state_display()} · {row.currency}"
        return Hit(f"Pool #{row.pk}", detail, url)
    if kind == "follower":
        name = row.username or "no username"
        detail = f"{row.operator.name} · operator user id {row.operator_user_id}"
        return Hit(f"{name} (#{row.pk})", detail + (" · demo" if row.is_demo else ""), url)
    if kind == "streamer":
        detail = f"{row.operator.name} · operator user id {row.operator_user_id}"
        return Hit(f"{row.display_name} (#{row.pk})", detail, url)
    if kind == "transaction":
        detail = (
            f"{row.get_kind_display()} · {row.get_status_display()} · "
            f"{row.operator.name} · external id {row.external_id}"
        )
        return Hit(f"Transaction #{row.pk}", detail, url)
    return Hit(f"Saga #{row.pk}", f"{row.get_kind_display()} · {row.get_status_display()}", url)


def search_view(request: HttpRequest, site: AdminSite) -> TemplateResponse:
    kinds = search_kinds(request, site)
    if not kinds:
        raise PermissionDenied
    q = request.GET.get("q", "")
    outcome = global_search(q, kinds)
    groups = []
    for result in outcome.results:
        model = SEARCH_MODELS[result.kind]
        model_admin = site._registry[model]
        title, how = SEARCH_TITLES[result.kind]
        opts = model._meta
        list_url = None
        if result.more and model_admin.get_search_fields(request):
            changelist = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist")
            list_url = f"{changelist}?{urlencode({'q': outcome.query})}"
        groups.append(
            {
                "kind": result.kind,
                "title": title,
                "how": how,
                "hits": [_hit(result.kind, row, site) for row in result.rows],
                "more": result.more,
                "list_url": list_url,
            }
        )
    context = {
        **site.each_context(request),
        "title": "Search",
        "q": q,
        "query": outcome.query,
        "error": outcome.error,
        "groups": [group for group in groups if group["hits"]],
        "searched": [SEARCH_TITLES[kind][0].lower() for kind in KINDS if kind in kinds],
        "total": outcome.total,
        "limit": LIMIT,
    }
    return TemplateResponse(request, "admin/copypool/search.html", context)


def exports_view(request: HttpRequest, site: AdminSite) -> TemplateResponse:
    links = export_links(request, site)
    if not links:
        raise PermissionDenied
    context = {**site.each_context(request), "title": "Exports", "exports": links}
    return TemplateResponse(request, "admin/copypool/exports.html", context)
