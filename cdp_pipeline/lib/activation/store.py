"""The activation schema in the build database: its tables, and the steps that write them.

``replace_export_members`` stores tonight's rows of a destination (after the consent gate);
``export_destination`` writes its files from them, checks them in the staging folder and only
then moves them into place and logs them, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from cdp_pipeline.lib.activation.consent_gate import (
    ConsentedIdentifiers,
    LedgerMissing,
    export_file_problems,
    ledger_table,
)
from cdp_pipeline.lib.activation.destinations import Destination
from cdp_pipeline.lib.activation.export_staging import discard, promote
from cdp_pipeline.lib.activation.exporter import (
    ExportAudience,
    StagedRows,
    export_directory,
    stage_export_rows,
    write_export_from_members,
)
from cdp_pipeline.lib.common.sql_files import fetch_sql, run_sql
from cdp_pipeline.lib.common.table_comments import apply_table_comments
from cdp_pipeline.lib.common.warehouse import ensure_schemas, transaction

SQL_DIR = Path(__file__).parent / "sql"

TABLE_COMMENTS: dict[str, tuple[str, dict[str, str]]] = {
    "export_members": (
        "Every row sent to every destination on every run date, after the consent gate: the base of deltas.",
        {
            "destination": "destination name (config/destinations.yaml)",
            "run_date": "run date of the export (golden as_of_date)",
            "customer_id": "golden.customers.customer_id the row was built from",
            "row_key": "what the destination matches on: email (esp), phone (sms), hash pair (ads), card (pos)",
            "row_values": "the row as written to the file, as JSON",
            "sent_email": "the row carries the customer's email or its hash (needs email_contactable)",
            "sent_phone": "the row carries the customer's phone or its hash (needs sms_contactable)",
        },
    ),
    "export_log": (
        "Every export file written: what was sent where and when, with checksums and the consent rule applied.",
        {
            "destination": "destination name",
            "kind": "esp, sms, meta_audience, google_customer_match or pos",
            "run_date": "run date of the export (golden as_of_date); also the folder name",
            "file_kind": "full, delta_added (new and changed rows), delta_removed, manifest, or a part of a file "
            "over its tool's import limit (full_part01, ...)",
            "path": "absolute path of the file",
            "rows": "data rows in the file (for the manifest: rows of the full file)",
            "sha256": "SHA-256 of the file as written",
            "segments": "segments the destination receives",
            "required_consent": "channels every exported customer must be contactable on",
            "consent_rule": "the consent rule in words",
            "previous_run_date": "the export the delta is relative to; NULL for a first export",
            "exported_at": "when the file was written (UTC)",
        },
    ),
}

EXPORT_LOG_SCHEMA = pa.schema(
    [
        ("destination", pa.string()),
        ("kind", pa.string()),
        ("run_date", pa.date32()),
        ("file_kind", pa.string()),
        ("path", pa.string()),
        ("rows", pa.int64()),
        ("sha256", pa.string()),
        ("segments", pa.list_(pa.string())),
        ("required_consent", pa.list_(pa.string())),
        ("consent_rule", pa.string()),
        ("previous_run_date", pa.date32()),
        ("exported_at", pa.timestamp("us")),
    ]
)


def ensure_activation_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the activation tables that do not exist yet, with their comments."""
    ensure_schemas(con)
    for table in ("export_members", "export_log"):
        run_sql(con, SQL_DIR, f"create_activation_{table}")
        comment, columns = TABLE_COMMENTS[table]
        apply_table_comments(con, "activation", table, comment, columns)


