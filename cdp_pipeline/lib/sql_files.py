"""Load and run the one-statement ``.sql`` files that live beside each layer's assets."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import duckdb


@lru_cache(maxsize=None)
def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_sql(sql_dir: Path, name: str, **identifiers: str) -> str:
    """Text of ``sql_dir/name.sql``; ``{identifier}`` placeholders are filled from keyword args.

    Only identifiers (schema, table names chosen by code) go through ``str.format``;
    values always travel as DuckDB parameters (``$name``) so no data is spliced into SQL.
    """
    text = _read(str(Path(sql_dir) / f"{name}.sql"))
    return text.format(**identifiers) if identifiers else text


def quote_ident(name: str) -> str:
    """A schema, table or column name as a DuckDB identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A string as a SQL literal, where a statement takes no parameters (COMMENT ON, CASE lists)."""
    return "'" + text.replace("'", "''") + "'"


def run_sql(
    con: duckdb.DuckDBPyConnection, sql_dir: Path, name: str, params: dict | None = None, **identifiers: str
) -> None:
    con.execute(load_sql(sql_dir, name, **identifiers), params or {})


def fetch_sql(
    con: duckdb.DuckDBPyConnection, sql_dir: Path, name: str, params: dict | None = None, **identifiers: str
) -> list[tuple]:
    """The rows of the ``SELECT`` in ``sql_dir/name.sql``, as tuples."""
    return con.execute(load_sql(sql_dir, name, **identifiers), params or {}).fetchall()


def fetch_sql_dicts(
    con: duckdb.DuckDBPyConnection, sql_dir: Path, name: str, params: dict | None = None, **identifiers: str
) -> list[dict]:
    """The rows of the ``SELECT`` in ``sql_dir/name.sql``, as dicts keyed by column name."""
    cur = con.execute(load_sql(sql_dir, name, **identifiers), params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
