"""Small markdown tables for asset metadata, with personal data masked.

Previews end up in Dagster's event log, which an erasure cannot reach and which anyone
with the UI can read, so values of personal columns are shown by shape only
(``a•••@example.se``, ``+46•••••••67``, ``K•••``): enough to see that a column is filled
and well formed, not enough to identify anyone.
"""

from __future__ import annotations

import re

import duckdb

# Column names that hold personal data or identifiers of a person (the timeline's event_ref
# holds a consent event's address or number).
PERSONAL_COLUMN = re.compile(
    r"(^|_)(first|last|full|billing)_?name|street|address|email|phone|birth|body|zip|postcode|city|(^|_)ip$|latitude|longitude|notes"
    r"|cookie|pseudo|user_id|customer_id|loyalty|card|crm|^from$|^to$|raw_record|event_json|_extra"
    r"|identifier|source_record_id|leid|euid|emails|phones|event_ref"
)
_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+)$")


def mask_value(value: object) -> str:
    """The shape of a personal value, without the value."""
    text = "" if value is None else str(value)
    if not text:
        return text
    email = _EMAIL.match(text)
    if email:
        return f"{text[0]}•••@{email.group(1)}"
    digits = sum(c.isdigit() for c in text)
    if digits >= 6:  # phones, card and record ids: keep the prefix sign/code shape and last two
        return text[: 3 if text.startswith("+") else 1] + "•" * max(len(text) - 5, 1) + text[-2:]
    return text[0] + "•" * min(len(text) - 1, 6)


def markdown_table(columns: list[str], rows: list[tuple], max_width: int = 40) -> str:
    """A markdown table: long cells cut, pipes escaped, personal columns masked."""
    personal = [bool(PERSONAL_COLUMN.search(str(c).lower())) for c in columns]

    def cell(v, mask: bool = False) -> str:
        s = mask_value(v) if mask and v is not None else ("" if v is None else str(v))
        s = s.replace("\r", " ").replace("\n", " ").replace("|", "\\|")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    head = "| " + " | ".join(cell(c) for c in columns) + " |"
    sep = "| " + " | ".join("---" for _ in columns) + " |"
    body = ["| " + " | ".join(cell(v, m) for v, m in zip(r, personal)) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def table_preview(con: duckdb.DuckDBPyConnection, table: str, limit: int = 5) -> str:
    """The first rows of a table as a masked markdown table."""
    rel = con.sql(f"SELECT * FROM {table} LIMIT {int(limit)}")
    return markdown_table(list(rel.columns), rel.fetchall())


def describe_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict | None:
    """Rows, columns (name, type, COMMENT) and COMMENT of a table, for an asset's standard
    metadata; None when the table does not exist (yet)."""
    found = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    if not found:
        return None
    columns = con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
        "ORDER BY column_index",
        [schema, table],
    ).fetchall()
    rows = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
    return {"rows": int(rows), "comment": found[0][0], "columns": columns}
