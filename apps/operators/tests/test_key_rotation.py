"""Rotating an operator's inbound API key and signing secret with an overlap window.

During the window the replaced key and secret work inbound besides the new ones, and
CopyStake signs its calls to the operator with the replaced secret; after the deadline, or
once the rotation is finished, only the new ones do. The last tests go over real HTTP: the
operator API served by ``live_server``, and CopyStake's callbacks to a real HTTP operator
(``FakeOperatorServer``) that knows only the secret from before the rotation.
"""

import os
import threading
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.operators import clients, selectors
from apps.operators.models import Operator, api_key_digest
from apps.operators.selectors import operator_get_by_api_key
from apps.operators.services import (
    DEFAULT_ROTATION_OVERLAP,
    MAX_ROTATION_OVERLAP,
    operator_finish_rotation,
    operator_rotate_credential,
    operator_rotate_keys,
)
from apps.operators.signatures import copystake_signature, copystake_verify
from apps.operators.tests.factories import encode, make_operator, post_signed
from tests.broker.operator_server import FakeOperatorServer

INIT = "/api/v1/copystake/init"
ROTATION_STATE = (
    "api_key_digest",
    "api_key_hint",
    "secret_key",
    "previous_api_key_digest",
    "previous_secret_key",
    "rotation_overlap_until",
)


def init_body() -> bytes:
    return encode({"operatorUserId": "333", "userToken": "wallet-token", "currency": "USD"})


def state(operator: Operator) -> tuple:
    fresh = Operator.objects.get(pk=operator.pk)
    return tuple(getattr(fresh, field) for field in ROTATION_STATE)


def end_window(operator: Operator) -> None:
    """The deadline passes (as the clock would move it)."""
    Operator.objects.filter(pk=operator.pk).update(
        rotation_overlap_until=timezone.now() - timedelta(seconds=1)
    )
    operator.refresh_from_db()


# --- the service ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotate_keys_keeps_the_old_ones_as_previous_until_now_plus_the_overlap():
    # given
    operator, old = make_operator()
    now = timezone.now()
    # when
    with mock.patch("django.utils.timezone.now", return_value=now):
        new = operator_rotate_keys(operator=operator, overlap=timedelta(hours=2))
    # then
    assert set(new) == {"api_key", "secret_key"}
    assert new["api_key"] != old["api_key"] and new["secret_key"] != old["secret_key"]
    saved = Operator.objects.get(pk=operator.pk)
    assert saved.api_key_digest == api_key_digest(new["api_key"])
    assert saved.api_key_hint == new["api_key"][-4:]
    assert saved.secret_key == new["secret_key"]
    assert saved.previous_api_key_digest == api_key_digest(old["api_key"])
    assert saved.previous_secret_key == old["secret_key"]
    assert saved.rotation_overlap_until == now + timedelta(hours=2)
    # and the caller's instance shows the same state
    assert state(operator) == tuple(getattr(operator, field) for field in ROTATION_STATE)


@pytest.mark.django_db
def test_the_default_overlap_is_24_hours():
    operator, _ = make_operator()
    now = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=now):
        operator_rotate_keys(operator=operator)
    assert operator.rotation_overlap_until == now + timedelta(hours=24)
    assert timedelta(hours=24) == DEFAULT_ROTATION_OVERLAP


@pytest.mark.django_db
def test_in_the_window_both_keys_find_the_operator_and_both_secrets_sign():
    # given
    operator, old = make_operator()
    new = operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    # when
    by_old = operator_get_by_api_key(api_key=old["api_key"])
    by_new = operator_get_by_api_key(api_key=new["api_key"])
    # then
    assert by_old == operator and by_new == operator
    assert operator.rotation_in_overlap()
    assert operator.inbound_secrets() == [new["secret_key"], old["secret_key"]]


@pytest.mark.django_db
def test_the_lookup_is_one_query_in_and_out_of_the_window():
    # given
    operator, old = make_operator()
    operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    # when
    with CaptureQueriesContext(connection) as queries:
        found = operator_get_by_api_key(api_key=old["api_key"])
    # then
    assert found == operator
    assert len(queries) == 1


@pytest.mark.django_db
def test_a_key_that_is_one_operators_current_and_anothers_previous_finds_the_current():
    # given: A rotated away from a key that B then took as its current key
    a, a_old = make_operator()
    operator_rotate_keys(operator=a, overlap=DEFAULT_ROTATION_OVERLAP)
    b, _ = make_operator(api_key=a_old["api_key"])
    # when
    found = operator_get_by_api_key(api_key=a_old["api_key"])
    # then
    assert found == b


