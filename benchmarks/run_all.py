"""Run every benchmark in this folder and print their figures as one table.

    bin/bench             # full size (tens of minutes)
    bin/bench --smoke     # small size, a minute or two: proves each still runs (CI)
    bin/bench reconcile saga_overhead

Each script declares, at module level, ``RUNS = {"full": [[args...], ...], "smoke": [...]}``
(read here with ``ast``, without importing the script); each run gets its own throwaway
database ``cp_bench_<script>`` on the PostgreSQL of ``BENCH_POSTGRES`` (default
``postgres://postgres@127.0.0.1:5432``) and appends its figures to one results file, read
back at the end. A script that fails makes the whole run fail; a figure never does.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def declared_runs(script: Path) -> dict[str, list[list[str]]]:
    tree = ast.parse(script.read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "RUNS"
        ):
            runs = ast.literal_eval(node.value)
            return {size: [list(map(str, args)) for args in runs[size]] for size in runs}
    raise SystemExit(f"{script.name} declares no RUNS")


def scripts() -> list[Path]:
    return sorted(
        path
        for path in HERE.glob("*.py")
        if not path.name.startswith("_") and path.name != "run_all.py"
    )


def migrated_template(server: str) -> str:
    """A database migrated once, which each benchmark's database is copied from."""
    sys.path.insert(0, str(ROOT))
    from benchmarks._common import recreate_database

    name = "cp_bench_template"
    url = f"{server}/{name}"
    print(f"migrating {url} (each benchmark's database starts as a copy of it)", flush=True)
    recreate_database(url)
    env = os.environ | {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    env.pop("BENCH_TEMPLATE", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these scripts (without .py)")
    parser.add_argument("--smoke", action="store_true", help="small sizes (CI)")
    parser.add_argument("--results", help="keep the JSON lines of figures in this file")
    args = parser.parse_args()
    size = "smoke" if args.smoke else "full"
    chosen = [s for s in scripts() if not args.names or s.stem in args.names]
    unknown = set(args.names) - {s.stem for s in chosen}
    if unknown:
        raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    results = Path(args.results or tempfile.mkstemp(prefix="bench-", suffix=".jsonl")[1])
    results.write_text("")
    failed = []
    started = time.perf_counter()
    template = migrated_template(server)
    for script in chosen:
        for run_args in declared_runs(script)[size]:
            env = os.environ | {
                "DATABASE_URL": f"{server}/cp_bench_{script.stem}",
                "BENCH_RESULTS": str(results),
                "BENCH_NAME": script.stem,
                "BENCH_TEMPLATE": template,
                "PYTHONUNBUFFERED": "1",
            }
            command = [sys.executable, str(script.relative_to(ROOT)), *run_args]
            print(f"\n>>> {' '.join(command)}", flush=True)
            run_started = time.perf_counter()
            code = subprocess.call(command, cwd=ROOT, env=env)
            print(f"<<< {script.stem}: exit {code}, {time.perf_counter() - run_started:.0f} s")
            if code:
                failed.append(f"{script.stem} {' '.join(run_args)}")
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    print(f"\n== all figures ({size}, {time.perf_counter() - started:.0f} s)")
    print(f"{'script':18} {'figure':44} {'value':>12} {'unit':8} {'ratio':>8}  target")
    for row in rows:
        ratio = "" if row["ratio"] is None else f"{row['ratio']:7.2f}×"
        verdict = {True: " (met)", False: " (NOT met)", None: ""}[row["met"]]
        print(
            f"{row['script'][:18]:18} {row['name'][:44]:44} {row['value']:12.2f} {row['unit']:8} "
            f"{ratio:>8}  {row['target']}{verdict}"
        )
    if failed:
        raise SystemExit(f"benchmarks that failed: {'; '.join(failed)}")


if __name__ == "__main__":
    main()
