"""The streamer pages: add and change through the services, the allowlist and invite inlines,
the staff actions (check with the operator, suspend, resume, revoke an invite), and who may do
what."""

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import staff_user
from apps.followers.models import Position
from apps.operators.tests.factories import OperatorFactory
from apps.pools.models import Pool
from apps.streamers.access import allowlist_add, invite_create
from apps.streamers.models import Streamer, StreamerAccess, StreamerInvite
from apps.transactions.services import position_join

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)

ADD_URL = reverse("admin:streamers_streamer_add")


class _FormReader(HTMLParser):
    """The fields a browser would submit from the page's main form (``#streamer_form``)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.data[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None


def page_form(client, url: str) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200
    reader = _FormReader("streamer_form")
    reader.feed(response.content.decode())
    assert reader.data, "no form on the page"
    return reader.data


def change_url(streamer) -> str:
    return reverse("admin:streamers_streamer_change", args=[streamer.pk])


def act(client, obj, action, **data):
    model = obj._meta.model_name
    url = reverse(f"admin:streamers_{model}_act", args=[obj.pk, action])
    return client.post(url, {"confirm": "yes", **data})


@pytest.fixture
def ops(client):
    user = staff_user("ops", "Operations")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def acme(db):
    return OperatorFactory(
        name="Acme", code="acme", min_contribution=D("1"), max_contribution=D("10000")
    )


def add_data(operator, **extra) -> dict:
    return {
        "operator": str(operator.pk),
        "operator_user_id": "s-1",
        "display_name": "Lucky",
        "currency": "usd",
        "min_contribution": "",
        "max_contribution": "250",
        "max_followers": "",
        "max_pool_value": "",
        "change_reason": "New streamer",
        **extra,
    }


def errors_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- add ------------------------------------------------------------------------------


def test_operations_adds_a_streamer_through_the_service(ops, acme):
    # when
    response = ops.post(ADD_URL, add_data(acme, is_private="on"))
    # then
    assert response.status_code == 302, errors_of(response)
    streamer = Streamer.objects.get()
    assert (streamer.operator, streamer.operator_user_id, streamer.currency) == (acme, "s-1", "USD")
    assert streamer.max_contribution == D("250") and streamer.min_contribution is None
    assert streamer.is_private is True
    action = StaffAction.objects.get()
    assert (action.action, action.username, action.reason) == (
        "streamer_create",
        "ops",
        "New streamer",
    )
    assert action.target_id == str(streamer.pk)
    assert action.message == "created in USD, private; own limits: max_contribution 250.00000000"


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"currency": "US$"}, "currency", "must be 3 to 8 capital letters"),
        ({"min_contribution": "500"}, "min_contribution", "is above the maximum 250"),
        ({"max_contribution": "0"}, "max_contribution", "amount must be positive"),
        ({"max_followers": "0"}, "max_followers", "at least 1"),
        ({"operator_user_id": "   "}, "operator_user_id", ""),
    ],
)
def test_a_bad_add_shows_the_services_error_on_the_field_and_saves_nothing(
    ops, acme, extra, field, message
):
    response = ops.post(ADD_URL, add_data(acme, **extra))
    page = errors_of(response)
    assert f"field-{field}" in page and "errors" in page
    assert message in page
    assert not Streamer.objects.exists()
    assert not StaffAction.objects.exists()


def test_adding_a_user_who_streams_already_says_so(ops, acme):
    ops.post(ADD_URL, add_data(acme))
    page = errors_of(ops.post(ADD_URL, add_data(acme, display_name="Again")))
    assert "s-1 already exists as a streamer of Acme" in page
    assert Streamer.objects.count() == 1


# --- change ---------------------------------------------------------------------------


@pytest.fixture
def lucky(acme):
    return Streamer.objects.create(
        operator=acme, operator_user_id="s-1", display_name="Lucky", currency="USD"
    )


def test_the_change_page_shows_fixed_fields_read_only_and_the_operators_limits(ops, lucky):
    page = ops.get(change_url(lucky)).content.decode()
    form = page_form(ops, change_url(lucky))
    # then: operator, user id and currency are not inputs
    assert {"operator", "operator_user_id", "currency"}.isdisjoint(form)
    assert {"display_name", "min_contribution", "max_contribution"} <= set(form)
    assert 'name="is_private"' in page
    # and each limit says what empty means for this operator
    assert "Empty: the operator's 1.00000000 USD." in page
    assert "Empty: the operator's 10,000.00000000 USD." in page
    assert "Empty: the operator's 1,000 followers." in page
    assert "Empty: no limit (the operator sets none)." in page  # pool value
    assert "joins of 1.00000000 USD to 10,000.00000000 USD" in page
    for label in ("Check with operator", "Suspend"):
        assert label in page


def test_change_saves_limits_through_the_service_and_never_the_fixed_fields(ops, lucky):
    # given
    data = page_form(ops, change_url(lucky))
    data.update(
        max_followers="12",
        min_contribution="5",
        change_reason="Agreed with the streamer",
        currency="EUR",  # not a field of the page: ignored
    )
    # when
    response = ops.post(change_url(lucky), data)
    # then
    assert response.status_code == 302, errors_of(response)
    lucky.refresh_from_db()
    assert (lucky.max_followers, lucky.min_contribution, lucky.currency) == (12, D("5"), "USD")
    action = StaffAction.objects.get()
    assert action.action == "streamer_update"
    assert action.message == "changed min_contribution, max_followers"
    assert action.reason == "Agreed with the streamer"


def test_a_bad_change_shows_the_error_and_changes_nothing(ops, lucky):
    data = page_form(ops, change_url(lucky))
    data.update(min_contribution="20000", display_name="Renamed", change_reason="try")
    page = errors_of(ops.post(change_url(lucky), data))
    assert "is above the maximum 10000" in page
    lucky.refresh_from_db()
    assert (lucky.min_contribution, lucky.display_name) == (None, "Lucky")
    assert not StaffAction.objects.exists()


# --- allowlist and invites ------------------------------------------------------------


def test_allowlist_adds_and_removes_on_the_streamer_page_are_audited(ops, lucky):
    # given
    allowlist_add(streamer=lucky, operator_user_id="old-player")
    data = page_form(ops, change_url(lucky))
    assert data["allowlist-INITIAL_FORMS"] == "1"
    # when: one new player, the old one removed
    data.update(
        {
            "allowlist-TOTAL_FORMS": "2",
            "allowlist-1-operator_user_id": "p-42",
            "allowlist-1-note": "VIP",
            "allowlist-0-DELETE": "on",
            "change_reason": "Streamer asked for p-42",
        }
    )
    response = ops.post(change_url(lucky), data)
    # then
    assert response.status_code == 302, errors_of(response)
    assert list(StreamerAccess.objects.values_list("operator_user_id", "source", "note")) == [
        ("p-42", "staff", "VIP")
    ]
    actions = dict(StaffAction.objects.values_list("action", "message"))
    assert actions == {
        "streamer_allowlist_add": "p-42 (VIP)",
        "streamer_allowlist_remove": "old-player",
    }
    assert set(StaffAction.objects.values_list("reason", flat=True)) == {"Streamer asked for p-42"}


def test_a_player_listed_twice_is_an_error_on_the_row(ops, lucky):
    allowlist_add(streamer=lucky, operator_user_id="p-1")
    data = page_form(ops, change_url(lucky))
    data.update(
        {
            "allowlist-TOTAL_FORMS": "2",
            "allowlist-1-operator_user_id": "p-1",
            "change_reason": "again",
        }
    )
    page = errors_of(ops.post(change_url(lucky), data))
    assert "p-1 is on the allowlist already" in page
    assert StreamerAccess.objects.count() == 1
    assert not StaffAction.objects.exists()


def test_an_invite_created_on_the_page_shows_its_full_link(ops, lucky, settings):
    settings.PUBLIC_BASE_URL = "https://copystake.example"
    data = page_form(ops, change_url(lucky))
    data.update(
        {
            "invites-TOTAL_FORMS": "1",
            "invites-0-valid_for_days": "7",
            "invites-0-max_uses": "3",
            "change_reason": "Invite for the Friday stream",
        }
    )
    # when
    response = ops.post(change_url(lucky), data)
    # then
    assert response.status_code == 302, errors_of(response)
    invite = StreamerInvite.objects.get()
    assert (invite.max_uses, invite.uses, invite.created_by) == (3, 0, "ops")
    page = ops.get(change_url(lucky)).content.decode()
    assert f'value="https://copystake.example/play/?invite={invite.code}"' in page
    cell = re.search(r'<td class="field-valid_for_days">\s*<p>(.*?)</p>', page)
    assert cell is not None and cell.group(1) == ""  # not "None"
    assert "Revoke" in page
    action = StaffAction.objects.get()
    assert action.action == "streamer_invite_create"
    assert action.message.startswith(f"invite {invite.code[:6]}… until ")
    assert action.message.endswith("3 use(s)")


def test_an_invite_valid_too_long_is_refused_on_the_row(ops, lucky):
    data = page_form(ops, change_url(lucky))
    data.update(
        {"invites-TOTAL_FORMS": "1", "invites-0-valid_for_days": "91", "change_reason": "x"}
    )
    page = errors_of(ops.post(change_url(lucky), data))
    assert "less than or equal to 90" in page
    assert not StreamerInvite.objects.exists()


def test_revoking_an_invite_is_a_confirmed_staff_action(ops, lucky):
    from datetime import timedelta

    invite = invite_create(streamer=lucky, valid_for=timedelta(days=1))
    # when
    response = act(ops, invite, "invite_revoke", reason="Link leaked")
    # then
    assert response.status_code == 302
    assert response["Location"] == change_url(lucky)
    invite.refresh_from_db()
    assert invite.revoked_at is not None
    action = StaffAction.objects.get()
    assert (action.action, action.outcome, action.reason) == (
        "invite_revoke",
        "done",
        "Link leaked",
    )


# --- staff actions --------------------------------------------------------------------


def test_check_with_operator_records_the_verdict(ops, fake, streamer):
    fake.streamer_balance["streamer-1"] = D("321")
    response = act(ops, streamer, "streamer_check_with_operator", reason="Streamer check")
    assert response.status_code == 302
    action = StaffAction.objects.get()
    assert (action.outcome, action.message) == ("done", "OK: balance 321.00000000 USD")


def test_suspend_confirms_then_pays_the_pool_out_now(ops, fake, streamer, make_session):
    # given
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    pool = Pool.objects.get(streamer=streamer)
    url = reverse("admin:streamers_streamer_act", args=[streamer.pk, "streamer_suspend"])
    # when: the confirmation page
    page = ops.get(url).content.decode()
    # then: it names the open pool, offers both choices, suggests no reason
    assert f"open pool #{pool.pk}: 1 member(s) who contributed 100.00000000" in page
    assert 'value="now"' in page and 'value="stream_end"' in page
    assert "<textarea" in page and "Streamer check</textarea>" not in page
    assert not StaffAction.objects.exists()
    # when: confirmed
    act(ops, streamer, "streamer_suspend", reason="Terms breached", pay_out="now")
    # then
    streamer.refresh_from_db()
    pool.refresh_from_db()
    assert streamer.status == "suspended"
    assert pool.state == "closed"
    assert pool.close_reason == "streamer suspended by staff ops, Terms breached"
    assert Position.objects.get().status == "closed"
    action = StaffAction.objects.get()
    assert action.message == "suspended; 1 leave(s) started in 1 pool(s)"
    # and the streamer's page shows the audit row, and Resume instead of Suspend
    page = ops.get(change_url(streamer)).content.decode()
    assert "Terms breached" in page and "Resume" in page
    assert ">Suspend<" not in page


def test_suspend_at_stream_end_keeps_the_pool_and_resume_lifts_it(
    ops, fake, streamer, make_session
):
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    act(ops, streamer, "streamer_suspend", reason="Review", pay_out="stream_end")
    assert Streamer.objects.get(pk=streamer.pk).status == "suspended"
    assert Pool.objects.get(streamer=streamer).state == "open"
    act(ops, streamer, "streamer_resume", reason="Review done")
    assert Streamer.objects.get(pk=streamer.pk).status == "active"
    assert list(StaffAction.objects.order_by("pk").values_list("action", "outcome")) == [
        ("streamer_suspend", "done"),
        ("streamer_resume", "done"),
    ]


def test_suspend_without_a_choice_does_nothing(ops, fake, streamer):
    response = act(ops, streamer, "streamer_suspend", reason="x")
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert Streamer.objects.get(pk=streamer.pk).status == "active"


# --- who may do what ------------------------------------------------------------------


def test_operations_may_add_change_act_and_import(ops, lucky, fake):
    assert ops.get(ADD_URL).status_code == 200
    assert ops.get(reverse("admin:streamers_streamer_import")).status_code == 200
    page = ops.get(change_url(lucky)).content.decode()
    assert 'name="change_reason"' in page and "Suspend" in page
    assert "Import" in ops.get(reverse("admin:streamers_streamer_changelist")).content.decode()


@pytest.mark.parametrize("group", ["Finance", "Read-only"])
def test_finance_and_read_only_see_but_may_not_add_change_act_or_import(client, lucky, fake, group):
    # given
    client.force_login(staff_user("viewer", group))
    # then: they see
    assert client.get(reverse("admin:streamers_streamer_changelist")).status_code == 200
    page = client.get(change_url(lucky))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="change_reason"' not in html
    assert "Suspend" not in html and "Check with operator" not in html
    assert (
        "import_link"
        not in client.get(reverse("admin:streamers_streamer_changelist")).content.decode()
    )
    # and every write is refused
    assert client.get(ADD_URL).status_code == 403
    assert client.post(ADD_URL, add_data(lucky.operator, operator_user_id="s-2")).status_code == 403
    change = client.post(change_url(lucky), {"display_name": "Hacked", "change_reason": "x"})
    assert change.status_code == 403
    assert act(client, lucky, "streamer_suspend", reason="x", pay_out="now").status_code == 403
    assert act(client, lucky, "streamer_check_with_operator", reason="x").status_code == 403
    assert client.get(reverse("admin:streamers_streamer_import")).status_code == 403
    assert client.post(reverse("admin:streamers_streamer_process_import"), {}).status_code == 403
    # nothing changed
    lucky.refresh_from_db()
    assert (lucky.display_name, lucky.status) == ("Lucky", "active")
    assert Streamer.objects.count() == 1
    assert not StaffAction.objects.exists()


# --- the latest transactions of its pools ------------------------------------------------


def _streamer_with_transactions(count: int, code: str):
    from apps.backoffice.tests.admin_world import (
        make_member,
        make_pool,
        make_transactions,
        secret_operator,
    )

    pool = make_pool(secret_operator(code), 1, snapshots=0)
    make_transactions(make_member(pool, 1), count)
    return pool.streamer


@pytest.mark.parametrize("group", ["Operations", "Finance", "Read-only"])
def test_the_streamer_page_lists_the_latest_transactions_of_its_pools(client, group):
    from apps.backoffice.admin_people_panels import LATEST
    from apps.core.admin_display import money
    from apps.transactions.models import Transaction

    streamer = _streamer_with_transactions(25, "tx")
    _streamer_with_transactions(3, "other")  # never on this page
    client.force_login(staff_user("reader", group))
    # when
    response = client.get(reverse("admin:streamers_streamer_change", args=[streamer.pk]))
    page = response.content.decode()
    # then: the newest 20, each with its follower, saga and calls
    assert response.status_code == 200
    assert f"Latest transactions of its pools (newest {LATEST})" in page
    table = page.split('class="cp-table cp-latest-transactions"')[1].split("</table>")[0]
    assert table.count("<tr>") == LATEST + 1
    newest = (
        Transaction.objects.filter(streamer=streamer)
        .select_related("saga", "follower")
        .order_by("-created_at", "-id")
        .first()
    )
    assert newest is not None and newest.saga is not None and newest.follower is not None
    assert reverse("admin:transactions_transaction_change", args=[newest.pk]) in table
    assert reverse("admin:transactions_saga_change", args=[newest.saga.pk]) in table
    assert reverse("admin:followers_follower_change", args=[newest.follower.pk]) in table
    assert f"?q={newest.external_id}" in table
    assert str(money(newest.amount, "USD")) in table
    # the track record's pools are still there
    assert 'data-testid="record-pools"' in page
    # and "see all" lists this streamer's transactions only
    href = page.split(">transactions</a>")[0].rsplit('href="', 1)[1].split('"')[0]
    listed = client.get(href.replace("&amp;", "&"))
    assert listed.status_code == 200 and listed.context["cl"].result_count == 25


def test_the_streamer_page_reads_a_fixed_number_of_queries(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.backoffice.tests.admin_world import superuser

    small = _streamer_with_transactions(2, "small")
    big = _streamer_with_transactions(80, "big")
    client.force_login(superuser())
    url = "admin:streamers_streamer_change"
    client.get(reverse(url, args=[small.pk]))  # warm: the first request reads what others cache
    counts = []
    for streamer in (small, big):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(url, args=[streamer.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[1] == counts[0], counts
