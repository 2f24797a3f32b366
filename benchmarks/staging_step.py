"""Time staging steps alone: each table built whole (as a full refresh builds it) on a copy of
a night's build database, the copy made first so the night's own file is never written.

    python benchmarks/staging_step.py BUILD.duckdb COPY.duckdb TABLE [TABLE ...]

Prints per table its rows, wall time and CPU seconds of this process (DuckDB's threads
included), and the time of its parts: the statement writing the table (``build_whole``) and
the index of its raw files' keys (``rebuild_index``, keyed tables only). COPY is replaced.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from cdp_pipeline.lib.common.warehouse import connect_build
from cdp_pipeline.lib.staging import incremental
from cdp_pipeline.lib.staging.accounting import SQL_DIR
from cdp_pipeline.lib.staging.build import build_staging
from cdp_pipeline.settings import get_settings

PARTS = ("build_whole", "rebuild_index")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _timed(name: str, spent: dict[str, float]) -> None:
    """Add the CPU seconds of each call of ``incremental.<name>`` to ``spent[name]``."""
    inner = getattr(incremental, name)

    def timed(*args, **kwargs):
        start = _cpu()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[name] += _cpu() - start

    setattr(incremental, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", type=Path)
    ap.add_argument("copy", type=Path)
    ap.add_argument("tables", nargs="+")
    args = ap.parse_args()
    shutil.copyfile(args.build, args.copy)
    spent = dict.fromkeys(PARTS, 0.0)
    for name in PARTS:
        _timed(name, spent)
    con = connect_build(args.copy)
    for table in args.tables:
        spent.update(dict.fromkeys(PARTS, 0.0))
        c0, w0 = _cpu(), time.perf_counter()
        rows, _ = build_staging(con, SQL_DIR, table, get_settings(), full_refresh=True)
        c1, w1 = _cpu(), time.perf_counter()
        parts = ", ".join(f"{name} {spent[name]:.1f}" for name in PARTS)
        print(f"{table}: {rows:,} rows, wall {w1 - w0:.1f} s, CPU {c1 - c0:.1f} s ({parts})", flush=True)
    con.close()


if __name__ == "__main__":
    main()
