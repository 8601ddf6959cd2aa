"""``manage.py demo``: the whole product on one machine, with live traffic.

Creates (or reuses) the demo operator wired to the sandbox, streamers with live streams,
followers with balances and an ``admin`` login; prints the admin address and ready player
page links; then serves everything (Django's threaded development server, no reloader) while
background threads play the streamers' bets, make followers join and leave, resume sagas and
snapshot pools. A live table shows the pools. Ctrl-C stops it; the data stays for next time.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_internal_wsgi_application,
)
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from apps.core.logging import RedactTokensFilter
from apps.core.money import amount_to_wire
from apps.sandbox.demo import DemoLoops, DemoWorld, demo_setup, pool_rows

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
LOG_FILE = settings.BASE_DIR / "var" / "demo.log"
CREDENTIALS_FILE = Path(settings.VAR_DIR) / "demo-credentials.json"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Command(BaseCommand):
    help = (
        "Run the demo: demo data wired to the sandbox operator, an admin login (printed), "
        "background play and join/leave traffic, served on http://127.0.0.1:<port>/."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on (8000).")
        parser.add_argument(
            "--no-traffic", action="store_true", help="No background joins and leaves."
        )
        parser.add_argument(
            "--seconds", type=float, default=0, help="Stop after this many seconds (0: never)."
        )
        parser.add_argument(
            "--log-file", default=str(LOG_FILE), help=f"Where logs go ({LOG_FILE})."
        )
        parser.add_argument(
            "--credentials-file",
            default=str(CREDENTIALS_FILE),
            help=f"Where the admin password and API key are kept between runs ({CREDENTIALS_FILE}).",
        )
        parser.add_argument(
            "--stream-cycle",
            type=float,
            default=180.0,
            help="Every this many seconds a stream ends (its pool pays out) and restarts; 0 off.",
        )

    def handle(
        self,
        *args,
        port: int,
        no_traffic: bool,
        seconds: float,
        stream_cycle,
        log_file,
        credentials_file,
        **kw,
    ):
        if not settings.SANDBOX_ENABLED:
            raise CommandError("The demo needs the sandbox operator: set SANDBOX_ENABLED=1.")
        # The wrapped stream itself. django-stubs types OutputWrapper.__getattr__ as returning
        # a callable for every attribute; ``_out`` is the TextIO it wraps.
        out: TextIO = self.stdout._out  # type: ignore[assignment]
        console = Console(file=out, highlight=False)
        if not console.is_terminal:  # a log or a pipe: no wrapping at 80 columns
            console = Console(file=out, highlight=False, width=160)
        base_url = f"http://{HOST}:{port}"
        call_command("migrate", interactive=False, verbosity=0)
        if "PUBLIC_BASE_URL" not in os.environ:
            settings.PUBLIC_BASE_URL = base_url  # the page URLs point at this server
        if "COPYPOOL_STATS_NEW_DAYS" not in os.environ:
            # A demo has no past: its streamers are ranked from their first reading.
            settings.COPYPOOL_STATS_NEW_DAYS = 0
        server = _bind(port)
        _log_to_file(Path(log_file))
        world = demo_setup(base_url=base_url, credentials_file=Path(credentials_file))
        server_thread = threading.Thread(target=server.serve_forever, name="demo-http", daemon=True)
        server_thread.start()
        _print_welcome(console, world, log_file)

        loops = DemoLoops(world, traffic=not no_traffic, stream_cycle_seconds=stream_cycle)
        loops.start()
        # Ctrl-C, and a plain kill, stop the demo cleanly (even when started in the background).
        previous = {sig: signal.signal(sig, _raise_interrupt) for sig in STOP_SIGNALS}
        try:
            _watch(console, world, loops, seconds)
        except KeyboardInterrupt:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            console.print("\nStopping: letting running joins and leaves finish…")
            loops.shutdown()
            server.shutdown()
            server.server_close()
            counts, _ = loops.stats.snapshot()
            console.print(
                f"Stopped. {_counts_line(counts)}. The data stays in the database: "
                "run bin/demo again to continue."
            )


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


class _QuietHandler(WSGIRequestHandler):
    """Request lines go to the log file (through ``django.server``), not over the table."""


def _bind(port: int) -> ThreadedWSGIServer:
    try:
        server = ThreadedWSGIServer((HOST, port), _QuietHandler, ipv6=False)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CommandError(
                f"Port {port} is in use. Stop what runs there, or pick another: "
                f"bin/demo --port {port + 1}"
            ) from error
        raise CommandError(f"Cannot serve on {HOST}:{port}: {error}") from error
    # Static files (admin CSS, the player page's script) are served as runserver does.
    server.set_app(StaticFilesHandler(get_internal_wsgi_application()))
    return server


def _log_to_file(path: Path) -> None:
    """Logs go to a file (var/demo.log) so they do not scroll the live table away."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactTokensFilter())  # request lines carry /play/?token=...
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for each in loggers:
        for existing in list(each.handlers):
            if isinstance(existing, logging.StreamHandler) and not isinstance(
                existing, logging.FileHandler
            ):
                each.removeHandler(existing)
    logging.getLogger().addHandler(handler)
    for name in ("django", "django.server"):
        logging.getLogger(name).propagate = True


