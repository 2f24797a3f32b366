"""Time the golden step alone, as its asset runs it, on a copy of a night's build database
(docs/performance.md, "The golden step").

    python benchmarks/golden_step.py BUILD.duckdb COPY.duckdb --as-of 2026-10-30 \
        [--tz Europe/Stockholm] [--incremental] [--no-compact] [--memory-limit 4GB] [--statements 25] [--keep]

Copies BUILD to COPY (BUILD is never opened read-write), then on COPY, like
``defs/golden/assets.py``: a whole golden build (``full_refresh``; ``--incremental`` lets the
plan decide), its summary and table metadata, and the connection's closing checkpoint, with the
resource's DuckDB settings (4GB unless ``--memory-limit``, 2 threads; compaction on, as on the first night and a full
refresh, unless ``--no-compact``). Prints wall and CPU seconds of this process (DuckDB's threads
included) and, with ``--statements N``, the N statements that took the most CPU. COPY is
deleted afterwards unless ``--keep`` (then ``benchmarks/table_hashes.py COPY --schema golden``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import time

import duckdb

from cdp_pipeline.defs.golden.assets import CUSTOMERS, IDENTIFIER_CONSENT, TIMELINE
from cdp_pipeline.defs.table_metadata import table_metadata
from cdp_pipeline.lib.common.compaction import no_compaction
from cdp_pipeline.lib.common.warehouse import BUILD_DB_CONFIG
from cdp_pipeline.lib.golden.build import build_golden, golden_summary
from cdp_pipeline.lib.golden.survivorship import load_survivorship_config


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _Timed:
    """A connection whose ``execute`` records (wall, CPU, statement) of every statement."""

    def __init__(self, con: duckdb.DuckDBPyConnection, log: list):
        self._con, self._log = con, log

    def execute(self, sql, *args, **kwargs):
        wall, cpu = time.perf_counter(), _cpu()
        result = self._con.execute(sql, *args, **kwargs)
        self._log.append((time.perf_counter() - wall, _cpu() - cpu, " ".join(sql.split())))
        return result

    def __getattr__(self, name):
        return getattr(self._con, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", help="a night's build database (only copied)")
    parser.add_argument("copy", help="where to copy it; the step runs there")
    parser.add_argument("--as-of", required=True, type=dt.date.fromisoformat, help="the night's as-of date")
    parser.add_argument("--tz", default="Europe/Stockholm")
    parser.add_argument("--incremental", action="store_true", help="let the plan choose (default: full_refresh)")
    parser.add_argument("--no-compact", action="store_true", help="no row-group compaction at checkpoints")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit (the night's default: 4GB)")
    parser.add_argument("--statements", type=int, default=0, help="print the N statements with the most CPU")
    parser.add_argument("--keep", action="store_true", help="keep the copy")
    args = parser.parse_args(argv)
    shutil.copyfile(args.build, args.copy)
    os.chmod(args.copy, 0o644)
    config = load_survivorship_config()
    log: list = []
    wall, cpu = time.perf_counter(), _cpu()
    con = duckdb.connect(args.copy, config={"memory_limit": args.memory_limit, "threads": 2, **BUILD_DB_CONFIG})
    if args.no_compact:
        no_compaction(con)
    build = build_golden(
        _Timed(con, log) if args.statements else con,
        args.as_of,
        tz=args.tz,
        config=config,
        full_refresh=not args.incremental,
    )
    golden_summary(con)
    for key in (TIMELINE, IDENTIFIER_CONSENT, CUSTOMERS):
        table_metadata(con, key)
    con.close()
    print(
        f"golden step ({build.mode}: {build.reason}): {time.perf_counter() - wall:.2f} s wall, "
        f"{_cpu() - cpu:.2f} CPU s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB"
    )
    for w, c, sql in sorted(log, key=lambda r: -r[1])[: args.statements]:
        print(f"{w:7.2f} s {c:6.2f} CPU s  {sql[:150]}")
    if not args.keep:
        os.remove(args.copy)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
