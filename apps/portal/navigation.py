"""The portal's top bar: the sections of the back office's navigation an operator has, by
what the role may see (``roles``), in the same component (``admin/copypool/nav.html``)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from apps.backoffice.navigation import NavEntry, NavSection
from apps.backoffice.site_pages import SiteNav
from apps.portal.context import PortalContext

# (section label, [(page, url name, label, role section)])
SECTIONS = [
    (
        "Operations",
        [
            ("dashboard", "index", "Dashboard", "dashboard"),
            ("pools.pool", "pools_pool_changelist", "Pools", "pools"),
            ("streamers.stream", "streamers_stream_changelist", "Streams", "streams"),
            ("streamers.streamer", "streamers_streamer_changelist", "Streamers", "streamers"),
            ("followers.follower", "followers_follower_changelist", "Followers", "followers"),
            ("followers.position", "followers_position_changelist", "Positions", "followers"),
        ],
    ),
    (
        "Money",
        [
            (
                "transactions.transaction",
                "transactions_transaction_changelist",
                "Transactions",
                "transactions",
            ),
            ("backoffice.reviewitem", "backoffice_reviewitem_changelist", "Review queue", "review"),
            (
                "transactions.dailysettlement",
                "transactions_dailysettlement_changelist",
                "Daily settlements",
                "finance",
            ),
            ("transactions.invoice", "transactions_invoice_changelist", "Invoices", "finance"),
        ],
    ),
    (
        "Integration",
        [
            ("operators.calllog", "operators_calllog_changelist", "Call log", "calls"),
            ("configuration", "configuration", "Configuration", "configuration"),
            ("keys", "keys", "API key and secret", "keys"),
            ("conformance", "conformance", "Conformance check", "conformance"),
        ],
    ),
]


def portal_nav(request: HttpRequest, site, portal: PortalContext) -> SiteNav:
    sections = []
    for label, pages in SECTIONS:
        entries = []
        for key, url_name, entry_label, section in pages:
            if not portal.may_view(section):
                continue
            try:
                url = reverse(f"{site.name}:{url_name}")
            except NoReverseMatch:
                continue
            active = request.path == url or (url_name != "index" and request.path.startswith(url))
            entries.append(NavEntry(key=key, label=entry_label, url=url, active=active))
        if entries:
            sections.append(NavSection(label=label, entries=entries))
    return SiteNav(sections=sections, search_url=None)
