"""Issue 16: what proving an erasure costs a night, on the data folder of a run that erased someone.

    export CDP_DATA_DIR=... DAGSTER_HOME=...      # after `cdp run; cdp forget X; cdp run`
    .venv/bin/python benchmarks/erasure_costs.py

Times (wall and CPU seconds, best of 3) the parts of the night that the erasure guarantee adds:
the check's byte scan of every kept file (with nothing recorded clean, then as a quiet night
sees it), the table scan, publish's byte scan of the new file, and publish's two ways of
copying the build file. Publish copies go to a temporary folder; only the record of clean files
(``byte_scan_clean_files.json`` beside the build database) is rewritten. It also runs against an
older checkout (``PYTHONPATH=<checkout>``): parts that checkout lacks are skipped.
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from cdp_pipeline.lib.audit import verify
from cdp_pipeline.lib.publish import warehouse_copy
from cdp_pipeline.settings import get_settings


def timed(label, fn, reset=None, n=3):
    best = None
    for _ in range(n):
        if reset:
            reset()
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        took = (time.perf_counter() - wall, time.process_time() - cpu)
        best = took if best is None or took[0] < best[0] else best
    print(f"{label:55s} wall {best[0]:6.2f} s  cpu {best[1]:6.2f} s   -> {out}")


def main() -> None:
    s = get_settings()
    record = Path(s.build_db).parent / "byte_scan_clean_files.json"
    has_record = hasattr(verify, "clean_files_record")
    con = duckdb.connect(str(s.build_db), read_only=True)
    try:
        summary = lambda r: f"{r[0]} files, {len(r[1])} with matches"  # noqa: E731
        timed(
            "check byte scan, nothing recorded clean",
            lambda: summary(verify.scan_kept_files(con, s)),
            reset=lambda: record.unlink(missing_ok=True),
        )
        if has_record:
            timed(
                "check byte scan, published + previous recorded clean", lambda: summary(verify.scan_kept_files(con, s))
            )
        timed("table scan (scan_erased without files)", lambda: verify.scan_erased(con, s.export_dir, s).clean, n=1)
        erased = verify.ErasedValues.of(con, s)
    finally:
        con.close()
    if has_record:  # measure the scan itself, not the record
        erased = verify.ErasedValues(erased.ids, erased.hashes, erased.salt, None)
    timed("publish's byte scan of the new file", lambda: erased.assert_not_in(s.warehouse))
    tmp = Path(tempfile.mkdtemp(dir=Path(s.warehouse).parent))
    try:
        logical = (
            {"live_rows_only": True}
            if "live_rows_only" in inspect.signature(warehouse_copy.publish_warehouse).parameters
            else {}
        )
        timed(
            "publish copy: logical (COPY FROM DATABASE)",
            lambda: getattr(
                warehouse_copy.publish_warehouse(s.build_db, tmp / "logical.duckdb", keep_previous=False, **logical),
                "copy",
                "logical",
            ),
        )
        if logical:
            timed(
                "publish copy: bytes",
                lambda: warehouse_copy.publish_warehouse(s.build_db, tmp / "bytes.duckdb", keep_previous=False).copy,
            )
    finally:
        shutil.rmtree(tmp)
    print(f"build file {Path(s.build_db).stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
