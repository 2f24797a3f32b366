"""A build database for staging tests: the raw and audit tables of an ingest, one loaded file in
audit.files, and raw rows inserted as the loader would write them."""

import duckdb

from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables


def open_build_db(path) -> duckdb.DuckDBPyConnection:
    """A new build database at ``path`` with the ingest tables and one loaded CRM file."""
    con = duckdb.connect(str(path))
    ensure_ingest_tables(con)
    con.execute(
        "INSERT INTO audit.files (file, source, landing_date, sha256, bytes, rows_read, rows_loaded, "
        "rows_quarantined, status, loaded_at) "
        "VALUES ('f.csv', 'crm', DATE '2026-10-02', 'x', 1, 0, 0, 0, 'loaded', TIMESTAMP '2026-10-02')"
    )
    return con


def insert_raw(con, table: str, rows: list[dict], day: str = "2026-10-01", file: str = "f.csv") -> None:
    """Rows into raw.<table>, numbered from line 2 of ``file`` (after its header)."""
    for i, row in enumerate(rows, start=2):
        row = {"_file": file, "_line": i, "_landing_date": day, "_file_sha256": "x", **row}
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO raw.{table} ({cols}) VALUES ({marks})", list(row.values()))
