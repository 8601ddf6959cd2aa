"""What every benchmark shares: a throwaway PostgreSQL database, peak memory, and one way of
printing a figure beside its baseline, the ratio, the target and the command that produced it.

Each script prints a table of ``Figure`` rows (``Report.print``) and, when the environment
names ``BENCH_RESULTS`` (``benchmarks/run_all.py`` does), appends them as JSON lines to that
file, so one run of every benchmark can be read back as one table. Nothing here asserts a
time: a benchmark reports, it never fails on a figure.
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def database_url(default_name: str) -> str:
    """``DATABASE_URL`` if it names PostgreSQL, else a local throwaway database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        url = f"postgres://postgres@127.0.0.1:5432/{default_name}"
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("benchmarks run on PostgreSQL: DATABASE_URL must be a postgres:// URL")
    return url


def recreate_database(url: str) -> None:
    """Drop and create the database ``url`` names (refusing the shared ones).

    When ``BENCH_TEMPLATE`` names a database (``run_all.py`` migrates one first), the new
    database is a copy of it, so the script's own ``migrate`` finds nothing left to do.
    """
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1", "test", "copypool"):
        raise SystemExit(f"refusing to drop database {name!r}: use a throwaway one")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        template = os.environ.get("BENCH_TEMPLATE")
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """The largest peak resident memory of any child process waited for, in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def command_line() -> str:
    """The command that is running, as one would type it again."""
    env = " ".join(
        f"{name}={shlex.quote(os.environ[name])}"
        for name in ("DATABASE_URL",)
        if name in os.environ
    )
    argv = [".venv/bin/python", os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]
    return " ".join(filter(None, [env, shlex.join(argv)]))


@dataclass
class Figure:
    """One measured figure, optionally beside the baseline it is compared with.

    ``ratio`` is ``value / baseline``. ``target`` says in words what the figure should be
    (``"≤ 1.3× the operator's time"``); ``met`` is whether it is, when that can be said.
    """

    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline


@dataclass
class Report:
    """The figures of one benchmark run, printed as a table with the command at the end."""

    benchmark: str
    figures: list[Figure] = field(default_factory=list)
    context: dict[str, object] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def print(self) -> None:
        print(f"\n== {self.benchmark}")
        for key, value in self.context.items():
            print(f"   {key}: {value}")
        header = f"{'figure':44} {'value':>12} {'unit':8} {'baseline':>12}  {'ratio':>7}  target"
        print(header)
        print("-" * len(header))
        for figure in self.figures:
            baseline = "" if figure.baseline is None else f"{figure.baseline:12.2f}"
            ratio = "" if figure.ratio is None else f"{figure.ratio:6.2f}×"
            verdict = {True: " (met)", False: " (NOT met)", None: ""}[figure.met]
            print(
                f"{figure.name:44} {figure.value:12.2f} {figure.unit:8} {baseline:>12}  "
                f"{ratio:>7}  {figure.target}{verdict}"
            )
            if figure.baseline_name:
                print(f"{'':44}   baseline: {figure.baseline_name}")
            if figure.note:
                print(f"{'':44}   {figure.note}")
        command = command_line()
        print(f"command: {command}")
        results = os.environ.get("BENCH_RESULTS")
        if results:
            with open(results, "a", encoding="utf-8") as out:
                for figure in self.figures:
                    row = asdict(figure) | {
                        "script": os.environ.get("BENCH_NAME") or Path(sys.argv[0]).stem,
                        "benchmark": self.benchmark,
                        "ratio": figure.ratio,
                        "command": command,
                        "context": {k: str(v) for k, v in self.context.items()},
                    }
                    out.write(json.dumps(row) + "\n")
