"""Strict tenancy: signed in as operator A, nothing of operator B is shown, counted, exported
or changed, whatever the URL.

Every URL pattern of the portal site is enumerated from ``portal_site.get_urls()`` (the
ModelAdmins' own URLs included), so a page added later fails ``test_every_portal_url_...``
until it is probed here or put on the commented skip list. Each pattern is filled with A's
ids (it answers) and with B's (it refuses: 302 to the index, 403 or 404); each changelist is
also asked for B's rows through search, filters, ordering, ``_to_field`` and facets. B's rows
carry markers found nowhere in A's world (names, user ids, external ids, the currency BRL,
amounts), and no response body may hold one.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from django.contrib.admin.sites import AdminSite
from django.db import transaction
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone
from django.utils.html import escape

from apps.backoffice.models import ReviewItem, StaffAction
from apps.backoffice.review import review_queue
from apps.backoffice.tests.admin_world import World, build_world
from apps.followers.models import Follower, PlayerSession, Position
from apps.operators.models import CallLog, ConformanceRun, Operator
from apps.pools.models import Pool
from apps.portal import tenancy
from apps.portal.admin import PortalAdminMixin
from apps.portal.roles import Role
from apps.portal.site import portal_site
from apps.portal.tests.portal_world import member, sign_in
from apps.streamers.models import Stream, Streamer
from apps.transactions.finance.models import Invoice
from apps.transactions.models import DailySettlement, Transaction

D = Decimal

# What only B has. Matched case-insensitively, at word starts, in every body A receives.
B_MARKERS = [
    r"\bbravo",  # the operator's name and code, its user ids, external ids and URLs
    r"quokka",  # its streamers' display names and followers' usernames
    r"\bBRL\b",  # the currency only B uses
    r"86,?4\d\d\.",  # its transactions' amounts (86 420.13 and up)
    r"53,?197",  # its pools' balances
    r"31,?415",  # its daily settlements' money in
    r"27,?182",  # its invoice's total
    r"\bBRV-",  # its invoice's number
]
MARKER_RE = re.compile("|".join(B_MARKERS), re.IGNORECASE)


@dataclass
class Tenants:
    a: World
    b: World
    ids: dict[type, tuple[object, object]] = field(default_factory=dict)  # model -> (A, B)


def _rebrand_as_b(world: World) -> None:
    """B's rows, with B's markers everywhere a page could show them."""
    operator = world.operator
    for n, streamer in enumerate(Streamer.objects.filter(operator=operator).order_by("pk")):
        streamer.display_name = f"Quokkastar {n}"
        streamer.operator_user_id = f"bravo-streamer-{n}"
        streamer.currency = "BRL"
        streamer.save()
    for n, follower in enumerate(Follower.objects.filter(operator=operator).order_by("pk")):
        follower.operator_user_id = f"bravo-player-{n}"
        follower.username = f"quokkafan{n}"
        follower.save()
    PlayerSession.objects.filter(follower__operator=operator).update(currency="BRL")
    Pool.objects.filter(operator=operator).update(currency="BRL", balance=D("53197.5"))
    Position.objects.filter(pool__operator=operator).update(contributed=D("53197.25"))
    for i, tx in enumerate(Transaction.objects.filter(operator=operator).order_by("pk")):
        old = tx.external_id
        tx.external_id = f"bravoext{i:04d}"
        tx.operator_reference = f"bravoref-{i}"
        tx.currency = "BRL"
        tx.amount = D("86420.13579") + i
        tx.response = {"balance": "53197.5", "currency": "BRL"}
        tx.save()
        CallLog.objects.filter(operator=operator, external_id=old).update(
            external_id=tx.external_id,
            url="http://bravo.invalid/copystake/transfer",
            request_body=f'{{"id": "{tx.external_id}", "amount": 86420.5, "currency": "BRL"}}',
            response_body='{"balance": 53197.5, "currency": "BRL"}',
        )
    DailySettlement.objects.filter(operator=operator).update(currency="BRL", money_in=D("31415.92"))


def _invoice(operator: Operator, *, number: str, currency: str, total: D, month: int) -> Invoice:
    return Invoice.objects.create(
        operator=operator,
        currency=currency,
        state=Invoice.State.ISSUED,
        number=number,
        period_start=date(2025, month, 1),
        period_end=date(2025, month, 28),
        subtotal=total,
        total=total,
        issued_at=timezone.now(),
    )


def _conformance(operator: Operator, marker: str) -> ConformanceRun:
    return ConformanceRun.objects.create(
        operator=operator, state="error", report={"error": marker}, passed=3, failed=1
    )


def build_tenants() -> Tenants:
    a = build_world(code="alpha", pools=2, transactions=10)
    b = build_world(code="bravo", pools=2, transactions=10)
    _rebrand_as_b(b)
    invoices = (
        _invoice(a.operator, number="ALP-0001", currency="USD", total=D("120.5"), month=3),
        _invoice(b.operator, number="BRV-0001", currency="BRL", total=D("27182.81"), month=2),
    )
    runs = (_conformance(a.operator, "alpha report"), _conformance(b.operator, "bravo report"))
    tenants = Tenants(a=a, b=b)

    def pair(model, **filters):
        rows = [
            tenancy.scoped(model._default_manager.filter(**filters), w.operator)
            .order_by("pk")
            .first()
            for w in (a, b)
        ]
        assert all(rows), model
        tenants.ids[model] = (rows[0].pk, rows[1].pk)

    for model in (Pool, Stream, Streamer, Follower, Position, Transaction, CallLog):
        pair(model)
    pair(DailySettlement)
    queued = [tenancy.scoped(review_queue(), w.operator).order_by("pk").first() for w in (a, b)]
    assert queued[0] is not None and queued[1] is not None
    tenants.ids[ReviewItem] = (queued[0].pk, queued[1].pk)
    tenants.ids[Invoice] = (invoices[0].pk, invoices[1].pk)
    tenants.ids[ConformanceRun] = (runs[0].pk, runs[1].pk)
    return tenants


@pytest.fixture(scope="module")
def tenants(django_db_setup, django_db_blocker):
    """Both worlds, built once for the module, inside a transaction rolled back at its end
    (each test runs in a savepoint of it)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_tenants()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def a_admin(tenants, db, client):
    return sign_in(client, member(tenants.a.operator, Role.ADMIN))


