"""The conformance check from the operator's admin page: test users, the button (Operations
only, audited), the background run (eager in tests) and the read-only report."""

import pytest
from django.db import connection
from django.urls import reverse

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import staff_user
from apps.operators.models import ConformanceRun, Operator
from apps.sandbox.tests.test_conformance_live import ALL_PROBES

pytestmark = pytest.mark.django_db(transaction=True)


def act_url(operator):
    return reverse("admin:operators_operator_act", args=[operator.pk, "operator_conformance_check"])


@pytest.fixture
def operations(client):
    client.force_login(staff_user("ops", "Operations"))
    return client


@pytest.fixture
def read_only(client):
    client.force_login(staff_user("viewer", "Read-only"))
    return client


def test_operations_runs_the_check_and_reads_the_report(operations, conformance_world):
    # given: the change page shows the test users, the token masked, and the button
    operator, *_ = conformance_world
    page = operations.get(reverse("admin:operators_operator_change", args=[operator.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Conformance check: the operator&#x27;s test users" in html
    assert 'value="s-1"' in html and 'value="p-1"' in html and 'value="nobody-1"' in html
    assert operator.test_follower_token not in html
    assert operator.masked_test_follower_token in html
    assert act_url(operator) in html and "Run conformance check" in html
    # when: confirmed with a reason
    response = operations.post(act_url(operator), {"confirm": "yes", "reason": "Onboarding"})
    # then: audited, run in the background (eagerly here), passed
    assert response.status_code == 302
    action = StaffAction.objects.get(action="operator_conformance_check")
    assert (action.outcome, action.reason) == ("done", "Onboarding")
    run = ConformanceRun.objects.get()
    assert (run.state, run.passed, run.failed, run.skipped) == ("passed", len(ALL_PROBES), 0, 0)
    assert run.started_by.username == "ops"
    # and the run's page shows the report as a table
    report = operations.get(reverse("admin:operators_conformancerun_change", args=[run.pk]))
    body = report.content.decode()
    assert report.status_code == 200
    assert body.count("<tr><td><code>") == len(ALL_PROBES)
    for name in ALL_PROBES:
        assert f"<code>{name}</code>" in body
    assert "Request to reproduce" in body
    assert operator.test_follower_token not in body
    # and the operator's page lists it
    again = operations.get(reverse("admin:operators_operator_change", args=[operator.pk]))
    assert f"#{run.pk}" in again.content.decode()


def test_read_only_staff_see_runs_but_cannot_start_one(read_only, conformance_world):
    # given
    operator, *_ = conformance_world
    page = read_only.get(reverse("admin:operators_operator_change", args=[operator.pk]))
    assert "Run conformance check" not in page.content.decode()
    # when
    refused = read_only.post(act_url(operator), {"confirm": "yes", "reason": "try"})
    # then
    assert refused.status_code == 403
    assert not ConformanceRun.objects.exists()
    assert read_only.get(reverse("admin:operators_conformancerun_changelist")).status_code == 200


def test_the_follower_token_is_replaced_from_the_form_and_stored_encrypted(
    operations, conformance_world
):
    # given
    operator, *_ = conformance_world
    url = reverse("admin:operators_operator_change", args=[operator.pk])
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
        "test_currency": "USD",
        "test_streamer_id": "s-2",
        "test_follower_id": "f-1",
        "test_non_streamer_id": "p-1",
        "test_unknown_id": "",
        "new_test_follower_token": "a-brand-new-token",
        "change_reason": "new test token",
    }
    # when
    response = operations.post(url, data)
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = Operator.objects.get(pk=operator.pk)
    assert (saved.test_streamer_id, saved.test_follower_token) == ("s-2", "a-brand-new-token")
    with connection.cursor() as cursor:
        cursor.execute(
            "select test_follower_token from operators_operator where id = %s", [operator.pk]
        )
        [(raw,)] = cursor.fetchall()
    assert "a-brand-new-token" not in raw
    assert "a-brand-new-token" not in str(list(saved.history.values()))
