"""DuckDB COMMENTs on the segments and activation tables, for analysts and docs/tables.md.

Uses ``cdp_pipeline.lib.golden.comments.apply_comments`` when the golden layer provides it
(one implementation for the whole warehouse); until then, writes the COMMENT statements
itself with the same signature.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _apply_comments_here(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                         table_comment: str, column_comments: Mapping[str, str]) -> None:
    target = f"{_quote_ident(schema)}.{_quote_ident(table)}"
    con.execute(f"COMMENT ON TABLE {target} IS {_quote_str(table_comment)}")
    for column, text in column_comments.items():
        con.execute(f"COMMENT ON COLUMN {target}.{_quote_ident(column)} IS {_quote_str(text)}")


def _comments_in_place(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                       table_comment: str, column_comments: Mapping[str, str]) -> bool:
    current = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = $s AND table_name = $t "
        "AND database_name = current_database()", {"s": schema, "t": table}).fetchall()
    if not current or current[0][0] != table_comment:
        return False
    columns = dict(con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = $s AND table_name = $t "
        "AND database_name = current_database()", {"s": schema, "t": table}).fetchall())
    return all(columns.get(c) == text for c, text in column_comments.items())


def apply_table_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                         table_comment: str, column_comments: Mapping[str, str]) -> None:
    # COMMENT ON is a catalog write; skip it when every comment is already in place.
    if _comments_in_place(con, schema, table, table_comment, column_comments):
        return
    try:
        from cdp_pipeline.lib.golden.comments import apply_comments  # type: ignore[import-not-found]
    except ImportError:
        apply_comments = _apply_comments_here
    apply_comments(con, schema, table, table_comment, dict(column_comments))
