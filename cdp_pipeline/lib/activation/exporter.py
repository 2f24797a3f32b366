"""Audience rows per destination kind, and the files of one export: full, delta, manifest.

Each run writes ``<export_dir>/<destination>/<run date>/`` (the night passes its staging folder as
``export_dir`` and moves the folder into place once the consent check passed: export_staging.py):

- ``full.csv``: everyone the destination should have now;
- ``delta_added.csv``: rows new since the destination's previous export, plus rows whose
  values changed (an upsert file; the manifest counts added and updated apart);
- ``delta_removed.csv``: rows of the previous export that are gone, as they were sent, so
  the destination can delete them (consent revoked, left the segment, erased); for the ad
  platforms, not a gone pair of hashes that shares a hash with a row sent tonight
  (``AD_PLATFORM_KINDS``: they remove people, not rows);
- ``manifest.json``: rows, file checksums, segments, consent rule, previous export date.

A row is identified by what the destination matches on (its ``key``): the email for
``esp``, the phone for ``sms``, the pair of hashes for ad platforms, the card for ``pos``.
Files are 0600 and written atomically; the manifest is written last.

The night builds rows and files in DuckDB (``stage_export_rows``, ``write_export_from_members``,
SQL in ``sql/`` beside it): done row by row in Python they took about 12 s at a million
identity records. The rows' rules are written once, in that SQL (the tests hold it row for row
to a plain Python statement of them, ``cdp_pipeline_tests/lib/activation/reference_rows.py``).
``diff_rows`` and ``write_export`` write the files of rows holding values the SQL does not
render itself, and the SQL's files are tested byte for byte against theirs. Where SQL and
Python could differ (Unicode-wide ``strip()``/``lower()``, JSON escapes of control characters)
the SQL hands the rare value to the Python function instead of imitating it. A file's lines are
made in SQL as one text, quoted as Python's csv module quotes a cell (a comma, a quote, a line
feed); a file whose cells hold a carriage return (whose quoting differs between Python versions),
or of one column, is rendered by the csv module itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from cdp_pipeline.lib.activation import consent_gate, hashing
from cdp_pipeline.lib.activation.csv_safe import (
    FORMULA_PREFIX_RE2,
    render_csv,
    render_csv_cells,
    split_csv,
    write_private_file,
)
from cdp_pipeline.lib.activation.destinations import Destination
from cdp_pipeline.lib.activation.identifiers import (
    register_identifier_functions,
    register_python_function,
)
from cdp_pipeline.lib.common.sql_files import fetch_sql, run_sql

SQL_DIR = Path(__file__).parent / "sql"
FILE_KINDS = ("full", "delta_added", "delta_removed")

# destination kind -> the largest file (bytes) its importer documents taking. A file over it is also
# written as parts (``<file kind>_part01.csv``, ``_part02.csv``, ...: the header and whole rows, at
# most this size each, in order) beside the whole file, which stays for tools without the limit.
# esp: Klaviyo's list import, "The maximum allowed file size is 50 MB. Larger uploads must be split
# into multiple CSV files" (help.klaviyo.com/hc/en-us/articles/115005078967); 50,000,000 bytes is
# under 50 MB however a megabyte is counted. The ad platforms document no file limit as low as a
# night's files (Google Customer Match 5 GB), sms and pos none
# (benchmarks/results/2026-12-07-s43-dest.md).
IMPORT_FILE_LIMITS: dict[str, int] = {"esp": 50_000_000}

# An address an ESP can take as it is: starts with a letter or digit (so it can never be a
# spreadsheet formula), one '@', no spaces or quotes.
SAFE_EMAIL = re.compile(r"^[a-z0-9][a-z0-9._%+\-']*@[a-z0-9][a-z0-9.\-]*\.[a-z]{2,}$")

# Columns written without neutralisation because the exporter validated them (see csv_safe).
RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    "esp": ("email",),
    "sms": ("phone",),
    "meta_audience": ("email", "phone"),
    "google_customer_match": ("Email", "Phone"),
    "pos": (),
}


def python_pattern_as_re2(pattern: re.Pattern) -> str:
    """``pattern`` for DuckDB's RE2 with Python's meaning: a final ``$`` also matches before a
    trailing newline in Python (``re.match``), and only at the very end in RE2."""
    if not pattern.pattern.endswith("$") or pattern.flags & re.MULTILINE:
        raise ValueError(f"expected a single-line pattern ending in '$': {pattern.pattern!r}")
    return pattern.pattern[:-1] + r"\n?$"


@dataclass
class Delta:
    added: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)


def diff_rows(previous: Mapping[str, dict], current: Mapping[str, dict]) -> Delta:
    """Rows (by key) added, changed and removed between two exports; each list sorted by key."""
    d = Delta()
    for key in sorted(current):
        if key not in previous:
            d.added.append(current[key])
        elif previous[key] != current[key]:
            d.updated.append(current[key])
    d.removed = [previous[k] for k in sorted(previous) if k not in current]
    return d


# Destinations that match people by hashed identifiers: a row is a pair of hashes, and a removal
# removes whoever it matches (update_export_delta_still_sent.sql).
AD_PLATFORM_KINDS = ("meta_audience", "google_customer_match")


def _not_still_sent(removed: list[dict], current: Iterable[Mapping], columns: Sequence[str]) -> list[dict]:
    """``removed`` without the rows sharing a non-empty value of one of ``columns`` with a current row:
    an ad platform removes the people a removal matches, so the old pair of a customer whose phone
    changed would take out a customer still in the audience."""
    sent = {(c, r.get(c)) for r in current for c in columns if r.get(c)}
    return [r for r in removed if not any(r.get(c) and (c, r.get(c)) in sent for c in columns)]


@dataclass
class ExportFiles:
    directory: Path
    files: dict[str, dict]  # file kind -> {path, rows, sha256}
    manifest: dict
    manifest_path: Path
    manifest_sha256: str


def export_directory(export_dir: Path, destination: str, run_date: date) -> Path:
    return Path(export_dir) / destination / run_date.isoformat()


def write_export(
    export_dir: Path,
    destination: Destination,
    run_date: date,
    current: Mapping[str, dict],
    previous: Mapping[str, dict] | None,
    previous_run_date: date | None,
    *,
    extra: Mapping[str, object] | None = None,
) -> ExportFiles:
    """Write full, delta and manifest files for one destination and run date (overwrites a rerun)."""
    raw = RAW_COLUMNS[destination.kind]
    delta = diff_rows(previous or {}, current)
    if destination.kind in AD_PLATFORM_KINDS:
        delta.removed = _not_still_sent(delta.removed, current.values(), destination.columns)
    contents = {
        kind: (len(rows), render_csv(destination.columns, rows, raw_columns=raw, header=destination.header))
        for kind, rows in (
            ("full", [current[k] for k in sorted(current)]),
            ("delta_added", delta.added + delta.updated),
            ("delta_removed", delta.removed),
        )
    }
    return _write_files(
        export_dir,
        destination,
        run_date,
        previous_run_date,
        contents,
        len(current),
        (len(delta.added), len(delta.updated), len(delta.removed)),
        extra,
    )


def _write_files(
    export_dir: Path,
    destination: Destination,
    run_date: date,
    previous_run_date: date | None,
    contents: Mapping[str, tuple[int, bytes]],
    rows: int,
    delta: tuple[int, int, int],
    extra: Mapping[str, object] | None,
) -> ExportFiles:
    """The CSV files (``contents``: file kind -> rows, bytes) and, last, the manifest."""
    out = export_directory(export_dir, destination.name, run_date)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in out.glob("*_part[0-9]*.csv"):  # parts of an earlier write of the folder (write_export in place)
        stale.unlink()
    limit = IMPORT_FILE_LIMITS.get(destination.kind)
    files: dict[str, dict] = {}
    for kind in FILE_KINDS:
        n, data = contents[kind]
        path = out / f"{kind}.csv"
        files[kind] = {"file": path.name, "rows": n, "sha256": write_private_file(path, data)}
        for i, (part, part_rows) in enumerate(split_csv(data, limit) if limit else [], start=1):
            name = f"{kind}_part{i:02d}"
            files[name] = {
                "file": f"{name}.csv",
                "rows": part_rows,
                "sha256": write_private_file(out / f"{name}.csv", part),
            }
    manifest = {
        "destination": destination.name,
        "kind": destination.kind,
        "run_date": run_date.isoformat(),
        "previous_run_date": previous_run_date.isoformat() if previous_run_date else None,
        "segments": list(destination.segments),
        "required_consent": list(destination.required_consent),
        "consent_rule": destination.consent_rule,
        "columns": list(destination.header),
        "rows": rows,
        "delta": {"added": delta[0], "updated": delta[1], "removed": delta[2]},
        **dict(extra or {}),
        "files": files,
        "written_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    manifest_path = out / "manifest.json"
    manifest_sha = write_private_file(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
    return ExportFiles(out, files, manifest, manifest_path, manifest_sha)


# --------------------------------------------------------------------------- in DuckDB
@dataclass
class StagedRows:
    """What ``stage_export_rows`` built: the temp table ``export_rows`` and its counts."""

    candidates: int
    dropped_without_consent: int
    skipped_no_identifier: int
    rows: int  # one per key, as stored


def register_export_functions(con: duckdb.DuckDBPyConnection) -> None:
    """The macros the export SQL uses and their Python fallbacks, on this connection (idempotent):
    the identifier normal form (identifiers.py, shared with the consent gate and check), JSON text
    and CSV cells. SQL sends only the values it cannot treat exactly as Python does to Python."""
    register_identifier_functions(con)
    register_python_function(
        con, "export_py_json_string", lambda s: None if s is None else json.dumps(s, ensure_ascii=False)
    )
    for macro in ("export_json_string", "export_cell"):
        run_sql(con, SQL_DIR, f"create_macro_{macro}")


def _kind_params(destination: Destination) -> tuple[str, dict]:
    """The SQL file that builds ``destination``'s rows and its parameters."""
    kind, segments = destination.kind, list(destination.segments)
    if kind == "esp":
        return "create_export_rows_esp", {"segments": segments, "safe_email": python_pattern_as_re2(SAFE_EMAIL)}
    if kind == "sms":
        return "create_export_rows_sms", {"segments": segments, "e164": python_pattern_as_re2(hashing.E164)}
    if kind in ("meta_audience", "google_customer_match"):
        email_key, phone_key = destination.columns
        assert email_key < phone_key  # the SQL writes them in this order, as sort_keys=True does
        return "create_export_rows_ad_platform", {
            "e164": python_pattern_as_re2(hashing.E164),
            "phone_without_plus": kind == "meta_audience",
            "email_key_json": json.dumps(email_key),
            "phone_key_json": json.dumps(phone_key),
        }
    if kind == "pos":
        keys = sorted({"loyalty_card_id", *segments})  # {"loyalty_card_id": card, **flags}, keys sorted
        return "create_export_rows_pos", {
            "segments": segments,
            "keys": keys,
            "keys_json": [json.dumps(k, ensure_ascii=False) for k in keys],
        }
    raise ValueError(f"unknown destination kind {kind!r}")  # pragma: no cover - destinations.py refuses them


