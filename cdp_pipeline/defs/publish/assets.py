"""Publish: hand analysts a complete, consistent warehouse, atomically."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.lib.audit.erase import erasures_awaiting_rewrite
from cdp_pipeline.lib.audit.verify import ErasedValues, assert_no_erased_identifiers
from cdp_pipeline.lib.common.warehouse import erasures_executed
from cdp_pipeline.lib.publish.contract_comments import comment_contract_tables
from cdp_pipeline.lib.publish.warehouse_copy import erasures_in_published, no_writer, publish_warehouse

# Every table the night builds, by schema: publish copies the build file only after all of them.
# defs/test_definitions.py fails when an asset is added to a layer and not here.
PUBLISHED_TABLES: dict[str, tuple[str, ...]] = {
    "raw": (
        "crm_customers",
        "esp_activity",
        "esp_members",
        "pos_orders",
        "pos_receipts",
        "pos_square_items",
        "sms_messages",
        "web_events",
    ),
    "audit": ("erasure_log", "files", "quarantine"),
    "staging": (
        "consent_events",
        "email_activity",
        "identity_records",
        "order_lines",
        "orders",
        "sms_messages",
        "web_events",
        "web_sessions",
    ),
    "identity": (
        "anonymous_visitors",
        "clusters",
        "customer_map",
        "excluded_identifiers",
        "id_history",
        "links",
        "rejected_links",
        "runs",
    ),
    "golden": ("customer_timeline", "customers", "identifier_consent"),
    "segments": ("definitions", "history", "membership", "sizes"),
    "activation": ("export_log", "export_members"),
}
UPSTREAM_OF_PUBLISH = [dg.AssetKey([schema, table]) for schema, tables in PUBLISHED_TABLES.items() for table in tables]


@dg.asset(
    key=["publish", "warehouse"],
    group_name="publish",
    kinds={"duckdb"},
    deps=UPSTREAM_OF_PUBLISH,
    description=(
        "The analyst-facing warehouse file (CDP_WAREHOUSE): the build database copied into a new "
        "file and renamed over the old one, so readers always see a complete night and never block "
        "the run. A byte copy once the build file was rewritten after every erasure (its free blocks "
        "then hold no erased person); else only its live rows are copied."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings
) -> dg.MaterializeResult:
    # A session holding the published file read-write (not read-only, as analysts should) stops
    # the publish with a message saying so and what to do; checked first, before the night's last
    # work, and again while the file is swapped.
    with no_writer(settings.warehouse):
        pass
    with duckdb.get_connection() as con:
        # Blocking: an erased person's identifiers must not reach analysts or destinations.
        assert_no_erased_identifiers(con, settings.export_dir, settings)
        comment_contract_tables(con)
        # Every write of the night is checkpointed into the build file before it is copied.
        con.execute("CHECKPOINT")
        erasures = erasures_executed(con)
        # The erasure step rewrites the build file; should it not have, its free blocks may hold
        # an erased person and only the live rows are copied.
        live_rows_only = erasures_awaiting_rewrite(con) > 0
        erased = ErasedValues.of(con, settings)
    # The warehouse being replaced is kept for `cdp restore-previous`, unless someone was
    # erased since it was published: then it holds them, and it goes.
    replaced_erasures = erasures_in_published(settings.warehouse)
    if replaced_erasures is None:
        # e.g. a write-ahead log of another file left beside it: publishing repairs that, and the
        # file replaced is kept only if nobody was ever erased (it cannot say whom it holds)
        context.log.warning(f"the published warehouse {settings.warehouse} could not be opened; replacing it")
    keep = erasures <= (replaced_erasures or 0)
    if not keep:
        context.log.info("an erasure was executed since the last publish: no previous copy is kept")
    # Blocking: the new file's bytes, not only its rows, must hold no erased person.
    result = publish_warehouse(
        settings.build_db,
        settings.warehouse,
        keep_previous=keep,
        live_rows_only=live_rows_only,
        verify=erased.assert_not_in,
    )
    # (read from the published file: the same rows, and the build file is not opened again)
    preview = "\n".join(
        ["| table | rows |", "| --- | ---: |"] + [f"| {s}.{t} | {n:,} |" for s, t, n in result.table_rows]
    )
    context.log.info(f"published {result.tables} tables, {result.rows:,} rows to {result.path} ({result.copy} copy)")
    if result.stale_wal:
        context.log.warning(
            f"a write-ahead log left beside {result.path} by a session that opened it read-write was "
            f"{result.stale_wal}: it belongs to the replaced file, not to tonight's"
        )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "tables": result.tables,
            "rows": result.rows,
            "bytes": result.bytes,
            "copy": result.copy,
            **({"stale_wal": result.stale_wal} if result.stale_wal else {}),
            "tables_and_rows": dg.MetadataValue.md(preview),
        }
    )
