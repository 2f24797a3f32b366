"""How the identity tables written whole store their columns.

Record ids and hashes (strings that rarely repeat) are stored with ZSTD rather than DuckDB's
default for text (a dictionary with FSST, analysed per segment): cheaper to write, as for staging
(``lib/staging/storage.py``) and ``golden.customers``, but here larger. At 1M records (each
table's rows inserted into an empty table, CPU s, then its size after a checkpoint), default ->
ZSTD on the columns below: ``graph_records`` 1.11 -> 0.56 (30.0 -> 36.0 MiB), ``links`` 1.55
-> 1.35 (29.2 -> 39.2), ``graph_edges`` 1.02 -> 0.88 (unsorted; 22.0 -> 28.7), ``customer_map``
0.74 -> 0.64 (14.5 -> 16.2), ``scored_records`` 0.40 -> 0.26 (12.2 -> 12.7). Columns where
ZSTD saved little or no CPU are left to DuckDB: the match-weight JSON (``links`` 1.58 against
1.55, ``scored_pairs`` 0.41 against 0.36, and 2-6 MiB larger), ``customer_map``'s customer_id
(0.72 against 0.74 alone, 3.7 MiB larger). The rows and their order are the same either
way: only the bytes on disk differ. A compression is declared when a table is made, so a table
kept from an older build takes it the next time it is written whole.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.common.sql_files import quote_ident

ZSTD_COLUMNS: dict[str, frozenset[str]] = {
    "identity.customer_map": frozenset({"source_record_id"}),
    "identity.links": frozenset({"record_l", "record_r", "identifier_value"}),
    "identity.graph_records": frozenset({"source_record_id", "record_hash", "component_key"}),
    "identity.graph_edges": frozenset({"record_l", "record_r"}),
    "identity.scored_records": frozenset({"input_hash"}),
    "identity.record_numbers": frozenset({"source_record_id"}),
}


def column_definitions(table: str, columns: list[tuple[str, str]]) -> str:
    """``columns`` (name, type) as a CREATE TABLE lists them, with ``ZSTD_COLUMNS`` declared."""
    zstd = ZSTD_COLUMNS.get(table, frozenset())
    return ", ".join(
        f"{quote_ident(name)} {data_type}{' USING COMPRESSION zstd' if name in zstd else ''}"
        for name, data_type in columns
    )


def replace_table(
    con: duckdb.DuckDBPyConnection, table: str, rows: str, order_by: str | None, params: dict | None = None
) -> None:
    """Make ``table`` anew with the columns of the query ``rows`` (``ZSTD_COLUMNS`` declared) and
    insert its rows, sorted by ``order_by`` unless None: what ``CREATE OR REPLACE TABLE ... AS``
    would hold."""
    described = con.execute(f"DESCRIBE {rows}", params or {}).fetchall()
    con.execute(f"CREATE OR REPLACE TABLE {table} ({column_definitions(table, [(r[0], r[1]) for r in described])})")
    con.execute(f"INSERT INTO {table} {rows}" + (f" ORDER BY {order_by}" if order_by else ""), params or {})
