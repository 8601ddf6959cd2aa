"""The streamer-play simulator: service, Celery task and management command."""

import random
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.core.money import amount_to_wire
from apps.sandbox.models import SandboxAccount, SandboxBet
from apps.sandbox.services import sandbox_account_create, sandbox_play_round
from apps.sandbox.tasks import sandbox_play_round_task

pytestmark = pytest.mark.django_db


def expected_bet(rng: random.Random, balance: Decimal, rtp: Decimal) -> tuple[Decimal, Decimal]:
    """Replays the simulator's two draws: stake percent, then win or lose."""
    stake = (balance * Decimal(rng.randint(100, 500)) / Decimal(10000)).quantize(
        Decimal("0.00000001"), rounding="ROUND_DOWN"
    )
    payout = stake * 2 if rng.random() < float(rtp) / 2 else Decimal(0)
    return stake, payout


def test_round_places_one_bet_per_funded_streamer_with_seeded_rng(operator, streamer, follower):
    # given: a broke streamer and a follower, who never play
    broke = sandbox_account_create(
        operator=operator,
        user_id="streamer-0",
        username="Broke",
        currency="USD",
        balance=Decimal("0"),
        is_streamer=True,
    )
    stake, payout = expected_bet(random.Random(7), Decimal("805"), Decimal("0.96"))
    # when
    bets = sandbox_play_round(rng=random.Random(7))
    # then
    assert [bet.account_id for bet in bets] == [streamer.pk]
    bet = SandboxBet.objects.get()
    assert (bet.stake, bet.payout) == (stake, payout)
    assert Decimal("8.05") <= bet.stake <= Decimal("40.25")
    assert bet.balance_after == Decimal("805") - stake + payout
    streamer.refresh_from_db()
    assert streamer.balance == bet.balance_after
    follower.refresh_from_db()
    broke.refresh_from_db()
    assert (follower.balance, broke.balance) == (Decimal("100"), Decimal("0"))


def test_rounds_move_balances_both_ways_and_log_every_bet(operator, streamer):
    # given
    rng = random.Random(2024)
    # when
    for _ in range(60):
        sandbox_play_round(operator=operator, rng=rng)
    # then
    bets = list(SandboxBet.objects.order_by("pk"))
    assert len(bets) == 60
    assert any(bet.payout > 0 for bet in bets)
    assert any(bet.payout == 0 for bet in bets)
    running = Decimal("805")
    for bet in bets:
        running = running - bet.stake + bet.payout
        assert bet.balance_after == running
    streamer.refresh_from_db()
    assert streamer.balance == running


def test_rtp_zero_always_loses_and_two_always_wins(operator, streamer):
    sandbox_play_round(rtp=Decimal("0"), rng=random.Random(1))
    sandbox_play_round(rtp=Decimal("2"), rng=random.Random(1))
    lost, won = SandboxBet.objects.order_by("pk")
    assert lost.payout == 0
    assert won.payout == won.stake * 2


def test_rtp_out_of_range_is_refused(operator, streamer):
    with pytest.raises(ValueError):
        sandbox_play_round(rtp=Decimal("2.5"))
    assert SandboxBet.objects.count() == 0


def test_round_is_limited_to_one_operator(operator, other_operator, streamer):
    other = sandbox_account_create(
        operator=other_operator,
        user_id="s",
        username="S",
        currency="USD",
        balance=Decimal("10"),
        is_streamer=True,
    )
    sandbox_play_round(operator=other_operator, rng=random.Random(3))
    assert list(SandboxBet.objects.values_list("account_id", flat=True)) == [other.pk]


def test_dust_balance_places_no_bet(operator):
    sandbox_account_create(
        operator=operator,
        user_id="dust",
        username="Dust",
        currency="USD",
        balance=Decimal("0.00000010"),
        is_streamer=True,
    )
    assert sandbox_play_round(rng=random.Random(5)) == []
    assert SandboxAccount.objects.get(user_id="dust").balance == Decimal("0.0000001")


def test_task_plays_a_round(operator, streamer):
    assert sandbox_play_round_task.delay(operator_slug="acme", rtp="0.96").get() == 1
    assert SandboxBet.objects.count() == 1


def test_task_with_unknown_operator_does_nothing(operator, streamer):
    assert sandbox_play_round_task(operator_slug="nobody") == 0
    assert SandboxBet.objects.count() == 0


def test_command_prints_a_line_per_round(operator, streamer):
    # given
    out = StringIO()
    # when
    call_command("sandbox_play", rounds=3, interval=0, rtp="0.96", operator="acme", stdout=out)
    # then
    lines = out.getvalue().splitlines()
    bets = list(SandboxBet.objects.order_by("pk"))
    assert lines == [
        f"round {number}: 1 bets, staked {amount_to_wire(bet.stake)}, paid {amount_to_wire(bet.payout)}"
        for number, bet in enumerate(bets, start=1)
    ]
    assert len(bets) == 3


def test_command_refuses_unknown_operator_and_bad_rtp(operator):
    with pytest.raises(CommandError):
        call_command("sandbox_play", operator="nobody", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("sandbox_play", rtp="lots", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("sandbox_play", rtp="3", stdout=StringIO())
