"""Checks on the golden layer: coverage of identity.customer_map, provenance, trait sanity, timeline completeness."""

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.golden.assets import CUSTOMERS, TIMELINE
from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.lib.common.remedies import remedy
from cdp_pipeline.lib.golden import quality
from cdp_pipeline.settings import Settings

# name -> (the asset checked, what it verifies, the function that checks it on a connection with the settings
# and the outcomes of the checks run before it in the same step, by name)
CHECKS = {
    "one_row_per_customer": (
        CUSTOMERS,
        "Every customer_id of identity.customer_map has exactly one golden row, and no other rows.",
        lambda con, settings, earlier: quality.check_one_row_per_customer(con),
    ),
    "rows_have_source_records": (
        CUSTOMERS,
        "No golden row without at least one source record behind it.",
        # one_row_per_customer, run just before, has looked every golden row up in the map
        lambda con, settings, earlier: quality.check_rows_have_source_records(con, earlier.get("one_row_per_customer")),
    ),
    "trait_sanity": (
        CUSTOMERS,
        "No negative spend, last_seen >= first_seen, order counts add up, RFM scores 1-5.",
        lambda con, settings, earlier: quality.check_trait_sanity(con),
    ),
    "money_in_one_currency": (
        CUSTOMERS,
        "Warns when orders are in another currency than the warehouse's (CDP_CURRENCY) or an unreadable one: counted as "
        "orders, their amounts are left out of total_spend and average_order_value (no rate to convert them "
        "with); counts those orders, their customers and the customers whose orders mix currencies.",
        lambda con, settings, earlier: quality.check_money_in_one_currency(con, settings.timezone, settings.currency),
    ),
    "every_event_once": (
        TIMELINE,
        "Every staging event of a mapped record (before the as-of cutoff) appears exactly once in the "
        "timeline, for its customer: the whole timeline, also after an incremental build (compared "
        "per staging table by count and hash sum of (customer_id, event_ref), event by event where "
        "those differ).",
        lambda con, settings, earlier: quality.check_timeline_complete(con, settings.timezone),
    ),
}


def golden_check_result(
    con: duckdb.DuckDBPyConnection,
    name: str,
    settings: Settings,
    earlier: dict[str, quality.CheckOutcome] | None = None,
) -> dg.AssetCheckResult:
    """The check ``name`` on ``con``; ``earlier``: the outcomes of the checks already run on ``con`` in
    this step, by name (the check may use their figures; this call adds its own outcome)."""
    asset, _, check = CHECKS[name]
    earlier = {} if earlier is None else earlier
    outcome = earlier[name] = check(con, settings, earlier)
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.WARN if outcome.warn else dg.AssetCheckSeverity.ERROR,
        description=outcome.description,
        metadata={
            **{k: v if isinstance(v, (int, float, str)) else str(v) for k, v in outcome.metadata.items()},
            **remedy(name, outcome.passed),
        },
    )


# One step for them all (a step of its own costs more in Dagster's bookkeeping than most of
# these queries); subsettable, so the UI still runs any one of them.
@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(name=name, asset=asset, description=description)
        for name, (asset, description, _) in CHECKS.items()
    ],
    name="golden_checks",
    can_subset=True,
)
def golden_checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource, settings: CdpSettings):
    selected = {key.name for key in context.selected_asset_check_keys}
    earlier: dict[str, quality.CheckOutcome] = {}
    with duckdb.get_connection() as con:
        for name in CHECKS:
            if name in selected:
                yield golden_check_result(con, name, settings, earlier)


GOLDEN_CHECKS = [golden_checks]
