"""Find a person's identifiers anywhere: every text column of every table, and the export folder.

Two ways of matching, because identifiers differ in how safely they can be searched for:

- a **distinctive** identifier (an email, a phone in any of its forms, a 64-hex hash, an id of
  8+ characters or of 6+ with letters and digits, such as ``C-1a2b3c4d5e6f``) is matched
  anywhere in a text value, JSON and lists included, case-insensitively, as a whole token
  (not preceded or followed by a letter, digit or ``. _ % + @ -``);
- a **short id** (``1001``) would also match amounts, order numbers and dates, so it is only
  matched as the whole value of an identifier column (a column whose name has one of the
  tokens id, ids, key, ref, record, cookie(s), card(s), user, customer, identifier, value),
  or as a whole element of such a list column.

``scan_for_identifiers`` and ``erase`` use the same predicate, so what the erasure deletes is
exactly what the scan would report.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import execute_sql

# Tables that hold only hashes by construction and must survive an erasure.
PROTECTED_TABLES = {("audit", "suppression"), ("audit", "erasure_log")}

ID_COLUMN_TOKENS = {
    "id",
    "ids",
    "key",
    "ref",
    "record",
    "records",
    "cookie",
    "cookies",
    "card",
    "cards",
    "user",
    "customer",
    "identifier",
    "identifiers",
    "value",
    "leid",
    "euid",
    "sid",
}

_BOUNDARY = "[^0-9A-Za-z._%+@-]"
_RE2_META = set("\\.+*?()|[]{}^$")


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in _RE2_META else ch for ch in text)


def is_distinctive(value: str) -> bool:
    v = value.strip()
    if "@" in v or v.startswith("+") or re.fullmatch(r"[0-9a-fA-F]{64}", v):
        return True
    has_alpha = any(c.isalpha() for c in v)
    has_digit = any(c.isdigit() for c in v)
    return len(v) >= 8 or (len(v) >= 6 and has_alpha and has_digit)


def is_id_column(name: str) -> bool:
    return bool(set(re.split(r"[^0-9a-z]+", name.lower())) & ID_COLUMN_TOKENS)


@dataclass
class IdentifierSet:
    """The values to find: distinctive ones anywhere, short ids only in id columns."""

    distinctive: set[str] = field(default_factory=set)
    short_ids: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, values: Iterable[str]) -> "IdentifierSet":
        out = cls()
        for v in values:
            if v is None:
                continue
            v = str(v).strip()
            if not v:
                continue
            (out.distinctive if is_distinctive(v) else out.short_ids).add(v)
        return out

    def __bool__(self) -> bool:
        return bool(self.distinctive or self.short_ids)

    def __len__(self) -> int:
        return len(self.distinctive) + len(self.short_ids)

    def all(self) -> set[str]:
        return self.distinctive | self.short_ids

    def regex(self) -> str | None:
        """RE2 pattern (DuckDB and Python ``re`` agree on it) matching a distinctive identifier."""
        if not self.distinctive:
            return None
        alts = "|".join(_escape(v) for v in sorted(self.distinctive, key=lambda s: (-len(s), s)))
        return f"(?i)(?:^|{_BOUNDARY})(?:{alts})(?:$|{_BOUNDARY})"

    def matches_cell(self, cell: str, column: str | None = None) -> bool:
        """A CSV cell (of an export file) that is one of the identifiers, whatever its case; a
        short id only in an id column (``loyalty_card_id``), never in a 0/1 flag or a name."""
        c = cell.strip()
        if c.startswith("'"):  # formula neutralisation prefix added by the exporter
            c = c[1:]
        if not c:
            return False
        lowered = c.lower()
        values = self.all() if column is None or is_id_column(column) else self.distinctive
        return any(lowered == v.lower() for v in values)

    def search_text(self, text: str) -> int:
        """How many distinctive identifiers occur in free text (Python side)."""
        pattern = self.regex()
        return len(re.findall(pattern, text)) if pattern else 0


@dataclass(frozen=True)
class TextColumn:
    schema: str
    table: str
    column: str
    data_type: str

    @property
    def ref(self) -> str:
        return f'"{self.column}"'

    @property
    def is_list(self) -> bool:
        return self.data_type.endswith("[]")


def text_columns(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> dict[tuple[str, str], list[TextColumn]]:
    """(schema, table) -> its columns that can hold text: VARCHAR, JSON, lists/structs of them."""
    rows = con.execute(
        """SELECT c.schema_name, c.table_name, c.column_name, c.data_type
           FROM duckdb_columns() c
           JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
           WHERE c.database_name = coalesce($catalog, current_database())
             AND NOT c.internal AND NOT t.temporary
             AND (c.data_type LIKE '%VARCHAR%' OR c.data_type LIKE '%JSON%')
           ORDER BY c.schema_name, c.table_name, c.column_index""",
        {"catalog": catalog},
    ).fetchall()
    out: dict[tuple[str, str], list[TextColumn]] = {}
    for schema, table, column, dtype in rows:
        if (schema, table) in PROTECTED_TABLES:
            continue
        out.setdefault((schema, table), []).append(TextColumn(schema, table, column, dtype))
    return out


def column_predicate(col: TextColumn, ids: IdentifierSet) -> tuple[str | None, dict]:
    """SQL (and its parameters) that is true when the column holds one of ``ids``."""
    parts: list[str] = []
    params: dict = {}
    pattern = ids.regex()
    if pattern:
        params["pattern"] = pattern
        parts.append(f"regexp_matches(CAST({col.ref} AS VARCHAR), $pattern)")
    if ids.short_ids and is_id_column(col.column) and col.data_type in ("VARCHAR", "VARCHAR[]"):
        params["short_ids"] = sorted(v.lower() for v in ids.short_ids)
        if col.is_list:
            parts.append(f"list_has_any(list_transform({col.ref}, lambda x: lower(trim(x))), $short_ids)")
        else:
            parts.append(f"list_contains($short_ids, lower(trim({col.ref})))")
    if not parts:
        return None, {}
    return "(" + " OR ".join(parts) + ")", params


def table_predicate(columns: list[TextColumn], ids: IdentifierSet) -> tuple[str | None, dict]:
    parts, params = [], {}
    for col in columns:
        sql, p = column_predicate(col, ids)
        if sql:
            parts.append(f"coalesce({sql}, false)")
            params.update(p)
    return (" OR ".join(parts), params) if parts else (None, {})


def _qualified(schema: str, table: str, catalog: str | None = None) -> str:
    prefix = f'"{catalog}".' if catalog else ""
    return f'{prefix}"{schema}"."{table}"'


def scan_for_identifiers(
    con: duckdb.DuckDBPyConnection, identifiers: Iterable[str] | IdentifierSet, catalog: str | None = None
) -> list[tuple[str, str, str, int]]:
    """(schema, table, column, rows) for every text column of every table holding one of the
    identifiers; empty when they are found nowhere."""
    ids = identifiers if isinstance(identifiers, IdentifierSet) else IdentifierSet.of(identifiers)
    if not ids:
        return []
    found: list[tuple[str, str, str, int]] = []
    for (schema, table), columns in text_columns(con, catalog).items():
        selects, params = [], {}
        used = []
        for col in columns:
            sql, p = column_predicate(col, ids)
            if sql:
                selects.append(f"count(*) FILTER (WHERE coalesce({sql}, false))")
                params.update(p)
                used.append(col)
        if not selects:
            continue
        counts = execute_sql(
            con, f"SELECT {', '.join(selects)} FROM {_qualified(schema, table, catalog)}", params
        ).fetchone()
        found.extend((schema, table, c.column, int(n)) for c, n in zip(used, counts) if n)
    return found


def scan_for_suppressed_values(
    con: duckdb.DuckDBPyConnection, salt: str, catalog: str | None = None
) -> list[tuple[str, str, str, int]]:
    """(schema, table, column, rows) of values whose salted hash is on ``audit.suppression``.

    Catches every erased identifier even when no request file names it any more (the phone
    found through the CRM record of someone who asked by email). Values are compared whole,
    in the hash's normal form (trimmed; lower-cased too, for emails); id hashes only in id
    columns, as in ``scan_for_identifiers``.
    """
    from cdp_pipeline.lib.audit.suppression import ID

    q = _qualified("audit", "suppression", catalog)
    try:
        rows = con.execute(f"SELECT identifier_hash, kind FROM {q}").fetchall()
    except duckdb.CatalogException:
        return []
    if not rows:
        return []
    any_hashes = sorted({h for h, _ in rows})
    contact_hashes = sorted({h for h, k in rows if k != ID})
    found = []

    # Outside id columns only contact hashes count, and their normal forms have a shape: an
    # email has an @, an E.164 phone starts with +, an ad-platform hash is 64 hex. Testing the
    # shape first spares hashing every name, city and segment value twice (the scan's cost:
    # every text value of every table, every night once anyone is erased).
    def held(value: str, hashes: str, id_column: bool) -> str:
        """SQL true when ``value`` (a column or a list's element), in either normal form, hashes to
        one of ``hashes``."""
        test = " OR ".join(
            f"list_contains({hashes}, sha256($salt || ':' || {form}))"
            for form in (f"trim({value})", f"lower(trim({value}))")
        )
        if id_column:
            return test
        shape = f"(contains(trim({value}), '@') OR starts_with(trim({value}), '+') OR length(trim({value})) = 64)"
        return f"CASE WHEN {shape} THEN ({test}) ELSE false END"

    for (schema, table), columns in text_columns(con, catalog).items():
        selects, used = [], []
        for col in columns:
            if col.data_type not in ("VARCHAR", "VARCHAR[]"):
                continue
            id_column = is_id_column(col.column)
            hashes = "$any_hashes" if id_column else "$contact_hashes"
            if col.is_list:
                cond = f"list_bool_or(list_transform({col.ref}, lambda x: {held('x', hashes, id_column)}))"
            else:
                cond = held(col.ref, hashes, id_column)
            selects.append(f"count(*) FILTER (WHERE {col.ref} IS NOT NULL AND ({cond}))")
            used.append(col)
        if not selects:
            continue
        counts = execute_sql(
            con,
            f"SELECT {', '.join(selects)} FROM {_qualified(schema, table, catalog)}",
            {"salt": salt, "any_hashes": any_hashes, "contact_hashes": contact_hashes},
        ).fetchone()
        found.extend((schema, table, c.column, int(n)) for c, n in zip(used, counts) if n)
    return found


def scan_export_dir(export_dir: Path, identifiers: Iterable[str] | IdentifierSet) -> list[tuple[str, int]]:
    """(file relative to the export folder, matches) for every file holding one of the identifiers:
    a CSV cell equal to one, or a distinctive identifier anywhere in the text. Folders marked
    delivered are not scanned (see ``export_files``)."""
    ids = identifiers if isinstance(identifiers, IdentifierSet) else IdentifierSet.of(identifiers)
    export_dir = Path(export_dir)
    if not ids or not export_dir.exists():
        return []
    from cdp_pipeline.lib.audit.export_files import is_delivered

    found = []
    for path in sorted(p for p in export_dir.rglob("*") if p.is_file()):
        if is_delivered(path.parent):
            continue  # delivered exports are the destination's copy of record (export_files)
        text = path.read_bytes().decode("utf-8", errors="replace")
        n = ids.search_text(text)
        if path.suffix.lower() == ".csv":
            rows = list(csv.reader(io.StringIO(text, newline="")))
            header = rows[0] if rows else []
            cells = sum(
                1
                for row in rows[1:]
                for i, c in enumerate(row)
                if ids.matches_cell(c, header[i] if i < len(header) else "")
            )
            n = max(n, cells)
        if n:
            found.append((str(path.relative_to(export_dir)), n))
    return found
