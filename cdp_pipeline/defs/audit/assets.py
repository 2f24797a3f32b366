"""The audit layer: the file ledger and the quarantine the raw load writes, reported per landing
day; and erasure requests, executed after the night's layers are built and before publish."""

import datetime as dt
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.partitions import landing_date_partitions
from cdp_pipeline.defs.raw.assets import RAW_ASSET_KEYS
from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.defs.table_metadata import table_metadata
from cdp_pipeline.lib.audit.erase import (
    ensure_erasure_tables,
    erasures_awaiting_rewrite,
    rewrite_build_database,
    run_pending_erasures,
)
from cdp_pipeline.lib.common.compaction import compact_on_close
from cdp_pipeline.lib.common.previews import markdown_table
from cdp_pipeline.lib.common.sql_files import fetch_sql
from cdp_pipeline.lib.raw import ledger

AUDIT_GROUP = "audit"
ERASURE_LOG_KEY = dg.AssetKey(["audit", "erasure_log"])


@dg.asset(
    key=["audit", "files"],
    group_name=AUDIT_GROUP,
    kinds={"duckdb"},
    deps=RAW_ASSET_KEYS,
    partitions_def=landing_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec(
            name="every_file_read_whole",
            asset=["audit", "files"],
            blocking=False,
            description="Warns when a file of the landing days was rejected whole or had rows quarantined "
            "(listed with the reason); an ESP, SMS or CRM file among them may hold destinations "
            "back (activation/export_log:no_destination_held).",
        )
    ],
)
def audit_files(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """The file ledger: every delivered file and what became of it (loaded, empty, duplicate,
    rejected, superseded). The raw assets write it; this asset reports the landing days' summary."""
    days = sorted(context.partition_keys)
    with duckdb.get_connection() as con:
        ledger.ensure_audit_tables(con)
        rows = fetch_sql(con, ledger.SQL_DIR, "select_files_summary", {"first_day": days[0], "last_day": days[-1]})
        total = fetch_sql(con, ledger.SQL_DIR, "count_ledger_files")[0][0]
        unread = fetch_sql(con, ledger.SQL_DIR, "select_unread_files", {"first_day": days[0], "last_day": days[-1]})
        table = table_metadata(con, context.asset_key)
    check = dg.AssetCheckResult(
        check_name="every_file_read_whole",
        passed=not unread,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files_rejected": dg.MetadataValue.int(sum(1 for r in unread if r[2] == "rejected")),
            "files_with_rows_quarantined": dg.MetadataValue.int(sum(1 for r in unread if r[4])),
            "files": dg.MetadataValue.md(
                markdown_table(["file", "source", "status", "rows_read", "rows_quarantined", "message"], unread, 120)
                if unread
                else "none"
            ),
        },
    )
    return dg.MaterializeResult(
        check_results=[check],
        metadata={
            **table,
            "files_in_days": dg.MetadataValue.int(sum(r[2] for r in rows)),
            "files_total": dg.MetadataValue.int(total),
            "summary": dg.MetadataValue.md(
                markdown_table(["source", "status", "files", "rows_read", "rows_loaded", "rows_quarantined"], rows)
                if rows
                else "(no files for these landing days)"
            ),
        },
    )


