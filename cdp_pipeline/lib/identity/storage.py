"""How the identity tables written whole store their columns.

Strings that rarely repeat (record ids, hashes, identifier values, match-weight JSON, and a
customer ID on ``customer_map``) are stored with ZSTD rather than DuckDB's default for text (a
dictionary with FSST, analysed per segment), as for staging (``lib/staging/storage.py``) and
``golden.customers``: cheaper to write. At 1M records (a first night's tables, statement CPU s
on a copy of the build database): ``graph_records`` 1.02-1.15 -> 0.65-0.69 (with its component
key read at the component's rid, below), ``graph_edges`` 1.41-1.42 -> 1.24-1.26 (same sort),
``customer_map`` 0.61-0.66 -> 0.46-0.47, ``links`` 1.96-2.01 -> 1.76-1.85. The rows and their
order are the same either way: only the bytes on disk differ. A compression is declared when a
table is made, so a table kept from an older build takes it the next time it is written whole.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.common.sql_files import quote_ident

ZSTD_COLUMNS: dict[str, frozenset[str]] = {
    "identity.customer_map": frozenset({"source_record_id", "customer_id"}),
    "identity.links": frozenset({"record_l", "record_r", "identifier_value", "match_weights"}),
    "identity.graph_records": frozenset({"source_record_id", "record_hash", "component_key"}),
    "identity.graph_edges": frozenset({"record_l", "record_r", "identifier_value"}),
    "identity.scored_records": frozenset({"source_record_id", "input_hash"}),
    "identity.scored_pairs": frozenset({"record_l", "record_r", "match_weights"}),
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
