"""The double-entry journal over real HTTP against the sandbox operator: joins, play, a
partial leave, a top-up and leaves leave every pool account at 0, the followers', streamers'
and fees' accounts summing to 0 with it, and the journal agreeing with the transaction log."""

import random
from decimal import Decimal

import pytest

from apps.pools.models import Pool
from apps.sandbox.services import sandbox_play_round
from apps.transactions.finance import ledger
from apps.transactions.finance.models import JournalEntry
from apps.transactions.models import Transaction
from tests.e2e.conftest import assert_ledgers_match
from tests.e2e.world import Player, settle

pytestmark = [pytest.mark.django_db(transaction=True)]


def balances_by_kind() -> dict[str, Decimal]:
    [usd] = ledger.trial_balance().currencies
    return {row.kind: row.balance for row in usd.rows}


def test_join_play_and_leave_close_the_books(world):
    # given: two followers join s1's pool; the streamer plays; f1 tops up and leaves a part
    f1, f2 = Player.init(world, "f1"), Player.init(world, "f2")
    first = f1.join("s1", "100").json()
    second = f2.join("s1", "40").json()
    rng = random.Random(11)
    for _ in range(4):
        sandbox_play_round(operator=world.sandbox, rng=rng)
    assert f1.top_up(first["id"], "25").status_code in (200, 201)
    assert f1.leave_part(first["id"], fraction="0.5").status_code == 200
    # when: both leave
    assert f1.leave(first["id"]).status_code == 200
    assert f2.leave(second["id"]).status_code == 200
    settle()
    # then: the operator's books and ours agree, and the journal with our transaction log
    assert_ledgers_match(world)
    pool = Pool.objects.get(pk=first["poolId"])
    assert pool.state == Pool.State.CLOSED
    agreement = ledger.journal_agreement()
    assert agreement.agrees, (agreement.disagreeing, agreement.differences)
    kinds = balances_by_kind()
    assert kinds["pool"] == 0
    assert kinds["follower"] + kinds["streamer"] + kinds.get("streamer_fees", 0) == 0
    # every movement that moved money has exactly its entry, for its amount
    moved = Transaction.objects.filter(ledger.moved_q())
    assert JournalEntry.objects.count() == moved.count() >= 10
    assert ledger.trial_balance().balanced
    # the followers' wallets in the journal moved as the sandbox wallets did
    wallets = {
        row.account_key: row.balance
        for row in ledger.trial_balance(by_account=True, kind="follower").rows
    }
    for user_id, position in (("f1", first), ("f2", second)):
        follower_id = (
            Pool.objects.get(pk=position["poolId"]).positions.get(pk=position["id"]).follower_id
        )
        moved = world.balance(user_id) - world.initial[user_id]
        assert wallets[f"follower:{follower_id}:USD"] == moved


def test_the_daily_settlement_ties_to_the_journal(world):
    from datetime import UTC

    from django.utils import timezone

    from apps.streamers.models import Streamer
    from apps.transactions.models import DailySettlement
    from apps.transactions.settlement import settlement_compute

    # given: a streamer taking a performance fee, followers joining, play, a top-up, leaves
    Streamer.objects.filter(operator_user_id="s1").update(performance_fee_percent=20)
    f1, f2 = Player.init(world, "f1"), Player.init(world, "f2")
    first = f1.join("s1", "100").json()
    second = f2.join("s1", "40").json()
    rng = random.Random(5)
    for _ in range(3):
        sandbox_play_round(operator=world.sandbox, rng=rng)
    assert f1.top_up(first["id"], "10").status_code in (200, 201)
    assert f1.leave(first["id"]).status_code == 200
    assert f2.leave(second["id"]).status_code == 200
    settle()
    # when: today is settled
    today = timezone.now().astimezone(UTC).date()
    settlement_compute(day=today)
    rows = list(ledger.settlements_with_journal(DailySettlement.objects.filter(day=today)))
    # then: every figure of the day equals the journal's entries of the day
    usd = [row for row in rows if row.currency == "USD" and row.money_in > 0]
    assert usd, rows
    for row in rows:
        assert ledger.settlement_journal_differences(row) == {}, row
    assert usd[0].money_in == Decimal("150")
    # and a settlement that no longer ties is shown as such
    DailySettlement.objects.filter(pk=usd[0].pk).update(money_out=usd[0].money_out + 1)
    row = ledger.settlements_with_journal(DailySettlement.objects.filter(pk=usd[0].pk)).get()
    assert set(ledger.settlement_journal_differences(row)) == {"money_out"}
