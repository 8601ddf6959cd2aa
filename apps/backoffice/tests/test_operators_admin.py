"""Operators (masked secrets, rotation shown once, connection test, enable/disable, add) and
the call log (re-send only where safe)."""

import json
from decimal import Decimal

import httpx
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import SECRETS, build_world, secret_operator, superuser
from apps.operators import clients
from apps.operators.models import CallLog, Operator, api_key_digest
from apps.operators.signatures import copystake_signature, wallet_signature
from apps.transactions.models import Saga, Transaction
from apps.transactions.services import position_join

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)
NEVER_SHOWN = [value for key, value in SECRETS.items() if key != "api_key"]


@pytest.fixture
def root(client):
    user = superuser()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def wire(monkeypatch):
    """The operator's side of the wire: ``wire.answer = (status, body)``; requests kept."""

    class Wire:
        answer: tuple[int, object] = (200, {"balance": "805.5", "currency": "USD"})
        requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        Wire.requests.append(request)
        status, payload = Wire.answer
        if isinstance(payload, Exception):
            raise payload
        content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return httpx.Response(status, content=content)

    Wire.requests = []
    monkeypatch.setattr(clients, "_client", httpx.Client(transport=httpx.MockTransport(handler)))
    return Wire


def act(client, obj, action, admin_name="operators_operator", **data):
    url = reverse(f"admin:{admin_name}_act", args=[obj.pk, action])
    return client.post(url, {"confirm": "yes", **data})


def assert_no_secret(page: str) -> None:
    for secret in NEVER_SHOWN:
        assert secret not in page


# --- secrets -------------------------------------------------------------------------


def test_no_page_shows_a_secret_in_full(root):
    world = build_world(pools=1, transactions=4)
    operator = world.operator
    root.post(
        reverse("admin:operators_operator_change", args=[operator.pk]),
        _config(operator, change_reason="Raise the limit", max_contribution="20000"),
    )
    version = operator.history.order_by("-history_id").first()
    session = world.positions[0].session
    urls = [
        reverse("admin:operators_operator_changelist"),
        reverse("admin:operators_operator_change", args=[operator.pk]),
        reverse("admin:operators_operator_add"),
        reverse("admin:operators_operator_history", args=[operator.pk]),
        reverse("admin:operators_operator_simple_history", args=[operator.pk, version.history_id]),
        reverse("admin:operators_operator_act", args=[operator.pk, "operator_rotate_credential"]),
        reverse("admin:operators_calllog_changelist"),
        reverse("admin:operators_calllog_change", args=[CallLog.objects.first().pk]),
        reverse("admin:followers_playersession_changelist"),
        reverse("admin:followers_playersession_change", args=[session.pk]),
    ]
    for url in urls:
        response = root.get(url)
        assert response.status_code == 200, url
        assert_no_secret(response.content.decode())
    page = root.get(urls[1]).content.decode()
    assert "••••••0002" in page and "••••••0003" in page and "••••••0004" in page


def _config(operator: Operator, **changes) -> dict:
    data = {
        "name": operator.name,
        "code": operator.code,
        "callback_url": operator.callback_url,
        "wallet_url": operator.wallet_url,
        "wallet_client_id": operator.wallet_client_id,
        "ip_allowlist": "",
        "session_ttl_seconds": "3600",
        "min_contribution": "1",
        "max_contribution": "10000",
        "max_followers_per_pool": "1000",
        "request_timeout_seconds": "5",
        "change_reason": "edit",
    }
    return data | changes


def test_editing_config_keeps_secrets_unless_replaced_and_records_why(root):
    operator = secret_operator("edit")
    # when: the limits change, no secret given
    response = root.post(
        reverse("admin:operators_operator_change", args=[operator.pk]),
        _config(operator, max_contribution="20000", change_reason="Ticket OPS-7"),
    )
    # then
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.max_contribution == D("20000")
    assert operator.secret_key == SECRETS["secret_key"]
    last = operator.history.order_by("-history_id").first()
    assert (last.history_user.username, last.history_change_reason) == ("root", "Ticket OPS-7")
    # when: the operator issued a new key, typed in by staff
    root.post(
        reverse("admin:operators_operator_change", args=[operator.pk]),
        _config(operator, new_operator_api_key="brand-new-operator-key", change_reason="OPS-8"),
    )
    operator.refresh_from_db()
    assert operator.operator_api_key == "brand-new-operator-key"
    action = StaffAction.objects.get(action="operator_replace_credential")
    assert "brand-new-operator-key" not in action.message
    assert action.reason == "OPS-8"


