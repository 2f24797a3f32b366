"""Checks on the identity layer: the contract holds, IDs are stable, no customer breaks a rule."""

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.lib.identity import load_identity_config
from cdp_pipeline.lib.identity.checks import cardinality_violations, customer_map_coverage, latest_identity_run
from cdp_pipeline.settings import Settings

CUSTOMER_MAP = dg.AssetKey(["identity", "customer_map"])


def covers_each_identity_record_once(con: duckdb.DuckDBPyConnection, settings: Settings) -> dg.AssetCheckResult:
    row = customer_map_coverage(con)
    passed = (
        row["identity_records"] == row["mapped_rows"]
        and row["unmapped_records"] == 0
        and row["records_mapped_twice"] == 0
        and row["mapped_records_not_in_staging"] == 0
        and row["null_customer_ids"] == 0
    )
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={k: dg.MetadataValue.int(v) for k, v in row.items()},
    )


def customer_id_churn(con: duckdb.DuckDBPyConnection, settings: Settings) -> dg.AssetCheckResult:
    limit = settings.id_change_warn_share
    row = latest_identity_run(con)
    if row is None:
        return dg.AssetCheckResult(
            passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={"note": "no identity run recorded yet"}
        )
    share = float(row["id_change_share"] or 0.0)
    return dg.AssetCheckResult(
        passed=share <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "id_change_share": dg.MetadataValue.float(share),
            "limit": dg.MetadataValue.float(limit),
            **{
                k: dg.MetadataValue.int(int(row[k] or 0))
                for k in ("records_still_present", "records_changed_id", "created", "merged", "split", "retired")
            },
        },
    )


def customers_respect_cardinality_rules(con: duckdb.DuckDBPyConnection, settings: Settings) -> dg.AssetCheckResult:
    rules = load_identity_config(config_dir=settings.config_dir).cardinality_rules
    violations = cardinality_violations(con, rules)
    preview = "\n".join(
        ["| customer_id | rule | distinct values |", "| --- | --- | ---: |"]
        + [f"| {c} | {r} | {n} |" for c, r, n in violations[:20]]
    )
    return dg.AssetCheckResult(
        passed=not violations,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "violating_customers": dg.MetadataValue.int(len(violations)),
            "rules": dg.MetadataValue.int(len(rules)),
            "examples": dg.MetadataValue.md(preview),
        },
    )


# name -> (what it verifies, the function that checks it on a connection with the settings)
IDENTITY_CHECKS = {
    "covers_each_identity_record_once": (
        "identity.customer_map holds every row of staging.identity_records exactly once, each with a "
        "customer_id, and nothing else.",
        covers_each_identity_record_once,
    ),
    "customer_id_churn": (
        "Warns when more than CDP_ID_CHANGE_WARN_SHARE of the records seen in the previous run changed customer_id.",
        customer_id_churn,
    ),
    "customers_respect_cardinality_rules": (
        "No customer holds more distinct values of a ruled column (birth dates, CRM ids, …) than "
        "config/identity.yaml allows.",
        customers_respect_cardinality_rules,
    ),
}


# One step for the three (a step of its own costs more in Dagster's bookkeeping than most of
# these queries); subsettable, so the UI still runs any one of them.
@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(name=name, asset=CUSTOMER_MAP, description=description, blocking=False)
        for name, (description, _) in IDENTITY_CHECKS.items()
    ],
    name="identity_checks",
    can_subset=True,
)
def identity_checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource, settings: CdpSettings):
    selected = {key.name for key in context.selected_asset_check_keys}
    with duckdb.get_connection() as con:
        for name, (_, check) in IDENTITY_CHECKS.items():
            if name in selected:
                r = check(con, settings)
                yield dg.AssetCheckResult(
                    asset_key=CUSTOMER_MAP,
                    check_name=name,
                    passed=r.passed,
                    severity=r.severity,
                    metadata=r.metadata,
                    description=r.description,
                )
