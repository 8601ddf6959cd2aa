"""``manage.py demo`` as a new user runs it: a fresh SQLite file, migrate, then the demo."""

import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parents[2]
PLAYER_URL = re.compile(r"http://127\.0\.0\.1:\d+/play/\?token=\S+")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _get(url: str, **kwargs) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5, **kwargs)
    except httpx.HTTPError:
        return None


def test_demo_serves_the_admin_and_fills_pools(tmp_path):
    # given: an empty database file, migrated as bin/demo does
    database = tmp_path / "demo.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PUBLIC_BASE_URL", "CELERY_BROKER_URL"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        PYTHONUNBUFFERED="1",
    )
    port = _free_port()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=120,
    )
    # when
    demo = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "demo",
            "--seconds",
            "20",
            "--port",
            str(port),
            "--log-file",
            str(tmp_path / "demo.log"),
            "--credentials-file",
            str(tmp_path / "demo-credentials.json"),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(demo.stdout), daemon=True)
    reader.start()
    try:
        base = f"http://127.0.0.1:{port}"
        login = _until(
            lambda: (r := _get(f"{base}/admin/login/")) is not None and r.status_code == 200 and r,
            30,
            "the admin login page",
        )
        assert "Django" in login.text or "admin" in login.text.lower()
        url = _until(
            lambda: (m := PLAYER_URL.search("".join(output))) and m.group(0), 30, "the player URL"
        )
        token = url.split("token=", 1)[1].split("&", 1)[0]
        # the page swaps the URL's token for its cookie, then serves itself without it
        exchange = _get(url)
        assert exchange is not None and exchange.status_code == 302
        assert "token=" not in exchange.headers["Location"]
        cookie = f"copypool_play={exchange.cookies['copypool_play']}"
        page = _get(f"{base}{exchange.headers['Location']}", headers={"Cookie": cookie})
        assert page is not None and page.status_code == 200 and token in page.text
        # then: within seconds, live pools with followers
        lobby = _until(
            lambda: (
                (r := _get(f"{base}/api/v1/lobby", headers={"Authorization": f"Bearer {token}"}))
                is not None
                and r.status_code == 200
                and any(e["pool"] and e["pool"]["followers"] > 0 for e in r.json())
                and r.json()
            ),
            30,
            "a pool with followers in the lobby",
        )
        assert len(lobby) >= 3
        # every demo streamer has a stream announced, for the page's "Upcoming" list
        assert sum(entry["status"] == "upcoming" for entry in lobby) >= 3
        assert demo.wait(timeout=60) == 0, "".join(output)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    text = "".join(output)
    assert "Password" in text and f"{base}/admin/" in text
    assert "Stopped." in text
    with sqlite3.connect(database) as db:
        counts = {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in (
                "pools_pool",
                "transactions_transaction",
                "operators_calllog",
                "pools_poolsnapshot",
                "sandbox_sandboxbet",
                "auth_user",
                "pools_poolrollup",
                "pools_streamerrecord",
                "transactions_reconciliationrun",
            )
        }
        succeeded = db.execute(
            "SELECT COUNT(*) FROM transactions_transaction WHERE status = 'succeeded'"
        ).fetchone()[0]
    assert all(counts.values()), counts
    assert succeeded > 0
