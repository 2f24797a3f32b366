"""Activation: segment audiences delivered as files to each destination, only with consent."""

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb as duckdb_module
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import DUCKDB_POOL
from cdp_pipeline.defs.segments.assets import GOLDEN_CUSTOMERS, MEMBERSHIP_KEY, _run_date
from cdp_pipeline.defs.table_metadata import table_metadata
from cdp_pipeline.lib.activation.consent_gate import LedgerMissing, export_file_problems, ledger_table
from cdp_pipeline.lib.activation.destinations import Destination, load_destinations
from cdp_pipeline.lib.activation.export_staging import clear_staging, discard, promote, staging_root
from cdp_pipeline.lib.activation.exporter import export_directory, stage_export_rows, write_export_from_members
from cdp_pipeline.lib.activation.holds import blocking_files, export_holds, record_holds
from cdp_pipeline.lib.segments.table_comments import apply_table_comments
from cdp_pipeline.lib.sql_files import run_sql
from cdp_pipeline.lib.warehouse import ensure_schemas, transaction
from cdp_pipeline.settings import get_settings

SQL_DIR = Path(__file__).parent / "sql"
EXPORT_MEMBERS_KEY = dg.AssetKey(["activation", "export_members"])
EXPORT_LOG_KEY = dg.AssetKey(["activation", "export_log"])

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
            "file_kind": "full, delta_added (new and changed rows), delta_removed or manifest",
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


def _ensure_tables(con: duckdb_module.DuckDBPyConnection) -> None:
    ensure_schemas(con)
    for table in ("export_members", "export_log"):
        run_sql(con, SQL_DIR, f"create_activation_{table}")
        comment, columns = TABLE_COMMENTS[table]
        apply_table_comments(con, "activation", table, comment, columns)


