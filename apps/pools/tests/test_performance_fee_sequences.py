"""The performance fee over whole histories of a pool (issue 13): a hypothesis state machine of
random joins, top-ups, partial and full leaves and balance moves, applied as the sagas apply
them (apps.transactions.sagas: join's DEPOSIT raises the mark, a leave is priced by
``leave_price`` and redeems only the units the follower keeps, the fee's passing to the
streamer). After every step the pool's books hold: no unit is worth more than the balance,
the units are the streamer's plus the positions', every fee is the rule applied and none is
charged without profit above the mark, and the money ties out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from apps.core.money import MATH_CONTEXT, ZERO, round_amount_down
from apps.pools.accounting import (
    UNIT_DUST,
    PoolBust,
    leave_price,
    mark_share,
    opening_units,
    payout_for_units,
    units_after_issue,
    units_after_redeem,
    units_for_contribution,
)

CENT = Decimal("0.00000001")
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=8)
percents = st.sampled_from(
    [Decimal(0), Decimal("0.0001"), Decimal("12.5"), Decimal(20), Decimal("33.3333"), Decimal(50)]
)
fractions = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1"), places=4)
moves = st.decimals(min_value=Decimal("0"), max_value=Decimal("3"), places=6)


@dataclass
class Holding:
    """A position as the sagas keep it."""

    percent: Decimal
    units: Decimal = ZERO
    mark: Decimal = ZERO
    contributed: Decimal = ZERO
    paid: Decimal = ZERO
    fees: Decimal = ZERO
    gross: Decimal = ZERO  # what its leaves' units were worth
    open: bool = True


class PoolWithFees(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.balance = Decimal("1000.00000000")
        self.streamer_units = opening_units(balance=self.balance)
        self.total_units = self.streamer_units
        self.positions: list[Holding] = []
        # Every amount into and out of the streamer's balance, for the money to tie out.
        self.opening = self.balance
        self.moved = ZERO
        self.fees_charged = ZERO

    # -- moves -----------------------------------------------------------------------------

    def _issue(self, amount: Decimal) -> Decimal | None:
        """A DEPOSIT of ``amount`` priced now (the join saga): None when the pool is bust."""
        if self.total_units == 0:
            self.streamer_units = self.total_units = opening_units(balance=self.balance)
        try:
            units = units_for_contribution(
                amount=amount, balance=self.balance, total_units=self.total_units
            )
        except PoolBust:
            return None
        self.total_units = units_after_issue(total_units=self.total_units, issued=units)
        with localcontext(MATH_CONTEXT):
            self.balance += amount
        return units

    @rule(amount=amounts, percent=percents)
    def join(self, amount: Decimal, percent: Decimal) -> None:
        units = self._issue(amount)
        if units is None:
            return
        self.positions.append(
            Holding(percent=percent, units=units, mark=amount, contributed=amount)
        )

    @precondition(lambda self: any(p.open for p in self.positions))
    @rule(data=st.data(), amount=amounts)
    def top_up(self, data: st.DataObject, amount: Decimal) -> None:
        position = data.draw(st.sampled_from([p for p in self.positions if p.open]))
        units = self._issue(amount)
        if units is None:
            return
        with localcontext(MATH_CONTEXT):
            position.units += units
            position.mark += amount
            position.contributed += amount

    @rule(factor=moves)
    def balance_moves(self, factor: Decimal) -> None:
        """The streamer plays: the balance grows or shrinks (to 0: bust)."""
        with localcontext(MATH_CONTEXT):
            after = round_amount_down(self.balance * factor)
            self.moved += after - self.balance
        self.balance = after

    @precondition(lambda self: any(p.open for p in self.positions))
    @rule(data=st.data(), fraction=fractions)
    def leave(self, data: st.DataObject, fraction: Decimal) -> None:
        """A partial leave of ``fraction`` of the units (all of them at 1: a full leave)."""
        position = data.draw(st.sampled_from([p for p in self.positions if p.open]))
        with localcontext(MATH_CONTEXT):
            wanted = min((position.units * fraction).quantize(Decimal("1e-18")), position.units)
            rest = position.units - wanted
        # The dust rule of the leave saga (_units_to_redeem): a rest worth nothing leaves too.
        full = rest <= 0 or (
            payout_for_units(units=rest, balance=self.balance, total_units=self.total_units) == 0
        )
        units = position.units if full else wanted
        price = leave_price(
            units=units,
            position_units=position.units,
            mark=position.mark,
            fee_percent=position.percent,
            balance=self.balance,
            total_units=self.total_units,
        )
        # then: the fee is the rule applied to the value and the share of the mark carried
        assert price.mark == mark_share(
            mark=position.mark, units=units, position_units=position.units
        )
        with localcontext(MATH_CONTEXT):
            exact = max(price.value - price.mark, ZERO) * position.percent / 100
        assert price.fee == round_amount_down(exact)
        if price.value <= price.mark:
            assert price.fee == 0 and price.fee_units == 0
        # and the follower is paid something whenever the units are worth something
        assert (price.payout > 0) == (price.value > 0)
        before = self.streamer_units
        if price.value == 0:  # _leave_with_nothing: units redeemed, nothing moves
            redeemed, payout, fee, fee_units = units, ZERO, ZERO, ZERO
        else:
            redeemed, payout, fee, fee_units = (
                price.redeemed,
                price.payout,
                price.fee,
                price.fee_units,
            )
        with localcontext(MATH_CONTEXT):
            self.streamer_units += fee_units
        self.total_units = units_after_redeem(
            total_units=self.total_units, redeemed=redeemed, streamer_units=self.streamer_units
        )
        with localcontext(MATH_CONTEXT):
            self.balance -= payout
            position.units = ZERO if full else position.units - units
            position.mark = ZERO if full else position.mark - price.mark
            position.paid += payout
            position.fees += fee
            position.gross += payout + fee
            self.fees_charged += fee
        position.open = not full
        # and the fee stays with the streamer, as units worth it at the new price
        if fee > 0:
            kept = payout_for_units(
                units=self.streamer_units - before,
                balance=self.balance,
                total_units=self.total_units,
            )
            assert fee - CENT <= kept <= fee + CENT

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def units_are_the_streamers_and_the_positions(self) -> None:
        with localcontext(MATH_CONTEXT):
            held = sum((p.units for p in self.positions), ZERO)
            assert abs(self.total_units - self.streamer_units - held) <= UNIT_DUST
        assert all(p.units >= 0 and p.mark >= 0 for p in self.positions)
        assert all(p.units == 0 and p.mark == 0 for p in self.positions if not p.open)

    @invariant()
    def no_unit_is_worth_more_than_the_balance(self) -> None:
        if self.total_units > 0:
            worth = payout_for_units(
                units=self.total_units, balance=self.balance, total_units=self.total_units
            )
            assert worth <= self.balance
        assert self.balance >= 0

    @invariant()
    def the_money_ties_out(self) -> None:
        # The balance is what the streamer opened with, what came in, less what was paid out,
        # plus what the play moved; the fees never left it.
        with localcontext(MATH_CONTEXT):
            put_in = sum((p.contributed for p in self.positions), ZERO)
            paid = sum((p.paid for p in self.positions), ZERO)
            fees = sum((p.fees for p in self.positions), ZERO)
            assert self.balance == self.opening + put_in - paid + self.moved
        assert fees == self.fees_charged
        # Each follower was paid what their leaves were worth less the fees charged on them.
        assert all(p.paid + p.fees == p.gross and p.fees <= p.gross for p in self.positions)
        # Whatever a follower was paid and charged is no more than their units were worth.
        if self.total_units > 0:
            for position in self.positions:
                value = payout_for_units(
                    units=min(position.units, self.total_units),
                    balance=self.balance,
                    total_units=self.total_units,
                )
                assert value <= self.balance


PoolWithFees.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_performance_fee_histories = PoolWithFees.TestCase
