"""Time storing a night's Dagster events, alone: the event-log bookkeeping of `cdp run`.

    python benchmarks/event_log_writes.py DAGSTER_HOME [--repeat 3]

Reads every event of the one run in ``DAGSTER_HOME`` (a night's, e.g. a benchmark's kept
``dagster_home``; copy it first, opening it may write), then, in a fresh SQLite instance in a
temporary folder each time, creates a run and stores those events in their order
(materialisations, their planned events, check evaluations, step events: each to the run's file
and, as Dagster does, asset events to the index too; the reads a night also makes, each step's
inputs' asset records, are left out). Alternates the ways of storing them and prints the CPU
seconds (user + system) of each, without the night's own work: `cdp run`'s
(``sqlite_event_log_kept_open`` of cdp_pipeline/launch.py), the same without its one engine per
file (``_engine_per_shard``: an engine and a connection per event, as before it was added), and
with ``--dagster`` Dagster's own storage (slow: fsyncs per event).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def read_events(home: Path) -> list:
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(home)
    with dg.DagsterInstance.get() as instance:
        (run,) = instance.get_runs()
        return list(instance.all_logs(run.run_id))


def _tiny_job():
    import dagster as dg

    @dg.op
    def nothing() -> None:
        pass

    @dg.job
    def tiny():
        nothing()

    return tiny


def store_all(events: list, way: str) -> float:
    """CPU seconds to store ``events`` as a new run's in a fresh instance, the ``way`` asked."""
    import dagster as dg
    from dagster._core.utils import make_new_run_id

    from cdp_pipeline import launch

    engine_per_shard = launch._engine_per_shard
    if way == "kept open, engine per event":
        launch._engine_per_shard = lambda _events: nullcontext()
    try:
        with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test(temp_dir=tmp) as instance:
            run_id = make_new_run_id()
            job = _tiny_job()
            start = _cpu()
            with launch.sqlite_event_log_kept_open(instance, run_id) if way != "Dagster's own" else nullcontext():
                instance.create_run_for_job(job, run_id=run_id)
                for entry in events:
                    instance.event_log_storage.store_event(entry._replace(run_id=run_id))
            cpu = _cpu() - start
            assert len(instance.all_logs(run_id)) >= len(events)
            return cpu
    finally:
        launch._engine_per_shard = engine_per_shard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dagster_home", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dagster", action="store_true", help="also Dagster's own storage (minutes of fsyncs)")
    args = parser.parse_args()
    events = read_events(args.dagster_home.resolve())
    print(f"{len(events)} events")
    for i in range(args.repeat):
        for way in ("Dagster's own", "kept open, engine per event", "kept open, engine per file"):
            if way == "Dagster's own" and not args.dagster:
                continue
            wall = time.perf_counter()
            cpu = store_all(events, way)
            print(f"pass {i + 1}  {way:28s} cpu {cpu:6.2f}  wall {time.perf_counter() - wall:6.2f}")


if __name__ == "__main__":
    main()