@pytest.mark.django_db
def test_after_the_deadline_only_the_new_key_and_secret_work():
    # given
    operator, old = make_operator()
    new = operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    # when
    end_window(operator)
    # then
    assert not operator.rotation_in_overlap()
    assert operator_get_by_api_key(api_key=old["api_key"]) is None
    assert operator_get_by_api_key(api_key=new["api_key"]) == operator
    assert operator.inbound_secrets() == [new["secret_key"]]


@pytest.mark.django_db
def test_the_window_closes_when_the_clock_reaches_the_deadline():
    # given
    operator, old = make_operator()
    now = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=now):
        operator_rotate_keys(operator=operator, overlap=timedelta(hours=1))
    # when / then: open a second before, closed at the deadline
    just_before = now + timedelta(hours=1) - timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=just_before):
        assert operator_get_by_api_key(api_key=old["api_key"]) == operator
    assert operator.rotation_in_overlap(just_before)
    with mock.patch("django.utils.timezone.now", return_value=now + timedelta(hours=1)):
        assert operator_get_by_api_key(api_key=old["api_key"]) is None
    assert not operator.rotation_in_overlap(now + timedelta(hours=1))


@pytest.mark.django_db
def test_finish_ends_the_window_now_and_is_idempotent():
    # given
    operator, old = make_operator()
    new = operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    # when
    returned = operator_finish_rotation(operator=operator)
    # then
    assert returned is operator
    saved = Operator.objects.get(pk=operator.pk)
    assert (saved.previous_api_key_digest, saved.previous_secret_key) == ("", "")
    assert saved.rotation_overlap_until is None
    assert operator.rotation_overlap_until is None
    assert operator_get_by_api_key(api_key=old["api_key"]) is None
    assert operator_get_by_api_key(api_key=new["api_key"]) == operator
    assert operator.inbound_secrets() == [new["secret_key"]]
    # and finishing again changes nothing
    before = state(operator)
    updated_at = saved.updated_at
    operator_finish_rotation(operator=operator)
    assert state(operator) == before
    assert Operator.objects.get(pk=operator.pk).updated_at == updated_at


@pytest.mark.django_db
def test_a_second_rotation_in_the_window_is_refused_and_changes_nothing():
    # given
    operator, _ = make_operator()
    operator_rotate_keys(operator=operator, overlap=timedelta(hours=3))
    before = state(operator)
    # when
    with pytest.raises(ValidationError) as refused:
        operator_rotate_keys(operator=operator, overlap=timedelta(hours=3))
    # then
    assert "finish the rotation in progress first (until " in refused.value.messages[0].lower()
    assert state(operator) == before


@pytest.mark.django_db
def test_a_rotation_may_start_again_once_the_window_is_over():
    # given
    operator, _ = make_operator()
    first = operator_rotate_keys(operator=operator, overlap=timedelta(hours=3))
    end_window(operator)
    # when
    second = operator_rotate_keys(operator=operator, overlap=timedelta(hours=3))
    # then: the previous ones are now the first rotation's
    saved = Operator.objects.get(pk=operator.pk)
    assert saved.previous_api_key_digest == api_key_digest(first["api_key"])
    assert saved.previous_secret_key == first["secret_key"]
    assert saved.secret_key == second["secret_key"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overlap",
    [timedelta(seconds=-1), MAX_ROTATION_OVERLAP + timedelta(seconds=1), timedelta(days=30)],
)
def test_an_overlap_outside_0_to_7_days_is_refused_and_changes_nothing(overlap):
    # given
    operator, _ = make_operator()
    before = state(operator)
    # when
    with pytest.raises(ValidationError) as refused:
        operator_rotate_keys(operator=operator, overlap=overlap)
    # then
    assert refused.value.message_dict == {"overlap": ["must be between 0 and 7 days"]}
    assert state(operator) == before


@pytest.mark.django_db
def test_the_longest_overlap_is_accepted():
    operator, old = make_operator()
    operator_rotate_keys(operator=operator, overlap=MAX_ROTATION_OVERLAP)
    assert operator_get_by_api_key(api_key=old["api_key"]) == operator


@pytest.mark.django_db
def test_a_zero_overlap_replaces_both_at_once_keeping_nothing():
    # given
    operator, old = make_operator()
    # when
    new = operator_rotate_keys(operator=operator, overlap=timedelta(0))
    # then
    saved = Operator.objects.get(pk=operator.pk)
    assert (saved.previous_api_key_digest, saved.previous_secret_key) == ("", "")
    assert saved.rotation_overlap_until is None
    assert operator_get_by_api_key(api_key=old["api_key"]) is None
    assert operator_get_by_api_key(api_key=new["api_key"]) == operator
    assert saved.outbound_secret() == new["secret_key"]
    # and a new rotation may start straight away
    operator_rotate_keys(operator=saved, overlap=timedelta(hours=1))


