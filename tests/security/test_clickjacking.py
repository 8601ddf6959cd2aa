"""Clickjacking and cross-site actions: every page but /play/ refuses to be framed (both
``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``), /play/ stays frameable, and
no staff action runs from a GET or from a POST without the CSRF token."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import superuser
from apps.pools.models import Pool
from apps.transactions.services import position_join

pytestmark = pytest.mark.django_db

CSP = "Content-Security-Policy"


def directives(response) -> dict[str, str]:
    policy = response[CSP]
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {name: (rest[0] if rest else "") for name, *rest in parts}


@pytest.fixture
def root(client):
    user = superuser()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "path", ["/admin/login/", "/api/docs/", "/api/schema/", "/api/v1/lobby", "/no-such-page/"]
)
def test_pages_refuse_to_be_framed(client, path):
    response = client.get(path)
    assert response["X-Frame-Options"] == "DENY"
    assert directives(response)["frame-ancestors"] == "'none'"


def test_admin_pages_of_a_logged_in_user_refuse_to_be_framed(root):
    for path in ["/admin/", "/admin/operators/operator/", "/admin/transactions/transaction/"]:
        response = root.get(path)
        assert response.status_code == 200, path
        assert response["X-Frame-Options"] == "DENY"
        assert directives(response)["frame-ancestors"] == "'none'"


def test_the_policy_allows_no_foreign_or_inline_script(client):
    policy = directives(client.get("/admin/login/"))
    assert policy["default-src"] == "'self'"
    # a nonce joins it only where a page uses one; one inline handler is allowed by its hash
    assert policy["script-src"] == (
        "'self' 'unsafe-hashes' 'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"
    )
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"


def test_the_player_page_may_be_framed_by_operators(client):
    response = client.get("/play/")
    # then: no X-Frame-Options and no frame-ancestors, but the rest of the policy holds
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    policy = directives(response)
    assert "frame-ancestors" not in policy
    assert policy["default-src"] == "'self'"


def test_the_player_page_may_frame_https_players_and_nothing_else_loosens(client):
    # given: the site's policy, as an ordinary page gets it
    site = directives(client.get("/admin/login/"))
    # when
    play = directives(client.get("/play/"))
    # then: one directive more (frame-src https:, for a broadcast's video player), one less
    # (frame-ancestors), every other the same
    assert play.pop("frame-src") == "https:"
    assert site.pop("frame-ancestors") == "'none'"
    assert play == site
    assert "frame-src" not in site


def test_a_get_with_a_prefilled_reason_only_asks_for_confirmation(
    root, fake, streamer, make_session
):
    # given: a pool holding a follower's money
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    pool = Pool.objects.get(streamer=streamer, state="open")
    url = reverse("admin:pools_pool_act", args=[pool.pk, "pool_settle"])
    calls = len(fake.calls)
    # when: a link (or an <img>) tries to settle it with every field filled in
    response = root.get(url, {"confirm": "yes", "reason": "clickjacked"})
    # then: the confirmation page, nothing sent, nothing recorded
    assert response.status_code == 200
    assert b"are you sure?" in response.content
    assert len(fake.calls) == calls
    assert not StaffAction.objects.exists()
    assert Pool.objects.get(pk=pool.pk).state == "open"


def test_a_staff_action_posted_without_the_csrf_token_is_refused(fake, streamer, make_session):
    # given: a logged-in staff member's browser, which enforces CSRF like production
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    pool = Pool.objects.get(streamer=streamer, state="open")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(superuser())
    url = reverse("admin:pools_pool_act", args=[pool.pk, "pool_settle"])
    calls = len(fake.calls)
    # when: another site posts the form
    response = browser.post(url, {"confirm": "yes", "reason": "cross-site"})
    # then
    assert response.status_code == 403
    assert len(fake.calls) == calls
    assert not StaffAction.objects.exists()
    # and: with the token from the confirmation page, the same post goes through
    page = browser.get(url)
    token = page.context["csrf_token"]
    response = browser.post(url, {"confirm": "yes", "reason": "real", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert StaffAction.objects.get().reason == "real"
