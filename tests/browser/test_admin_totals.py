"""Money people can read, in a real browser: per-currency totals of the current filter above
the transactions and pools lists (2 decimals, the exact 8 places on hover), and the
withdrawal-locks list fitting 1280 and 1440 px wide without cutting off a column."""

import re
from decimal import Decimal

import pytest

from apps.backoffice.tests.admin_world import (
    make_member,
    make_pool,
    make_transactions,
    secret_operator,
    superuser,
)
from apps.pools.models import Pool
from apps.streamers.models import Streamer
from apps.transactions.models import Transaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = Decimal
FITS = """() => {
  const table = document.querySelector('#result_list');
  const box = table.parentElement;
  return {table: table.scrollWidth, box: box.clientWidth,
          page: document.documentElement.scrollWidth, viewport: window.innerWidth};
}"""


@pytest.fixture
def world():
    operator = secret_operator()
    pools = []
    for n in range(4):
        pool = make_pool(
            operator, n, balance=D("7733.98917390") * (n + 1), locked_hours_ago=30 if n else 1
        )
        pools.append(pool)
        make_transactions(make_member(pool, n, contributed=D("1250.125") + n), 8, start=n * 8)
    # the longest names the locks list meets
    Streamer.objects.filter(pk=pools[1].streamer_id).update(
        display_name="Lady Fortuna and the Midnight Roulette Syndicate"
    )
    Operator = type(operator)
    Operator.objects.filter(pk=operator.pk).update(name="Acme Interactive Gaming Holdings Ltd")
    Pool.objects.filter(pk=pools[3].pk).update(currency="EUR")
    Transaction.objects.filter(pool=pools[3]).update(currency="EUR")
    return pools


def login(open_page, live_server, width):
    superuser()
    page = open_page(width)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#content")
    return page


def test_transaction_totals_follow_the_filter_with_the_exact_value_on_hover(
    open_page, live_server, world, screenshot_dir
):
    page = login(open_page, live_server, 1440)
    page.goto(f"{live_server.url}/admin/transactions/transaction/?kind=follower_debit")
    box = page.locator("[data-totals]")
    box.wait_for()
    rows = box.locator("tbody tr")
    assert rows.count() == 2  # USD and EUR, one kind
    expected = sum(
        t.amount for t in Transaction.objects.filter(kind="follower_debit", currency="USD")
    )
    usd = box.locator("tr[data-currency=USD] td.num .cp-money").last
    assert usd.get_attribute("title") == f"{expected:.8f}"
    assert usd.inner_text().startswith(f"{expected:,.2f}")
    amount = page.locator("#result_list td.field-money_amount .cp-money").first
    assert len(amount.get_attribute("title").split(".")[1]) == 8
    assert re.fullmatch(r"[\d,]+\.\d\d\s*(USD|EUR)", amount.inner_text().strip())
    page.screenshot(path=str(screenshot_dir / "totals-transactions.png"), full_page=True)


def test_pool_totals_per_currency(open_page, live_server, world, screenshot_dir):
    page = login(open_page, live_server, 1440)
    page.goto(f"{live_server.url}/admin/pools/pool/")
    box = page.locator("[data-totals]")
    box.wait_for()
    assert box.locator("tbody tr").count() == 2
    eur = box.locator("tr[data-currency=EUR] .cp-money").first
    assert eur.get_attribute("title") == "30935.95669560"
    assert eur.inner_text().replace("\n", "").startswith("30,935.96")
    page.screenshot(path=str(screenshot_dir / "totals-pools.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 1440])
def test_the_withdrawal_locks_list_fits(open_page, live_server, world, screenshot_dir, width):
    page = login(open_page, live_server, width)
    page.goto(f"{live_server.url}/admin/backoffice/withdrawallock/")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 4
    page.screenshot(path=str(screenshot_dir / f"locks-{width}.png"), full_page=True)
    sizes = page.evaluate(FITS)
    assert sizes["table"] <= sizes["box"], sizes
    assert sizes["page"] <= sizes["viewport"], sizes
    # the last column is on screen, whole
    last = page.locator("#result_list thead th").last.bounding_box()
    assert last["x"] + last["width"] <= width
    assert page.locator("[data-totals] tbody tr").count() == 2


@pytest.fixture
def screenshot_dir():
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
