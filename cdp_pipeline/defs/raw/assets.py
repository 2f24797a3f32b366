"""Raw layer assets: every landing file of a source and day, loaded as received.

One multi-asset per source (a source's folder can hold several file kinds, each with
its own raw table), partitioned by landing day (defs/partitions.py). A run over a partition range
loads every day of the range in one step (single-run backfill policy).
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.partitions import landing_date_partitions
from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.defs.table_metadata import table_metadata
from cdp_pipeline.lib.common.sql_files import fetch_sql
from cdp_pipeline.lib.raw import SOURCE_TABLES, PartitionOutcome, ledger, load_partitions

RAW_GROUP = "raw"
MAX_WARNINGS_PER_FILE = 5

TABLE_DESCRIPTIONS = {
    "crm_customers": "CRM customer master rows as delivered, one per row of each customer extract.",
    "esp_members": "Email-platform audience members (subscribed, unsubscribed, cleaned) as exported.",
    "esp_activity": "Email campaign activity (opens, clicks, bounces) as exported.",
    "sms_messages": "SMS gateway messages (console CSV and bulk JSON lines) as exported.",
    "web_events": "GA4 web events as exported, the newest delivery of each events day.",
    "pos_orders": "Online order line items (Shopify-style export) as delivered.",
    "pos_receipts": "Store receipt lines with loyalty cards as delivered.",
}

RAW_ASSET_KEYS = [dg.AssetKey(["raw", t]) for tables in SOURCE_TABLES.values() for t in tables]


def _log_outcomes(context: dg.AssetExecutionContext, outcome: PartitionOutcome) -> None:
    for f in outcome.files:
        name = f.file.rel_path
        if f.status == "rejected":
            context.log.warning(f"{name}: whole file rejected: {f.message}")
        elif f.status in ("duplicate", "superseded", "empty"):
            context.log.info(f"{name}: {f.status}: {f.message}")
        if f.rows_quarantined:
            shown = "; ".join(f"line {q.line_number}: {q.reason}" for q in f.quarantined[:MAX_WARNINGS_PER_FILE])
            more = (
                f"; and {f.rows_quarantined - MAX_WARNINGS_PER_FILE} more"
                if f.rows_quarantined > MAX_WARNINGS_PER_FILE
                else ""
            )
            context.log.warning(f"{name}: {f.rows_quarantined} row(s) quarantined: {shown}{more}")


def build_raw_source_asset(source: str) -> dg.AssetsDefinition:
    tables = SOURCE_TABLES[source]
    specs = [
        dg.AssetSpec(
            key=["raw", t],
            group_name=RAW_GROUP,
            kinds={"duckdb"},
            description=TABLE_DESCRIPTIONS[t],
            metadata={"landing_folder": f"<landing>/{source}/<YYYY-MM-DD>/"},
        )
        for t in tables
    ]

    @dg.multi_asset(
        name=f"raw_{source}",
        specs=specs,
        partitions_def=landing_date_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=f"Loads every file delivered under <landing>/{source}/<day>/ into raw, "
        "replacing the day's rows; unreadable rows and files go to audit.quarantine.",
    )
    def _raw_source(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings):
        landing_dir = settings.landing_dir
        # Dagster lists dynamic partitions in the order they were added; load in date order.
        days = sorted(context.partition_keys)
        with duckdb.get_connection() as con:
            outcomes = load_partitions(con, landing_dir, source, days, settings=settings)
            for outcome in outcomes:
                _log_outcomes(context, outcome)
            files = [f for o in outcomes for f in o.files]
            by_status = {s: sum(1 for f in files if f.status == s) for s in ledger.LEDGER_STATUSES}
            for t in tables:
                mine = [f for f in files if f.table == t]
                yield dg.MaterializeResult(
                    asset_key=["raw", t],
                    metadata={
                        **table_metadata(con, ["raw", t]),
                        "landing_days": dg.MetadataValue.text(f"{days[0]} .. {days[-1]}" if days else ""),
                        "rows_loaded": dg.MetadataValue.int(sum(f.rows_loaded for f in mine if f.status == "loaded")),
                        "rows_quarantined": dg.MetadataValue.int(sum(f.rows_quarantined for f in mine)),
                        "files_loaded": dg.MetadataValue.int(sum(1 for f in mine if f.status == "loaded")),
                        "files_empty": dg.MetadataValue.int(sum(1 for f in mine if f.status == "empty")),
                        "files_superseded": dg.MetadataValue.int(sum(1 for f in mine if f.status == "superseded")),
                        # duplicates and unreadable files have no kind: counted for the whole source
                        "source_files_duplicate": dg.MetadataValue.int(by_status["duplicate"]),
                        "source_files_rejected": dg.MetadataValue.int(by_status["rejected"]),
                        "table_rows_total": dg.MetadataValue.int(
                            fetch_sql(con, ledger.SQL_DIR, "count_raw_rows", table=t)[0][0]
                        ),
                        "preview": dg.MetadataValue.md(ledger.raw_preview(con, t, days[0], days[-1]) if days else ""),
                    },
                )

    return _raw_source


raw_crm = build_raw_source_asset("crm")
raw_esp = build_raw_source_asset("esp")
raw_sms = build_raw_source_asset("sms")
raw_web = build_raw_source_asset("web")
raw_pos = build_raw_source_asset("pos")
