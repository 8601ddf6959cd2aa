"""The double-entry journal in use: what each movement posts, the trial balance and account
statement, the agreement with the transaction log, and its reconciliation finding."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.followers.models import Position
from apps.operators.clients import SUCCESS, CallResult
from apps.operators.models import Operator
from apps.transactions.finance import ledger
from apps.transactions.finance.journal import journal_post
from apps.transactions.finance.models import JournalAccount, JournalEntry, JournalLine
from apps.transactions.models import Discrepancy, Transaction
from apps.transactions.reconciliation import reconciliation_run
from apps.transactions.reconciliation.repairs import journal_post_missing
from apps.transactions.sagas.engine import record
from apps.transactions.services import position_join, position_leave
from tests.broker.operator_server import FakeOperatorServer

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


def lines_of(tx: Transaction) -> dict[str, Decimal]:
    """The entry's lines of ``tx`` as {account key: amount}."""
    return {
        line.account.key: line.amount
        for line in JournalLine.objects.filter(entry__transaction=tx).select_related("account")
    }


def balance(key: str) -> Decimal:
    account = JournalAccount.objects.get(key=key)
    return ledger.account_balances([account.pk]).get(account.pk, D(0))


def join(streamer, make_session, user="f1", amount="100"):
    return position_join(session=make_session(user), streamer_id=streamer.pk, amount=amount)


def entry_remove(entry: JournalEntry) -> None:
    """An entry lost: its lines and itself gone in one commit (the trigger allows that)."""
    with transaction.atomic():
        JournalLine.objects.filter(entry=entry).delete()
        entry.delete()


def leave(position):
    return position_leave(session=position.session, position_id=position.pk)


def test_join_and_leave_post_each_movement_to_its_accounts(fake, streamer, make_session):
    # given: f1 joins with 100 and the streamer doubles the pool before f1 leaves
    position = join(streamer, make_session)
    fake.streamer_balance["streamer-1"] = D("2200")
    # when
    leave(position)
    # then: one balanced entry per movement, into and out of the accounts of the table
    txs = {tx.kind: tx for tx in Transaction.objects.filter(position=position)}
    f, p, s = position.follower_id, position.pool_id, streamer.pk
    assert lines_of(txs["follower_debit"]) == {
        f"pool:{p}:USD": D(100),
        f"follower:{f}:USD": -D(100),
    }
    assert lines_of(txs["streamer_deposit"]) == {
        f"streamer:{s}:USD": D(100),
        f"pool:{p}:USD": -D(100),
    }
    withdrawal = txs["streamer_withdrawal"].amount
    assert withdrawal == txs["follower_credit"].amount == D(200)
    assert lines_of(txs["streamer_withdrawal"]) == {
        f"pool:{p}:USD": withdrawal,
        f"streamer:{s}:USD": -withdrawal,
    }
    assert lines_of(txs["follower_credit"]) == {
        f"follower:{f}:USD": withdrawal,
        f"pool:{p}:USD": -withdrawal,
    }
    # the pool's money in transit is back to 0; the follower gained what the streamer paid
    assert balance(f"pool:{p}:USD") == 0
    assert balance(f"follower:{f}:USD") == D(100)
    assert balance(f"streamer:{s}:USD") == -D(100)
    entry = JournalEntry.objects.get(transaction=txs["follower_credit"])
    assert (entry.kind, entry.amount, entry.currency, entry.operator_id) == (
        "follower_credit",
        D(200),
        "USD",
        streamer.operator_id,
    )
    assert entry.posted_at == txs["follower_credit"].completed_at
    assert ledger.journal_agreement().agrees


def test_an_unanswered_bet_rolled_back_posts_the_bet_and_its_refund(fake, streamer, make_session):
    # given: the wallet applied the BET but its answer was lost
    fake.fail("withdraw", "timeout_after")
    # when
    position = join(streamer, make_session)
    # then
    debit = Transaction.objects.get(position=position, kind="follower_debit")
    rollback = Transaction.objects.get(position=position, kind="follower_rollback")
    assert (debit.status, rollback.status) == ("rolled_back", "succeeded")
    f, p = position.follower_id, position.pool_id
    assert lines_of(debit) == {f"pool:{p}:USD": D(100), f"follower:{f}:USD": -D(100)}
    assert lines_of(rollback) == {f"follower:{f}:USD": D(100), f"pool:{p}:USD": -D(100)}
    assert balance(f"pool:{p}:USD") == balance(f"follower:{f}:USD") == 0
    assert ledger.journal_agreement().agrees


def test_a_failed_bet_posts_nothing(fake, streamer, make_session):
    fake.wallet["f1"] = D("10")
    position = join(streamer, make_session)
    assert position.status == "failed"
    assert not JournalEntry.objects.exists()
    assert ledger.journal_agreement().agrees


