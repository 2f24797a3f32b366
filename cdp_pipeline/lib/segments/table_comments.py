"""DuckDB COMMENTs on the segments and activation tables, for analysts and docs/tables.md.

Written by ``cdp_pipeline.lib.golden.comments.apply_comments``, the one implementation for the
whole warehouse, and only when a comment differs from what the catalog holds.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from cdp_pipeline.lib.golden.comments import apply_comments


def _comments_in_place(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, table_comment: str, column_comments: Mapping[str, str]
) -> bool:
    current = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = $s AND table_name = $t "
        "AND database_name = current_database()",
        {"s": schema, "t": table},
    ).fetchall()
    if not current or current[0][0] != table_comment:
        return False
    columns = dict(
        con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = $s AND table_name = $t "
            "AND database_name = current_database()",
            {"s": schema, "t": table},
        ).fetchall()
    )
    return all(columns.get(c) == text for c, text in column_comments.items())


def apply_table_comments(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, table_comment: str, column_comments: Mapping[str, str]
) -> None:
    # COMMENT ON is a catalog write; skip it when every comment is already in place.
    if _comments_in_place(con, schema, table, table_comment, column_comments):
        return
    apply_comments(con, schema, table, table_comment, dict(column_comments))
