"""Publish: hand analysts a complete, consistent warehouse, atomically."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import DUCKDB_POOL
from cdp_pipeline.lib.run_summary import table_row_counts
from cdp_pipeline.lib.warehouse import publish_warehouse
from cdp_pipeline.settings import get_settings

# The last asset of every layer: publish waits for all of them in a run.
UPSTREAM_OF_PUBLISH: list[dg.AssetKey] = []


@dg.asset(
    key=["publish", "warehouse"],
    group_name="publish",
    kinds={"duckdb"},
    pool=DUCKDB_POOL,
    deps=UPSTREAM_OF_PUBLISH,
    description=(
        "The analyst-facing warehouse file (CDP_WAREHOUSE): a full copy of the build database "
        "written to a new file and renamed over the old one, so readers always see a complete "
        "night and never block the run."
    ),
)
def published_warehouse(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = get_settings()
    # Make sure every write of the night is checkpointed into the build file before copying it.
    with duckdb.get_connection() as con:
        con.execute("CHECKPOINT")
    result = publish_warehouse(settings.build_db, settings.warehouse)
    with duckdb.get_connection() as con:
        counts = table_row_counts(con)
    preview = "\n".join(["| table | rows |", "| --- | ---: |"] + [f"| {s}.{t} | {n:,} |" for s, t, n in counts])
    context.log.info(f"published {result.tables} tables, {result.rows:,} rows to {result.path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "tables": result.tables,
            "rows": result.rows,
            "bytes": result.bytes,
            "tables_and_rows": dg.MetadataValue.md(preview),
        }
    )
