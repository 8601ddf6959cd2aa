"""A real broker for tests: Redis, Celery workers and beat in subprocesses, PostgreSQL shared.

Needs Redis (``CELERY_TEST_BROKER_URL``, default ``redis://127.0.0.1:6379/15``) and
PostgreSQL (``DATABASE_URL``): the worker subprocesses connect to the test database the test
process created. Without them the tests are skipped, unless ``COPYPOOL_REQUIRE_SERVICES=1``,
where they fail instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from kombu import pools as kombu_pools

from apps.operators.models import Operator
from config.celery import app as celery_app
from tests.broker.operator_server import FakeOperatorServer

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
REQUIRED = os.environ.get("COPYPOOL_REQUIRE_SERVICES") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (COPYPOOL_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        _unavailable(f"Redis is not reachable at {BROKER_URL}: {error}")
    yield client
    client.close()


@pytest.fixture
def shared_database(transactional_db):
    """The test database, committed, and the URL another process reaches it with."""
    if connection.vendor != "postgresql":
        _unavailable("worker subprocesses need PostgreSQL (set DATABASE_URL)")
    db = django_settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{db['NAME']}"


@pytest.fixture
def broker(redis_client, shared_database, settings):
    """Point this process's Celery app at Redis (a queue of its own), not eager."""
    queue = f"copypool-test-{uuid.uuid4().hex[:10]}"
    saved = {
        key: celery_app.conf.get(key)
        for key in ("broker_url", "task_always_eager", "task_default_queue")
    }
    celery_app.conf.update(broker_url=BROKER_URL, task_always_eager=False, task_default_queue=queue)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _reset_producers()
    yield Broker(queue=queue, database_url=shared_database, redis=redis_client)
    celery_app.conf.update(saved)
    _reset_producers()
    _forget_queue(redis_client, queue)


def _reset_producers() -> None:
    """Forget cached broker connections, so the next send uses the current broker_url."""
    kombu_pools.reset()
    # Celery's private connection caches, which celery-types does not declare.
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


def _forget_queue(client, queue: str) -> None:
    """Drop this test's queue and any message of it left unacknowledged (a killed worker's)."""
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, raw in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


class Broker:
    def __init__(self, *, queue: str, database_url: str, redis):
        self.queue = queue
        self.database_url = database_url
        self.redis = redis

    def unacked(self) -> int:
        count = 0
        for raw in self.redis.hgetall("unacked").values():
            try:
                count += json.loads(raw)[2] == self.queue
            except (ValueError, IndexError, TypeError):
                continue
        return count


class CeleryProcess:
    def __init__(self, name: str, process: subprocess.Popen, log: Path):
        self.name = name
        self.process = process
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{self.name} never said {text!r}:\n{self.output()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, nothing saved."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_process(broker, tmp_path):
    """Start ``celery worker`` / ``celery beat`` subprocesses on the test's queue and database."""
    started: list[CeleryProcess] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": broker.database_url,
        "COPYPOOL_TEST_CELERY_BROKER_URL": BROKER_URL,
        "COPYPOOL_TEST_QUEUE": broker.queue,
        "CONN_MAX_AGE": "0",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }

    def start(kind: str, name: str) -> CeleryProcess:
        if kind == "worker":
            args = [
                "worker",
                "--pool=solo",
                f"--hostname={name}-{broker.queue}@%h",
                f"--queues={broker.queue}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ]
        else:
            args = [
                "beat",
                "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
                "--max-interval=1",
                f"--pidfile={tmp_path / (name + '.pid')}",
                "--loglevel=INFO",
            ]
        log = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.broker.run_celery", *args],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        celery = CeleryProcess(name, process, log)
        started.append(celery)
        return celery

    yield start
    for celery in reversed(started):
        celery.stop()


@pytest.fixture
def http_operator(operator):
    """The fixture operator, wired to a real HTTP operator served from this process."""
    with FakeOperatorServer() as server:
        Operator.objects.filter(pk=operator.pk).update(
            callback_url=server.callback_url,
            wallet_url=server.wallet_url,
            request_timeout_seconds=30,
        )
        yield server


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, logs=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    details = "\n".join(f"--- {p.name} ---\n{p.output()[-3000:]}" for p in logs)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{details}")