# --- what B has, before and after ---------------------------------------------------------


def b_state(tenants: Tenants) -> dict:
    """Every row of B's, of every model the tenancy table names, and the audit log."""
    state = {}
    for model in tenancy.OPERATOR_PATHS:
        rows = tenancy.scoped_objects(model, tenants.b.operator).order_by("pk")
        state[model._meta.label] = [model_to_dict(row) for row in rows]
    state["staff actions"] = [dict(row) for row in StaffAction.objects.order_by("pk").values()]
    return state


def assert_nothing_of_b(response, *, asked: tuple[str, ...] = (), where: str = "") -> None:
    """No marker of B in the body (the values the request itself carried, which a page
    echoes in its search box and links, taken out first)."""
    if hasattr(response, "streaming_content"):
        body = b"".join(response.streaming_content).decode(errors="replace")
    else:
        body = response.content.decode(errors="replace")
    body += " " + response.get("Location", "")
    for value in asked:
        once = {value, quote_plus(value), quote(value), escape(value)}
        twice = {quote_plus(f) for f in once} | {quote(f, safe="") for f in once}
        for form in sorted(once | twice, key=len, reverse=True):
            body = body.replace(form, "")
    found = MARKER_RE.search(body)
    if found:
        start = max(found.start() - 120, 0)
        pytest.fail(f"{where}: B's {found.group()!r} in {body[start : found.end() + 120]!r}")


