"""Rebuild staging tables whole on a COPY of a build database, printing each step's wall and CPU seconds.

    python benchmarks/staging_steps.py BUILD.duckdb order_lines,sms_messages --first-night
    python benchmarks/staging_steps.py BUILD.duckdb identity_records [--trace]

Each table is built as its asset builds it (``build_staging`` with ``full_refresh``), in the
order given, in this one process (as the night's in-process executor runs them). CPU is this
process's user + system time, DuckDB's threads included. ``--first-night`` first empties what a
night keeps for the next (the phone lookup, the record index and its lists of files, the code
each table and its keys were built with), so the steps cost what they cost on the first night;
build the steps that run before the one measured too (a night runs order_lines and sms_messages
before identity_records: the lookup then holds the SMS numbers, and the POS keys order_lines
kept are identity_records' too). ``--trace``: every statement over 0.05 s, with its wall and CPU seconds. It writes into
the database: use a copy.
"""

from __future__ import annotations

import argparse
import resource
import time

import duckdb

from cdp_pipeline.lib.common.warehouse import BUILD_DB_CONFIG, table_exists
from cdp_pipeline.lib.staging.accounting import SQL_DIR
from cdp_pipeline.lib.staging.build import build_staging
from cdp_pipeline.settings import get_settings


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Traced:
    """A connection that prints the statements that take over 0.05 s."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con

    def execute(self, sql, *args, **kwargs):
        wall, cpu = time.perf_counter(), cpu_seconds()
        out = self._con.execute(sql, *args, **kwargs)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        if wall > 0.05:
            print(f"    {wall:6.2f} s wall {cpu:6.2f} s CPU  {' '.join(str(sql).split())[:100]}", flush=True)
        return self if out is self._con else out

    def __getattr__(self, name):
        return getattr(self._con, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    parser.add_argument("tables", help="staging tables, comma-separated, built in this order")
    parser.add_argument("--first-night", action="store_true", help="empty the lookup, index and code first")
    parser.add_argument("--trace", action="store_true", help="print the statements over 0.05 s")
    args = parser.parse_args(argv)
    settings = get_settings()
    config = {**settings.duckdb_config(), **BUILD_DB_CONFIG}
    con = duckdb.connect(args.database, config=config)
    try:
        if args.first_night:
            for statement in (
                "DELETE FROM staging.phone_lookup",
                "DELETE FROM staging.record_keys_by_file",
                "DELETE FROM staging.incremental_code WHERE staging_table <> 'phone_lookup'",
            ):
                con.execute(statement)
            if table_exists(con, "staging", "record_files"):  # a database of code before it has none
                con.execute("DELETE FROM staging.record_files")
        for table in args.tables.split(","):
            wall, cpu = time.perf_counter(), cpu_seconds()
            rows, _ = build_staging(_Traced(con) if args.trace else con, SQL_DIR, table, settings, full_refresh=True)
            wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            print(f"staging/{table}: {wall:.2f} s wall, {cpu:.2f} s CPU, {rows:,} rows", flush=True)
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