@pytest.mark.django_db
def test_an_empty_previous_digest_never_matches(monkeypatch):
    # given: an operator in a window whose previous key was dropped (previous digest empty),
    # and a digest function that, absurdly, answers "" for some key
    operator, _ = make_operator()
    operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    operator_rotate_credential(operator=operator, which="api_key")
    saved = Operator.objects.get(pk=operator.pk)
    assert saved.previous_api_key_digest == "" and saved.rotation_in_overlap()
    monkeypatch.setattr(selectors, "api_key_digest", lambda key: "")
    # when / then
    assert operator_get_by_api_key(api_key="anything") is None
    assert operator_get_by_api_key(api_key="") is None


@pytest.mark.django_db
def test_staff_immediate_rotation_in_a_window_drops_only_that_previous_value():
    # given
    operator, old = make_operator()
    new = operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    # when: staff replace the API key at once (say it leaked)
    api_key = operator_rotate_credential(operator=operator, which="api_key")
    # then: no old key works, while the old secret's window runs on
    saved = Operator.objects.get(pk=operator.pk)
    assert operator_get_by_api_key(api_key=old["api_key"]) is None
    assert operator_get_by_api_key(api_key=new["api_key"]) is None
    assert operator_get_by_api_key(api_key=api_key) == saved
    assert saved.inbound_secrets() == [new["secret_key"], old["secret_key"]]
    # and replacing the secret at once too ends the window
    secret = operator_rotate_credential(operator=saved, which="secret_key")
    saved = Operator.objects.get(pk=operator.pk)
    assert saved.rotation_overlap_until is None
    assert saved.inbound_secrets() == [secret] and saved.outbound_secret() == secret


@pytest.mark.django_db
def test_staff_immediate_rotation_outside_a_window_still_works():
    operator, old = make_operator()
    api_key = operator_rotate_credential(operator=operator, which="api_key")
    assert operator_get_by_api_key(api_key=old["api_key"]) is None
    assert operator_get_by_api_key(api_key=api_key) == operator


@pytest.mark.django_db
def test_rotate_keys_locks_the_operator_row():
    if not connection.features.has_select_for_update:
        pytest.skip("this database has no SELECT ... FOR UPDATE")
    operator, _ = make_operator()
    with CaptureQueriesContext(connection) as queries:
        operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    assert any("FOR UPDATE" in query["sql"] for query in queries)


@pytest.mark.django_db(transaction=True)
def test_a_rotation_started_while_another_commits_waits_for_it_and_is_refused():
    if connection.vendor != "postgresql" and not os.environ.get("COPYPOOL_REQUIRE_SERVICES"):
        pytest.skip("row-level locks need PostgreSQL (set DATABASE_URL)")
    # given: a first rotation that has locked and changed the row but not committed yet
    operator, _ = make_operator()
    holding, proceed = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def first():
        try:
            with transaction.atomic():
                outcomes["first"] = operator_rotate_keys(
                    operator=Operator.objects.get(pk=operator.pk), overlap=timedelta(hours=1)
                )
                holding.set()
                proceed.wait(5)
        finally:
            connections.close_all()

    def second():
        try:
            holding.wait(5)
            outcomes["second"] = operator_rotate_keys(
                operator=Operator.objects.get(pk=operator.pk), overlap=timedelta(hours=1)
            )
        except ValidationError as error:
            outcomes["second"] = error
        finally:
            connections.close_all()

    a, b = threading.Thread(target=first), threading.Thread(target=second)
    a.start()
    b.start()
    holding.wait(5)
    # when: the second tries while the first holds the row, then the first commits
    b.join(0.5)
    proceed.set()
    a.join(10)
    b.join(10)
    # then: the second waited for the lock, saw the open window and changed nothing
    assert isinstance(outcomes["second"], ValidationError)
    first_keys = outcomes["first"]
    assert isinstance(first_keys, dict)
    saved = Operator.objects.get(pk=operator.pk)
    assert saved.api_key_digest == api_key_digest(first_keys["api_key"])
    assert saved.secret_key == first_keys["secret_key"]


@pytest.mark.django_db
def test_the_previous_secret_stays_out_of_the_history():
    operator, old = make_operator()
    operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    fields = {field.name for field in Operator.history.model._meta.get_fields()}
    assert "previous_secret_key" not in fields and "secret_key" not in fields
    assert "rotation_overlap_until" in fields
    latest = operator.history.latest()
    assert latest.previous_api_key_digest == api_key_digest(old["api_key"])
    assert Operator.objects.get(pk=operator.pk).masked_previous_secret_key.endswith(
        old["secret_key"][-4:]
    )


