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
