"""Run the golden layer's ``.sql`` files (they live beside its assets in ``defs/golden/sql``)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from cdp_pipeline.lib.sql_files import load_sql

SQL_DIR = Path(__file__).resolve().parents[2] / "defs" / "golden" / "sql"
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def run_golden_sql(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: dict | None = None,
    *,
    header: tuple[str, str] | None = None,
    **identifiers: str,
) -> None:
    """Run ``SQL_DIR/name.sql``, passing only the parameters the statement uses.

    ``header``: (the statement's opening, what to run instead), e.g. the same ``SELECT`` as
    an ``INSERT`` into the table instead of a ``CREATE OR REPLACE TABLE`` of it."""
    sql = load_sql(SQL_DIR, name, **identifiers)
    if header:
        if header[0] not in sql:
            raise ValueError(f"{name}.sql no longer contains {header[0]!r}")
        sql = sql.replace(header[0], header[1], 1)
    used = set(_PARAM.findall(sql))
    con.execute(sql, {k: v for k, v in (params or {}).items() if k in used})


def fetch_golden_sql(
    con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None, **identifiers: str
) -> list[tuple]:
    sql = load_sql(SQL_DIR, name, **identifiers)
    used = set(_PARAM.findall(sql))
    return con.execute(sql, {k: v for k, v in (params or {}).items() if k in used}).fetchall()


def query_golden_sql(
    con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None, **identifiers: str
) -> tuple[list[str], list[tuple]]:
    """Column names and rows of a ``SELECT`` file."""
    sql = load_sql(SQL_DIR, name, **identifiers)
    used = set(_PARAM.findall(sql))
    cur = con.execute(sql, {k: v for k, v in (params or {}).items() if k in used})
    return [d[0] for d in cur.description], cur.fetchall()
