"""Serving the project for a benchmark: gunicorn in a child process, as production runs it.

``gunicorn_start`` starts ``gunicorn -c config/gunicorn.py config.wsgi`` on a free port of
127.0.0.1 against the benchmark's database, with ``DEBUG`` off (no query log kept in memory),
the rate limits raised out of the way (a benchmark measures the work, not the throttle) and
the access log on as in production. It waits until the server answers and hands back a
``Server`` whose ``stop()`` ends it; the server's output goes to ``/tmp/bench-<name>-*.log``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks._common import ROOT

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server_env(database_url: str, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a benchmark's server (or its Celery worker) runs with."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "COPYPOOL_OPERATOR_API_RATE": "1000000/min",
        "COPYPOOL_PLAYER_API_RATE": "1000000/min",
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    }


def gunicorn_start(
    name: str,
    database_url: str,
    *,
    workers: int = 1,
    threads: int = 1,
    extra_env: dict[str, str] | None = None,
    ready_path: str = "/",
    timeout: float = 60,
) -> Server:
    """gunicorn serving the project on a free port, once it answers ``ready_path``."""
    port = free_port()
    log = Path(f"/tmp/bench-{name}-gunicorn.log")
    argv = [GUNICORN, "-c", "config/gunicorn.py", "config.wsgi"]
    argv += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    if threads > 1:
        argv += ["--worker-class", "gthread", "--threads", str(threads)]
    else:  # one thread: gunicorn's sync worker (config/gunicorn.py's default is gthread)
        argv += ["--worker-class", "sync"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=server_env(database_url, extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name=name, url=f"http://127.0.0.1:{port}", process=process, log=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn ({name}) exited: see {log}\n{log.read_text()[-3000:]}")
        try:
            httpx.get(server.url + ready_path, timeout=2)
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.stop()
    raise SystemExit(f"gunicorn ({name}) did not answer within {timeout:.0f} s: see {log}")


# --- the client side: Django in the benchmark's own process, and a sandbox world ------------


def django_setup(database_url: str, extra_env: dict[str, str] | None = None) -> None:
    """Django in this process with the servers' settings (``server_env``), on ``database_url``:
    for building the world, reading the call log, and running cycles in-process."""
    for key, value in server_env(database_url, extra_env).items():
        if key != "PYTHONPATH":
            os.environ[key] = value
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


WORLD_SLUG = "bench-casino"
WORLD_API_KEY = "bench-inbound-api-key"
WORLD_CURRENCY = "USD"


@dataclass
class World:
    """A sandbox operator and our operator wired to it over HTTP: streamers live, each with
    its pool to come, and followers with sandbox accounts and session tokens."""

    operator_id: int
    secret_key: str
    streamer_ids: list[int]
    follower_tokens: dict[str, str]


def world_make(
    operator_url: str,
    *,
    streamers: int,
    followers: int,
    streamer_balance: str = "1000000",
    follower_balance: str = "1000000",
    timeout_seconds: float = 10.0,
) -> World:
    """The sandbox world (as ``apps/sandbox/demo.py`` builds it), its operator served at
    ``operator_url`` (a second gunicorn: the operator's side, apart from ours)."""
    from decimal import Decimal

    from apps.operators.services import operator_create
    from apps.sandbox.services import (
        sandbox_account_create,
        sandbox_operator_create,
        sandbox_token_issue,
    )
    from apps.streamers.services import stream_start, streamer_create

    base = operator_url.rstrip("/")
    sandbox = sandbox_operator_create(
        slug=WORLD_SLUG,
        name="Bench Casino",
        api_key="bench-operator-issued-key",
        secret_key="bench-secret-key",
        wallet_client_id="bench-client",
        wallet_secret="bench-wallet-secret",
    )
    operator, _ = operator_create(
        name="Bench Casino",
        code=WORLD_SLUG,
        callback_url=f"{base}/sandbox/{WORLD_SLUG}/copystake",
        wallet_url=f"{base}/sandbox/{WORLD_SLUG}/wallet",
        api_key=WORLD_API_KEY,
        operator_api_key=sandbox.api_key,
        secret_key=sandbox.secret_key,
        wallet_client_id=sandbox.wallet_client_id,
        wallet_secret=sandbox.wallet_secret,
        request_timeout_seconds=timeout_seconds,
        session_ttl_seconds=24 * 3600,
        min_contribution=Decimal("1"),
        max_contribution=Decimal("10000"),
    )
    streamer_ids = []
    for n in range(streamers):
        user_id = f"s{n:04d}"
        sandbox_account_create(
            operator=sandbox,
            user_id=user_id,
            username=f"Streamer {n}",
            currency=WORLD_CURRENCY,
            balance=Decimal(streamer_balance),
            is_streamer=True,
        )
        streamer = streamer_create(
            operator=operator,
            operator_user_id=user_id,
            currency=WORLD_CURRENCY,
            display_name=f"Streamer {n}",
        )
        stream_start(streamer=streamer, title=f"{user_id} live")
        streamer_ids.append(streamer.pk)
    tokens = {}
    for n in range(followers):
        user_id = f"f{n:04d}"
        account = sandbox_account_create(
            operator=sandbox,
            user_id=user_id,
            username=f"Follower {n}",
            currency=WORLD_CURRENCY,
            balance=Decimal(follower_balance),
        )
        tokens[user_id] = sandbox_token_issue(account=account, ttl_seconds=24 * 3600).token
    return World(
        operator_id=operator.pk,
        secret_key=operator.secret_key,
        streamer_ids=streamer_ids,
        follower_tokens=tokens,
    )


def player_token(world: World, our_url: str, user_id: str) -> str:
    """The player token of a fresh session: the operator's signed ``init`` over HTTP."""
    import json
    from urllib.parse import parse_qs, urlsplit

    from apps.operators.signatures import copystake_signature

    raw = json.dumps(
        {
            "operatorUserId": user_id,
            "userToken": world.follower_tokens[user_id],
            "currency": WORLD_CURRENCY,
            "language": "en",
            "username": f"Follower {user_id}",
        }
    )
    response = httpx.post(
        f"{our_url}/api/v1/copystake/init",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-API-KEY": WORLD_API_KEY,
            "X-REQUEST-SIGNATURE": copystake_signature(world.secret_key, raw),
        },
        timeout=30,
    )
    if response.status_code != 200:
        raise SystemExit(f"init refused: {response.status_code} {response.text[:300]}")
    return str(parse_qs(urlsplit(response.json()["url"]).query)["token"][0])