def _print_welcome(console: Console, world: DemoWorld, log_file: str) -> None:
    base = world.base_url
    card = Table.grid(padding=(0, 2))
    card.add_column(style="bold")
    card.add_column()
    card.add_row("Admin", f"{base}/admin/")
    card.add_row("User", "admin")
    card.add_row("Password", f"{world.admin_password}  {CREDENTIAL_NOTES[world.password_status]}")
    card.add_row("API docs", f"{base}/api/docs/")
    console.print(Panel(card, title="CopyPool demo is running", border_style="green", expand=False))
    # Long links are printed bare (soft-wrapped) so that they copy in one piece.
    console.print("[bold]Player page[/bold] (what init returns; follower 'You', 1000 USD):")
    console.print(world.you_url, soft_wrap=True, style="cyan")
    console.print("[bold]Demo page[/bold] (what init-demo returns; play money):")
    console.print(world.demo_url(), soft_wrap=True, style="cyan")
    console.print(
        f"[dim]Operator API: X-API-KEY {world.operator_api_key} {CREDENTIAL_NOTES[world.api_key_status]}, secret "
        f"{world.operator.secret_key} (X-REQUEST-SIGNATURE = Base64(HMAC-SHA512(secret, "
        f"hex MD5(body)))). Logs: {log_file}. Ctrl-C stops.[/dim]",
        soft_wrap=True,
    )


CREDENTIAL_NOTES = {
    "kept": "(same as the last run)",
    "new": "(new)",
    "replaced": "(new: the one printed before no longer works)",
}


def _counts_line(counts: dict) -> str:
    keys = ("joins", "leaves", "pending", "failed joins", "refused", "errors", "bets")
    return ", ".join(f"{key} {counts.get(key, 0)}" for key in keys)


def _table(world: DemoWorld, loops: DemoLoops, started: float) -> Group:
    table = Table(title="Open pools", expand=False)
    table.add_column("Streamer")
    table.add_column("State")
    table.add_column("Balance", justify="right")
    table.add_column("NAV", justify="right")
    table.add_column("Followers", justify="right")
    for row in pool_rows(world.operator):
        table.add_row(
            row["streamer"],
            row["state"],
            f"{amount_to_wire(row['balance'])} {row['currency']}",
            f"{row['nav']:.6f}",
            str(row["followers"]),
        )
    counts, last_error = loops.stats.snapshot()
    status = Text(f"{int(time.monotonic() - started)} s · {_counts_line(counts)}\n")
    status.append(
        f"snapshots {counts.get('snapshots', 0)} · sagas resumed "
        f"{counts.get('sagas resumed', 0)} · streams ended {counts.get('streams ended', 0)} · "
        f"{world.base_url}/admin/ · Ctrl-C stops",
        style="dim",
    )
    parts: list[RenderableType] = [table, status]
    if last_error:
        parts.append(Text(f"last error: {last_error}", style="yellow"))
    return Group(*parts)


def _watch(console: Console, world: DemoWorld, loops: DemoLoops, seconds: float) -> None:
    started = time.monotonic()
    deadline = started + seconds if seconds > 0 else None
    if console.is_terminal:
        with Live(_table(world, loops, started), console=console, refresh_per_second=2) as live:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(1)
                live.update(_table(world, loops, started))
        return
    # Not a terminal (a log, a test): a status line every few seconds.
    last = 0.0
    while deadline is None or time.monotonic() < deadline:
        time.sleep(0.5)
        if time.monotonic() - last >= 5:
            last = time.monotonic()
            counts, _ = loops.stats.snapshot()
            console.print(f"[{int(last - started)} s] {_counts_line(counts)}")
            sys.stdout.flush()