def assert_rows_are_as(response, operator: Operator, where: str) -> list:
    """The changelist's rows all belong to ``operator``; returns them."""
    cl = response.context["cl"]
    rows = list(cl.result_list)
    pks = [row.pk for row in rows]
    theirs = tenancy.scoped(cl.model._default_manager.filter(pk__in=pks), operator).count()
    assert theirs == len(pks), f"{where}: rows of another operator {pks}"
    mine = tenancy.scoped_objects(cl.model, operator)
    if cl.model is Invoice:
        mine = mine.exclude(state=Invoice.State.DRAFT)
    assert cl.result_count <= mine.count(), where
    if cl.full_result_count is not None:
        assert cl.full_result_count == cl.model_admin.get_queryset(response.wsgi_request).count(), (
            where
        )
    totals = response.context.get("cp_totals")
    if totals is not None and not totals.unavailable:  # the totals box: A's rows, A's money
        assert {row.currency for row in totals.rows} <= {"USD"}, where
        assert sum(row.count for row in totals.rows) == cl.queryset.count(), where
    return rows


# --- the portal's URL patterns ------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str  # the URL name, or the route for a nameless one
    name: str | None
    route: str
    model_admin: Any  # the PortalAdminMixin page, or None for the site's own URLs


def portal_patterns() -> list[Pattern]:
    """Every URL the portal site answers, walked from ``get_urls()`` with the ModelAdmin
    (if any) whose URLs they are."""
    by_prefix = {
        f"{m._meta.app_label}/{m._meta.model_name}/": admin_
        for m, admin_ in portal_site._registry.items()
    }
    found = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                owner = next((a for p, a in by_prefix.items() if route.startswith(p)), None)
                found.append(Pattern(entry.name or route, entry.name, route, owner))

    walk(portal_site.get_urls(), "")
    return found


# Patterns not probed, and why.
SKIPPED = {
    # Signs the person out: it ends the session the rest of the walk needs, and shows nothing.
    "logout",
}


def test_every_pattern_belongs_to_the_portal_site_and_to_a_portal_page():
    # A ModelAdmin of the portal is a portal page: tenancy and roles come with it.
    for pattern in portal_patterns():
        if pattern.model_admin is not None:
            assert isinstance(pattern.model_admin, PortalAdminMixin), pattern
            tenancy.operator_path(pattern.model_admin.model)  # raises NotScoped otherwise
    assert isinstance(portal_site, AdminSite)


def _url(name: str, *args) -> str:
    return reverse(f"portal:{name}", args=args)