def test_play_money_posts_nothing(fake, streamer, make_session):
    # given: a demo BET that succeeded
    session = make_session("d1", demo=True)
    tx = Transaction.objects.create(
        operator=streamer.operator,
        kind="follower_debit",
        status="succeeded",
        amount=D(50),
        currency="DEMO",
        follower=session.follower,
        is_demo=True,
    )
    # then
    assert journal_post(tx) is None
    assert not JournalEntry.objects.exists()


def test_a_movement_of_zero_posts_nothing(streamer, make_session):
    follower = make_session("f1").follower
    tx = Transaction.objects.create(
        operator=streamer.operator,
        kind="follower_credit",
        status="succeeded",
        amount=D(0),
        currency="USD",
        follower=follower,
    )
    assert journal_post(tx) is None
    assert not JournalEntry.objects.exists()


def test_posting_twice_or_recording_again_never_posts_twice(fake, streamer, make_session):
    # given: a joined position (its BET is posted)
    position = join(streamer, make_session)
    debit = Transaction.objects.get(position=position, kind="follower_debit")
    first = JournalEntry.objects.get(transaction=debit)
    # when: the post is repeated, and the answer recorded again (a retried step)
    again = journal_post(Transaction.objects.get(pk=debit.pk))
    record(debit, CallResult(SUCCESS, status=200, data={"balance": "400"}), "succeeded")
    # then
    assert again.pk == first.pk
    assert JournalEntry.objects.filter(transaction=debit).count() == 1
    assert JournalLine.objects.filter(entry=first).count() == 2


def test_trial_balance_and_statement_of_a_hand_built_history(fake, streamer, make_session):
    # given: two followers join (100, 50); f1 leaves after the streamer doubled the pool
    first = join(streamer, make_session, "f1", "100")
    second = join(streamer, make_session, "f2", "50")
    fake.streamer_balance["streamer-1"] = D("2300")  # 1150 units at NAV 2
    leave(first)
    # when
    trial = ledger.trial_balance()
    # then: per kind, debits and credits as the movements say; the grand total is 0
    [usd] = trial.currencies
    by_kind = {row.kind: (row.debits, row.credits, row.balance) for row in usd.rows}
    assert by_kind == {
        "follower": (D(200), D(150), D(50)),
        "pool": (D(350), D(350), D(0)),
        "streamer": (D(150), D(200), -D(50)),
    }
    assert (usd.debits, usd.credits, usd.balance, usd.balanced) == (D(700), D(700), 0, True)
    assert trial.balanced
    per_account = ledger.trial_balance(by_account=True).rows
    assert {row.account_key: row.balance for row in per_account if row.kind == "follower"} == {
        f"follower:{first.follower_id}:USD": D(100),
        f"follower:{second.follower_id}:USD": -D(50),
    }
    # the statement of the pool account: four lines in, out, in, out... and back to 0
    pool_account = JournalAccount.objects.get(kind="pool")
    statement = ledger.account_statement(pool_account)
    assert [line.amount for line in statement.lines] == [
        D(100),
        -D(100),
        D(50),
        -D(50),
        D(200),
        -D(200),
    ]
    assert [line.balance for line in statement.lines] == [D(100), 0, D(50), 0, D(200), 0]
    assert (statement.opening, statement.closing, statement.debits, statement.credits) == (
        0,
        0,
        D(350),
        D(350),
    )
    # a period after the joins: opening 0 (joins net out), only the leave's lines
    leave_posted = JournalEntry.objects.get(kind="streamer_withdrawal").posted_at
    period = ledger.account_statement(
        JournalAccount.objects.get(key=f"follower:{first.follower_id}:USD"),
        start=leave_posted - timedelta(microseconds=1),
        end=leave_posted + timedelta(days=1),
    )
    assert (period.opening, period.closing, period.count) == (-D(100), D(100), 1)
    assert [(line.debit, line.credit, line.balance) for line in period.lines] == [
        (D(200), D(0), D(100))
    ]
    # as of before anything was posted, nothing
    assert ledger.trial_balance(as_of=timezone.now() - timedelta(days=1)).currencies == []
    assert ledger.trial_balance(currency="EUR").currencies == []