@dg.asset(
    key=["audit", "quarantine"],
    group_name=AUDIT_GROUP,
    kinds={"duckdb"},
    deps=RAW_ASSET_KEYS,
    partitions_def=landing_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def audit_quarantine(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Rows and whole files that could not be read, with the reason: nothing is dropped silently.
    The raw assets write it; this asset reports the landing days' quarantine."""
    days = sorted(context.partition_keys)
    with duckdb.get_connection() as con:
        ledger.ensure_audit_tables(con)
        rows = fetch_sql(con, ledger.SQL_DIR, "select_quarantine_entries", {"first_day": days[0], "last_day": days[-1]})
        table = table_metadata(con, context.asset_key)
    return dg.MaterializeResult(
        metadata={
            **table,
            "rows_quarantined": dg.MetadataValue.int(sum(1 for r in rows if r[2] is not None)),
            "files_rejected": dg.MetadataValue.int(sum(1 for r in rows if r[2] is None)),
            "preview": dg.MetadataValue.md(
                markdown_table(["source", "file", "line", "reason"], rows[:20], 80) if rows else "(nothing quarantined)"
            ),
        }
    )


# Erasure runs last, so nothing the night builds can bring an erased person back after it;
# publish depends on this asset (defs/publish collects every layer's assets).
ERASURE_DEPS = [
    dg.AssetKey(["golden", "customers"]),
    dg.AssetKey(["golden", "customer_timeline"]),
    dg.AssetKey(["segments", "membership"]),
    dg.AssetKey(["segments", "history"]),
    dg.AssetKey(["activation", "export_log"]),
    # steps that no layer above reads: named, so that with steps side by side (defs/executor.py)
    # each is built before the erasure too, never after it
    dg.AssetKey(["identity", "anonymous_visitors"]),
    dg.AssetKey(["staging", "order_lines"]),
    dg.AssetKey(["segments", "sizes"]),
    dg.AssetKey(["audit", "files"]),
    dg.AssetKey(["audit", "quarantine"]),
]


@dg.asset(
    key=ERASURE_LOG_KEY,
    group_name=AUDIT_GROUP,
    kinds={"duckdb"},
    deps=ERASURE_DEPS,
    description=(
        "Right to erasure: every pending request (cdp forget, or a CSV in the inbox) removes the "
        "person from every table and from undelivered export files, suppresses their identifiers "
        "at ingest, and leaves one PII-free row here. The build database is then rewritten with its live "
        "rows only, so the deleted rows' bytes do not stay in its free blocks."
    ),
)
def erasure_log(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings
) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        ensure_erasure_tables(con)
        results = run_pending_erasures(con, settings)
        if results:
            compact_on_close(con, dt.datetime.now(dt.timezone.utc).date())
        total = con.execute("SELECT count(*) FROM audit.erasure_log").fetchone()[0]
        suppressed = con.execute("SELECT count(*) FROM audit.suppression").fetchone()[0]
        table = table_metadata(con, context.asset_key)
        # Tonight's erasures, and any whose rewrite a killed run did not get to.
        awaiting = erasures_awaiting_rewrite(con)
    build_bytes = None
    if awaiting:
        # The deleted rows' bytes stay in the file's free blocks through any checkpoint: the file
        # is rewritten with its live rows before anything else opens it.
        build_bytes = rewrite_build_database(Path(duckdb.database))
    for r in results:
        context.log.info(
            f"erasure {r.request_id}: {r.customers_erased} customer(s), {r.rows_removed} row(s) "
            f"in {len(r.tables_affected)} table(s), {len(r.export_files_rewritten)} export file(s) "
            "rewritten"
        )
        if r.export_files_delivered:
            context.log.warning(
                f"erasure {r.request_id}: the person is in {len(r.export_files_delivered)} "
                "already delivered export file(s); ask those destinations to delete them"
            )
    md = [
        "| request | customers | rows removed | tables | export files rewritten | delivered files |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    md += [
        f"| {r.request_id} | {r.customers_erased} | {r.rows_removed} | {len(r.tables_affected)} | "
        f"{len(r.export_files_rewritten)} | {len(r.export_files_delivered)} |"
        for r in results
    ]
    return dg.MaterializeResult(
        metadata={
            **table,
            "requests_executed": len(results),
            "rows_removed": sum(r.rows_removed for r in results),
            "erasures_total": total,
            "suppressed_identifiers": suppressed,
            "build_database_rewritten": build_bytes is not None,
            "executed": dg.MetadataValue.md("\n".join(md) if results else "no pending requests"),
        }
    )
