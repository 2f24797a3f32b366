"""Identity: which source records are the same person, under a persistent customer ID.

One multi-asset writes the linkage's ``identity`` tables in one go (they are one decision:
links, clusters and IDs must agree); ``identity/anonymous_visitors``, which counts web cookies
and links nothing, is a step of its own. Logic lives in ``cdp_pipeline.lib.identity``.
"""

import json

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.defs.run_mode import RunMode
from cdp_pipeline.defs.table_metadata import rounded, table_metadata
from cdp_pipeline.lib.common.gc_pause import heap_frozen
from cdp_pipeline.lib.identity import evaluate_against_truth, format_evaluation, load_identity_config
from cdp_pipeline.lib.identity.anonymous import write_anonymous_visitors
from cdp_pipeline.lib.identity.evaluate import blocking_recall
from cdp_pipeline.lib.identity.name_variants import load_name_variants
from cdp_pipeline.lib.identity.resolve import default_paths, resolve_identities, table_exists
from cdp_pipeline.lib.identity.splink_model import splink_model_markdown
from cdp_pipeline.lib.staging.build import data_as_of

IDENTITY_RECORDS = dg.AssetKey(["staging", "identity_records"])
WEB_EVENTS = dg.AssetKey(["staging", "web_events"])

IDENTITY_ASSETS = {
    "customer_map": "Every identity-bearing source record and the customer it resolved to (public contract).",
    "links": "The deterministic, probabilistic and review links that joined each customer's records, "
    "with their evidence.",
    "rejected_links": "Links cut to honour cardinality rules and cannot-link review decisions.",
    "clusters": "One row per customer: how many records, from which sources, joined by which links.",
    "excluded_identifiers": "Junk and implausibly shared identifiers that were not used to link, with the reason.",
    "id_history": "Every customer ID created, merged, split or retired, per run.",
    "runs": "One row per identity run: records, customers and how many IDs changed.",
}


def _specs(deps) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            key=["identity", table],
            group_name="identity",
            kinds={"duckdb", "splink"},
            description=description,
            deps=deps,
            skippable=False,
        )
        for table, description in IDENTITY_ASSETS.items()
    ]