def test_agreement_lists_each_kind_of_difference(fake, streamer, make_session):
    # given: a joined position, then three ways the journal and the log can disagree
    position = join(streamer, make_session)
    debit = Transaction.objects.get(position=position, kind="follower_debit")
    deposit = Transaction.objects.get(position=position, kind="streamer_deposit")
    entry = JournalEntry.objects.get(transaction=deposit)
    entry_remove(entry)
    Transaction.objects.filter(pk=debit.pk).update(amount=D(90))
    failed = Transaction.objects.create(
        operator=streamer.operator,
        kind="follower_credit",
        status="succeeded",
        amount=D(5),
        currency="USD",
        pool_id=position.pool_id,
        follower_id=position.follower_id,
    )
    journal_post(failed)
    Transaction.objects.filter(pk=failed.pk).update(status="failed")
    # when
    agreement = ledger.journal_agreement()
    # then
    assert not agreement.agrees
    assert agreement.difference_counts == {"missing": 1, "not_moved": 1, "amount_differs": 1}
    by_problem = {d.problem: d for d in agreement.differences}
    assert by_problem["missing"].transaction_id == deposit.pk
    assert by_problem["not_moved"].transaction_id == failed.pk
    assert (
        by_problem["amount_differs"].log_amount,
        by_problem["amount_differs"].journal_amount,
    ) == (
        D(90),
        D(100),
    )
    rows = {row.kind: row for row in agreement.disagreeing}
    assert set(rows) == {"follower_debit", "streamer_deposit", "follower_credit"}
    assert (rows["streamer_deposit"].log_total, rows["streamer_deposit"].journal_total) == (
        D(100),
        D(0),
    )


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the trigger refuses it there")
def test_agreement_finds_an_unbalanced_entry_and_a_closed_pool_not_at_zero(
    fake, streamer, make_session
):
    # given: a position joined and left (its pool closed), then one line of its WIN removed
    position = join(streamer, make_session)
    leave(position)
    win = Transaction.objects.get(position=position, kind="follower_credit")
    JournalLine.objects.filter(entry__transaction=win, amount__lt=0).delete()
    # when
    agreement = ledger.journal_agreement()
    # then
    [unbalanced] = agreement.unbalanced
    assert (unbalanced.entry_id, unbalanced.total, unbalanced.lines) == (
        win.journal_entry.pk,
        D(100),
        1,
    )
    [pool] = agreement.pools_not_zero
    assert (pool.pool_id, pool.balance) == (position.pool_id, D(100))
    assert not ledger.trial_balance().balanced


@pytest.fixture
def server(operator):
    with FakeOperatorServer() as server:
        Operator.objects.filter(pk=operator.pk).update(
            callback_url=server.callback_url, wallet_url=server.wallet_url
        )
        operator.refresh_from_db()
        yield server


def test_reconciliation_finds_a_missing_entry_and_resolves_once_posted(
    fake, server, streamer, make_session
):
    # given: a join whose DEPOSIT was marked succeeded without its entry (an old database)
    position = join(streamer, make_session)
    server.balances["streamer-1"] = D("1100")
    deposit = Transaction.objects.get(position=position, kind="streamer_deposit")
    entry = deposit.journal_entry
    entry_remove(entry)
    # when
    [run] = reconciliation_run().runs
    # then: one finding, for the operator's DEPOSITs in USD
    [finding] = Discrepancy.objects.filter(kind="journal_mismatch", state="open")
    assert (finding.subject, finding.expected, finding.actual) == (
        "journal:USD:streamer_deposit",
        D(100),
        D(0),
    )
    assert finding.details["problems"] == {"missing": 1}
    assert finding.details["transaction_ids"] == [deposit.pk]
    assert (finding.details["log_count"], finding.details["journal_count"]) == (1, 0)
    assert run.found["journal_mismatch"] == {"new": 1}
    assert run.checked["journal_transactions_checked"] == 2
    # when: the missing entries are posted (dry run first: nothing changes)
    out = StringIO()
    call_command("journal_post_missing", "--dry-run", stdout=out)
    assert "streamer_deposit: 1 missing" in out.getvalue()
    assert "Dry run: 1 entries missing, none posted." in out.getvalue()
    assert not JournalEntry.objects.filter(transaction=deposit).exists()
    call_command("journal_post_missing", stdout=out)
    assert "1 entries missing, 1 posted." in out.getvalue()
    assert journal_post_missing().missing == 0  # idempotent
    # then: the next run resolves the finding
    [second] = reconciliation_run().runs
    finding.refresh_from_db()
    assert finding.state == "resolved"
    assert second.auto_resolved == 1
    assert lines_of(deposit) == {
        f"streamer:{streamer.pk}:USD": D(100),
        f"pool:{position.pool_id}:USD": -D(100),
    }


def test_the_ledger_selectors_run_a_bounded_number_of_queries(fake, streamer, make_session):
    def queries() -> list[int]:
        counts = []
        account = JournalAccount.objects.filter(kind="pool").get()
        for selector in (
            ledger.journal_agreement,
            ledger.trial_balance,
            lambda: ledger.trial_balance(by_account=True),
            lambda: ledger.account_statement(account),
        ):
            with CaptureQueriesContext(connection) as captured:
                selector()
            counts.append(len(captured))
        return counts

    # given: one position, then five more (one left)
    join(streamer, make_session, "f0")
    few = queries()
    for n in range(1, 6):
        join(streamer, make_session, f"f{n}")
    leave(Position.objects.filter(status="active").first())
    # then: as many queries for six positions as for one
    assert queries() == few
    assert few[1] == few[2] == 1 and few[3] == 3
