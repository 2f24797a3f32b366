"""Time the raw layer alone: ``load_partitions`` of every landing day, source by source, into a
fresh build database, with the parse workers or without (docs/performance.md, "The raw layer
on two cores").

    python benchmarks/raw_steps.py LANDING BUILD.duckdb [--workers N] [--sources web,pos] [--one-step]

Prints per source: wall time, CPU seconds of this process and of its finished children (the
parse workers), and where this process spent its time: parsing (CPU of the process while it
parses: a JSON file is read in a thread of its own, which a clock of this thread missed; 0 with
workers), waiting for a worker's file (wall), writing the files (CPU of the process: DuckDB's
threads). Each source is loaded with its own pool of workers and checkpointed, as one step per
source did; with ``--one-step`` the sources are loaded in the order given by one
``load_sources`` (one pool for all, as the raw step does: give the night's order,
crm,esp,pos,sms,web) and checkpointed once, a source's figures being from the end of the one
before to its own (the workers' CPU is counted once they end, with the last source). A last line
gives the totals. The database file is replaced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import time
from pathlib import Path

from cdp_pipeline.lib.common.warehouse import connect_build
from cdp_pipeline.lib.raw import load as load_module
from cdp_pipeline.lib.raw.parse_pool import FileReads

SOURCES = "web,pos,sms,esp,crm"
NIGHT_ORDER = "crm,esp,pos,sms,web"


def _timed(owner, name: str, spent: dict, key: str, clock) -> None:
    """Add the time of each call of ``owner.name`` to ``spent[key]``."""
    inner = getattr(owner, name)

    def timed(*args, **kwargs):
        start = clock()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[key] += clock() - start

    setattr(owner, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("landing", type=Path)
    ap.add_argument("db", type=Path)
    ap.add_argument("--workers", type=int, default=None, help="parse workers (default: the cores; 1: none)")
    ap.add_argument("--sources", default=None, help=f"default {SOURCES}; with --one-step {NIGHT_ORDER}")
    ap.add_argument("--one-step", action="store_true", help="one load_sources for all the sources, in the order given")
    args = ap.parse_args()
    sources = (args.sources or (NIGHT_ORDER if args.one_step else SOURCES)).split(",")
    workers = args.workers or len(os.sched_getaffinity(0))
    args.db.unlink(missing_ok=True)
    con = connect_build(args.db)
    spent = {"parse": 0.0, "wait": 0.0, "write": 0.0}
    _timed(load_module, "parse_or_reject", spent, "parse", time.process_time)
    _timed(FileReads, "take", spent, "wait", time.perf_counter)
    _timed(load_module, "_write_files", spent, "write", time.process_time)
    loaded_at = dt.datetime(2026, 12, 1)
    start = os.times(), time.perf_counter()

    def report(source: str, outcomes, t0, w0) -> None:
        t1, w1 = os.times(), time.perf_counter()
        own = t1.user - t0.user + t1.system - t0.system
        children = t1.children_user - t0.children_user + t1.children_system - t0.children_system
        rows = sum(f.rows_loaded for o in outcomes for f in o.files)
        print(
            f"{source}: {rows:,} rows, wall {w1 - w0:.1f} s, CPU {own + children:.1f} s "
            f"(this process {own:.1f}, workers {children:.1f}); this process: parsing {spent['parse']:.1f} CPU s, "
            f"waiting for workers {spent['wait']:.1f} s, writing {spent['write']:.1f} CPU s; "
            f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
            flush=True,
        )
        spent.update(dict.fromkeys(spent, 0.0))

    if args.one_step:
        days = sorted({p.name for source in sources for p in (args.landing / source).iterdir()})
        t0, w0 = start
        loads = load_module.load_sources(con, args.landing, sources, days, loaded_at=loaded_at, workers=workers)
        for source, outcomes in loads:
            if source == sources[-1]:
                con.execute("CHECKPOINT")
                loads.close()  # the workers end: their CPU time counts
            report(source, outcomes, t0, w0)
            t0, w0 = os.times(), time.perf_counter()
    for source in [] if args.one_step else sources:
        days = sorted(p.name for p in (args.landing / source).iterdir())
        t0, w0 = os.times(), time.perf_counter()
        outcomes = load_module.load_partitions(con, args.landing, source, days, loaded_at=loaded_at, workers=workers)
        con.execute("CHECKPOINT")
        report(source, outcomes, t0, w0)
    t1, w1 = os.times(), time.perf_counter()
    t0, w0 = start
    own = t1.user - t0.user + t1.system - t0.system
    children = t1.children_user - t0.children_user + t1.children_system - t0.children_system
    print(f"all: wall {w1 - w0:.1f} s, CPU {own + children:.1f} s (this process {own:.1f}, workers {children:.1f})")
    con.close()


if __name__ == "__main__":
    main()