class Walk:
    """Probes of one pattern each, as A's admin; ``covered`` says which ran."""

    def __init__(self, client, tenants: Tenants):
        self.client = client
        self.t = tenants
        self.covered: set[str] = set()
        self.filter_choices = 0  # filter choices the changelists offered, each followed

    # helpers
    def get(self, url: str, *, asked: tuple[str, ...] = (), status=(200,), follow=False):
        response = self.client.get(url, follow=follow)
        assert response.status_code in status, (url, response.status_code)
        assert_nothing_of_b(response, asked=asked, where=url)
        return response

    def post(self, url: str, data: dict, *, status, asked: tuple[str, ...] = ()):
        response = self.client.post(url, data)
        assert response.status_code in status, (url, response.status_code)
        assert_nothing_of_b(response, asked=asked, where=f"POST {url}")
        return response

    def ids(self, model_admin) -> tuple:
        return self.t.ids[model_admin.model]

    # per pattern
    def probe(self, pattern: Pattern) -> None:
        name, admin_ = pattern.name, pattern.model_admin
        if admin_ is None:
            getattr(self, f"site_{name}")(pattern) if name else self.site_catch_all(pattern)
        else:
            prefix = f"{admin_.model._meta.app_label}_{admin_.model._meta.model_name}_"
            kind = name.removeprefix(prefix) if name else "redirect"
            getattr(self, f"admin_{kind}")(admin_, name, pattern)
        self.covered.add(pattern.key)

    # --- the site's own pages
    def site_index(self, pattern):
        response = self.get(_url("index"))
        assert b"Alpha" in response.content
        summary = response.context["dashboard"]
        a_pools = Pool.objects.filter(
            operator=self.t.a.operator, state__in=["open", "closing"], is_demo=False
        )
        assert summary.open_pools == a_pools.count() > 0
        assert {total.currency for total in summary.value_by_currency} == {"USD"}
        a_queue = tenancy.scoped(review_queue(), self.t.a.operator).filter(is_demo=False)
        assert summary.review_waiting == a_queue.count()
        assert summary.open_discrepancies is None and summary.last_reconciliation is None
        # today's calls without success, of A only (B's are as recent)
        assert response.context["calls_without_success"] == (
            CallLog.objects.filter(operator=self.t.a.operator).exclude(outcome="success").count()
        )

    def site_login(self, pattern):
        self.get(_url("login"), status=(200, 302))

    def site_password_change(self, pattern):
        self.get(_url("password_change"))

    def site_password_change_done(self, pattern):
        self.get(_url("password_change_done"))

    def site_jsi18n(self, pattern):
        self.get(_url("jsi18n"))

    def site_app_list(self, pattern):
        labels = {m._meta.app_label for m in portal_site._registry}
        for label in sorted(labels):
            self.get(reverse("portal:app_list", args=[label]), status=(200, 404))

    def site_autocomplete(self, pattern):
        autocomplete_everything(self)

    def site_configuration(self, pattern):
        response = self.get(_url("configuration"))
        assert b"alpha.invalid" in response.content

    def site_keys(self, pattern):
        a = self.t.a.operator
        response = self.get(_url("keys"))
        assert a.masked_api_key in response.content.decode()
        # (``self.get`` checks the page for B's markers, as on every page.) A rotation turns
        # the signed-in operator's keys only: tests/e2e/test_portal.py and test_roles.py.

    def site_conformance(self, pattern):
        response = self.get(_url("conformance"))
        mine, theirs = self.t.ids[ConformanceRun]
        assert _url("operators_conformancerun_change", mine) in response.content.decode()
        assert _url("operators_conformancerun_change", theirs) not in response.content.decode()

    def site_two_factor(self, pattern):
        self.get(_url("two_factor"), status=(200, 302))

    def site_invite(self, pattern):
        # An invitation link is its own credential; an unknown one shows nobody's portal.
        self.get(_url("invite", "not-a-token"))

    def site_view_as(self, pattern):
        # Staff only: an operator's admin is refused, for B as for A.
        for operator in (self.t.a.operator, self.t.b.operator):
            self.get(_url("view_as", operator.pk), status=(403,))
            self.post(_url("view_as", operator.pk), {"reason": "x"}, status=(403,))

    def site_view_as_stop(self, pattern):
        self.post(_url("view_as_stop"), {}, status=(404,))

    def site_catch_all(self, pattern):
        for path in ("/portal/nothing-here/", "/portal/operators/operator/"):
            self.get(path, status=(404, 302), follow=False)

    # --- a ModelAdmin's pages
    def admin_changelist(self, admin_, name, pattern):
        changelist_probes(self, admin_, name)

    def admin_change(self, admin_, name, pattern):
        mine, theirs = self.ids(admin_)
        self.get(_url(name, mine))
        response = self.get(_url(name, theirs), status=(302,))
        assert response["Location"] == _url("index")
        self.get(_url(name, theirs), status=(200,), follow=True)
        self.post(_url(name, theirs), {}, status=(302, 403))
        self.post(_url(name, mine), {}, status=(403,))

    def admin_redirect(self, admin_, name, pattern):
        mine, theirs = self.ids(admin_)
        base = _url(f"{admin_.model._meta.app_label}_{admin_.model._meta.model_name}_changelist")
        self.get(f"{base}{mine}/", status=(301, 302), follow=False)
        self.get(f"{base}{mine}/", status=(200,), follow=True)
        self.get(f"{base}{theirs}/", status=(200,), follow=True)

    def admin_add(self, admin_, name, pattern):
        self.get(_url(name), status=(403,))
        self.post(_url(name), {}, status=(403,))

    def admin_delete(self, admin_, name, pattern):
        mine, theirs = self.ids(admin_)
        self.get(_url(name, mine), status=(403,))
        self.post(_url(name, theirs), {"post": "yes"}, status=(302, 403))
        self.get(_url(name, theirs), status=(200, 403), follow=True)

    def admin_history(self, admin_, name, pattern):
        for pk in self.ids(admin_):
            self.get(_url(name, pk), status=(404,))

    def admin_simple_history(self, admin_, name, pattern):
        for pk in self.ids(admin_):
            obj = admin_.model._default_manager.get(pk=pk)
            version = obj.history.order_by("history_id").first()
            assert version is not None, admin_.model
            self.get(_url(name, pk, version.history_id), status=(403, 404))
            self.post(_url(name, pk, version.history_id), {}, status=(403, 404))

    def admin_act(self, admin_, name, pattern):
        # No action is granted to an operator's admin (only review actions can be, by staff).
        mine, theirs = self.ids(admin_)
        for spec in admin_.staff_actions:
            for pk in (mine, theirs):
                self.get(_url(name, pk, spec.name), status=(403, 404))
                self.post(
                    _url(name, pk, spec.name),
                    {"confirm": "yes", "reason": "tenancy probe"},
                    status=(403, 404),
                )
        self.get(_url(name, mine, "no-such-action"), status=(403, 404))

    def admin_export(self, admin_, name, pattern):
        export_probes(self, admin_, name)

    def admin_document(self, admin_, name, pattern):
        mine, theirs = self.ids(admin_)
        for extension in ("pdf", "csv", "html"):
            self.get(_url(name, mine, extension))
            self.get(_url(name, theirs, extension), status=(404,))

    def admin_generate(self, admin_, name, pattern):
        self.get(_url(name), status=(403,))
        self.post(_url(name), {"confirm": "yes", "reason": "probe"}, status=(403,))

    def admin_run_now(self, admin_, name, pattern):
        self.get(_url(name), status=(403,))
        self.post(_url(name), {"confirm": "yes", "reason": "probe"}, status=(403,))

    def admin_import(self, admin_, name, pattern):
        self.get(_url(name), status=(403,))
        self.post(_url(name), {}, status=(403,))

    def admin_process_import(self, admin_, name, pattern):
        self.post(_url(name), {}, status=(403,))