class ExportAudience:
    """Temp table ``export_audience_checked``: the members of every segment of ``destinations`` with
    golden's columns and the consent gate's verdict on their identifiers (``email_ok``, ``sms_ok``:
    consent_gate.check_candidates), each destination's candidates then taken from it
    (create_export_candidates_from_audience.sql). The night's five destinations share most of
    their members: joining golden and looking each identifier up in the consent ledger once
    instead of once per destination took 0.35 CPU s less at 1M records. Golden, the ledger and
    segments.membership must not change while it is open (``close`` drops the tables)."""

    table = "export_audience_checked"

    def __init__(self, con: duckdb.DuckDBPyConnection, destinations: Iterable[Destination]) -> None:
        self.con = con
        register_export_functions(con)
        segments = sorted({s for d in destinations for s in d.segments})
        run_sql(con, SQL_DIR, "create_export_audience", {"segments": segments})
        try:
            consent_gate.check_candidates(con, "export_audience", self.table)
        finally:
            con.execute("DROP TABLE IF EXISTS export_audience")

    def close(self) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {self.table}")

    def __enter__(self) -> ExportAudience:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def stage_export_rows(
    con: duckdb.DuckDBPyConnection, destination: Destination, audience: ExportAudience | None = None
) -> StagedRows:
    """Temp table ``export_rows`` (customer_id, row_key, row_values, sent_email, sent_phone): the
    consent-gated candidates' rows for ``destination``, row_values as the JSON text
    activation.export_members stores; insert_export_members.sql keeps one row per key.
    ``audience``: the night's members and the gate's verdict, shared by its destinations (without
    it, an audience of this destination alone: the same rows)."""
    if audience is None:
        with ExportAudience(con, [destination]) as own:
            return stage_export_rows(con, destination, own)
    register_export_functions(con)
    run_sql(
        con,
        SQL_DIR,
        "create_export_candidates_from_audience",
        {"segments": list(destination.segments)},
        audience=audience.table,
    )
    # The gate is looked up on the module so nothing can hold on to an older gate.
    dropped = consent_gate.gate_candidates(con, destination)
    name, params = _kind_params(destination)
    run_sql(con, SQL_DIR, name, params)
    candidates, gated = con.execute(
        "SELECT (SELECT count(*) FROM export_candidates), (SELECT count(*) FROM gated_candidates)"
    ).fetchall()[0]
    built, keys = con.execute(
        "SELECT count(DISTINCT customer_id), count(DISTINCT row_key) FROM export_rows"
    ).fetchall()[0]
    return StagedRows(candidates, dropped, gated - built, keys)


