"""Sagas through a real broker: Redis, Celery worker (and beat) subprocesses, PostgreSQL.

The test process creates the join exactly as the player API does, except that instead of
driving the saga inline it hands it to the broker (``saga_advance_task``); a worker in
another process, on the same database, talks HTTP to an operator served by this process.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/cp_recon .venv/bin/pytest tests/broker``
"""

import time
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.followers.models import Position
from apps.pools.models import Pool
from apps.transactions import sagas
from apps.transactions.models import Saga, Transaction
from apps.transactions.schedules import schedules_install
from apps.transactions.services import position_join
from apps.transactions.tasks import saga_advance_task
from tests.broker.conftest import wait_until

D = Decimal
pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def through_the_broker(monkeypatch):
    """Joins are driven by workers: the inline drive becomes ``saga_advance_task.delay``."""

    def hand_to_worker(saga_id, **kwargs):
        saga_advance_task.delay(saga_id)
        return Saga.objects.get(pk=saga_id)

    monkeypatch.setattr(sagas, "saga_advance", hand_to_worker)


def test_a_join_saga_runs_to_completion_in_a_real_worker(
    broker, celery_process, http_operator, through_the_broker, streamer, make_session
):
    # given: a worker on the broker
    worker = celery_process("worker", "worker-a")
    worker.wait_for("ready.")
    # when: a follower joins
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert position.status == "joining"  # nothing ran in this process
    # then: the worker ran every step: BET, game-pool OPEN, balances, DEPOSIT
    wait_until(
        lambda: Position.objects.get(pk=position.pk).status == "active",
        timeout=30,
        what="the position to become active",
        logs=[worker],
    )
    saga = Saga.objects.get(position=position)
    assert (saga.status, saga.step) == ("done", "done")
    debit, deposit = (
        Transaction.objects.get(position=position, kind=kind)
        for kind in ("follower_debit", "streamer_deposit")
    )
    assert debit.status == deposit.status == "succeeded"
    assert http_operator.wallets["f1"] == D(400)
    assert http_operator.balances["streamer-1"] == D(1100)
    assert http_operator.pool_state["streamer-1"] == "OPEN"
    assert list(http_operator.transfers) == [deposit.external_id]
    assert Pool.objects.get(pk=position.pool_id).total_units == D(1100)
    assert "Task apps.transactions.tasks.saga_advance_task[" in worker.output()


def test_a_worker_killed_mid_saga_loses_nothing_the_periodic_resume_finishes_it(
    broker, celery_process, http_operator, through_the_broker, streamer, make_session
):
    # given: the operator will apply the DEPOSIT transfer and then never answer it
    http_operator.hang("transfer")
    first = celery_process("worker", "worker-a")
    first.wait_for("ready.")
    position = position_join(session=make_session("f1"), streamer_id=streamer.pk, amount="100")
    assert http_operator.hanging.wait(timeout=30), first.output()[-3000:]
    # when: the worker is killed while it waits for that answer
    first.kill()
    http_operator.release()
    # then: the stored state says exactly where it stopped
    saga = Saga.objects.get(position=position)
    deposit = Transaction.objects.get(position=position, kind="streamer_deposit")
    assert (saga.status, saga.step, saga.lease_owner != "") == ("running", "deposit", True)
    assert (deposit.status, deposit.attempts) == ("pending", 1)
    assert Pool.objects.get(pk=position.pool_id).pricing_saga == saga.pk
    assert http_operator.balances["streamer-1"] == D(1100)  # the money did move
    # ... and its message is parked in Redis' unacknowledged set: with acks_late it would only
    # come back after the visibility timeout (an hour). What brings the saga back is the
    # periodic resume. The dead worker's lease (SAGA_LEASE, 2 minutes) is travelled past.
    assert broker.unacked() == 1
    Saga.objects.filter(pk=saga.pk).update(lease_expires_at=timezone.now())
    schedules_install()
    # when: a new worker comes up, alone: nothing is redelivered to it
    second = celery_process("worker", "worker-b")
    second.wait_for("ready.")
    time.sleep(2)
    assert Position.objects.get(pk=position.pk).status == "joining"
    assert " received" not in second.output()
    # when: beat comes up too
    beat = celery_process("beat", "beat")
    # then: beat's sagas_resume_task hands the saga to the worker, which asks the operator
    # again with the same id; the operator answers the transfer it applied once
    wait_until(
        lambda: Position.objects.get(pk=position.pk).status == "active",
        timeout=40,
        what="the resumed join to finish",
        logs=[second, beat],
    )
    assert "apps.transactions.tasks.sagas_resume_task" in beat.output()
    deposit.refresh_from_db()
    assert (deposit.status, deposit.attempts) == ("succeeded", 2)
    assert list(http_operator.transfers) == [deposit.external_id]
    assert http_operator.balances["streamer-1"] == D(1100)  # once, not twice
    assert http_operator.wallets["f1"] == D(400)
    assert not Transaction.objects.filter(position=position, kind="follower_rollback").exists()
    assert Saga.objects.get(pk=saga.pk).status == "done"
    assert Pool.objects.get(pk=position.pool_id).pricing_saga is None
