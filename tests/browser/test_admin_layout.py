"""Every page staff work in fits at 1280 px and at 1440 px: nothing is cut off on the right
and the page never scrolls sideways. A screenshot of each at both widths, for a reviewer."""

import pytest

from apps.backoffice.tests.admin_world import build_world, superuser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pw-12345"

# name -> path (a {pool}, {follower}, {streamer}, {transaction} or {run} is filled in)
PAGES = {
    "dashboard": "/admin/",
    "pools": "/admin/pools/pool/",
    "pool": "/admin/pools/pool/{pool}/change/",
    "locks": "/admin/backoffice/withdrawallock/",
    "review-queue": "/admin/backoffice/reviewitem/",
    "transactions": "/admin/transactions/transaction/",
    "transaction": "/admin/transactions/transaction/{transaction}/change/",
    "positions": "/admin/followers/position/",
    "follower": "/admin/followers/follower/{follower}/change/",
    "streamer": "/admin/streamers/streamer/{streamer}/change/",
    "reconciliation": "/admin/transactions/reconciliationrun/",
    "reconciliation-run": "/admin/transactions/reconciliationrun/{run}/change/",
    "settlements": "/admin/transactions/dailysettlement/",
    "call-log": "/admin/operators/calllog/",
    "staff-actions": "/admin/backoffice/staffaction/",
}

# How far a page may be wider than the window: none.
OVERFLOW = """() => {
  const root = document.documentElement;
  const name = el => (el.id || el.className || el.tagName).toString().slice(0, 60);
  // a table wider than the window, or than the box that scrolls it (its last columns hidden)
  const wide = [...document.querySelectorAll('#content table')]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
    .map(el => name(el) + ' +' + Math.round(el.getBoundingClientRect().right - window.innerWidth));
  const scrolled = [...document.querySelectorAll('#content .results, #content .module')]
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => name(el) + ' +' + (el.scrollWidth - el.clientWidth));
  return {scroll: root.scrollWidth - root.clientWidth, wide: wide.concat(scrolled)};
}"""


@pytest.fixture
def world(db):
    world = build_world(pools=3, transactions=30)
    user = superuser("layout")
    user.set_password(PASSWORD)
    user.save()
    return world


@pytest.mark.parametrize("width", [1280, 1440])
def test_every_staff_page_fits_the_window(page, live_server, world, screenshot, width):
    from apps.transactions.models import ReconciliationRun

    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "layout")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content")
    ids = {
        "pool": world.pools[0].pk,
        "follower": world.positions[0].follower_id,
        "streamer": world.streamers[0].pk,
        "transaction": world.transactions[0].pk,
        "run": ReconciliationRun.objects.first().pk,
    }
    cut_off = {}
    for name, path in PAGES.items():
        response = page.goto(f"{live_server.url}{path.format(**ids)}")
        assert response is not None and response.status == 200, (name, path)
        page.wait_for_selector("#content")
        measured = page.evaluate(OVERFLOW)
        if measured["scroll"] > 0 or measured["wide"]:
            cut_off[name] = measured
        screenshot(f"layout-{name}-{width}")
    assert not cut_off, f"cut off at {width} px: {cut_off}"
