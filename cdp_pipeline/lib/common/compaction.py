"""When the build database is compacted: on a full refresh and once every few days, not every night.

At every checkpoint (each asset's connection ends with one) DuckDB's vacuum merges partly
filled row groups and rewrites row groups holding deleted rows, in every table of the file,
not only the ones the checkpoint wrote. On a quiet night that means rewriting, per table,
the row groups last night left partly filled or thinned by an incremental rebuild: on the
1M-record quiet night about 4 s of a 38 s night, mostly in the raw load
(benchmarks/results/2026-11-29-ef7cb32-incremental-1m.md).

Between compactions each night adds a partly filled row group per table, and rows deleted
by incremental rebuilds (about 5 % of a staging table on a quiet night) keep their space
until the next compaction: the file grows each night, and its used space shrinks back then
(the file keeps its size; the freed blocks are reused). The layout never changes what a
table holds.

So a run compacts (DuckDB's default) on a full refresh, which rewrites every table, and when
``CDP_COMPACT_DAYS`` days have passed since the last compaction; other runs set DuckDB's
``max_vacuum_tasks`` to 0. A run that erases someone compacts after the erasure, as every
run did before, so that the build file keeps no more of the person than it did then.
``audit.compactions`` keeps the day of the last compaction.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from cdp_pipeline.lib.common.warehouse import table_exists

COMPACTIONS = "audit.compactions"


def compaction_due(con: duckdb.DuckDBPyConnection, today: dt.date, *, every_days: int, full_refresh: bool) -> bool:
    """Should this run let DuckDB compact the file (``every_days`` ≤ 1: every run)?"""
    if full_refresh or every_days <= 1:
        return True
    last = (
        con.execute(f"SELECT max(compacted_on) FROM {COMPACTIONS}").fetchall()[0][0]
        if table_exists(con, "audit", "compactions")
        else None
    )
    return last is None or (today - last).days >= every_days


def record_compaction(con: duckdb.DuckDBPyConnection, today: dt.date) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute(f"CREATE TABLE IF NOT EXISTS {COMPACTIONS} (compacted_on DATE)")
    con.execute(
        f"COMMENT ON TABLE {COMPACTIONS} IS 'Internal: the day the build database was last compacted "
        f"(row groups merged, deleted rows dropped); lib/common/compaction.py.'"
    )
    con.execute(f"DELETE FROM {COMPACTIONS}")
    con.execute(f"INSERT INTO {COMPACTIONS} VALUES (?)", [today])


def no_compaction(con: duckdb.DuckDBPyConnection) -> None:
    """Until ``con`` closes (its closing checkpoint included), DuckDB merges no row groups."""
    con.execute("SET max_vacuum_tasks = 0")


def compact_on_close(con: duckdb.DuckDBPyConnection, today: dt.date) -> None:
    """The checkpoint that closes ``con`` compacts the file, whatever the run decided."""
    con.execute("RESET max_vacuum_tasks")
    record_compaction(con, today)