_PLAIN_COLUMN = re.compile(r"^[A-Za-z0-9_]+$")


def _json_pointer(column: str) -> str:
    return "/" + column.replace("~", "~0").replace("/", "~1")


def write_export_from_members(
    con: duckdb.DuckDBPyConnection,
    export_dir: Path,
    destination: Destination,
    run_date: date,
    previous_run_date: date | None,
) -> ExportFiles:
    """``write_export`` for the destination's rows in activation.export_members on ``run_date``
    against ``previous_run_date``, with the delta and the cells computed in DuckDB: the same files."""
    register_export_functions(con)
    run_sql(
        con,
        SQL_DIR,
        "create_export_delta",
        {"destination": destination.name, "run_date": run_date, "previous_run_date": previous_run_date},
    )
    # A different text is an update only if the values differ too, as diff_rows compares them.
    same = [
        key
        for key, cur, prev in fetch_sql(con, SQL_DIR, "select_changed_export_rows")
        if json.loads(cur) == json.loads(prev)
    ]
    if same:
        run_sql(con, SQL_DIR, "update_export_delta_kept", {"row_keys": same})
    if destination.kind in AD_PLATFORM_KINDS:
        run_sql(con, SQL_DIR, "update_export_delta_still_sent")
    rows, added, updated, removed = fetch_sql(con, SQL_DIR, "select_export_delta_counts")[0]
    # Every current row added (a first export, or a rerun of it) or every one changed: delta_added
    # holds the full file's rows in the full file's order (by key, create_export_file_rows.sql), so
    # its bytes are the full file's, and its rows are neither built nor rendered a second time.
    delta_added_is_full = added + updated == rows and (added == 0 or updated == 0)
    run_sql(con, SQL_DIR, "create_export_file_rows", {"delta_added_is_full": delta_added_is_full})
    columns = list(destination.columns)
    paths = [_json_pointer(c) for c in columns]
    if (
        not all(_PLAIN_COLUMN.match(c) for c in columns)
        or fetch_sql(con, SQL_DIR, "select_unusual_export_values", {"paths": paths})[0][0]
    ):
        return _write_export_in_python(con, export_dir, destination, run_date, previous_run_date)
    raw = set(RAW_COLUMNS[destination.kind])
    params = {"paths": paths, "raw": [c in raw for c in columns], "formula_prefix": FORMULA_PREFIX_RE2}
    cells_list = ", ".join(f"cells[{i}]" for i in range(1, len(columns) + 1))
    header = render_csv_cells(destination.header, [])
    contents = {}
    for kind in FILE_KINDS:
        if kind == "delta_added" and delta_added_is_full:
            contents[kind] = contents["full"]
            continue
        # The file's lines made in DuckDB as one text, quoted as the csv module quotes (a one-column
        # file's empty cell is quoted too, and a carriage return depends on the Python version: those
        # files are rendered from their cells).
        text, n = None, 0
        if len(columns) > 1:
            text, n = fetch_sql(
                con,
                SQL_DIR,
                "select_export_file_text",
                {**params, "file_kind": kind},
            )[0]
        if text is not None:
            contents[kind] = (n, header + text.encode("utf-8"))
            continue
        cells = fetch_sql(con, SQL_DIR, "select_export_file_cells", {**params, "file_kind": kind}, cells=cells_list)
        contents[kind] = (len(cells), render_csv_cells(destination.header, cells))
    return _write_files(
        export_dir, destination, run_date, previous_run_date, contents, rows, (added, updated, removed), None
    )


def _write_export_in_python(
    con: duckdb.DuckDBPyConnection,
    export_dir: Path,
    destination: Destination,
    run_date: date,
    previous_run_date: date | None,
) -> ExportFiles:
    """Rows holding values the SQL cannot render as Python's str() would: the plain Python way."""

    def rows(day: date | None) -> dict[str, dict]:
        if day is None:
            return {}
        return {
            k: json.loads(v)
            for k, v in fetch_sql(
                con, SQL_DIR, "select_export_members", {"destination": destination.name, "run_date": day}
            )
        }

    return write_export(export_dir, destination, run_date, rows(run_date), rows(previous_run_date), previous_run_date)