def test_the_pool_capacity_is_edited_next_to_the_other_limits(root):
    operator = secret_operator("cap")
    url = reverse("admin:operators_operator_change", args=[operator.pk])
    # the form offers it in the Limits fieldset
    page = root.get(url).content.decode()
    limits = page.split("<h2", 2)[2]  # the second fieldset: Limits
    assert limits.startswith(' id="fieldset-0-1-heading" class="fieldset-heading">Limits')
    assert 'name="max_pool_value"' in limits.split("</fieldset>")[0]
    # when: a capacity is set
    response = root.post(url, _config(operator, max_pool_value="25000.5", change_reason="OPS-9"))
    # then
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.max_pool_value == D("25000.5")
    # when: cleared, there is no capacity again
    root.post(url, _config(operator, max_pool_value="", change_reason="OPS-10"))
    operator.refresh_from_db()
    assert operator.max_pool_value is None
    # and a capacity of zero is refused
    refused = root.post(url, _config(operator, max_pool_value="0", change_reason="OPS-11"))
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "max_pool_value": ["A capacity must be positive; leave it empty for none."]
    }
    operator.refresh_from_db()
    assert operator.max_pool_value is None


def test_the_default_stop_loss_is_edited_in_the_limits(root):
    operator = secret_operator("sl")
    url = reverse("admin:operators_operator_change", args=[operator.pk])
    limits = root.get(url).content.decode().split("<h2", 2)[2].split("</fieldset>")[0]
    assert 'name="default_stop_loss_percent"' in limits
    # when: set
    response = root.post(
        url, _config(operator, default_stop_loss_percent="50", change_reason="OPS-12")
    )
    # then
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.default_stop_loss_percent == D(50)
    # a loss of 100 % (or 0 %) is no stop-loss: refused, nothing changes
    for bad in ("100", "0", "-5"):
        refused = root.post(
            url, _config(operator, default_stop_loss_percent=bad, change_reason="OPS-13")
        )
        assert refused.status_code == 200
        assert refused.context["adminform"].form.errors == {
            "default_stop_loss_percent": [
                "A stop-loss is a loss between 0 and 100 percent; leave it empty for none."
            ]
        }
    operator.refresh_from_db()
    assert operator.default_stop_loss_percent == D(50)
    # cleared: none
    root.post(url, _config(operator, default_stop_loss_percent="", change_reason="OPS-14"))
    operator.refresh_from_db()
    assert operator.default_stop_loss_percent is None


def test_rotating_a_credential_shows_it_once_and_stores_it_encrypted(root):
    operator = secret_operator("rot")
    # when
    response = act(root, operator, "operator_rotate_credential", which="secret_key", reason="Leak")
    # then: the answer shows the new value, and is not cached
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    operator.refresh_from_db()
    new = operator.secret_key
    assert new != SECRETS["secret_key"] and new in response.content.decode()
    # ... never again
    page = root.get(reverse("admin:operators_operator_change", args=[operator.pk]))
    assert new not in page.content.decode()
    action = StaffAction.objects.get()
    assert new not in action.message and new not in action.reason
    assert action.message == "secret_key rotated; the new value was shown once"


def test_rotating_the_inbound_api_key_keeps_only_its_digest(root):
    operator = secret_operator("rot2")
    response = act(root, operator, "operator_rotate_credential", which="api_key", reason="Yearly")
    operator.refresh_from_db()
    page = response.content.decode()
    shown = page.split("data-secret>")[1].split("<")[0]
    assert operator.api_key_digest == api_key_digest(shown)
    assert operator.api_key_hint == shown[-4:]


