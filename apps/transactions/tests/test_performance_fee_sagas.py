"""The performance fee in the leave saga's faults, with the in-memory operator (streamer
balance 1000, wallets 500): a WITHDRAWAL in doubt is asked again with the fee it was priced
with, a re-priced one is priced anew, a leave of nothing pays no fee; the fee row is never
sent and the operator's transaction-status does not know its id; the statement's CSV lists
it."""

import csv
import io
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.followers.models import Position
from apps.followers.tokens import player_token_issue
from apps.operators.tests.factories import encode, post_signed
from apps.pools.models import Pool
from apps.streamers.services import streamer_update
from apps.transactions.models import JournalEntry, Receipt, Saga, Transaction
from apps.transactions.services import position_join, position_leave
from conftest import run_due

D = Decimal
Kind = Transaction.Kind
pytestmark = pytest.mark.django_db(transaction=True)
STREAMER = "streamer-1"


@pytest.fixture
def charging(streamer):
    """The streamer keeps 20 % above the mark."""
    return streamer_update(streamer=streamer, performance_fee_percent=D(20))


def _in_profit(fake, make_session, charging):
    """f1 in with 100 beside the streamer's 1000; the balance grows to 1210 (f1's worth 110)."""
    session = make_session("f1")
    position = position_join(session=session, streamer_id=charging.pk, amount="100")
    fake.streamer_balance[STREAMER] = D(1210)
    return session, position


def test_a_withdrawal_in_doubt_is_asked_again_with_the_fee_it_was_priced_with(
    fake, make_session, charging
):
    session, position = _in_profit(fake, make_session, charging)
    # given: the WITHDRAWAL's answer is lost; meanwhile the streamer wins more
    fake.fail("transfer", "timeout_after")
    position_leave(session=session, position_id=position.pk)
    fake.streamer_balance[STREAMER] += D(500)
    # when
    run_due()
    # then: one WITHDRAWAL, the same id, priced once: 110 less 2
    [withdrawal] = Transaction.objects.filter(kind=Kind.STREAMER_WITHDRAWAL)
    assert (withdrawal.status, withdrawal.amount, withdrawal.fee) == ("succeeded", D(108), D(2))
    assert withdrawal.attempts == 2
    [fee] = Transaction.objects.filter(kind=Kind.PERFORMANCE_FEE)
    assert (fee.amount, fee.units, fee.attempts) == (D(2), withdrawal.fee_units, 0)
    assert ("transfer", "") in fake.calls and fee.external_id not in fake.transfers
    win = Transaction.objects.get(kind=Kind.FOLLOWER_CREDIT)
    assert fake.deposits[win.external_id] == D(108)


def test_a_re_priced_withdrawal_is_priced_anew_with_its_own_fee(fake, make_session, charging):
    session, position = _in_profit(fake, make_session, charging)
    # given: the first WITHDRAWAL is refused for the balance, which is 1320 when read again
    readings = iter([D(1210), D(1320)])
    read = fake.balance

    def balance(*, pool):
        fake.streamer_balance[STREAMER] = next(readings, fake.streamer_balance[STREAMER])
        return read(pool=pool)

    fake.balance = balance
    fake.fail("transfer", "refuse:400:ERR_INSUFFICIENT_BALANCE")
    position_leave(session=session, position_id=position.pk)
    run_due()
    # then: the failed one keeps its price; the applied one was priced at 1320 (worth 120)
    failed, applied = Transaction.objects.filter(kind=Kind.STREAMER_WITHDRAWAL).order_by("pk")
    assert (failed.status, failed.amount, failed.fee) == ("failed", D(108), D(2))
    assert (applied.status, applied.amount, applied.fee) == ("succeeded", D(116), D(4))
    [fee] = Transaction.objects.filter(kind=Kind.PERFORMANCE_FEE)
    assert fee.amount == D(4) and fee.priced_balance == D(1320)
    receipt = Receipt.objects.get(kind="leave")
    assert (receipt.withdrawal_external_id, receipt.fee_external_id) == (
        applied.external_id,
        fee.external_id,
    )
    assert JournalEntry.objects.filter(transaction=fee).exists()


