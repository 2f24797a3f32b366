"""Segments: marketer-defined audiences evaluated over golden.customers, with their history."""

from datetime import datetime, timezone

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.defs.table_metadata import table_metadata
from cdp_pipeline.lib.segments import store
from cdp_pipeline.lib.segments.definitions import load_segment_definitions
from cdp_pipeline.lib.segments.history import (
    render_size_chart_svg,
    size_change_markdown,
    size_over_time_markdown,
)

GOLDEN_CUSTOMERS = dg.AssetKey(["golden", "customers"])
DEFINITIONS_KEY = dg.AssetKey(["segments", "definitions"])
MEMBERSHIP_KEY = dg.AssetKey(["segments", "membership"])
HISTORY_KEY = dg.AssetKey(["segments", "history"])
SIZES_KEY = dg.AssetKey(["segments", "sizes"])


# One step builds both tables: each definition is evaluated once per run, for its status and
# size (definitions) and its members (membership). Evaluating is most of the cost of either.
@dg.multi_asset(
    name="segment_evaluation",
    specs=[
        dg.AssetSpec(
            DEFINITIONS_KEY,
            group_name="segments",
            kinds={"duckdb"},
            deps=[GOLDEN_CUSTOMERS],
            description="The segment definitions of config/segments.yaml, each checked by the predicate guard "
            "and evaluated in a sandbox over golden.customers: status ok or the reason it fails.",
        ),
        dg.AssetSpec(
            MEMBERSHIP_KEY,
            group_name="segments",
            kinds={"duckdb"},
            deps=[DEFINITIONS_KEY, GOLDEN_CUSTOMERS],
            description="Who is in each segment now (public contract): every valid definition evaluated over "
            "golden.customers; a failed definition keeps its previous members.",
        ),
    ],
)
def segment_evaluation(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings):
    definitions = load_segment_definitions(settings.config_dir)
    with duckdb.get_connection() as con:
        store.ensure_segment_tables(con)
        run_date = store.run_date(con, settings.timezone)
        results = store.evaluate_against_golden(con, definitions)
        store.write_definitions(con, definitions, results, run_date, datetime.now(timezone.utc).replace(tzinfo=None))
        membership = store.write_membership(con, run_date, results)
        tables = {key: table_metadata(con, key) for key in (DEFINITIONS_KEY, MEMBERSHIP_KEY)}
    failed = [r for r in results if r.status != "ok"]
    for r in failed:
        context.log.warning(r.error)
    yield dg.MaterializeResult(
        asset_key=DEFINITIONS_KEY,
        metadata={
            **tables[DEFINITIONS_KEY],
            "run_date": run_date.isoformat(),
            "segments": len(results),
            "failed_segments": dg.MetadataValue.text(", ".join(r.name for r in failed) or "none"),
            "definitions": dg.MetadataValue.md(store.results_markdown(results)),
        },
    )
    sizes = membership.sizes
    yield dg.MaterializeResult(
        asset_key=MEMBERSHIP_KEY,
        metadata={
            **tables[MEMBERSHIP_KEY],
            "run_date": run_date.isoformat(),
            "members": sum(membership.current.values()),
            "segments_evaluated": len(results) - len(failed),
            "segments_kept_from_previous_run": dg.MetadataValue.text(", ".join(membership.kept) or "none"),
            "sizes": dg.MetadataValue.md(size_change_markdown(sizes, membership.previous or None, membership.status)),
            **{f"size/{s}": dg.MetadataValue.int(n) for s, n in sorted(sizes.items())},
        },
    )


@dg.asset(
    key=HISTORY_KEY,
    group_name="segments",
    kinds={"duckdb"},
    deps=[MEMBERSHIP_KEY],
    description="Every stay of a customer in a segment across runs (entered_at, exited_at); a rerun of a "
    "date rewinds to just before it first, so reruns give the same history.",
)
def segment_history(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings
) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        store.ensure_segment_tables(con)
        run_date = store.run_date(con, settings.timezone)
        change = store.update_history(con, run_date)
        table = table_metadata(con, context.asset_key)
    return dg.MaterializeResult(
        metadata={
            **table,
            "run_date": run_date.isoformat(),
            "entered_this_run": change.entered,
            "exited_this_run": change.exited,
            "stays": change.stays,
        }
    )


@dg.asset(
    key=SIZES_KEY,
    group_name="segments",
    kinds={"duckdb"},
    deps=[HISTORY_KEY, DEFINITIONS_KEY],
    description="Segment size per run date, with entries and exits: the change since the previous run "
    "and a picture of size over time (SVG in the reports folder).",
)
def segment_sizes(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings
) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        store.ensure_segment_tables(con)
        run_date = store.run_date(con, settings.timezone)
        sizes = store.record_sizes(con, run_date)
        table = table_metadata(con, context.asset_key)
    chart = settings.reports_dir / "segments" / "segment_sizes.svg"
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_text(render_size_chart_svg(sizes.series), encoding="utf-8")
    change = size_change_markdown(sizes.on(run_date), sizes.previous or None, sizes.status)
    return dg.MaterializeResult(
        metadata={
            **table,
            "run_date": run_date.isoformat(),
            "runs": len({d for d, _, _ in sizes.series}),
            "change_since_previous_run": dg.MetadataValue.md(change),
            "size_over_time": dg.MetadataValue.md(size_over_time_markdown(sizes.series)),
            "chart": dg.MetadataValue.path(str(chart)),
        }
    )
