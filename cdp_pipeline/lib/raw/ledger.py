"""The tables the raw layer writes: raw.<kind>, the file ledger and the quarantine.

Statements live in ``cdp_pipeline/lib/raw/sql`` (``SQL_DIR``, one per file); this module
creates tables from the file-kind contracts; it and ``load.py`` run the statements with the one
runner (``lib/common/sql_files.py``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.previews import markdown_table
from cdp_pipeline.lib.common.sql_files import fetch_sql, query_sql, quote_ident, run_sql
from cdp_pipeline.lib.common.warehouse import ensure_schemas
from cdp_pipeline.lib.raw.file_kinds import TABLE_KINDS

SQL_DIR = Path(__file__).resolve().parent / "sql"

LEDGER_STATUSES = ("loaded", "empty", "duplicate", "rejected", "superseded")

# Columns every raw table carries besides the kind's canonical (VARCHAR) columns.
RAW_METADATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_extra", "JSON"),
    ("_file", "VARCHAR"),
    ("_file_sha256", "VARCHAR"),
    ("_line", "BIGINT"),
    ("_landing_date", "DATE"),
    ("_loaded_at", "TIMESTAMP"),
)


def raw_table_columns(table: str) -> list[tuple[str, str]]:
    """(name, type) of a raw table: the union of its kinds' columns, then the metadata columns."""
    names: list[str] = []
    for kind in TABLE_KINDS[table]:
        names.extend(c for c in kind.columns if c not in names)
    return [(c, "VARCHAR") for c in names] + list(RAW_METADATA_COLUMNS)


# Columns stored with a compression other than DuckDB's choice. GA4's event_json holds a whole
# line (~700 characters) per row: at 100,000 customers (587,661 lines) DuckDB's dictionary/FSST
# took 3.1 s CPU to checkpoint them into 148 MB, zstd 0.9 s into 49 MB, and a scan of the column
# reads no slower. Only a table created with it has it (DuckDB cannot change a column's
# compression in place): an older build database keeps its own until it is rebuilt.
COLUMN_COMPRESSION: dict[tuple[str, str], str] = {("web_events", "event_json"): "zstd"}


def ensure_raw_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create ``raw.<table>`` or add the columns a newer contract introduced."""
    columns = [
        (c, f"{t} USING COMPRESSION {COLUMN_COMPRESSION[table, c]}" if (table, c) in COLUMN_COMPRESSION else t)
        for c, t in raw_table_columns(table)
    ]
    defs = ", ".join(f"{quote_ident(c)} {t}" for c, t in columns)
    run_sql(con, SQL_DIR, "create_raw_table", table=table, column_defs=defs)
    existing = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = ?", [table]
        ).fetchall()
    }
    for c, t in columns:
        if c not in existing:
            run_sql(con, SQL_DIR, "add_raw_column", table=table, column=quote_ident(c), column_type=t)


def ensure_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_schemas(con)
    run_sql(con, SQL_DIR, "create_audit_files")
    run_sql(con, SQL_DIR, "add_files_rows_suppressed")
    run_sql(con, SQL_DIR, "add_files_rows_erased")
    run_sql(con, SQL_DIR, "create_audit_quarantine")


def ensure_ingest_tables(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] | None = None) -> None:
    """Schemas, the ledger, the quarantine and the given raw tables (all by default)."""
    ensure_audit_tables(con)
    for table in tables or tuple(TABLE_KINDS):
        ensure_raw_table(con, table)


def kinds_of_table(table: str) -> list[str]:
    return [k.name for k in TABLE_KINDS[table]]


def ledger_balance(con: duckdb.DuckDBPyConnection, source: str, table: str) -> dict:
    """Does the ledger add up for a raw table? rows read = rows loaded + rows quarantined (+ rows
    suppressed because they belong to an erased person) per file,
    the quarantine holds as many row entries as the ledger says, and raw holds the rows loaded less
    the rows an erasure deleted since (counted per file in ``rows_erased``)."""
    kinds = kinds_of_table(table)
    params = {"source": source, "file_kinds": kinds}
    imbalanced = fetch_sql(con, SQL_DIR, "select_ledger_imbalance", params)
    (files, rows_read, rows_loaded_live, rows_quarantined, rows_suppressed, rows_erased) = fetch_sql(
        con, SQL_DIR, "select_ledger_totals", params
    )[0]
    raw_rows = fetch_sql(con, SQL_DIR, "count_raw_rows", table=table)[0][0]
    quarantine_rows = fetch_sql(con, SQL_DIR, "count_quarantined_rows", params)[0][0]
    return {
        "files": files,
        "rows_read": rows_read,
        "rows_loaded_live": rows_loaded_live,
        "rows_quarantined": rows_quarantined,
        "rows_suppressed": rows_suppressed,
        "rows_erased": rows_erased,
        "raw_rows": raw_rows,
        "quarantine_rows": quarantine_rows,
        "imbalanced_files": [r[0] for r in imbalanced],
        "balanced": not imbalanced and quarantine_rows == rows_quarantined,
        "raw_matches": raw_rows == rows_loaded_live,
    }


def raw_preview(con: duckdb.DuckDBPyConnection, table: str, first_day: str, last_day: str) -> str:
    days = {"first_day": first_day, "last_day": last_day}
    columns, rows = query_sql(con, SQL_DIR, "select_raw_preview", days, table=table)
    return markdown_table(columns, rows) if rows else "(no rows for these landing days)"


def ledger_entries_of(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, object]]:
    """``ledger_entries`` on a connection whose database has the ledger."""
    return [(f, str(d), int(b), t) for f, d, b, t in fetch_sql(con, SQL_DIR, "select_ledger_entries")]


def ledger_entries(build_db: Path) -> list[tuple[str, str, int, object]]:
    """``(file, landing_date, bytes, loaded_at)`` of every file the build database has seen;
    empty when there is no build database yet. Opened read-only: only runs write it."""
    if not Path(build_db).exists():
        return []
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        if not con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'audit' AND table_name = 'files'"
        ).fetchall()[0][0]:
            return []
        return ledger_entries_of(con)
    finally:
        con.close()


def record_erased_rows(con: duckdb.DuckDBPyConnection, erased: list[tuple[str, str, int]]) -> None:
    """Count ``(file, sha256, rows)`` raw rows deleted by an erasure against the ledger entries that
    loaded them (a no-op where there is no ledger)."""
    if not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'audit' AND table_name = 'files'"
    ).fetchall()[0][0]:
        return
    run_sql(con, SQL_DIR, "add_files_rows_erased")
    for file, sha256, rows in erased:
        run_sql(con, SQL_DIR, "update_files_rows_erased", {"file": file, "sha256": sha256, "rows": rows})