def test_adding_an_operator_shows_its_generated_credentials_once(root):
    response = root.post(
        reverse("admin:operators_operator_add"),
        {
            "name": "New Casino",
            "code": "new-casino",
            "callback_url": "https://casino.example/copystake",
            "wallet_url": "https://casino.example/wallet",
            "wallet_client_id": "new-casino",
            "enabled": "on",
            "ip_allowlist": "",
            "session_ttl_seconds": "3600",
            "min_contribution": "1",
            "max_contribution": "500",
            "max_followers_per_pool": "100",
            "max_pool_value": "50000",
            "request_timeout_seconds": "5",
            "change_reason": "Onboarding OPS-1",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    operator = Operator.objects.get(code="new-casino")
    page = response.content.decode()
    assert operator.secret_key in page and operator.wallet_secret in page
    assert operator.max_contribution == D("500")
    assert operator.max_pool_value == D("50000")
    assert StaffAction.objects.get().action == "operator_create"


# --- test connection, enable / disable -----------------------------------------------


@pytest.mark.parametrize(
    ("answer", "ok", "verdict"),
    [
        ((200, {"balance": "805.5", "currency": "USD"}), True, "Connected: signed call accepted"),
        (
            (400, {"errorCode": "ERR_INVALID_USER", "errorMessage": "no"}),
            True,
            "Connected: signature accepted; the operator answered ERR_INVALID_USER",
        ),
        (
            (401, {"errorCode": "ERR_UNKNOWN", "errorMessage": "invalid signature"}),
            False,
            "Rejected: the operator refused our API key or signature (401 ERR_UNKNOWN)",
        ),
        ((503, b"down"), False, "No usable answer: ERR_HTTP_503"),
        ((0, httpx.ConnectTimeout("slow")), False, "No usable answer: ERR_TIMEOUT"),
    ],
)
def test_connection_test_sends_a_signed_balance_call(root, wire, answer, ok, verdict):
    world = build_world(pools=1, transactions=1)
    wire.answer = answer
    # when
    response = act(root, world.operator, "operator_test_connection", reason="Onboarding check")
    # then: one signed streamer-balance for a real streamer, logged, verdict reported
    [request] = wire.requests
    assert request.url.path == "/copystake/streamer-balance"
    assert json.loads(request.content) == {"userId": "streamer-acme-0", "currency": "USD"}
    assert request.headers["X-API-KEY"] == SECRETS["operator_api_key"]
    assert request.headers["X-REQUEST-SIGNATURE"] == copystake_signature(
        SECRETS["secret_key"], request.content
    )
    action = StaffAction.objects.get()
    assert action.outcome == "done" and action.message.startswith(verdict)
    assert CallLog.objects.filter(endpoint="streamer-balance").count() == 1
    [shown] = get_messages(response.wsgi_request)
    assert shown.level_tag == ("success" if ok else "error")


def test_disable_then_enable(root):
    operator = secret_operator("toggle")
    act(root, operator, "operator_disable", reason="Operator asked for a pause")
    assert not Operator.objects.get(pk=operator.pk).enabled
    act(root, operator, "operator_enable", reason="Back on")
    assert Operator.objects.get(pk=operator.pk).enabled
    assert list(StaffAction.objects.order_by("pk").values_list("action", "outcome")) == [
        ("operator_disable", "done"),
        ("operator_enable", "done"),
    ]


# --- call log re-send ----------------------------------------------------------------


def _call(operator, **fields) -> CallLog:
    defaults = {
        "operator": operator,
        "direction": "out",
        "endpoint": "streamer-balance",
        "url": f"{operator.callback_url}/streamer-balance",
        "request_body": json.dumps({"userId": "streamer-1", "currency": "USD"}),
        "outcome": "unknown",
        "error_code": "ERR_TIMEOUT",
    }
    return CallLog.objects.create(**(defaults | fields))


def resend(client, call):
    return act(client, call, "call_resend", admin_name="operators_calllog", reason="Re-check")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"direction": "in", "endpoint": "init"}, "Inbound calls are re-sent by the operator"),
        ({"outcome": "success"}, "The call succeeded"),
        ({"endpoint": "wallet/auth"}, "wallet/auth calls are not re-sent"),
        (
            {"endpoint": "transfer", "external_id": "nobody-owns-this"},
            "No transaction owns this call",
        ),
    ],
)
def test_resend_is_refused_where_it_is_not_safe(root, operator, wire, fields, message):
    call = _call(operator, **fields)
    resend(root, call)
    assert wire.requests == []
    action = StaffAction.objects.get()
    assert action.outcome == "refused" and message in action.message


def test_resend_of_a_balance_read_is_signed_afresh(root, operator, streamer, wire):
    call = _call(operator)
    # when
    resend(root, call)
    # then
    [request] = wire.requests
    assert json.loads(request.content) == {"userId": "streamer-1", "currency": "USD"}
    assert request.headers["X-REQUEST-SIGNATURE"] == copystake_signature("s", request.content)
    assert "balance 805.5" in StaffAction.objects.get().message
    assert CallLog.objects.count() == 2


