"""Privacy: erasure requests executed after the night's layers are built and before publish."""

import datetime as dt
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.table_metadata import table_metadata
from cdp_pipeline.lib.audit.erase import (
    ensure_erasure_tables,
    erasures_awaiting_rewrite,
    rewrite_build_database,
    run_pending_erasures,
)
from cdp_pipeline.lib.common.compaction import compact_on_close
from cdp_pipeline.settings import get_settings

ERASURE_LOG_KEY = dg.AssetKey(["audit", "erasure_log"])

# Erasure runs last, so nothing the night builds can bring an erased person back after it;
# publish depends on this asset (defs/publish collects every layer's assets).
ERASURE_DEPS = [
    dg.AssetKey(["golden", "customers"]),
    dg.AssetKey(["golden", "customer_timeline"]),
    dg.AssetKey(["segments", "membership"]),
    dg.AssetKey(["segments", "history"]),
    dg.AssetKey(["activation", "export_log"]),
]


@dg.asset(
    key=ERASURE_LOG_KEY,
    group_name="audit",
    kinds={"duckdb"},
    deps=ERASURE_DEPS,
    description=(
        "Right to erasure: every pending request (cdp forget, or a CSV in the inbox) removes the "
        "person from every table and from undelivered export files, suppresses their identifiers "
        "at ingest, and leaves one PII-free row here. The build database is then rewritten with its live "
        "rows only, so the deleted rows' bytes do not stay in its free blocks."
    ),
)
def erasure_log(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = get_settings()
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