# --- changelists ----------------------------------------------------------------------


def b_values(t: Tenants) -> dict[str, str]:
    """B's ids and values, as a URL would carry them."""
    b = t.b
    ids = {model: pair[1] for model, pair in t.ids.items()}
    return {
        "operator": str(b.operator.pk),
        "streamer": str(ids[Streamer]),
        "pool": str(ids[Pool]),
        "follower": str(ids[Follower]),
        "position": str(ids[Position]),
        "transaction": str(ids[Transaction]),
        "external_id": "bravoext0001",
        "streamer_user": "bravo-streamer-0",
        "player_user": "bravo-player-0",
        "streamer_name": "Quokkastar 0",
        "reference": "bravoref-1",
        "invoice": "BRV-0001",
    }


def changelist_queries(t: Tenants) -> list[dict[str, str]]:
    """B's values in search, in every filter parameter a portal changelist knows, in the
    ordering, ``_to_field``, facets and the error flag."""
    v = b_values(t)
    searches = [{"q": v[key]} for key in v]
    filters = [
        {"streamer__id__exact": v["streamer"]},
        {"streamer": v["streamer"]},
        {"pool__id__exact": v["pool"]},
        {"pool": v["pool"]},
        {"follower__id__exact": v["follower"]},
        {"follower": v["follower"]},
        {"position__id__exact": v["position"]},
        {"operator__id__exact": v["operator"]},
        {"streamer__operator__id__exact": v["operator"]},
        {"currency": "BRL"},
        {"currency__exact": "BRL"},
        {"month": "2025-02-01"},
        {"pk": v["pool"]},
        {"id__exact": v["transaction"]},
        {"external_id": v["external_id"]},
        {"display_name__icontains": "Quokka"},
    ]
    others = [
        {"o": "1.2.3.4.-5"},
        {"o": "-1"},
        {"_to_field": "id"},
        {"_to_field": "operator"},
        {"_facets": "1"},
        {"e": "1"},
        {"_popup": "1"},
        {"all": ""},
        {"p": "2"},
        {"_changelist_filters": urlencode({"currency": "BRL"})},
    ]
    return searches + filters + others


