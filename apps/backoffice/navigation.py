"""The back office's navigation by job: Operations, Finance, Integrations, Administration,
Sandbox (only when it is mounted), then More for anything registered and not placed.

``nav_sections`` is a pure function of the admin's app list (``AdminSite.get_app_list``,
which already holds only the models the user may see, through each ModelAdmin's
``has_module_permission`` and ``has_view_permission``), the current path and the user's export
permission. An entry is shown only when the app list gives it a page; a section with no
entry vanishes. Nothing registered is lost: a model the table below does not place is listed
under its app's section (Sandbox) or under More.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# (section, [(entry key, label or None for the model's own name, secondary?)]). An entry key
# is "app_label.model_name" or one of the pages: dashboard, search, exports. Secondary
# entries are the records behind the daily work, listed after a divider.
SECTIONS: list[tuple[str, list[tuple[str, str | None, bool]]]] = [
    (
        "Operations",
        [
            ("dashboard", "Dashboard", False),
            ("pools.pool", "Pools", False),
            ("backoffice.reviewitem", "Review queue", False),
            ("backoffice.withdrawallock", "Withdrawal locks", False),
            ("streamers.stream", "Streams", False),
            ("search", "Search", False),
            ("streamers.streamer", "Streamers", True),
            ("followers.follower", "Followers", True),
            ("followers.position", "Positions", True),
            ("followers.playersession", "Player sessions", True),
            ("transactions.saga", "Sagas", True),
            ("transactions.discrepancy", "Discrepancies", True),
            ("pools.poolsnapshot", "Pool snapshots", True),
            ("streamers.streamerinvite", "Streamer invites", True),
            ("streamers.streameraccess", "Allowlist", True),
        ],
    ),
    (
        "Finance",
        [
            ("transactions.transaction", "Transactions", False),
            ("transactions.dailysettlement", "Daily settlements", False),
            ("transactions.invoice", "Invoices", False),
            ("exports", "Exports", False),
            ("transactions.journalentry", "Journal entries", True),
            ("transactions.journalaccount", "Journal accounts", True),
            ("transactions.feeschedule", "Fee schedules", True),
        ],
    ),
    (
        "Integrations",
        [
            ("operators.operator", "Operators", False),
            ("operators.calllog", "Call log", False),
            ("transactions.reconciliationrun", "Reconciliation", False),
            ("operators.conformancerun", "Conformance runs", True),
            ("portal.operatoruser", "Operator portal users", True),
            ("portal.portalinvite", "Operator portal invites", True),
        ],
    ),
    (
        "Administration",
        [
            ("auth.user", "Users", False),
            ("auth.group", "Groups", False),
            ("django_celery_beat.periodictask", "Schedules", False),
            ("axes.accessattempt", "Login attempts", False),
            ("backoffice.staffaction", "Staff actions", True),
            ("axes.accessfailurelog", "Login failures", True),
            ("axes.accesslog", "Login log", True),
            ("otp_totp.totpdevice", "Two-factor devices", True),
            ("django_celery_beat.crontabschedule", "Crontab schedules", True),
            ("django_celery_beat.intervalschedule", "Interval schedules", True),
            ("django_celery_beat.clockedschedule", "Clocked schedules", True),
            ("django_celery_beat.solarschedule", "Solar schedules", True),
        ],
    ),
]
# Apps whose unplaced models make a section of their own (in this order, after the above).
APP_SECTIONS = [("sandbox", "Sandbox")]
MORE = "More"
PAGES = ("dashboard", "search", "exports")


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str
    url: str
    active: bool = False
    secondary: bool = False


@dataclass(frozen=True)
class NavSection:
    label: str
    entries: list[NavEntry] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any(entry.active for entry in self.entries)

    @property
    def url(self) -> str:
        """Where the section's own label leads: its first entry."""
        return self.entries[0].url

    @property
    def slug(self) -> str:
        return self.label.lower()

    @property
    def main(self) -> list[NavEntry]:
        return [entry for entry in self.entries if not entry.secondary]

    @property
    def more(self) -> list[NavEntry]:
        return [entry for entry in self.entries if entry.secondary]


def nav_sections(
    app_list: list[dict],
    *,
    path: str,
    page_urls: dict[str, str],
) -> list[NavSection]:
    """The sections in order, each with the entries the user may open.

    ``app_list`` is the admin's (``get_app_list(request)``); ``page_urls`` maps the pages the
    user may open (``dashboard``, ``search``, ``exports``) to their URLs, a page left out is
    not shown. ``path`` is the request's path: the entry whose URL is its longest prefix is
    the active one (the dashboard only on its own page).
    """
    models: dict[str, dict] = {}
    for app in app_list:
        for model in app["models"]:
            if model.get("admin_url"):  # no URL: the user may add but not view
                key = f"{app['app_label']}.{model['object_name'].lower()}"
                models[key] = {**model, "app_label": app["app_label"]}
    urls = [*page_urls.values(), *(m["admin_url"] for m in models.values())]
    active_url = _active_url(path, urls, exact=page_urls.get("dashboard"))
    placed: set[str] = set()

    def entry(key: str, label: str | None, secondary: bool) -> NavEntry | None:
        if key in PAGES:
            url = page_urls.get(key)
        else:
            url = models[key]["admin_url"] if key in models else None
        if url is None:
            return None
        placed.add(key)
        name = label or str(models[key]["name"])
        return NavEntry(key, name, url, active=url == active_url, secondary=secondary)

    sections = []
    for label, specs in SECTIONS:
        entries = [e for e in (entry(*spec) for spec in specs) if e is not None]
        sections.append(NavSection(label, entries))
    for app_label, label in APP_SECTIONS:
        keys = [k for k, m in models.items() if m["app_label"] == app_label and k not in placed]
        entries = [
            e
            for e in (entry(k, _unprefixed(str(models[k]["name"]), label), False) for k in keys)
            if e is not None
        ]
        sections.append(NavSection(label, sorted(entries, key=lambda e: e.label)))
    rest = [entry(k, None, False) for k in models if k not in placed]
    sections.append(NavSection(MORE, sorted((e for e in rest if e), key=lambda e: e.label)))
    return [section for section in sections if section.entries]


def _unprefixed(name: str, section: str) -> str:
    """``Sandbox bets`` is ``Bets`` under Sandbox."""
    rest = name.removeprefix(section).strip()
    return rest[:1].upper() + rest[1:] if rest and rest != name else name


def _active_url(path: str, urls: list[str], *, exact: str | None) -> str | None:
    """The URL that is the longest prefix of ``path``; ``exact`` (the index, a prefix of
    every admin URL) matches only itself."""
    best = None
    for url in urls:
        matches = path == url if url == exact else path.startswith(url) and url.endswith("/")
        if matches and (best is None or len(url) > len(best)):
            best = url
    return best
