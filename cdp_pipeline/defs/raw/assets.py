"""Raw layer assets: every landing file of a source and day, loaded as received.

One table per file kind (a source's folder can hold several kinds), every table an asset of one
multi-asset, ``raw_sources``, partitioned by landing day (defs/partitions.py): one step loads the
sources one after the other, while one pool of parse worker processes reads the files of the
sources after the one being written (``load_sources``). A run over a partition range loads every
day of the range in that step (single-run backfill policy). Subsettable: a run of some sources'
tables (the UI's "Materialize" on one table) loads those sources only.
"""

import contextlib
import time
from collections.abc import Iterator

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.partitions import landing_date_partitions
from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.defs.run_mode import RunMode
from cdp_pipeline.defs.table_metadata import table_metadata
from cdp_pipeline.lib.common.progress import report_phase
from cdp_pipeline.lib.common.sql_files import fetch_sql
from cdp_pipeline.lib.raw import SOURCE_TABLES, PartitionOutcome, ledger, load_sources
from cdp_pipeline.lib.raw.reload import days_to_reload

RAW_GROUP = "raw"
MAX_WARNINGS_PER_FILE = 5

TABLE_DESCRIPTIONS = {
    "crm_customers": "CRM customer master rows as delivered, one per row of each customer extract.",
    "esp_members": "Email-platform audience members (subscribed, unsubscribed, cleaned) as exported.",
    "esp_activity": "Email campaign activity (opens, clicks, bounces) as exported.",
    "sms_messages": "SMS gateway messages (console CSV and bulk JSON lines) as exported.",
    "web_events": "GA4 web events as exported, the newest delivery of each events day.",
    "pos_orders": "Online order line items (Shopify-style export, WooCommerce order export) as delivered.",
    "pos_receipts": "Store receipt lines with loyalty cards as delivered.",
    "pos_square_items": "Square item sales (Items Detail export): a row per item sold or refunded, as delivered.",
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


# Sources load in name order, the order Dagster ran them in as steps of their own: every table,
# ledger row and quarantine row is written in that order, and a file delivered to two sources is
# loaded in the first (the other's is a duplicate).
LOAD_ORDER = tuple(sorted(SOURCE_TABLES))


def _specs() -> list[dg.AssetSpec]:
    # made when asked for: an AssetSpec left in the module would be loaded as an asset of its own
    return [
        dg.AssetSpec(
            key=["raw", t],
            group_name=RAW_GROUP,
            kinds={"duckdb"},
            description=TABLE_DESCRIPTIONS[t],
            metadata={"landing_folder": f"<landing>/{source}/<YYYY-MM-DD>/"},
        )
        for source in LOAD_ORDER
        for t in SOURCE_TABLES[source]
    ]


def selected_sources(selected: set[dg.AssetKey]) -> list[str]:
    """The sources whose tables are ``selected``, in load order. A source's files fill all its
    tables at once (raw/esp_members and raw/esp_activity come from one folder), so a selection
    holding some of a source's tables and not the others is refused (``dg.Failure``)."""
    sources, split = [], []
    for source in LOAD_ORDER:
        keys = [dg.AssetKey(["raw", t]) for t in SOURCE_TABLES[source]]
        chosen = [k for k in keys if k in selected]
        if chosen:
            sources.append(source)
        if chosen and len(chosen) < len(keys):
            split.append(" and ".join(k.to_user_string() for k in keys))
    if split:
        raise dg.Failure(
            "a source's files fill all of its tables in one load: select " + "; ".join(split) + " together"
        )
    return sources


def _results(
    con, source: str, outcomes: list[PartitionOutcome], days: list[str], loaded: list[str]
) -> Iterator[dg.MaterializeResult]:
    files = [f for o in outcomes for f in o.files]
    by_status = {s: sum(1 for f in files if f.status == s) for s in ledger.LEDGER_STATUSES}
    for t in SOURCE_TABLES[source]:
        mine = [f for f in files if f.table == t]
        yield dg.MaterializeResult(
            asset_key=["raw", t],
            metadata={
                **table_metadata(con, ["raw", t]),
                "landing_days": dg.MetadataValue.text(f"{days[0]} .. {days[-1]}" if days else ""),
                # a night with no new files loads again only the days whose files changed since
                "days_loaded": dg.MetadataValue.text(", ".join(loaded) if len(loaded) <= 3 else f"{len(loaded)} days"),
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


@dg.multi_asset(
    name="raw_sources",
    specs=_specs(),
    partitions_def=landing_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
    description="Loads every file delivered under <landing>/<source>/<day>/ into raw, source by source, "
    "replacing the day's rows; unreadable rows and files go to audit.quarantine.",
)
def raw_sources(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings):
    sources = selected_sources(set(context.selected_asset_keys))
    # Dagster lists dynamic partitions in the order they were added; load in date order.
    days = sorted(context.partition_keys)
    mode = RunMode.of_run(context.run)
    with duckdb.get_connection() as con:
        loading = days_to_reload(con, settings.landing_dir, days) if mode.no_new_files else days
        if not loading:
            context.log.info(f"no new landing files: {', '.join(days)} not loaded again (its files are as loaded)")
            for source in sources:
                yield from _results(con, source, [], days, loading)
            return
        # closing: a failure while reporting on one source stops the workers parsing the next
        loads = load_sources(con, settings.landing_dir, sources, loading, settings=settings)
        with contextlib.closing(loads):
            began = time.monotonic()
            for source, outcomes in loads:
                files = sum(len(o.files) for o in outcomes)
                rows = sum(o.rows_loaded for o in outcomes)
                # `cdp run` prints it under the step's line: the step is the whole raw layer
                report_phase("raw", f"{source}: {rows:,} rows from {files:,} files ({time.monotonic() - began:.1f} s)")
                for outcome in outcomes:
                    _log_outcomes(context, outcome)
                # each source's tables materialise as soon as they are written
                yield from _results(con, source, outcomes, days, loading)
                began = time.monotonic()
