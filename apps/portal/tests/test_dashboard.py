"""The portal's dashboard: the staff dashboard's figures, charts and leaders, of the signed-in
operator only; the staff dashboard still shows everybody's.

Two operators with nothing in common but the shape of their data: Alpha (USD, streamers
"Alice ..."), Bravo (BRL only, streamers "Bruno ..."), different balances and members.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.backoffice.dashboard import dashboard_summary, pooled_value_series, withdrawal_locks
from apps.backoffice.review import review_queue
from apps.backoffice.statistics import followers_in_pools_series, week_leaders
from apps.backoffice.tests.admin_world import (
    make_member,
    make_pool,
    make_transactions,
    secret_operator,
    superuser,
)
from apps.operators.models import Operator
from apps.pools.models import Pool, PoolSnapshot, StreamerRecord
from apps.pools.rollups import rollups_refresh
from apps.portal.roles import Role
from apps.portal.tests.portal_world import member, sign_in
from apps.streamers.models import Streamer
from apps.transactions.models import Transaction

D = Decimal
pytestmark = pytest.mark.django_db

ALPHA_BALANCES = [D("1500.12345678"), D("250.5")]  # 1,750.62 USD in open pools
BRAVO_BALANCES = [D("98765.4321"), D("4444.44444444"), D("30")]  # BRL only


def pools_of(
    operator: Operator,
    balances: list[Decimal],
    *,
    names: str,
    currency: str,
    members: int,
    roi: str,
    start: int = 0,
) -> list[Pool]:
    """Open pools of ``operator`` at ``balances``, each with ``members`` followers, a streamer
    called ``f"{names} {n}"`` and a ranked 7-day record (``roi``, rising by 1 % a streamer)."""
    pools = []
    for n, balance in enumerate(balances, start=start):
        pool = make_pool(operator, n, balance=balance)
        Pool.objects.filter(pk=pool.pk).update(currency=currency)
        Streamer.objects.filter(pk=pool.streamer_id).update(
            display_name=f"{names} {n}", currency=currency
        )
        for m in range(members):
            make_member(pool, 100 * n + m)
        StreamerRecord.objects.create(
            streamer_id=pool.streamer_id,
            window=StreamerRecord.Window.WEEK,
            computed_at=timezone.now(),
            is_new=False,
            currency=currency,
            roi=D(roi) + D(n) / 100,
            max_drawdown=D("0.1"),
            aum=balance,
            followers_now=members,
        )
        pools.append(pool)
    return pools


@pytest.fixture
def alpha() -> SimpleNamespace:
    operator = secret_operator("alpha")
    pools = pools_of(
        operator, ALPHA_BALANCES, names="Alice Streams", currency="USD", members=2, roi="0.05"
    )
    Pool.objects.filter(pk=pools[1].pk).update(lock_state="pending", locked_at=None)
    closed = make_pool(operator, 7)  # neither counted nor charted as open
    Pool.objects.filter(pk=closed.pk).update(state="closed")
    positions = list(pools[0].positions.all())
    transactions = make_transactions(positions[0], 12)
    return SimpleNamespace(operator=operator, pools=pools, transactions=transactions)


@pytest.fixture
def bravo() -> SimpleNamespace:
    operator = secret_operator("bravo")
    pools = pools_of(
        operator, BRAVO_BALANCES, names="Bruno Ao Vivo", currency="BRL", members=3, roi="0.9"
    )
    positions = list(pools[0].positions.all())
    transactions = make_transactions(positions[0], 20)
    Transaction.objects.filter(operator=operator).update(currency="BRL")
    return SimpleNamespace(operator=operator, pools=pools, transactions=transactions)


def dashboard(client) -> str:
    response = client.get(reverse("portal:index"))
    assert response.status_code == 200
    return response.content.decode()


def card(html: str, testid: str) -> str:
    match = re.search(rf'<a class="cp-card[^"]*"[^>]*data-testid="{testid}">(.*?)</a>', html, re.S)
    assert match, f"no {testid} card"
    return match.group(0)


def figure(html: str, testid: str) -> int:
    value = re.search(r'data-testid="figure-value">([\d,]+)<', card(html, testid))
    assert value, testid
    return int(value.group(1).replace(",", ""))


def href(html: str, testid: str) -> str | None:
    found = re.search(r'href="([^"]*)"', card(html, testid).split(">")[0])
    return found.group(1).replace("&amp;", "&") if found else None


def section(html: str, testid: str) -> str:
    return html.split(f'data-testid="{testid}"')[1].split("</section>")[0]


# --- what an operator sees ---------------------------------------------------------------


def test_the_dashboard_shows_the_operators_figures_and_nothing_of_another(client, alpha, bravo):
    # given
    sign_in(client, member(alpha.operator))
    # when
    html = dashboard(client)
    # then: Alpha's figures, exactly
    assert figure(html, "figure-open-pools") == 2
    assert figure(html, "figure-followers") == 4
    assert figure(html, "figure-locks") == 1  # the other pool's OPEN is not acknowledged
    unknown = sum(1 for t in alpha.transactions if t.status == "unknown")
    assert unknown > 0 and figure(html, "figure-unknown") == unknown
    waiting = review_queue().filter(operator=alpha.operator, is_demo=False).count()
    assert waiting > 0 and figure(html, "figure-review") == waiting
    assert figure(html, "figure-calls") == 3  # of 12 calls today, every fourth one unknown
    # the money: 2 places, the exact value on hover, in Alpha's one currency
    money = section(html, "portal-figures")
    assert '<span class="cp-money num" title="1750.62345678">1,750.62' in money
    assert '<span class="cp-ccy">USD</span>' in money
    # the charts and leaders are Alpha's
    pooled = section(html, "pooled-chart")
    assert "<polyline" in pooled and "USD" in pooled
    top = html.split('data-testid="leaders-top"')[1].split("</table>")[0]
    linked = re.findall(r'<a href="/portal/streamers/streamer/(\d+)/change/">([^<]*)</a>', top)
    assert linked == [
        (str(alpha.pools[1].streamer_id), "Alice Streams 1"),
        (str(alpha.pools[0].streamer_id), "Alice Streams 0"),
    ]
    assert "+6.00 %" in top and "+5.00 %" in top
    assert 'data-testid="followers-chart"' in html
    # and nothing of Bravo's: names, ids, currency, amounts
    for foreign in ("Bruno", "streamer-bravo", "Bravo", "BRL", "98,765", "4,444", "98765"):
        assert foreign not in html, foreign
    # nor CopyStake's own checks
    for internal in ("discrepanc", "reconciliation", "staff action", "withdrawallock"):
        assert internal not in html.lower(), internal


def test_every_figure_leads_to_a_portal_page_of_the_same_rows(client, alpha, bravo):
    sign_in(client, member(alpha.operator))
    html = dashboard(client)
    for testid in (
        "figure-open-pools",
        "figure-followers",
        "figure-locks",
        "figure-unknown",
        "figure-review",
        "figure-calls",
    ):
        url = href(html, testid)
        assert url and url.startswith("/portal/"), (testid, url)
        response = client.get(url)
        assert response.status_code == 200, (testid, url)
        page = response.content.decode()
        assert "Bruno" not in page and "BRL" not in page, testid
        # the page lists as many rows as the figure says
        count = response.context["cl"].result_count
        if testid != "figure-followers":  # players are counted, the link lists their pools
            assert count == figure(html, testid), (testid, count)


def test_a_role_sees_only_the_figures_of_its_sections(client, alpha, bravo):
    # given: finance sees pools, streamers, transactions; not the review queue nor calls
    sign_in(client, member(alpha.operator, Role.FINANCE))
    # when
    html = dashboard(client)
    # then
    assert 'data-testid="figure-review"' not in html
    assert 'data-testid="figure-calls"' not in html
    assert href(html, "figure-unknown") == (
        "/portal/transactions/transaction/?status__exact=unknown&is_demo__exact=0"
    )
    assert client.get(href(html, "figure-unknown")).status_code == 200
    assert 'data-testid="leaders-top"' in html and 'data-testid="followers-chart"' in html


def test_staff_viewing_as_the_operator_see_the_operators_dashboard(client, alpha, bravo):
    root = superuser()
    client.force_login(root)
    session = client.session
    session["portal_view_as_operator"] = bravo.operator.pk
    session.save()
    html = dashboard(client)
    assert figure(html, "figure-open-pools") == 3
    assert figure(html, "figure-followers") == 9
    assert '<span class="cp-money num" title="103239.87654444">103,239.88' in html
    assert "Bruno Ao Vivo 2" in html and "Alice" not in html and "USD" not in html


def test_the_staff_dashboard_still_shows_everybody(client, alpha, bravo):
    client.force_login(superuser())
    html = client.get(reverse("admin:index")).content.decode()
    summary = dashboard_summary()
    assert summary.open_pools == 5
    assert [(t.currency, t.pools, t.value) for t in summary.value_by_currency] == [
        ("BRL", 3, D("103239.87654444")),
        ("USD", 2, D("1750.62345678")),
    ]
    assert summary.followers_in_pools == 4 + 9
    assert "103239.87654444 BRL" in html and "1750.62345678 USD" in html
    top = html.split('data-testid="leaders-top"')[1].split("</table>")[0]
    assert "Bruno Ao Vivo 2" in top and "Alice Streams 1" in top
    assert "Open discrepancies" in html and "Last reconciliation" in html


def test_the_dashboard_reads_as_many_queries_for_ten_pools_as_for_two(
    client, django_assert_max_num_queries
):
    # given: two pools of Alpha's, the page seen once (caches warm like a second visit)
    operator = secret_operator("alpha")
    pools_of(operator, [D("100")] * 2, names="Alice", currency="USD", members=2, roi="0.1")
    bravo = secret_operator("bravo")
    pools_of(bravo, [D("200")] * 4, names="Bruno", currency="BRL", members=1, roi="0.2")
    rollups_refresh(now=timezone.now())
    sign_in(client, member(operator))
    dashboard(client)
    with CaptureQueriesContext(connection) as two:
        dashboard(client)
    # when: eight more pools, with members and records
    pools_of(operator, [D("100")] * 8, names="Alice", currency="USD", members=3, roi="0", start=2)
    rollups_refresh(now=timezone.now())
    # then: not one query more
    with django_assert_max_num_queries(len(two.captured_queries)):
        html = dashboard(client)
    assert figure(html, "figure-open-pools") == 10
    assert len(two.captured_queries) <= 20  # 5 for the session and the portal, 11 for the page


# --- the selectors, given an operator -------------------------------------------------------


def test_the_selectors_count_the_operators_rows_only(alpha, bravo):
    # when
    mine = dashboard_summary(operator=alpha.operator)
    theirs = dashboard_summary(operator=bravo.operator)
    # then
    assert [(t.currency, t.pools, t.value) for t in mine.value_by_currency] == [
        ("USD", 2, D("1750.62345678"))
    ]
    assert (mine.followers_in_pools, theirs.followers_in_pools) == (4, 9)
    assert (mine.streamers_locked, theirs.streamers_locked) == (1, 3)
    assert mine.open_discrepancies is None and mine.last_reconciliation is None
    assert set(mine.pooled_value) == {"USD"} and set(theirs.pooled_value) == {"BRL"}
    assert {p.pk for p in withdrawal_locks(operator=bravo.operator)} == {p.pk for p in bravo.pools}
    leaders = week_leaders(operator=bravo.operator)
    assert [r.streamer_id for r in leaders.top] == [p.streamer_id for p in bravo.pools[::-1]]
    assert leaders.bottom == []
    assert {r.streamer.operator_id for r in week_leaders().top} == {
        alpha.operator.pk,
        bravo.operator.pk,
    }


def test_pooled_value_and_followers_series_are_the_operators(alpha, bravo):
    # given: each pool has 6 hourly snapshots (admin_world.make_pool), Alpha's of 1 member
    # (3 pools: 18 readings), Bravo's of 3 (3 pools: 54)
    PoolSnapshot.objects.filter(pool__operator=bravo.operator).update(members=3)
    since = timezone.now() - timedelta(days=1)
    rollups_refresh(now=timezone.now())
    # when
    alpha_value = pooled_value_series(since=since, operator=alpha.operator)
    everybody = pooled_value_series(since=since)
    # then: the last hour is what Alpha's two open pools (and its closed one) held
    assert set(alpha_value) == {"USD"}
    assert alpha_value["USD"][-1][1] == sum(ALPHA_BALANCES) + D("1000.12345678") + 3 * 25
    assert everybody["BRL"] == pooled_value_series(since=since, operator=bravo.operator)["BRL"]
    for kind in ("minute", "hour"):  # the snapshots, the rollups
        mine = followers_in_pools_series(days=1, kind=kind, operator=alpha.operator)
        theirs = followers_in_pools_series(days=1, kind=kind, operator=bravo.operator)
        everybody = followers_in_pools_series(days=1, kind=kind)
        total = sum(n for _, n in mine), sum(n for _, n in theirs), sum(n for _, n in everybody)
        assert total == (18, 54, 72), kind