def test_a_leave_of_a_bust_pool_pays_no_fee(fake, make_session, charging):
    session, position = _in_profit(fake, make_session, charging)
    fake.streamer_balance[STREAMER] = D(0)
    position_leave(session=session, position_id=position.pk)
    run_due()
    position.refresh_from_db()
    assert (position.status, position.payout, position.fees_paid) == ("closed", D(0), D(0))
    receipt = Receipt.objects.get(kind="leave")
    assert (receipt.amount, receipt.gross_amount, receipt.fee, receipt.high_water_mark) == (
        D(0),
        D(0),
        D(0),
        D(100),
    )
    assert not Transaction.objects.filter(kind=Kind.PERFORMANCE_FEE).exists()


def test_a_position_at_the_old_rate_keeps_it_and_a_zero_rate_charges_nothing(
    fake, make_session, streamer
):
    # given: f1 opened at 0 %, then the streamer's rate became 50 %
    session = make_session("f1")
    position = position_join(session=session, streamer_id=streamer.pk, amount="100")
    streamer_update(streamer=streamer, performance_fee_percent=D(50))
    fake.streamer_balance[STREAMER] = D(2200)
    # when
    position_leave(session=session, position_id=position.pk)
    # then: no fee, the whole 200 paid
    position.refresh_from_db()
    assert (position.payout, position.fees_paid, position.performance_fee_percent) == (
        D(200),
        D(0),
        D(0),
    )
    assert not Transaction.objects.filter(kind=Kind.PERFORMANCE_FEE).exists()


def test_the_operator_never_learns_of_a_fee_and_the_statement_lists_it(
    client, fake, make_session, charging
):
    session, position = _in_profit(fake, make_session, charging)
    position_leave(session=session, position_id=position.pk)
    fee = Transaction.objects.get(kind=Kind.PERFORMANCE_FEE)
    # the operator's transaction-status knows no such id (it was never sent one)
    response = post_signed(
        client,
        {"api_key": "k", "secret_key": "s"},
        "/api/v1/copystake/transaction-status",
        encode({"id": fee.external_id}),
    )
    assert response.status_code == 404, response.content
    assert response.json()["errorCode"] == "ERR_TRANSACTION_NOT_FOUND"
    # the statement's CSV has the FEE row with the leave's receipt, gross and fee
    player = APIClient()
    player.credentials(HTTP_AUTHORIZATION=f"Bearer {player_token_issue(session)}")
    rows = list(
        csv.DictReader(io.StringIO(player.get("/api/v1/statement?format=csv").content.decode()))
    )
    fee_row = next(row for row in rows if row["kind"] == "FEE")
    win_row = next(row for row in rows if row["kind"] == "WIN")
    assert (fee_row["amount"], fee_row["externalId"], fee_row["receiptKind"]) == (
        "2.00000000",
        fee.external_id,
        "leave",
    )
    assert (fee_row["receiptGrossAmount"], fee_row["receiptFee"]) == ("110.00000000", "2.00000000")
    assert win_row["amount"] == "108.00000000"
    assert D(win_row["amount"]) + D(fee_row["amount"]) == D(fee_row["receiptGrossAmount"])


def test_the_units_stay_conserved_through_partial_leaves_with_fees(fake, make_session, charging):
    session, position = _in_profit(fake, make_session, charging)
    pool = Pool.objects.get(pk=position.pool_id)
    # when: three partial leaves of a quarter each, the balance growing between them
    from apps.transactions.services import position_leave_part

    for balance in (D(1300), D(1400), D(1500)):
        fake.streamer_balance[STREAMER] = balance
        position_leave_part(session=session, position_id=position.pk, fraction=D("0.25"))
        run_due()
        pool.refresh_from_db()
        position.refresh_from_db()
        # then: the pool's units are the streamer's (the fees' included) and f1's
        assert abs(pool.total_units - pool.streamer_units - position.units) <= D("1e-9")
    fees = Transaction.objects.filter(kind=Kind.PERFORMANCE_FEE)
    assert fees.count() == 3
    assert abs(pool.streamer_units - D(1000) - sum(f.units for f in fees)) <= D("1e-9")
    assert position.fees_paid == sum(f.amount for f in fees)
    assert Saga.objects.filter(kind="leave", status="done").count() == 3
    assert position.status == Position.Status.ACTIVE and position.high_water_mark > 0
