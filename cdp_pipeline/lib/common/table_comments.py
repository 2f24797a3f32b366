"""DuckDB COMMENTs on a layer's tables, for analysts (``duckdb_columns().comment``) and docs/tables.md.

The one implementation every layer uses: ``apply_table_comments`` when a step creates its
tables (it writes only when a comment differs from what the catalog holds: COMMENT ON is a
catalog write), ``apply_comments`` to write them unconditionally.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from cdp_pipeline.lib.common.sql_files import quote_ident, quote_literal


def apply_comments(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, table_comment: str, column_comments: dict[str, str]
) -> list[str]:
    """COMMENT ON the table and each named column; returns the table's columns left uncommented.

    Raises ``ValueError`` for a column the table does not have (a stale comment).
    """
    columns = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
            "AND database_name = current_database() ORDER BY column_index",
            [schema, table],
        ).fetchall()
    ]
    if not columns:
        raise ValueError(f"{schema}.{table} does not exist")
    unknown = sorted(set(column_comments) - set(columns))
    if unknown:
        raise ValueError(f"{schema}.{table} has no column(s) {unknown}")
    target = f"{quote_ident(schema)}.{quote_ident(table)}"
    con.execute(f"COMMENT ON TABLE {target} IS {quote_literal(table_comment)}")
    for column, comment in column_comments.items():
        con.execute(f"COMMENT ON COLUMN {target}.{quote_ident(column)} IS {quote_literal(comment)}")
    return [c for c in columns if c not in column_comments]


def _comments_in_place(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, table_comment: str, column_comments: Mapping[str, str]
) -> list[str] | None:
    """The table's columns in order when every comment is already in place; else None."""
    current = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = $s AND table_name = $t "
        "AND database_name = current_database()",
        {"s": schema, "t": table},
    ).fetchall()
    if not current or current[0][0] != table_comment:
        return None
    columns = dict(
        con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = $s AND table_name = $t "
            "AND database_name = current_database() ORDER BY column_index",
            {"s": schema, "t": table},
        ).fetchall()
    )
    if all(columns.get(c) == text for c, text in column_comments.items()):
        return list(columns)
    return None


def apply_table_comments(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, table_comment: str, column_comments: Mapping[str, str]
) -> list[str]:
    """``apply_comments``, writing nothing when every comment is already in place (a table kept
    from an earlier night); returns the table's columns left uncommented, as it does."""
    # COMMENT ON is a catalog write; skip it when every comment is already in place.
    in_place = _comments_in_place(con, schema, table, table_comment, column_comments)
    if in_place is not None:
        return [c for c in in_place if c not in column_comments]
    return apply_comments(con, schema, table, table_comment, dict(column_comments))