def build_identity_assets(deps=(IDENTITY_RECORDS,)) -> dg.AssetsDefinition:
    """The identity multi-asset; tests pass ``deps=()`` and create the staging table themselves."""

    @dg.multi_asset(
        name="identity_resolution",
        specs=_specs(list(deps)),
        description="Resolve staging.identity_records into persistent customers.",
    )
    def identity_resolution(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings):
        config = load_identity_config(config_dir=settings.config_dir)
        review_file, reports_dir = default_paths(settings)
        full_refresh = RunMode.of_run(context.run).full_refresh
        # A night runs every step in one process (defs/executor.py): by this step it holds some
        # 300,000 Python objects (Dagster's, the definitions), and Splink's work (its SQL built as
        # sqlglot trees) makes the cyclic collector run full passes, each walking all of them.
        # Frozen for the step, they are left out of those passes.
        with heap_frozen(), duckdb.get_connection() as con:
            result = resolve_identities(
                con,
                run_id=context.run.run_id,
                config=config,
                review_file=review_file,
                reports_dir=reports_dir,
                full_refresh=full_refresh,
                as_of=_data_as_of(con),
                retrain_days=settings.model_retrain_days,
                name_variants=load_name_variants(settings.config_dir),
                engine_settings=settings,
            )
            counts = {t: con.execute(f"SELECT count(*) FROM identity.{t}").fetchall()[0][0] for t in IDENTITY_ASSETS}
            evaluation = _evaluate(con, context, config, settings.truth_file)
            tables = {t: table_metadata(con, ["identity", t]) for t in IDENTITY_ASSETS}
        summary = result.summary()
        model = summary.get("model") or {}
        shared = {
            "records": dg.MetadataValue.int(result.records),
            "customers": dg.MetadataValue.int(result.customers),
            "links_by_type": dg.MetadataValue.json(result.links_by_type),
            "excluded_identifiers": dg.MetadataValue.int(result.excluded_identifiers),
            "match_threshold": rounded(config.splink.match_threshold),
            # pairs judged on name, birth date and address only: calibrated this run (thresholds.py)
            "sparse_pair_threshold": rounded((model.get("thresholds") or {}).get("sparse_pair_threshold")),
            "sparse_expected_precision": dg.MetadataValue.text("no such links")
            if (model.get("thresholds") or {}).get("sparse_expected_precision") is None
            else rounded(model["thresholds"]["sparse_expected_precision"]),
            "sparse_links": dg.MetadataValue.int(int((model.get("thresholds") or {}).get("sparse_links") or 0)),
            "id_change_share": rounded(result.id_changes["id_change_share"]),
            "id_events": dg.MetadataValue.json(result.id_changes["events"]),
            "scoring": dg.MetadataValue.text(model.get("scoring", "full")),
            "model_retrained": dg.MetadataValue.bool(bool(model.get("retrained"))),
            "records_rescored": dg.MetadataValue.int(int(model.get("records_rescored") or 0)),
            "records_reclustered": dg.MetadataValue.int(int(result.graph.get("affected_records") or 0)),
        }
        context.log.info(
            f"identity: {result.records:,} records -> {result.customers:,} customers; "
            f"links {result.links_by_type}; excluded identifiers {result.excluded_identifiers}"
        )
        context.log.info(
            f"identity model: {model.get('scoring')} scoring, {model.get('records_rescored', 0):,} "
            f"records scored, {model.get('pairs_kept', 0):,} pairs kept, "
            f"{result.graph.get('affected_records', 0):,} records clustered again; "
            + (f"retrained ({model.get('retrain_reason')})" if model.get("retrained") else "reused")
        )
        for note in model.get("training_notes", []):
            context.log.warning(f"identity model: {note}")
        for table in IDENTITY_ASSETS:
            metadata = dict(tables[table]) or {"dagster/row_count": dg.MetadataValue.int(int(counts.get(table, 0)))}
            if table == "customer_map":
                metadata |= shared | {
                    "review": dg.MetadataValue.json(result.review),
                    "splitting": dg.MetadataValue.json(result.splitting),
                }
                if evaluation:
                    metadata |= evaluation
            if table == "links":
                metadata |= {
                    "links_by_type": shared["links_by_type"],
                    "records_in_model": dg.MetadataValue.int(model.get("records_in_model", 0)),
                    "prior_match_probability": rounded(model.get("probability_two_random_records_match"), 6),
                    "training_notes": dg.MetadataValue.json(model.get("training_notes", [])),
                }
                if model.get("model_path"):
                    metadata["model_json"] = dg.MetadataValue.path(model["model_path"])
                    # what the charts show, readable in the UI from any machine (the HTML files
                    # are on the pipeline's host; their paths below are for a shell there)
                    metadata["model_weights"] = dg.MetadataValue.md(splink_model_markdown(model["model_path"]))
                for name, path in (model.get("charts") or {}).items():
                    metadata[f"chart_{name}"] = dg.MetadataValue.path(path)
            if table == "excluded_identifiers":
                metadata["by_reason"] = dg.MetadataValue.json(result.excluded_by_reason)
            yield dg.MaterializeResult(asset_key=["identity", table], metadata=metadata)

    return identity_resolution


# Its own step: it reads staging.web_events only, so the identity step does not wait for the web
# events' build, which runs beside it (defs/executor.py).
@dg.asset(
    key=["identity", "anonymous_visitors"],
    group_name="identity",
    kinds={"duckdb"},
    deps=[WEB_EVENTS],
    description="Web cookies never seen with a user_id: counted, never customers.",
)
def anonymous_visitors(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        count = write_anonymous_visitors(con)
        table = table_metadata(con, context.asset_key)
    return dg.MaterializeResult(metadata={**table, "anonymous_visitors": dg.MetadataValue.int(count or 0)})


def _data_as_of(con):
    """The data's date (the model's age is counted in days of data); None before any file loaded."""
    return data_as_of(con) if table_exists(con, "audit", "files") else None


def _evaluate(con, context, config, truth) -> dict:
    """When the input is the generated sample (its truth file exists), score the run against it."""
    if not truth.exists():
        return {}
    try:
        ev = evaluate_against_truth(con, truth)
        ev["blocking"] = blocking_recall(con, truth, config)
    except Exception as exc:  # noqa: BLE001 - a bad truth file must not fail the night
        context.log.warning(f"evaluation against {truth} failed: {exc}")
        return {}
    p = ev["pairwise"]
    return {
        "eval_precision": rounded(p["precision"]),
        "eval_recall": rounded(p["recall"]),
        "eval_f1": rounded(p["f1"]),
        "eval_blocking_recall": rounded(ev["blocking"]["recall"]),
        "evaluation": dg.MetadataValue.md("```\n" + format_evaluation(ev) + "\n```"),
        "evaluation_json": dg.MetadataValue.json(json.loads(json.dumps(ev, default=str))),
    }


identity_resolution = build_identity_assets()
