"""Publish: hand analysts a complete, consistent warehouse, atomically."""

import importlib
import importlib.util

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import DUCKDB_POOL
from cdp_pipeline.lib.contract_comments import comment_contract_tables
from cdp_pipeline.lib.privacy.erase import erasures_awaiting_rewrite
from cdp_pipeline.lib.privacy.verify import ErasedValues, assert_no_erased_identifiers
from cdp_pipeline.lib.run_summary import table_row_counts
from cdp_pipeline.lib.warehouse import erasures_executed, publish_warehouse
from cdp_pipeline.settings import get_settings

LAYER_PACKAGES = ("sources", "standardise", "identity", "golden", "segments", "activation", "privacy")


def _layer_asset_keys() -> list[dg.AssetKey]:
    """Every asset key defined in the layers' ``assets`` modules: publish waits for all of them."""
    keys: set[dg.AssetKey] = set()
    for layer in LAYER_PACKAGES:
        name = f"cdp_pipeline.defs.{layer}.assets"
        if importlib.util.find_spec(name) is None:
            continue
        for value in vars(importlib.import_module(name)).values():
            for obj in value if type(value) in (list, tuple) else [value]:
                if isinstance(obj, dg.AssetsDefinition):
                    keys.update(obj.keys)
    return sorted(keys, key=lambda k: k.path)


UPSTREAM_OF_PUBLISH = _layer_asset_keys()


@dg.asset(
    key=["publish", "warehouse"],
    group_name="publish",
    kinds={"duckdb"},
    pool=DUCKDB_POOL,
    deps=UPSTREAM_OF_PUBLISH,
    description=(
        "The analyst-facing warehouse file (CDP_WAREHOUSE): the build database copied into a new "
        "file and renamed over the old one, so readers always see a complete night and never block "
        "the run. A byte copy once the build file was rewritten after every erasure (its free blocks "
        "then hold no erased person); else only its live rows are copied."
    ),
)
def published_warehouse(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = get_settings()
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
    keep = erasures <= erasures_executed(settings.warehouse)
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
    with duckdb.get_connection() as con:
        counts = table_row_counts(con)
    preview = "\n".join(["| table | rows |", "| --- | ---: |"] + [f"| {s}.{t} | {n:,} |" for s, t, n in counts])
    context.log.info(f"published {result.tables} tables, {result.rows:,} rows to {result.path} ({result.copy} copy)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "tables": result.tables,
            "rows": result.rows,
            "bytes": result.bytes,
            "copy": result.copy,
            "tables_and_rows": dg.MetadataValue.md(preview),
        }
    )
