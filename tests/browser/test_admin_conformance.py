"""The conformance check in a real browser: the operator's test users, the button, the
confirmation, and the report of a run against a sandbox that accepts bad signatures."""

import pytest
from django.contrib.auth import get_user_model

from apps.operators.models import ConformanceRun
from apps.sandbox.tests.factories import conformance_world_build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pw-12345"


@pytest.fixture
def logged_in(page, live_server):
    get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    return page


def test_run_the_check_from_the_operator_page_and_read_the_report(
    logged_in, live_server, screenshot
):
    # given: a sandbox that accepts bad signatures
    operator, sandbox, *_ = conformance_world_build(live_server.url)
    sandbox.accepts_bad_signatures = True
    sandbox.save(update_fields=["accepts_bad_signatures"])
    page = logged_in
    page.goto(f"{live_server.url}/admin/operators/operator/{operator.pk}/change/")
    assert page.locator("#id_test_streamer_id").input_value() == "s-1"
    assert operator.test_follower_token not in page.content()
    page.locator("fieldset", has_text="Conformance check").scroll_into_view_if_needed()
    screenshot("conformance-01-operator-test-users")
    # when: the button, then the confirmation with a reason
    page.click("a.cp-action:has-text('Run conformance check')")
    page.fill("textarea[name=reason], input[name=reason]", "Onboarding check")
    screenshot("conformance-02-confirm")
    page.click("input[type=submit][value='Yes, run conformance check']")
    page.wait_for_load_state()
    # then: the run finished (eagerly here) and its page shows the report as a table
    run = ConformanceRun.objects.get()
    assert (run.state, run.failed) == ("failed", 3)
    page.goto(f"{live_server.url}/admin/operators/conformancerun/{run.pk}/change/")
    table = page.locator("table.cp-conformance-report")
    assert table.locator("tbody tr").count() == len(run.report["probes"])
    failing = table.locator("tbody tr", has_text="signature-wrong").first
    assert "FAIL" in failing.inner_text()
    assert "accepted a request with a wrong signature" in failing.inner_text()
    request = failing.locator("details.cp-request")
    assert not request.locator("pre").is_visible()  # folded until opened
    request.locator("summary").click()
    assert "X-REQUEST-SIGNATURE" in request.locator("pre").inner_text()
    screenshot("conformance-03-report")
