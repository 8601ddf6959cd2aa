"""The database refuses saga rows the flows can never write (migration 0005)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.followers.models import Position
from apps.pools.models import Pool
from apps.transactions.models import SAGA_STEPS, JoinStep, Saga, Transaction
from apps.transactions.sagas import close_saga_for

D = Decimal
pytestmark = pytest.mark.django_db


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


@pytest.fixture
def pool(streamer):
    return Pool.objects.create(streamer=streamer, operator=streamer.operator, currency="USD")


@pytest.fixture
def position(pool, make_session):
    session = make_session("f1")
    return Position.objects.create(
        pool=pool, follower=session.follower, session=session, contributed=D("10")
    )


def saga(pool, position=None, *, kind="join", step="debit", status="running") -> Saga:
    return Saga.objects.create(
        kind=kind,
        step=step,
        status=status,
        operator=pool.operator,
        pool=pool,
        position=position,
    )


def tx(of: Saga, kind: str, amount: str = "10") -> Transaction:
    return Transaction.objects.create(
        operator=of.operator, kind=kind, amount=D(amount), currency="USD", saga=of, pool=of.pool
    )


# --- saga_step_valid_for_kind --------------------------------------------------------


def test_every_kind_has_its_steps_in_the_constraint():
    assert set(SAGA_STEPS) == set(Saga.Kind.values)


@pytest.mark.parametrize(
    ("kind", "step"),
    [
        ("join", "withdraw"),  # a leave's step
        ("top_up", "withdraw"),  # a top-up runs a join's steps, not a leave's
        ("leave", "debit"),  # a join's step
        ("leave", "failed"),  # a leave never fails: it is retried until paid
        ("close_pool", "credit"),
        ("close_pool", "failed"),
        ("join", "Debit"),
        ("join", ""),
    ],
)
def test_database_refuses_a_step_its_kind_does_not_have(pool, kind, step):
    # when / then
    assert refused(lambda: saga(pool, kind=kind, step=step))
    assert not Saga.objects.exists()


def test_database_accepts_every_step_of_every_kind_and_refuses_moving_to_another_kinds(pool):
    # given: a saga in every step of its kind
    for kind, steps in SAGA_STEPS.items():
        for step in steps.values:
            saga(pool, kind=kind, step=step, status="done")
    leave = saga(pool, kind="leave", step="withdraw", status="done")
    # when / then: an UPDATE is checked as an INSERT is
    assert Saga.objects.count() == sum(len(steps.values) for steps in SAGA_STEPS.values()) + 1
    assert Saga.objects.filter(kind="top_up").count() == len(JoinStep.values)
    assert refused(lambda: Saga.objects.filter(pk=leave.pk).update(step="rollback"))
    assert Saga.objects.get(pk=leave.pk).step == "withdraw"


# --- tx_one_bet_deposit_win_per_saga ---------------------------------------------------


@pytest.mark.parametrize("kind", ["follower_debit", "streamer_deposit", "follower_credit"])
def test_database_refuses_a_second_bet_deposit_or_win_in_one_saga(pool, position, kind):
    # given
    join = saga(pool, position)
    first = tx(join, kind)
    # when / then: a second one (a new external id) would move the money twice
    assert refused(lambda: tx(join, kind))
    assert list(Transaction.objects.filter(saga=join)) == [first]


def test_withdrawals_repeat_in_one_saga_and_rows_without_a_saga_are_not_constrained(pool, position):
    # given: a leave re-priced twice (each WITHDRAWAL with its own id)
    leave = saga(pool, position, kind="leave", step="withdraw")
    withdrawals = [tx(leave, "streamer_withdrawal") for _ in range(3)]
    # and the same kinds in two sagas, or in none
    other = saga(pool, position)
    for of in (saga(pool, position), other):
        tx(of, "follower_debit")
    for _ in range(2):
        Transaction.objects.create(
            operator=pool.operator, kind="follower_credit", amount=D(1), currency="USD"
        )
    # then
    assert Transaction.objects.filter(saga=leave).count() == len(withdrawals) == 3
    assert Transaction.objects.filter(kind="follower_debit").count() == 2
    assert Transaction.objects.filter(saga__isnull=True).count() == 2


# --- saga_one_running_close_per_pool ---------------------------------------------------


def test_database_refuses_a_second_running_close_of_one_pool(pool):
    # given
    first = saga(pool, kind="close_pool", step="close")
    # when / then
    assert refused(lambda: saga(pool, kind="close_pool", step="close"))
    assert list(Saga.objects.all()) == [first]


def test_finished_closes_and_other_pools_closes_are_not_constrained(pool, streamer):
    # given: a close that finished, then the pool's running one; another pool's running one
    done = saga(pool, kind="close_pool", step="done", status="done")
    running = saga(pool, kind="close_pool", step="close")
    other_pool = Pool.objects.create(
        streamer=streamer, operator=streamer.operator, currency="DEMO", is_demo=True
    )
    other = saga(other_pool, kind="close_pool", step="close")
    # then: the get-or-create finds the running one of each pool
    assert {done.status, running.status, other.status} == {"done", "running"}
    assert close_saga_for(pool) == running
    assert close_saga_for(other_pool) == other
    assert Saga.objects.count() == 3
