"""'Run now' for a reconciliation run and a day's settlement, from their changelists."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.backoffice.groups import FINANCE, OPERATIONS, READ_ONLY
from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import staff_user
from apps.operators.models import Operator
from apps.transactions.finance.invoices import utc_today
from apps.transactions.models import DailySettlement, ReconciliationRun, Transaction
from apps.transactions.services import position_join
from tests.broker.operator_server import FakeOperatorServer

pytestmark = pytest.mark.django_db(transaction=True)

RECONCILE = reverse("admin:transactions_reconciliationrun_run_now")
SETTLE = reverse("admin:transactions_dailysettlement_run_now")


@pytest.fixture
def server(operator):
    with FakeOperatorServer() as server:
        Operator.objects.filter(pk=operator.pk).update(
            callback_url=server.callback_url, wallet_url=server.wallet_url
        )
        operator.refresh_from_db()
        yield server


def login(client, *groups):
    user = staff_user("-".join(groups).lower() or "nobody", *groups)
    client.force_login(user)
    return user


def test_the_buttons_show_for_whoever_may_run_them(client):
    login(client, OPERATIONS)
    runs = client.get(reverse("admin:transactions_reconciliationrun_changelist"))
    assert RECONCILE.encode() in runs.content
    settlements = client.get(reverse("admin:transactions_dailysettlement_changelist"))
    assert SETTLE.encode() not in settlements.content  # finance's job

    client.logout()
    login(client, FINANCE)
    settlements = client.get(reverse("admin:transactions_dailysettlement_changelist"))
    assert SETTLE.encode() in settlements.content
    assert b"Export" in settlements.content  # the export button is still there
    runs = client.get(reverse("admin:transactions_reconciliationrun_changelist"))
    assert RECONCILE.encode() not in runs.content


@pytest.mark.parametrize("url", [RECONCILE, SETTLE])
def test_read_only_staff_may_not_run_either(client, url):
    login(client, READ_ONLY)
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "x", "day": str(utc_today())}).status_code == 403
    assert not StaffAction.objects.exists()
    assert not ReconciliationRun.objects.exists()


def test_reconciliation_runs_now_against_the_operator_and_is_audited(
    client, operator, server, streamer, make_session
):
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    user = login(client, OPERATIONS)
    page = client.get(RECONCILE)
    assert page.status_code == 200
    assert b"Every operator that needs one" in page.content

    # No reason: nothing runs.
    refused = client.post(RECONCILE, {"operator": operator.pk, "reason": " "})
    assert refused.status_code == 200
    assert not ReconciliationRun.objects.exists()

    done = client.post(RECONCILE, {"operator": operator.pk, "reason": "checking a ticket"})
    run = ReconciliationRun.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("admin:transactions_reconciliationrun_change", args=[run.pk])
    assert run.trigger == ReconciliationRun.Trigger.MANUAL
    assert run.status == ReconciliationRun.Status.FINISHED
    assert (run.checked["open_pools"], run.checked["balances_read"]) == (1, 1)
    assert server.requests  # a real balance reading over HTTP
    action = StaffAction.objects.get(action="reconciliation_run_now")
    assert (action.user, action.reason, action.target_id) == (
        user,
        "checking a ticket",
        str(run.pk),
    )
    assert action.outcome == StaffAction.Outcome.DONE

    page = client.get(done["Location"])
    assert b"Manual" in page.content


def test_settlement_of_a_day_runs_now_and_is_audited(client, operator, streamer, make_session):
    with FakeOperatorServer() as server:
        Operator.objects.filter(pk=operator.pk).update(
            callback_url=server.callback_url, wallet_url=server.wallet_url
        )
        position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert Transaction.objects.filter(
        kind=Transaction.Kind.FOLLOWER_DEBIT, status="succeeded"
    ).exists()
    user = login(client, FINANCE)
    today = utc_today()
    page = client.get(SETTLE)
    assert today.isoformat().encode() in page.content  # today by default

    done = client.post(SETTLE, {"day": today.isoformat(), "reason": "month end check"})
    assert done.status_code == 302
    assert f"day__from={today.isoformat()}" in done["Location"]
    row = DailySettlement.objects.get(day=today, operator=operator, currency="USD")
    assert row.money_in == Decimal("100")
    action = StaffAction.objects.get(action="settlement_run_now", target_id=str(row.pk))
    assert (action.user, action.reason) == (user, "month end check")
    listed = client.get(done["Location"])
    assert f"Settlement of {today:%Y-%m-%d}: 1 row(s) computed".encode() in listed.content


@pytest.mark.parametrize(
    ("day", "error"),
    [
        (lambda today: today + timedelta(days=1), b"The day is in the future"),
        (lambda today: today - timedelta(days=400), b"At most 366 days back"),
        (lambda today: "2026-13-01", b"Enter a valid date"),
    ],
)
def test_a_bad_day_is_refused_with_a_clear_error(client, day, error):
    login(client, FINANCE)
    value = day(utc_today())
    page = client.post(SETTLE, {"day": str(value), "reason": "x"})
    assert page.status_code == 200
    assert error in page.content
    assert not DailySettlement.objects.exists()
    assert not StaffAction.objects.exists()
