"""Which of a kept night's steps ran at the same time: per step its start and end (seconds from
the run's start), the steps it overlapped, and for the run the sum of the steps' walls against
the run's wall and the seconds with 1 and with 2+ steps running.

    python benchmarks/step_overlap.py WORKDIR/cdp_bench_.../dagster_home [--json OUT]

Reads the run's step events from the Dagster home a ``run_benchmark.py --keep`` night left
(its last run). For the threaded executor (defs/executor.py): the overlap is the gain's source.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import sys
from pathlib import Path


def step_windows(dagster_home: str) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Step key -> (start, end) epoch seconds, and the run's start and end, from the newest run's
    event log file (the home's SQLite storage: ``history/runs/<run id>.db``, opened read-only)."""
    runs = [p for p in Path(dagster_home, "history", "runs").glob("*.db") if p.name != "index.db"]
    if not runs:
        raise SystemExit(f"no run event log under {dagster_home}/history/runs")
    newest = max(runs, key=lambda p: p.stat().st_mtime)
    con = sqlite3.connect(f"file:{newest}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT dagster_event_type, step_key, timestamp FROM event_logs "
            "WHERE dagster_event_type IN ('PIPELINE_START', 'PIPELINE_SUCCESS', 'PIPELINE_FAILURE', 'STEP_START', "
            "'STEP_SUCCESS', 'STEP_FAILURE') ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    windows: dict[str, list[float]] = {}
    run_start = run_end = None
    for kind, step_key, stamp in rows:
        t = _epoch(stamp)
        if kind == "PIPELINE_START":  # the run's events, under their stored names
            run_start = t
        elif kind in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE"):
            run_end = t
        elif kind == "STEP_START":
            windows.setdefault(step_key, [t, t])[0] = t
        else:
            windows.setdefault(step_key, [t, t])[1] = t
    return {k: (a, b) for k, (a, b) in windows.items()}, run_start, run_end


def _epoch(stamp) -> float:
    # Dagster stores the event's time as a naive UTC datetime text
    return dt.datetime.fromisoformat(str(stamp)).replace(tzinfo=dt.timezone.utc).timestamp()


def summary(windows: dict[str, tuple[float, float]], run_start: float, run_end: float) -> dict:
    points = sorted({t for w in windows.values() for t in w})
    by_count: dict[int, float] = {}
    for a, b in zip(points, points[1:]):
        n = sum(1 for s, e in windows.values() if s <= a and e >= b)
        by_count[n] = by_count.get(n, 0.0) + (b - a)
    steps = []
    for k, (s, e) in sorted(windows.items(), key=lambda kv: kv[1][0]):
        beside = sorted(o for o, (s2, e2) in windows.items() if o != k and s2 < e and e2 > s)
        steps.append({"step": k, "start": round(s - run_start, 2), "seconds": round(e - s, 2), "beside": beside})
    return {
        "run_seconds": round(run_end - run_start, 2),
        "sum_of_step_seconds": round(sum(e - s for s, e in windows.values()), 2),
        "seconds_by_steps_running": {n: round(v, 2) for n, v in sorted(by_count.items())},
        "steps": steps,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dagster_home")
    p.add_argument("--json", help="also write the figures here")
    a = p.parse_args(argv)
    out = summary(*step_windows(a.dagster_home))
    print(f"run {out['run_seconds']} s; steps' walls summed {out['sum_of_step_seconds']} s")
    print("seconds with N steps running: " + ", ".join(f"{n}: {v}" for n, v in out["seconds_by_steps_running"].items()))
    for s in out["steps"]:
        print(f"{s['start']:7.2f} {s['seconds']:6.2f}  {s['step']:<45} {', '.join(s['beside'])}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