def changelist_probes(walk: Walk, admin_, name: str) -> None:
    url = _url(name)
    response = walk.get(url)
    rows = assert_rows_are_as(response, walk.t.a.operator, url)
    assert rows, f"{url}: A has rows to show"
    # every choice each of its filters offers: still A's rows only
    cl = response.context["cl"]
    offered = {
        choice["query_string"]
        for spec in cl.filter_specs
        for choice in spec.choices(cl)
        if choice.get("query_string")
    }
    walk.filter_choices += len(offered)
    for query_string in sorted(offered):
        chosen = walk.get(url + query_string, status=(200,))
        assert_rows_are_as(chosen, walk.t.a.operator, url + query_string)
    for query in changelist_queries(walk.t):
        asked = tuple(query.values())
        response = walk.client.get(url, query)
        where = f"{url}?{urlencode(query)}"
        assert response.status_code in (200, 302, 400, 403), (where, response.status_code)
        assert_nothing_of_b(response, asked=asked, where=where)
        if response.status_code == 200 and response.context and "cl" in response.context:
            assert_rows_are_as(response, walk.t.a.operator, where)
        elif response.status_code == 302:
            walk.get(response["Location"], asked=asked, follow=True)
    bulk_probes(walk, admin_, url)


def bulk_probes(walk: Walk, admin_, url: str) -> None:
    """The changelist's action form, with B's rows selected, under every action the staff
    page has (none is the admin's without a grant): nothing of B changes."""
    before = b_state(walk.t)
    mine, theirs = walk.t.ids[admin_.model]
    names = [spec.name for spec in getattr(admin_, "staff_actions", ())] + ["delete_selected"]
    for action in names:
        for selected in ([theirs], [mine, theirs]):
            for extra in ({}, {"confirm": "yes", "reason": "tenancy probe"}):
                data = {"action": action, "_selected_action": selected, "index": "0", **extra}
                response = walk.client.post(url, data)
                assert response.status_code in (200, 302, 403), (url, action)
                assert_nothing_of_b(response, where=f"POST {url} {action}")
    assert b_state(walk.t) == before, url


# --- exports -----------------------------------------------------------------------------


def export_form(admin_, request) -> dict:
    resource = admin_.get_export_resource_classes(request)[0]
    prefix = resource.__name__.lower()
    return {"format": "0", "resource": "0"} | {
        f"{prefix}_{name}": "on" for name in resource().get_export_order()
    }


def csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def export_probes(walk: Walk, admin_, name: str) -> None:
    url = _url(name)
    walk.get(url)
    request = walk.client.get(_url(name.removesuffix("export") + "changelist")).wsgi_request
    form = export_form(admin_, request)
    everything = walk.client.post(url, form)
    assert everything.status_code == 200, url
    expected = admin_.get_queryset(request).count()
    assert expected > 0, url
    assert int(everything["X-Export-Rows"]) == expected, url
    rows = csv_rows(everything)
    assert len(rows) == expected, url
    assert not MARKER_RE.search(repr(rows)), url
    for query in changelist_queries(walk.t):
        response = walk.client.post(f"{url}?{urlencode(query)}", form)
        where = f"POST {url}?{urlencode(query)}"
        assert response.status_code in (200, 302, 400, 403), (where, response.status_code)
        assert_nothing_of_b(response, asked=tuple(query.values()), where=where)