# --- outbound: which secret CopyStake signs with --------------------------------------------


@pytest.mark.django_db
def test_callbacks_are_signed_with_the_previous_secret_in_the_window_then_the_new():
    # given
    operator, old = make_operator()
    new = operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)

    def signed_with(op: Operator) -> str:
        call = clients.callback_request(op, "streamer-balance", {"userId": "s1"})
        signature = call.headers["X-REQUEST-SIGNATURE"]
        for name, secret in (("old", old["secret_key"]), ("new", new["secret_key"])):
            if copystake_verify(secret, call.body, signature):
                return name
        return "neither"

    # when / then
    assert operator.outbound_secret() == old["secret_key"]
    assert signed_with(operator) == "old"
    end_window(operator)
    assert signed_with(operator) == "new"


@pytest.mark.django_db
def test_callbacks_are_signed_with_the_new_secret_after_finish():
    operator, _ = make_operator()
    new = operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    operator_finish_rotation(operator=operator)
    call = clients.callback_request(operator, "streamer-balance", {"userId": "s1"})
    assert copystake_verify(new["secret_key"], call.body, call.headers["X-REQUEST-SIGNATURE"])


@pytest.mark.django_db
def test_the_django_client_sees_both_accepted_in_the_window(client):
    # given
    operator, old = make_operator()
    new = operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    mixed = {"api_key": old["api_key"], "secret_key": new["secret_key"]}
    # when / then
    for credentials in (old, new, mixed):
        assert post_signed(client, credentials, INIT, init_body()).status_code == 200
    end_window(operator)
    assert post_signed(client, old, INIT, init_body()).status_code == 401
    stale_secret = {"api_key": new["api_key"], "secret_key": old["secret_key"]}
    refused = post_signed(client, stale_secret, INIT, init_body())
    assert refused.status_code == 401
    assert refused.json()["errorMessage"] == "Missing or invalid X-REQUEST-SIGNATURE"


# --- over real HTTP -------------------------------------------------------------------------


def signed_post(base: str, credentials: dict[str, str], body: bytes) -> httpx.Response:
    return httpx.post(
        f"{base}{INIT}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-API-KEY": credentials["api_key"],
            "X-REQUEST-SIGNATURE": copystake_signature(credentials["secret_key"], body),
        },
        timeout=10.0,
    )


@pytest.mark.django_db(transaction=True)
def test_over_http_old_and_new_work_in_the_window_and_only_new_after_finish(live_server):
    # given
    operator, old = make_operator()
    new = operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
    body = init_body()
    # when: in the window
    with_old = signed_post(live_server.url, old, body)
    with_new = signed_post(live_server.url, new, body)
    # then: both accepted
    assert (with_old.status_code, with_new.status_code) == (200, 200)
    assert set(with_old.json()) == {"url"} and set(with_new.json()) == {"url"}
    # when: the operator finishes the rotation
    operator_finish_rotation(operator=operator)
    with_old = signed_post(live_server.url, old, body)
    with_new = signed_post(live_server.url, new, body)
    # then: the old key is refused with the contract's body, the new one accepted
    assert with_old.status_code == 401
    assert with_old.json() == {"errorCode": "ERR_UNAUTHORIZED", "errorMessage": "Invalid X-API-KEY"}
    assert with_new.status_code == 200


@pytest.mark.django_db
def test_over_http_an_operator_knowing_the_old_secret_takes_callbacks_until_finish():
    # given: an operator whose deployed side knows the secret from before the rotation
    with FakeOperatorServer(secret="before-rotation", api_key="ok") as server:
        server.balances["s1"] = Decimal("100")
        operator, _ = make_operator(
            callback_url=server.callback_url, operator_api_key="ok", secret_key="before-rotation"
        )
        operator_rotate_keys(operator=operator, overlap=DEFAULT_ROTATION_OVERLAP)
        # when: in the window
        in_window = clients.streamer_balance(operator, user_id="s1", currency="USD")
        # then: signed with the old secret, the operator accepts it
        assert in_window.ok and in_window.amount("balance") == Decimal("100")
        # when: the rotation is finished while the operator still knows only the old secret
        operator_finish_rotation(operator=operator)
        after = clients.streamer_balance(operator, user_id="s1", currency="USD")
        # then: signed with the new secret, the operator refuses the signature
        assert after.refused and after.status == 401
        assert server.requests["streamer-balance"] == 2