def test_resend_of_a_money_call_goes_through_its_saga(
    root, operator, streamer, make_session, fake, settings, wire
):
    # given: a DEPOSIT transfer in doubt, its saga waiting to retry (whatever the machine's
    # speed: the transfer times out for as long as the join runs inline)
    settings.COPYPOOL_INLINE_SAGA_SECONDS = 1.0
    fake.fail("transfer", *["timeout_before"] * 50)
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    fake.faults["transfer"].clear()
    deposit = Transaction.objects.get(kind="streamer_deposit")
    assert deposit.status == "unknown"
    call = _call(operator, endpoint="transfer", external_id=deposit.external_id)
    # when
    resend(root, call)
    # then: no raw re-post; the saga asked again with the same id and recorded the answer
    assert wire.requests == []
    deposit.refresh_from_db()
    assert deposit.status == "succeeded"
    assert list(fake.transfers) == [deposit.external_id]
    assert Saga.objects.get(kind="join").status == "done"
    message = StaffAction.objects.get().message
    assert "retried through saga" in message and "(via saga)" in message


def test_a_win_no_saga_owns_is_reposted_with_the_same_id(
    root, operator, streamer, make_session, fake, wire
):
    # given: a WIN in doubt that no saga owns (written by hand, say)
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    win = Transaction.objects.create(
        operator=operator,
        kind="follower_credit",
        status="unknown",
        amount=D("99.5"),
        currency="USD",
        pool=position.pool,
        position=position,
        follower=position.follower,
    )
    call = _call(
        operator,
        endpoint="wallet/deposit",
        url=f"{operator.wallet_url}/deposit",
        external_id=win.external_id,
    )
    wire.answer = (200, {"data": {"newBalance": "599.5"}})
    # when
    resend(root, call)
    # then: the same providerTxId, a fresh wallet signature, the token from our records
    [request] = wire.requests
    body = json.loads(request.content)
    assert body["providerTxId"] == win.external_id and body["amount"] == 99.5
    assert body["userToken"] == "token-f1"
    assert request.headers["X-VC-Client-Signature"] == wallet_signature(
        "ws", str(request.url), request.headers["X-VC-Client-TS"], request.content
    )
    assert "re-posted: accepted" in StaffAction.objects.get().message


def test_a_money_call_of_a_finished_saga_is_not_reposted(
    root, operator, streamer, make_session, fake, wire
):
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    deposit = Transaction.objects.get(kind="streamer_deposit")
    Transaction.objects.filter(pk=deposit.pk).update(status="unknown")
    call = _call(operator, endpoint="transfer", external_id=deposit.external_id)
    resend(root, call)
    assert wire.requests == []
    assert "its outcome is final" in StaffAction.objects.get().message


def test_a_bet_is_never_reposted_outside_a_saga(root, operator, streamer, make_session, fake, wire):
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    bet = Transaction.objects.get(kind="follower_debit")
    Transaction.objects.filter(pk=bet.pk).update(status="unknown", saga=None)
    call = _call(operator, endpoint="wallet/withdraw", external_id=bet.external_id)
    resend(root, call)
    assert wire.requests == []
    assert "A BET" in StaffAction.objects.get().message


def test_the_player_page_languages_are_edited_known_codes_only(root):
    operator = secret_operator("lang")
    url = reverse("admin:operators_operator_change", args=[operator.pk])
    assert 'name="languages"' in root.get(url).content.decode()
    # when: codes in any case, with spaces and a repeat
    response = root.post(url, _config(operator, languages=" ES, en,es ", change_reason="OPS-20"))
    # then: kept normalised
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.languages == "es,en"
    # and an unknown code is refused, naming it, and changes nothing
    refused = root.post(url, _config(operator, languages="en,fr", change_reason="OPS-21"))
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["languages"] == [
        "Unknown language code(s): fr. Known: en, es, pt."
    ]
    operator.refresh_from_db()
    assert operator.languages == "es,en"
    # and empty is English only
    root.post(url, _config(operator, languages="", change_reason="OPS-22"))
    operator.refresh_from_db()
    assert operator.languages == "en"


def test_the_operator_page_says_when_an_operators_own_key_rotation_is_in_progress(root):
    from datetime import timedelta

    from apps.operators.services import operator_finish_rotation, operator_rotate_keys

    operator = secret_operator("turn")
    page = reverse("admin:operators_operator_change", args=[operator.pk])
    assert "None in progress" in root.get(page).content.decode()
    revealed = operator_rotate_keys(operator=operator, overlap=timedelta(hours=24))
    shown = root.get(page).content.decode()
    operator.refresh_from_db()
    assert f"accepted until {operator.rotation_overlap_until:%Y-%m-%d %H:%M} UTC" in shown
    assert revealed["api_key"] not in shown and revealed["secret_key"] not in shown
    assert_no_secret(shown)
    operator_finish_rotation(operator=operator)
    assert "None in progress" in root.get(page).content.decode()