# --- autocomplete ----------------------------------------------------------------------


def autocomplete_everything(walk: Walk) -> None:
    """Every autocomplete field of every portal page, with no term and with B's values:
    only A's objects answer."""
    url = _url("autocomplete")
    asked = 0
    for model, admin_ in portal_site._registry.items():
        for field_name in admin_.autocomplete_fields:
            remote = model._meta.get_field(field_name).related_model
            assert isinstance(remote, type), field_name
            for term in ("", *b_values(walk.t).values(), "Streamer"):
                query = {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field_name,
                    "term": term,
                }
                response = walk.client.get(url, query)
                assert response.status_code == 200, query
                ids = [int(r["id"]) for r in response.json()["results"]]
                mine = tenancy.scoped_objects(remote, walk.t.a.operator)
                assert mine.filter(pk__in=ids).count() == len(ids), query
                assert_nothing_of_b(response, asked=(term,), where=str(query))
                asked += 1
    assert asked, "some portal page has an autocomplete field"
    # Fields that are no autocomplete, and models the portal has no page for, are refused.
    for refused in (
        {"app_label": "streamers", "model_name": "stream", "field_name": "title"},
        {"app_label": "operators", "model_name": "operator", "field_name": "name"},
        {"app_label": "transactions", "model_name": "transaction", "field_name": "operator"},
    ):
        assert walk.client.get(url, refused).status_code in (403, 404), refused


# --- the tests -----------------------------------------------------------------------------


def test_every_portal_url_shows_operator_a_nothing_of_operator_b(a_admin, tenants):
    # given: A's admin, both worlds, every pattern of the portal site
    walk = Walk(a_admin, tenants)
    patterns = portal_patterns()
    before = b_state(tenants)
    # when: each pattern is probed with A's ids and values, then with B's
    unprobed = []
    for pattern in patterns:
        if pattern.key in SKIPPED:
            continue
        handler_name = _handler_name(pattern)
        if not hasattr(walk, handler_name):
            unprobed.append(pattern.route)
            continue
        walk.probe(pattern)
    # then: nothing of B was shown (asserted on each response), nothing of B changed, and
    # every pattern was probed or is on the skip list
    assert not unprobed, f"portal URLs nobody probes for tenancy: {unprobed}"
    assert b_state(tenants) == before
    assert walk.covered | SKIPPED == {p.key for p in patterns}
    assert walk.filter_choices > 50, walk.filter_choices


def _handler_name(pattern: Pattern) -> str:
    if pattern.model_admin is None:
        return f"site_{pattern.name}" if pattern.name else "site_catch_all"
    opts = pattern.model_admin.model._meta
    prefix = f"{opts.app_label}_{opts.model_name}_"
    return f"admin_{pattern.name.removeprefix(prefix)}" if pattern.name else "admin_redirect"


def test_export_of_transactions_has_a_rows_only_whatever_the_filter(a_admin, tenants):
    # given: A's admin on the transaction export
    url = _url("transactions_transaction_export")
    request = a_admin.get(_url("transactions_transaction_changelist")).wsgi_request
    admin_ = portal_site._registry[Transaction]
    form = export_form(admin_, request)
    a_refs = set(
        Transaction.objects.filter(operator=tenants.a.operator).values_list(
            "external_id", flat=True
        )
    )
    # when / then: everything, B's currency, B's external id, B's streamer
    assert {r["external_id"] for r in csv_rows(a_admin.post(url, form))} == a_refs
    for query in ("?currency=BRL", "?q=bravoext0001", "?q=bravo-player-0"):
        response = a_admin.post(url + query, form)
        assert response.status_code == 200, query
        assert csv_rows(response) == [], query
    usd = csv_rows(a_admin.post(url + "?currency=USD", form))
    assert {r["external_id"] for r in usd} == a_refs


