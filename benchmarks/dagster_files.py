"""Time what `cdp run` spends making Dagster's SQLite files, outside any step: the instance in a
fresh DAGSTER_HOME (as every benchmark night starts), the same home opened again, and a run's
event file kept open as ``launch.sqlite_event_log_kept_open`` makes it (every night).

    PYTHONPATH=<tree> python benchmarks/dagster_files.py WORKDIR [--runs 3]

WORKDIR is emptied first (a DAGSTER_HOME with the repository's dagster.yaml is made there).
Prints wall and CPU seconds of each part; run it alternately with two trees' PYTHONPATH to compare
(``strace -f -e trace=fdatasync`` counts the syncs). A tree without ``launch.open_instance`` is
timed with ``DagsterInstance.get()``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="run event files to make in each home")
    args = parser.parse_args(argv)
    home = args.workdir / "dagster_home"
    shutil.rmtree(args.workdir, ignore_errors=True)
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    os.environ["DAGSTER_HOME"] = str(home)

    import dagster as dg
    from dagster._core.utils import make_new_run_id

    from cdp_pipeline import launch

    open_instance = getattr(launch, "open_instance", dg.DagsterInstance.get)
    for label in ("fresh home", "existing home"):
        wall, cpu = time.perf_counter(), _cpu()
        with open_instance() as instance:
            print(f"instance, {label:14s} {time.perf_counter() - wall:6.3f} s wall {_cpu() - cpu:5.2f} CPU s")
            for _ in range(args.runs):
                wall, cpu = time.perf_counter(), _cpu()
                with launch.sqlite_event_log_kept_open(instance, make_new_run_id()):
                    made = time.perf_counter() - wall
                print(f"  run event file kept open {made:6.3f} s wall {_cpu() - cpu:5.2f} CPU s")
    shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