def defined_segments(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The segments segments.definitions holds (a destination may name one that is not)."""
    return {segment for (segment,) in fetch_sql(con, SQL_DIR, "select_defined_segments")}


def replace_export_members(
    con: duckdb.DuckDBPyConnection, dest: Destination, run_date: date, audience: ExportAudience | None = None
) -> StagedRows:
    """Replace the destination's rows of activation.export_members on ``run_date`` with tonight's:
    members of its segments who pass the consent gate, in its format (built in DuckDB).
    ``audience``: the night's members and the gate's verdict, shared by its destinations."""
    staged = stage_export_rows(con, dest, audience)
    params = {"destination": dest.name, "run_date": run_date}
    # A rerun of the date that changes nothing (a night without new data: golden's as-of date stays)
    # leaves the rows as they are: the same table, without deleting and writing them again (at 1M
    # records ~0.5 CPU s and a commit of the WAL, for ~0.3 to compare; one row per key both sides).
    # A date with no rows stored yet (every night but a rerun) is compared without reading tonight's
    # rows twice: it is unchanged only when tonight has none either.
    stored, tonight = fetch_sql(con, SQL_DIR, "select_export_members_present", params)[0]
    if not stored and not tonight:
        return staged
    if stored and fetch_sql(con, SQL_DIR, "select_export_members_unchanged", params)[0][0]:
        return staged
    with transaction(con):
        run_sql(con, SQL_DIR, "delete_destination_export_members", params)
        run_sql(con, SQL_DIR, "insert_export_members", params)
    return staged


@dataclass
class DestinationExport:
    """One destination's night: its manifest, and the problems the check found in its staged files
    (none: the files are in place and logged; some: they were discarded, the folder is unchanged)."""

    manifest: dict
    problems: list[str]
    path: Path


def export_destination(
    con: duckdb.DuckDBPyConnection,
    dest: Destination,
    run_date: date,
    export_dir: Path,
    staging: Path,
    allowed: ConsentedIdentifiers | None = None,
) -> DestinationExport:
    """Write one destination's files for ``run_date`` from activation.export_members into ``staging``,
    check them there (consent_gate.export_file_problems) and, when they pass, move them into
    ``<export_dir>/<destination>/<run date>/`` and log them in activation.export_log. Files that fail
    are removed and not logged: the destination keeps its last passing export, which stays the base
    of the next delta, and a later rerun is not held to files nobody received. ``allowed``: the
    identifiers golden allows, shared by the night's destinations (built here when not given)."""
    params = {"destination": dest.name, "run_date": run_date}
    previous_date = fetch_sql(con, SQL_DIR, "select_previous_export_date", params)[0][0]
    files = write_export_from_members(con, staging, dest, run_date, previous_date)
    final = export_directory(export_dir, dest.name, run_date)
    entries = [(kind, info["file"], info["rows"], info["sha256"]) for kind, info in files.files.items()]
    entries.append(("manifest", files.manifest_path.name, files.manifest["rows"], files.manifest_sha256))
    now = datetime.now(timezone.utc).replace(tzinfo=None)

    def log_rows(folder: Path) -> list[dict]:
        return [
            {
                "destination": dest.name,
                "kind": dest.kind,
                "run_date": run_date,
                "file_kind": kind,
                "path": str(folder / name),
                "rows": rows,
                "sha256": sha,
                "segments": list(dest.segments),
                "required_consent": list(dest.required_consent),
                "consent_rule": dest.consent_rule,
                "previous_run_date": previous_date,
                "exported_at": now,
            }
            for kind, name, rows, sha in entries
        ]

    try:
        ledger_table(con)
        problems = export_file_problems(con, log_rows(files.directory), allowed)
    except LedgerMissing as exc:
        problems = [f"{exc}; {dest.name}'s files not verified"]
    if problems:
        discard(files.directory)
        return DestinationExport(files.manifest, problems, final)
    log = pa.Table.from_pylist(log_rows(final), schema=EXPORT_LOG_SCHEMA)
    with transaction(con):
        run_sql(con, SQL_DIR, "delete_destination_export_log", params)
        con.register("new_export_log", log)
        run_sql(con, SQL_DIR, "insert_export_log")
        con.unregister("new_export_log")
        # Last step before COMMIT: a failed move rolls the log back; the files and their log rows
        # appear together.
        promote(files.directory, final, staging)
    return DestinationExport(files.manifest, [], final)