def test_a_review_grant_acts_on_a_rows_only(tenants, db, client):
    # given: A's support person granted review actions, and B's queued transaction
    sign_in(client, member(tenants.a.operator, Role.SUPPORT, may_act_on_review=True))
    mine, theirs = tenants.ids[ReviewItem]
    url = _url("backoffice_reviewitem_changelist")
    before = b_state(tenants)
    # when: the bulk resolve and the per-object resolve and retry, on B's transaction
    for action in ("transaction_mark_resolved", "transaction_retry_now"):
        data = {"action": action, "_selected_action": [theirs], "index": "0"}
        response = client.post(url, {**data, "confirm": "yes", "reason": "not ours"})
        assert response.status_code in (200, 302)
        assert_nothing_of_b(response, where=action)
        act = _url("backoffice_reviewitem_act", theirs, action)
        assert client.post(act, {"confirm": "yes", "reason": "not ours"}).status_code == 404
    # then: nothing of B changed; the same action on A's row does work
    assert b_state(tenants) == before
    response = client.post(
        url,
        {
            "action": "transaction_mark_resolved",
            "_selected_action": [mine, theirs],
            "index": "0",
            "confirm": "yes",
            "reason": "checked with the wallet",
        },
    )
    assert response.status_code in (200, 302)
    assert Transaction.objects.get(pk=mine).reviewed_at is not None
    assert b_state(tenants)["transactions.Transaction"] == before["transactions.Transaction"]


def test_history_of_b_pool_is_not_shown(a_admin, tenants):
    # given: a historical version of B's pool (django-simple-history's "view" page)
    pool = Pool.objects.get(pk=tenants.ids[Pool][1])
    version = pool.history.order_by("history_id").first()
    # when
    response = a_admin.get(_url("pools_pool_simple_history", pool.pk, version.history_id))
    # then
    assert response.status_code == 404
    assert_nothing_of_b(response, where="history")


def test_filter_choices_are_a_values_only(a_admin, tenants):
    # given: B's invoice month (February) and currency, A's March
    # when
    body = a_admin.get(_url("transactions_invoice_changelist")).content.decode()
    streamers = a_admin.get(_url("streamers_streamer_changelist")).content.decode()
    # then
    assert "2025-03" in body
    assert "2025-02" not in body
    assert "BRL" not in body
    assert "BRL" not in streamers


def test_counts_and_totals_are_a_only(a_admin, tenants):
    # given: the transactions list, unfiltered and on B's currency
    url = _url("transactions_transaction_changelist")
    a_count = Transaction.objects.filter(operator=tenants.a.operator).count()
    # when
    response = a_admin.get(url, {"status__exact": "succeeded"})
    brl = a_admin.get(url, {"currency": "BRL"})
    # then
    assert response.context["cl"].result_count == (
        Transaction.objects.filter(operator=tenants.a.operator, status="succeeded").count()
    )
    assert a_count == len(tenants.a.transactions)
    assert brl.context["cl"].result_count == 0
    totals = repr(brl.context.get("cp_totals"))
    assert not MARKER_RE.search(totals), totals


def test_a_conformance_check_started_by_a_runs_against_a_only(a_admin, tenants):
    # given: A's admin on the conformance page (the run itself is a worker's, queued on commit)
    before = b_state(tenants)
    runs = set(ConformanceRun.objects.values_list("pk", flat=True))
    # when
    response = a_admin.post(_url("conformance"), {"reason": "before going live"})
    # then: one new run, A's, audited against A; nothing of B's touched
    assert response.status_code == 302
    (new,) = ConformanceRun.objects.exclude(pk__in=runs)
    assert new.operator_id == tenants.a.operator.pk
    record = StaffAction.objects.get(action="portal_conformance_check")
    assert record.target_id == str(tenants.a.operator.pk)
    after = b_state(tenants)
    assert after.pop("staff actions")[:-1] == before.pop("staff actions")
    assert after == before
