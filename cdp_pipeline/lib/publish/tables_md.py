"""``docs/tables.md``: the warehouse's public tables rendered from their DuckDB ``COMMENT``s.

Every layer comments its own tables (``lib/common/table_comments.py``), publish comments the
contract tables other layers own (``contract_comments.py``); this renders what analysts read in
the published warehouse as Markdown. ``write_tables_md.py`` writes the file; a test fails when
the committed file drifts from a night's warehouse.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.publish.contract_comments import CONTRACT_COMMENTS

# Schemas rendered whole, plus single public-contract tables of other layers.
DOCUMENTED_SCHEMAS = ("golden", "segments", "activation")
CONTRACT_TABLES = tuple(CONTRACT_COMMENTS)

TABLES_MD_HEADER = """# Output tables

<!-- Generated from the DuckDB COMMENTs by cdp_pipeline.lib.publish.tables_md.generate_tables_md;
     edit the comments, not this file. -->

Public tables of the warehouse (`CDP_WAREHOUSE`). All timestamps are UTC; all ids are VARCHAR.
"""


def documented_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of every table generate_tables_md renders, in order."""
    rows = con.execute(
        """SELECT schema_name, table_name FROM duckdb_tables()
           WHERE NOT temporary AND database_name = current_database()
           UNION SELECT schema_name, view_name FROM duckdb_views()
           WHERE NOT temporary AND NOT internal AND database_name = current_database()"""
    ).fetchall()
    present = set(rows)
    chosen = [t for t in CONTRACT_TABLES if t in present]
    chosen += sorted((s, t) for s, t in present if s in DOCUMENTED_SCHEMAS and not t.startswith("_"))
    order = {s: i for i, s in enumerate(("identity", "audit") + DOCUMENTED_SCHEMAS)}
    return sorted(chosen, key=lambda st: (order.get(st[0], 99), st[1]))


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def table_section(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """Markdown of one table: heading, table comment, column/type/meaning rows."""
    comment = con.execute(
        """SELECT comment FROM duckdb_tables() WHERE schema_name = $s AND table_name = $t AND NOT temporary
             AND database_name = current_database()
           UNION ALL SELECT comment FROM duckdb_views() WHERE schema_name = $s AND view_name = $t AND NOT temporary
             AND database_name = current_database()""",
        {"s": schema, "t": table},
    ).fetchone()
    columns = con.execute(
        """SELECT column_name, data_type, comment FROM duckdb_columns()
           WHERE schema_name = ? AND table_name = ? AND database_name = current_database()
           ORDER BY column_index""",
        [schema, table],
    ).fetchall()
    lines = [f"## {schema}.{table}", ""]
    if comment and comment[0]:
        lines += [comment[0], ""]
    lines += ["| column | type | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{name}` | {_cell(dtype)} | {_cell(text)} |" for name, dtype, text in columns]
    return "\n".join(lines) + "\n"


def generate_tables_md(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]] | None = None) -> str:
    """The text of docs/tables.md: every golden/segments/activation table (and the contract
    tables identity.customer_map and audit.quarantine when present) from its COMMENTs."""
    sections = [table_section(con, s, t) for s, t in (tables if tables is not None else documented_tables(con))]
    return TABLES_MD_HEADER + "".join("\n" + s for s in sections)


def split_tables_md(text: str) -> dict[str, str]:
    """``schema.table`` -> its section, for comparing a part of docs/tables.md."""
    out: dict[str, str] = {}
    for chunk in text.split("\n## ")[1:]:
        name = chunk.split("\n", 1)[0].strip()
        out[name] = "## " + chunk.rstrip("\n") + "\n"
    return out
