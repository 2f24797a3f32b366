"""The one SQL runner: load and run the one-statement ``.sql`` files that live beside each layer's code.

One calling convention for every layer: ``(con, sql_dir, name, params, **identifiers)``.
``name`` is the file's name without ``.sql``; ``params`` are values, passed to DuckDB as named
parameters (``$name``), each statement receiving those it names, so one dict can serve a
sequence of statements; ``identifiers`` fill ``{placeholder}`` names of tables and schemas chosen
by code. ``run_sql`` runs a statement, ``fetch_sql`` returns its rows, ``query_sql`` its column
names and rows, ``fetch_sql_dicts`` its rows as dicts, ``arrow_sql`` an Arrow table. The text of a
file is never rewritten. This is the only module that reads a ``.sql`` file or runs one's text
(``cdp_pipeline_tests/lib/common/test_sql_files.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa


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


_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@lru_cache(maxsize=None)
def _parameters(sql: str) -> frozenset[str]:
    return frozenset(_PARAMETER.findall(sql))


def execute_sql(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping | Sequence | None = None
) -> duckdb.DuckDBPyConnection:
    """Execute a statement generated in Python (from rules, predicates, a list of tables) with the
    runner's convention for parameters: of ``params``, the named ones it uses (DuckDB refuses
    extras). Statements that are files go through ``run_sql`` and the other file readers."""
    if params is not None and not isinstance(params, Mapping):  # positional ($1, ?): as given
        return con.execute(sql, params)
    used = _parameters(sql)
    return con.execute(sql, {k: v for k, v in (params or {}).items() if k in used})


def _execute(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    name: str,
    params: Mapping | Sequence | None,
    identifiers: dict[str, str],
) -> duckdb.DuckDBPyConnection:
    return execute_sql(con, load_sql(sql_dir, name, **identifiers), params)


def run_sql(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    name: str,
    params: Mapping | Sequence | None = None,
    **identifiers: str,
) -> None:
    """Run the statement in ``sql_dir/name.sql``."""
    _execute(con, sql_dir, name, params, identifiers)


def fetch_sql(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    name: str,
    params: Mapping | Sequence | None = None,
    **identifiers: str,
) -> list[tuple]:
    """The rows of the ``SELECT`` in ``sql_dir/name.sql``, as tuples."""
    return _execute(con, sql_dir, name, params, identifiers).fetchall()


def query_sql(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    name: str,
    params: Mapping | Sequence | None = None,
    **identifiers: str,
) -> tuple[list[str], list[tuple]]:
    """The column names and the rows of the ``SELECT`` in ``sql_dir/name.sql``."""
    cur = _execute(con, sql_dir, name, params, identifiers)
    return [d[0] for d in cur.description], cur.fetchall()


def fetch_sql_dicts(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    name: str,
    params: Mapping | Sequence | None = None,
    **identifiers: str,
) -> list[dict]:
    """The rows of the ``SELECT`` in ``sql_dir/name.sql``, as dicts keyed by column name."""
    names, rows = query_sql(con, sql_dir, name, params, **identifiers)
    return [dict(zip(names, row)) for row in rows]


def arrow_sql(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    name: str,
    params: Mapping | None = None,
    **identifiers: str,
) -> pa.Table:
    """The result of the ``SELECT`` in ``sql_dir/name.sql`` as an Arrow table (read as a relation:
    a DB-API result would copy the rows once more)."""
    sql = load_sql(sql_dir, name, **identifiers)
    used = _parameters(sql)
    return con.sql(sql, params={k: v for k, v in (params or {}).items() if k in used} or None).to_arrow_table()
