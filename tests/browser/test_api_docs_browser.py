"""The API docs in Chromium: both APIs' operations grouped under their tags, and an operation
opened shows its description and its examples (the join's request, its 201 position and its
errors)."""

import json

import pytest

from apps.core.errors import ErrorCode

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operation_opened_shows_its_description_and_examples(page, live_server, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-tag")
    # then: the two APIs, each a tag of its own
    tags = page.locator(".swagger-ui .opblock-tag").all_inner_texts()
    assert [tag.splitlines()[0] for tag in tags] == ["Operator API", "Player API"]
    # when: the join is opened
    join = page.locator("#operations-Player_API-player_join")
    join.locator(".opblock-summary").click()
    description_box = join.locator(".opblock-description-wrapper").first
    description_box.wait_for()
    # then: what it does and how it authenticates
    description = description_box.inner_text()
    assert "Idempotency-Key" in description and "Authorization: Bearer" in description
    # the request example, as sent
    request = json.loads(join.locator(".opblock-section-request-body .microlight").inner_text())
    assert request == {"streamerId": 42, "amount": "50.00"}
    # the 201 example: the active position, amounts as decimal strings
    created = join.locator("tr.response[data-code='201']")
    body = json.loads(created.locator(".microlight").first.inner_text())
    assert (body["status"], body["contributed"], body["units"]) == (
        "active",
        "50.00000000",
        "40.000000000000000000",
    )
    # and an error of the catalogue, in the wire's shape
    refused = join.locator("tr.response[data-code='402']")
    error = json.loads(refused.locator(".microlight").first.inner_text())
    assert error["errorCode"] == ErrorCode.INSUFFICIENT_BALANCE.value
    assert error["position"]["status"] == "failed"
    join.locator(".opblock-section-request-body").scroll_into_view_if_needed()
    screenshot("api-docs", full_page=False)
    created.scroll_into_view_if_needed()
    screenshot("api-docs-join-responses", full_page=False)
