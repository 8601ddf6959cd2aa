"""The queries a join and a leave cost, pinned: the saga engine loads the saga once per run
(and its own row again after each step, without joins), renews its lease only when the lease
is half spent, and nested blocks of one money movement share one savepoint-free transaction.

Against the in-memory operator (``fake``), so only our own queries are counted: a change here
must say what it bought or why it costs more."""

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.transactions.services import position_join, position_leave

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(captured: CaptureQueriesContext) -> Counter[str]:
    counted: Counter[str] = Counter()
    for query in captured.captured_queries:
        sql = query["sql"].lstrip()
        verb = sql.split(None, 1)[0].upper()
        if verb == "RELEASE":
            verb = "SAVEPOINT"  # counted as pairs
        elif verb in ("UPDATE", "SELECT") and '"transactions_saga"' in sql.split(" WHERE ")[0]:
            verb += " saga"
        counted[verb] += 1
    return counted


def test_a_join_and_a_leave_cost_these_queries(fake, streamer, make_session):
    # given: a first join opens the pool; the second follower's join and leave are measured
    position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    session = make_session("f2")
    # when
    with CaptureQueriesContext(connection) as join:
        position = position_join(session=session, streamer_id=streamer.pk, amount="50")
    with CaptureQueriesContext(connection) as leave:
        left = position_leave(session=session, position_id=position.pk)
    # then: before (reloading the saga with 7 tables and renewing its lease after every
    # step, a savepoint per nested block, update_or_create for the receipt): join 85, leave 80
    assert (position.status, left.status) == ("active", "closed")
    join_kinds, leave_kinds = kinds(join), kinds(leave)
    assert (join_kinds["UPDATE saga"], join_kinds["SELECT saga"], join_kinds["SAVEPOINT"]) == (
        5,
        6,
        6,
    )
    assert (leave_kinds["UPDATE saga"], leave_kinds["SELECT saga"], leave_kinds["SAVEPOINT"]) == (
        4,
        6,
        6,
    )
    assert statements(join_kinds) == 67
    assert statements(leave_kinds) == 59


def statements(counted: Counter[str]) -> int:
    """Queries, without the BEGIN and COMMIT that not every backend logs."""
    return sum(n for verb, n in counted.items() if verb not in ("BEGIN", "COMMIT"))


def test_the_operator_gateway_reuses_the_pools_operator(operator, streamer, monkeypatch):
    # given: a pool loaded with its operator, and a transaction of it loaded without
    from apps.operators import clients
    from apps.pools.models import Pool
    from apps.transactions import gateways
    from apps.transactions.models import Transaction

    pool = Pool.objects.create(streamer=streamer, operator=operator, currency="USD")
    pool = Pool.objects.select_related("operator", "streamer").get(pk=pool.pk)
    tx = Transaction.objects.create(
        operator=operator, kind="follower_debit", amount=1, currency="USD", pool=pool
    )
    tx = Transaction.objects.get(pk=tx.pk)
    seen = []
    monkeypatch.setattr(clients, "wallet_withdraw", lambda op, **kwargs: seen.append(op))
    monkeypatch.setattr(gateways, "_wallet_args", lambda tx, position: {})
    # when
    with CaptureQueriesContext(connection) as captured:
        gateways.gateway_for(pool).bet(tx=tx, position=None)
    # then: the pool's operator, and no query to load it again
    assert seen == [pool.operator] and len(captured.captured_queries) == 0