class PlayerClient:
    """One player on the player API over HTTP (keep-alive), driving join and leave cycles."""

    def __init__(self, our_url: str, token: str, *, timeout: float = 120):
        self.client = httpx.Client(
            base_url=f"{our_url}/api/v1/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def join(self, streamer_id: int, amount: str = "10") -> dict:
        import uuid

        response = self.client.post(
            "pools/join",
            json={"streamerId": streamer_id, "amount": amount},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if response.status_code not in (201, 202):
            raise RuntimeError(f"join: {response.status_code} {response.text[:300]}")
        return dict(response.json())

    def leave(self, position_id: str) -> dict:
        response = self.client.post(f"positions/{position_id}/leave")
        if response.status_code not in (200, 202):
            raise RuntimeError(f"leave: {response.status_code} {response.text[:300]}")
        return dict(response.json())

    def position(self, position_id: str) -> dict:
        response = self.client.get(f"positions/{position_id}")
        response.raise_for_status()
        return dict(response.json())

    def wait_for(self, position_id: str, statuses: tuple[str, ...], timeout: float = 60) -> dict:
        """Poll the position until its status is one of ``statuses`` (a worker finishing)."""
        deadline = time.monotonic() + timeout
        while True:
            position = self.position(position_id)
            if position["status"] in statuses:
                return position
            if time.monotonic() > deadline:
                raise RuntimeError(f"position {position_id} stuck {position['status']}")
            time.sleep(0.02)

    def cycle(self, streamer_id: int, *, poll: bool = False) -> None:
        """One join and one leave; with ``poll``, waiting for a worker to finish each."""
        position = self.join(streamer_id)
        if position["status"] != "active":
            if not poll:
                raise RuntimeError(f"join answered {position['status']}: {position}")
            position = self.wait_for(position["id"], ("active", "failed"))
            if position["status"] != "active":
                raise RuntimeError(f"join failed: {position}")
        left = self.leave(position["id"])
        if left["status"] != "closed":
            if not poll:
                raise RuntimeError(f"leave answered {left['status']}: {left}")
            self.wait_for(position["id"], ("closed",))

    def close(self) -> None:
        self.client.close()
