"""The consent gate every export goes through, and the independent verification of its output.

Gate (before any row is built): a customer is dropped unless every channel the destination
requires is contactable (``email_contactable`` / ``sms_contactable`` from golden.customers;
NULL counts as no). Then, per identifier, an email is kept only when ``email_contactable``
and a phone only when ``sms_contactable`` — so an ad audience never carries the phone hash
of someone who texted STOP — and neither when the consent ledger (``golden.identifier_consent``)
blocks it: an address or number whose own latest signal is an opt-out, bounce, cleaning or STOP
is never exported, on any customer, plain or hashed, whatever identity resolution decided.
A customer whose required channel's identifier is blocked is dropped. Erased customers are
gone from golden.customers and so are never candidates. Without the ledger nothing is exported
(``LedgerMissing``).

The night applies the gate in DuckDB (``gate_candidates``: ``create_consent_checked.sql`` takes the
verdict on each customer's identifiers, once for the members of every destination's segments,
``create_gated_candidates.sql`` applies it per destination);
tests hold it to a plain Python statement of the rule (``cdp_pipeline_tests/lib/activation/reference_rows.py``).

Verification (the asset check): ``export_file_problems`` looks at the rows actually in an
export file and accepts an identifier only if it is in the set golden.customers allows for
that column and the ledger does not block, a set the check computes with its own SQL (DuckDB's
``sha256``), not with the gate or the exporter; only the identifiers' normal form (trimmed; email
lower case) is shared with them (identifiers.py), so what is exported and what is checked agree. The night runs the same rule in DuckDB (``file_identifier_values`` reads
the file as ``csv.DictReader`` does, ``unconsented_file_values`` joins its values against the
allowed identifiers): sets of half a million identifiers built in Python took seconds.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from cdp_pipeline.lib.activation.destinations import Destination
from cdp_pipeline.lib.activation.identifiers import (
    register_identifier_functions,
    register_python_function,
)
from cdp_pipeline.lib.common.sql_files import fetch_sql, run_sql

SQL_DIR = Path(__file__).parent / "sql"
LEDGER = ("golden", "identifier_consent")


class LedgerMissing(RuntimeError):
    """golden.identifier_consent does not exist: which identifiers are blocked is unknown."""


def ledger_table(con: duckdb.DuckDBPyConnection) -> str:
    """The consent ledger's name; ``LedgerMissing`` when the golden layer has not built it."""
    from cdp_pipeline.lib.common.warehouse import table_exists

    if not table_exists(con, *LEDGER):
        raise LedgerMissing("golden.identifier_consent does not exist: build the golden layer before exporting")
    return ".".join(LEDGER)


# kind -> {file header (destinations.Destination.header): identifier kind of the allowed-identifier sets}
IDENTIFIER_COLUMNS: dict[str, dict[str, str]] = {
    "esp": {"Email Address": "email"},
    "sms": {"phone": "phone"},
    "meta_audience": {"email": "email_sha256", "phone": "meta_phone_sha256"},
    "google_customer_match": {"Email": "email_sha256", "Phone": "google_phone_sha256"},
    "pos": {"loyalty_card_id": "loyalty_card_id"},
}


def check_candidates(con: duckdb.DuckDBPyConnection, candidates: str, table: str) -> None:
    """Temp table ``table``: the rows of ``candidates`` with the gate's verdict on each identifier,
    ``email_ok`` and ``sms_ok`` (create_consent_checked.sql); a verdict depends on the customer alone."""
    register_identifier_functions(con)
    run_sql(con, SQL_DIR, "create_consent_checked", table=table, candidates=candidates, ledger=ledger_table(con))


