"""Staff services on streamers: the check with the operator, and suspension (paying the open
pools out now or at the stream's end)."""

import json
from decimal import Decimal

import httpx
import pytest

from apps.backoffice.streamers import streamer_check_with_operator, streamer_suspend_by_staff
from apps.core.errors import ApplicationError
from apps.followers.models import Position
from apps.operators import clients
from apps.operators.models import CallLog
from apps.operators.signatures import copystake_verify
from apps.pools.models import Pool
from apps.streamers.models import Stream, Streamer
from apps.transactions.services import position_join, position_leave, streams_end
from conftest import run_due

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


def join(streamer, make_session, *users: str) -> Pool:
    for user in users:
        position = position_join(session=make_session(user), streamer_id=streamer.pk, amount="100")
        assert position.status == "active"
    return Pool.objects.get(streamer=streamer, state="open")


# --- check with the operator ------------------------------------------------------------


def test_check_answers_the_balance_and_touches_no_pool(fake, streamer, make_session):
    # given: a pool is open; the operator holds 1234.5
    pool = join(streamer, make_session, "f1")
    fake.streamer_balance["streamer-1"] = D("1234.5")
    transfers_before = dict(fake.transfers)
    # when
    verdict = streamer_check_with_operator(streamer=streamer)
    # then
    assert verdict.ok and verdict.text == "OK: balance 1,234.50000000 USD"
    assert verdict.balance == D("1234.5")
    assert fake.calls[-1] == ("streamer-balance", "")
    assert fake.transfers == transfers_before
    fresh = Pool.objects.get(pk=pool.pk)
    assert (fresh.balance, fresh.balance_at) == (pool.balance, pool.balance_at)


def test_check_reports_the_operators_refusal(fake, streamer):
    fake.fail("streamer-balance", "refuse:400:ERR_BALANCE_FORBIDDEN")
    verdict = streamer_check_with_operator(streamer=streamer)
    assert not verdict.ok
    assert verdict.error_code == "ERR_BALANCE_FORBIDDEN"
    assert verdict.text == (
        "Refused by the operator (HTTP 400): ERR_BALANCE_FORBIDDEN scripted refusal"
    )


def test_check_says_no_answer_on_a_timeout(fake, streamer):
    fake.fail("streamer-balance", "timeout_before")
    verdict = streamer_check_with_operator(streamer=streamer)
    assert not verdict.ok
    assert verdict.text == "No answer: the operator did not answer in time (timeout)"


def test_check_is_a_signed_call_written_to_the_call_log(streamer, monkeypatch):
    """Without the double: the real gateway signs streamer-balance and logs the call."""
    sent: list[httpx.Request] = []

    def operator_answers(request):
        sent.append(request)
        return httpx.Response(200, json={"balance": 77.25, "currency": "USD"})

    transport = httpx.MockTransport(operator_answers)
    monkeypatch.setattr(clients, "_client", httpx.Client(transport=transport))
    # when
    verdict = streamer_check_with_operator(streamer=streamer)
    # then
    assert verdict.text == "OK: balance 77.25000000 USD"
    [request] = sent
    assert str(request.url) == "http://operator.invalid/cb/streamer-balance"
    assert json.loads(request.content) == {"userId": "streamer-1", "currency": "USD"}
    assert copystake_verify("s", request.content, request.headers["X-REQUEST-SIGNATURE"])
    call = CallLog.objects.get()
    assert (call.endpoint, call.direction, call.outcome) == ("streamer-balance", "out", "success")


def test_check_notices_an_answer_in_another_currency(streamer, monkeypatch):
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"balance": "5", "currency": "EUR"})
    )
    monkeypatch.setattr(clients, "_client", httpx.Client(transport=transport))
    verdict = streamer_check_with_operator(streamer=streamer)
    assert not verdict.ok
    assert verdict.text == "OK: balance 5.00000000 EUR (the streamer's currency here is USD)"


# --- suspension -------------------------------------------------------------------------


def test_suspend_paying_out_now_settles_the_open_pool_with_the_reason(fake, streamer, make_session):
    # given
    pool = join(streamer, make_session, "f1", "f2")
    # when
    outcome = streamer_suspend_by_staff(
        streamer=streamer, pay_out_now=True, who="ops", reason="Fraud check"
    )
    # then
    assert Streamer.objects.get(pk=streamer.pk).status == "suspended"
    pool.refresh_from_db()
    assert (pool.state, pool.lock_state) == ("closed", "released")
    assert pool.close_reason == "streamer suspended by staff ops, Fraud check"
    assert set(Position.objects.values_list("status", flat=True)) == {"closed"}
    assert fake.wallet["f1"] == fake.wallet["f2"] == D("500")
    assert outcome.describe(pay_out_now=True) == "suspended; 2 leave(s) started in 1 pool(s)"


def test_suspend_at_stream_end_keeps_the_pool_until_the_stream_ends(fake, streamer, make_session):
    # given
    pool = join(streamer, make_session, "f1")
    # when
    outcome = streamer_suspend_by_staff(
        streamer=streamer, pay_out_now=False, who="ops", reason="Pending review"
    )
    # then: no new join, the member stays in
    assert outcome.describe(pay_out_now=False).startswith("suspended; 1 open pool(s)")
    with pytest.raises(ApplicationError):
        position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="100")
    assert Pool.objects.get(pk=pool.pk).state == "open"
    assert Position.objects.get(follower__operator_user_id="f1").status == "active"
    # when: the stream ends
    streams_end(stream=Stream.objects.get(streamer=streamer, status="live"), reason="on schedule")
    run_due()
    # then: paid out like any pool
    pool.refresh_from_db()
    assert (pool.state, pool.lock_state) == ("closed", "released")
    assert fake.wallet["f1"] == D("500")


def test_a_suspended_streamers_follower_may_still_leave(fake, streamer, make_session):
    join(streamer, make_session, "f1")
    streamer_suspend_by_staff(streamer=streamer, pay_out_now=False, who="ops", reason="x")
    position = Position.objects.get()
    left = position_leave(session=position.session, position_id=position.pk)
    assert left.status == "closed"
    assert fake.wallet["f1"] == D("500")


def test_a_join_in_flight_when_paying_out_leaves_once_it_is_in(fake, streamer, make_session):
    # given: f1 is in; f2's DEPOSIT has no answer yet
    pool = join(streamer, make_session, "f1")
    fake.fail("transfer", *["timeout_before"] * 30)
    pending = position_join(session=make_session("f2"), streamer_id=streamer.pk, amount="50")
    assert pending.status == "joining"
    # when
    outcome = streamer_suspend_by_staff(
        streamer=streamer, pay_out_now=True, who="ops", reason="Closing the account"
    )
    assert outcome.joining == 1
    assert "1 join(s) still in progress" in outcome.describe(pay_out_now=True)
    fake.faults["transfer"].clear()
    run_due()
    # then: f2 got in, was paid out, and the pool closed
    pool.refresh_from_db()
    assert pool.state == "closed"
    assert set(Position.objects.values_list("status", flat=True)) == {"closed"}
    assert fake.wallet["f2"] == D("500")


def test_suspend_needs_a_reason(fake, streamer):
    with pytest.raises(ApplicationError) as error:
        streamer_suspend_by_staff(streamer=streamer, pay_out_now=True, who="ops", reason=" ")
    assert error.value.code == "ERR_REASON_REQUIRED"
    assert Streamer.objects.get(pk=streamer.pk).status == "active"