def _query(con: duckdb_module.DuckDBPyConnection, name: str, params: dict | None = None) -> list[dict]:
    cur = con.execute((SQL_DIR / f"{name}.sql").read_text(), params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


@dg.asset(
    key=EXPORT_MEMBERS_KEY,
    group_name="activation",
    kinds={"duckdb"},
    pool=DUCKDB_POOL,
    deps=[MEMBERSHIP_KEY, GOLDEN_CUSTOMERS],
    description="The rows each destination receives this run: members of its segments who pass the "
    "consent gate, in the destination's format (hashed for ad platforms).",
)
def export_members(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    destinations = load_destinations()
    summary = []
    with duckdb.get_connection() as con:
        _ensure_tables(con)
        run_date = _run_date(con)
        defined = {r["segment"] for r in _query(con, "select_defined_segments")}
        for dest in destinations:
            unknown = [s for s in dest.segments if s not in defined]
            if unknown:
                context.log.warning(f"destination {dest.name!r} names undefined segment(s) {unknown}")
            # Candidates, consent gate and rows are built in DuckDB (temp table export_rows).
            staged = stage_export_rows(con, dest)
            params = {"destination": dest.name, "run_date": run_date}
            with transaction(con):
                run_sql(con, SQL_DIR, "delete_destination_export_members", params)
                run_sql(con, SQL_DIR, "insert_export_members", params)
            summary.append(
                (
                    dest,
                    staged.candidates,
                    staged.dropped_without_consent,
                    staged.skipped_no_identifier,
                    staged.rows,
                    ", ".join(unknown),
                )
            )
        table = table_metadata(con, context.asset_key)
    md = [
        "| destination | kind | candidates | dropped (no consent) | no identifier | rows | undefined segments |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    md += [f"| {d.name} | {d.kind} | {c:,} | {x:,} | {s:,} | {n:,} | {u} |" for d, c, x, s, n, u in summary]
    return dg.MaterializeResult(
        metadata={
            **table,
            "run_date": run_date.isoformat(),
            "rows": sum(n for *_, n, _ in summary),
            "dropped_without_consent": sum(x for _, _, x, *_ in summary),
            "destinations": dg.MetadataValue.md("\n".join(md)),
        }
    )


STAGED_EXPORTS_CHECK = "staged_exports_have_consent"


@dataclass
class DestinationExport:
    """One destination's night: its manifest, and the problems the check found in its staged files
    (none: the files are in place and logged; some: they were discarded, the folder is unchanged)."""

    manifest: dict
    problems: list[str]
    path: Path


def export_destination(
    con: duckdb_module.DuckDBPyConnection, dest: Destination, run_date: date, export_dir: Path, staging: Path
) -> DestinationExport:
    """Write one destination's files for ``run_date`` from activation.export_members into ``staging``,
    check them there (consent_gate.export_file_problems) and, when they pass, move them into
    ``<export_dir>/<destination>/<run date>/`` and log them in activation.export_log. Files that fail
    are removed and not logged: the destination keeps its last passing export, which stays the base
    of the next delta, and a later rerun is not held to files nobody received."""
    params = {"destination": dest.name, "run_date": run_date}
    previous_date = con.execute((SQL_DIR / "select_previous_export_date.sql").read_text(), params).fetchall()[0][0]
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
        problems = export_file_problems(con, log_rows(files.directory))
    except LedgerMissing as exc:
        problems = [f"{exc}; {dest.name}'s files not verified"]
    if problems:
        discard(files.directory)
        return DestinationExport(files.manifest, problems, final)
    log = pa.Table.from_pylist(
        log_rows(final),
        schema=pa.schema(
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
        ),
    )

    with transaction(con):
        run_sql(con, SQL_DIR, "delete_destination_export_log", params)
        con.register("new_export_log", log)
        run_sql(con, SQL_DIR, "insert_export_log")
        con.unregister("new_export_log")
        # Last step before COMMIT: a failed move rolls the log back; the files and their log rows
        # appear together.
        promote(files.directory, final, staging)
    return DestinationExport(files.manifest, [], final)


@dg.asset(
    key=EXPORT_LOG_KEY,
    group_name="activation",
    kinds={"duckdb"},
    pool=DUCKDB_POOL,
    deps=[EXPORT_MEMBERS_KEY],
    check_specs=[
        dg.AssetCheckSpec(
            STAGED_EXPORTS_CHECK,
            asset=EXPORT_LOG_KEY,
            blocking=True,
            description="Tonight's files of every destination, checked in the staging folder before they move "
            "into place, as exported_rows_have_consent checks the files in place: a destination "
            "whose files fail keeps its last passing export, and the night does not publish.",
        )
    ],
    description="Audience files per destination and run date (full, delta added/removed since the last "
    "export, manifest) under the export folder, and the log of every file written. Files are "
    "written to <export folder>/.staging/<run>/ and a destination's folder only receives them "
    "once they passed the consent check. A destination whose channel a consent-bearing file "
    "could not be read for is held: its files are not refreshed (audit.export_holds).",
)
def export_log(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = get_settings()
    destinations = load_destinations()
    clear_staging(settings.export_dir)
    staging = staging_root(settings.export_dir, context.run.run_id)
    outcomes: list[DestinationExport] = []
    try:
        with duckdb.get_connection() as con:
            _ensure_tables(con)
            run_date = _run_date(con)
            # Fail closed: an unread ESP, SMS or CRM file may hold opt-outs the ledger does not know.
            holds = export_holds(destinations, blocking_files(con, settings.inbox_dir), settings.inbox_dir)
            record_holds(con, run_date, holds)
            held = {h.destination for h in holds}
            for h in holds:
                context.log.warning(
                    f"{h.destination} held ({h.channel}): {h.file.file}: {h.file.reason}; to release: {h.release}"
                )
            for dest in destinations:
                if dest.name not in held:
                    outcomes.append(export_destination(con, dest, run_date, settings.export_dir, staging))
            table = table_metadata(con, context.asset_key)
    finally:
        clear_staging(settings.export_dir)
    failed = [o for o in outcomes if o.problems]
    for o in failed:
        context.log.error(
            f"{o.manifest['destination']}: tonight's export failed the consent check and was not "
            f"delivered ({len(o.problems)} problem(s)); {o.path.parent} keeps its last passing export"
        )
    md = [
        "| destination | kind | rows | added | updated | removed | since | consent | status |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    md += [
        f"| {m['destination']} | {m['kind']} | {m['rows']:,} | {m['delta']['added']:,} | "
        f"{m['delta']['updated']:,} | {m['delta']['removed']:,} | {m['previous_run_date'] or 'first export'} | "
        f"{', '.join(m['required_consent']) or 'none'} | "
        f"{'check failed: not delivered' if o.problems else 'in place'} |"
        for o in outcomes
        for m in [o.manifest]
    ]
    problems = [p for o in failed for p in o.problems]
    check = dg.AssetCheckResult(
        check_name=STAGED_EXPORTS_CHECK,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "problems": len(problems),
            "failed_destinations": ", ".join(o.manifest["destination"] for o in failed) or "none",
            "examples": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:25]) or "none"),
        },
    )
    return dg.MaterializeResult(
        metadata={
            **table,
            "run_date": run_date.isoformat(),
            "export_dir": dg.MetadataValue.path(str(settings.export_dir)),
            "destinations": len(outcomes),
            "destinations_held": dg.MetadataValue.text(", ".join(sorted(held)) or "none"),
            "delivered": len(outcomes) - len(failed),
            "rows": sum(o.manifest["rows"] for o in outcomes if not o.problems),
            "exports": dg.MetadataValue.md("\n".join(md)),
        },
        check_results=[check],
    )