def gate_candidates(con: duckdb.DuckDBPyConnection, destination: Destination) -> int:
    """The gate: temp table ``gated_candidates`` from ``export_candidates``, which carries the
    verdict on each identifier (``email_ok``, ``sms_ok``: ``check_candidates`` on the night's
    audience, exporter.ExportAudience); returns the number of customers dropped."""
    required = set(destination.required_consent)
    run_sql(
        con,
        SQL_DIR,
        "create_gated_candidates",
        checked="export_candidates",
        params={
            "need_email": "email" in required,
            "need_sms": "sms" in required,
            # A channel golden has no *_contactable column for can never be satisfied.
            "need_unknown_channel": bool(required - {"email", "sms"}),
        },
    )
    return con.execute(
        "SELECT (SELECT count(*) FROM export_candidates) - (SELECT count(*) FROM gated_candidates)"
    ).fetchall()[0][0]


def file_identifier_values(text: str, columns: Sequence[str]) -> list[list[str]]:
    """For each of ``columns``, its values in the data rows of a CSV file's ``text``, stripped ('' when
    blank or absent): the rows ``csv.DictReader`` gives, as a destination reads them. Blank lines are no row; when a header name repeats, the
    last column of that name counts; a short row lacks its missing columns."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None) or []
    rows = [r for r in reader if r]
    index = {name: i for i, name in enumerate(header)}  # dict(zip(header, row)): the last one wins
    out: list[list[str]] = []
    for column in columns:
        i = index.get(column)
        if i is None:
            out.append([""] * len(rows))
        else:
            out.append([r[i].strip() if len(r) > i else "" for r in rows])
    return out


def unconsented_file_values(
    con: duckdb.DuckDBPyConnection,
    values: Sequence[Sequence[str]],
    destination: Destination,
    allowed_table: str,
    *,
    strip_prefix: str = "'",
) -> list[str]:
    """Problems with the rows of an export file, one ``line N: ...`` text each: an identifier
    golden.customers does not allow (neither as it is nor without the neutralising prefix
    ``strip_prefix``), and a row with no identifier at all. Compared in DuckDB: ``values`` are
    ``file_identifier_values`` of the file for ``IDENTIFIER_COLUMNS[destination.kind]``;
    ``allowed_table`` holds (identifier_kind, value) of the identifiers golden.customers allows
    (create_consented_identifiers.sql)."""
    columns = list(IDENTIFIER_COLUMNS[destination.kind])
    assert len(values) == len(columns)
    lines: list[int] = []
    positions: list[int] = []
    kinds: list[str] = []
    found: list[str] = []
    for position, (column, column_values) in enumerate(zip(columns, values)):
        at = [i for i, v in enumerate(column_values) if v]
        lines += [i + 2 for i in at]
        positions += [position] * len(at)
        kinds += [IDENTIFIER_COLUMNS[destination.kind][column]] * len(at)
        found += [column_values[i] for i in at]
    batch = pa.table(
        {
            "line": pa.array(lines, pa.int64()),
            "position": pa.array(positions, pa.int64()),
            "identifier_kind": pa.array(kinds, pa.string()),
            "value": pa.array(found, pa.string()),
        }
    )
    con.register("consent_check_values", batch)
    try:
        bad = fetch_sql(
            con, SQL_DIR, "select_unconsented_file_values", {"strip_prefix": strip_prefix}, allowed=allowed_table
        )
    finally:
        con.unregister("consent_check_values")
    problems = [
        (line, position, f"line {line}: {columns[position]} is not a consented identifier of a current customer")
        for line, position in bad
    ]
    # a row with no identifier at all (its problem comes after any other of the same line, as in the loop)
    problems += [
        (i + 2, len(columns), f"line {i + 2}: no identifier") for i, row in enumerate(zip(*values)) if not any(row)
    ]
    problems.sort(key=lambda p: (p[0], p[1]))
    return [p for _, _, p in problems]


def register_consent_check_functions(con: duckdb.DuckDBPyConnection) -> None:
    """``consent_check_strip`` (and its Python fallback) on this connection, and the identifier normal
    form the allowed identifiers are computed in (identifiers.py: the exporter's own) (idempotent)."""
    register_identifier_functions(con)
    register_python_function(con, "consent_check_py_strip", lambda s: None if s is None else s.strip())
    run_sql(con, SQL_DIR, "create_macro_consent_check_strip")


def count_unconsented_file_values(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    header: Sequence[str],
    destination: Destination,
    allowed_table: str,
    *,
    strip_prefix: str = "'",
) -> int | None:
    """How many problems ``unconsented_file_values`` would report for the CSV file at ``path`` (whose
    first row is ``header``), read and compared in DuckDB; 0 exactly when it would report none.
    None when the file has no column of the destination's identifiers (every row is a problem then).
    Raises ``duckdb.Error`` when DuckDB's strict reader does not take the file: read it in Python then.
    Needs ``register_consent_check_functions``."""
    columns = IDENTIFIER_COLUMNS[destination.kind]
    index = {name: i for i, name in enumerate(header)}  # as DictReader: the last of a repeated name
    if not header or not any(c in index for c in columns):
        return None
    values = "[" + ", ".join(f"consent_check_strip(c{index[c]})" if c in index else "''" for c in columns) + "]"
    struct = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    params = {"path": str(path), "kinds": list(columns.values()), "strip_prefix": strip_prefix}
    return fetch_sql(
        con,
        SQL_DIR,
        "select_file_consent_problem_count",
        params,
        values=values,
        columns=struct,
        allowed=allowed_table,
    )[0][0]


def csv_header(text: str) -> list[str]:
    """The first row of a CSV file's text, as ``csv.DictReader`` takes its field names."""
    return next(csv.reader(io.StringIO(text, newline="")), None) or []


class ConsentedIdentifiers:
    """The identifiers golden.customers and the consent ledger allow, per consent a destination requires:
    temp views (identifier_kind, value) for ``unconsented_file_values`` and
    ``count_unconsented_file_values``. Every customer's identifiers are put in export form and hashed
    once (create_consented_identifiers.sql, with the customer's two consent flags, a temp table), and
    each requirement's view is a filter of that table: the night checks five destinations' files and
    the asset check ten files with it, and hashing every customer again per destination cost more than
    the checks themselves; a view, not a copy, since each is read by about one file's comparison,
    which filters the rows as it reads them. Golden and the ledger must not change while it is open
    (``close`` drops the table and the views)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, kinds: Iterable[str] = ()) -> None:
        self.con = con
        self.kinds: set[str] = set(kinds)
        self.built: set[str] = set()  # kinds the base table holds (empty: not built)
        self.tables: dict[tuple[bool, bool], str] = {}
        self.customers_built = False

    def table(self, need: tuple[bool, bool], kinds: Iterable[str]) -> str:
        """The temp view of the identifiers allowed to a destination requiring ``need`` = (email
        consent, SMS consent), holding at least the identifier kinds ``kinds``."""
        kinds = set(kinds)
        if not self.built or not kinds <= self.built:
            customers = self.customers()
            self.kinds |= kinds
            self._drop_need_tables()
            run_sql(
                self.con,
                SQL_DIR,
                "create_consented_identifiers",
                {"kinds": sorted(self.kinds)},
                table="consent_check_allowed_all",
                customers=customers,
            )
            self.built = set(self.kinds)
        if need not in self.tables:
            table = f"consent_check_allowed_{int(need[0])}{int(need[1])}"
            run_sql(
                self.con,
                SQL_DIR,
                "create_consented_identifiers_for_need",
                table=table,
                need_email=str(need[0]).lower(),
                need_sms=str(need[1]).lower(),
                all="consent_check_allowed_all",
            )
            self.tables[need] = table
        return self.tables[need]

    def customers(self) -> str:
        """The temp table of every golden customer's identifiers in export form, its two consent
        flags and whether the ledger blocks its address or number (create_consented_customers.sql),
        built on first use."""
        if not self.customers_built:
            register_consent_check_functions(self.con)
            run_sql(self.con, SQL_DIR, "create_consented_customers", table="consent_check_customers")
            self.customers_built = True
        return "consent_check_customers"

    def _drop_need_tables(self) -> None:
        for table in self.tables.values():
            self.con.execute(f"DROP VIEW IF EXISTS {table}")
        self.tables.clear()

    def close(self) -> None:
        self._drop_need_tables()
        if self.built:
            self.con.execute("DROP TABLE IF EXISTS consent_check_allowed_all")
        if self.customers_built:
            self.con.execute("DROP TABLE IF EXISTS consent_check_customers")
        self.built = set()
        self.customers_built = False

    def __enter__(self) -> ConsentedIdentifiers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def destination_identifier_kinds(destinations: Iterable[Destination]) -> set[str]:
    """The identifier kinds the files of ``destinations`` carry (for ``ConsentedIdentifiers``)."""
    return {k for d in destinations for k in IDENTIFIER_COLUMNS[d.kind].values()}


def export_file_problems(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[Mapping[str, object]],
    allowed: ConsentedIdentifiers | None = None,
) -> list[str]:
    """Problems with export files (empty when all is well): each of ``files`` is a file as
    activation.export_log records it (destination, kind, run_date, file_kind, path, sha256, segments,
    required_consent). A file must exist, be unchanged since written (its checksum), and its full and
    delta_added rows carry only identifiers golden.customers and the consent ledger allow today.
    The night runs it on its staged files before they move into place, and the asset check on the
    files in place. Needs the consent ledger (``ledger_table``). ``allowed``: the allowed identifiers
    shared with other calls on the same golden layer (the night's destinations); without it, built
    here for ``files`` and dropped on return."""
    own = allowed is None
    if allowed is None:
        allowed = ConsentedIdentifiers(con, {k for f in files for k in IDENTIFIER_COLUMNS[f["kind"]].values()})
    problems: list[str] = []
    # A file's consent problems follow from its bytes, its kind and its consent requirement alone: a file
    # whose bytes were already compared (a first export's delta_added is its full file) gets the same
    # problems without being read and compared again.
    compared: dict[tuple[str, str, tuple[bool, bool]], list[str]] = {}
    try:
        for f in files:
            dest = Destination(
                name=f["destination"],
                kind=f["kind"],
                segments=tuple(f["segments"]),
                required_consent=tuple(f["required_consent"]),
            )
            path = Path(f["path"])
            where = f"{dest.name} {f['run_date']} {f['file_kind']}"
            if not path.exists():
                problems.append(f"{where}: file missing ({path})")
                continue
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            unchanged = digest == f["sha256"]
            if not unchanged:
                problems.append(f"{where}: file changed since it was written (checksum differs from the log)")
            # A part (exporter.IMPORT_FILE_LIMITS: "full_part01") is read as the file it is part of.
            if f["file_kind"].split("_part")[0] not in ("full", "delta_added"):
                continue  # removals tell the destination to forget someone: no consent needed
            need = ("email" in dest.required_consent, "sms" in dest.required_consent)
            key = (digest, dest.kind, need)
            if key not in compared:
                compared[key] = _file_consent_problems(
                    con, path, data, unchanged, dest, allowed.table(need, IDENTIFIER_COLUMNS[dest.kind].values())
                )
            problems += [f"{where}: {p}" for p in compared[key]]
    finally:
        if own:
            allowed.close()
    return problems


def _file_consent_problems(
    con: duckdb.DuckDBPyConnection, path: Path, data: bytes, unchanged: bool, dest: Destination, table: str
) -> list[str]:
    """``unconsented_file_values`` of the export file at ``path`` (its bytes: ``data``) against the
    allowed identifiers ``table``."""
    text = data.decode("utf-8")
    if unchanged:
        # The file as the exporter wrote it: DuckDB reads and compares it. Only when it finds a
        # problem (or will not read the file) is the file read row by row in Python, which
        # says where each problem is.
        try:
            if count_unconsented_file_values(con, path, csv_header(text), dest, table) == 0:
                return []
        except duckdb.Error:
            pass
    values = file_identifier_values(text, list(IDENTIFIER_COLUMNS[dest.kind]))
    return unconsented_file_values(con, values, dest, table)
