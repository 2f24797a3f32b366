"""Checks on the golden layer: coverage of identity.customer_map, provenance, trait sanity, timeline completeness."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.golden.assets import CUSTOMERS, TIMELINE
from cdp_pipeline.defs.resources import DUCKDB_POOL
from cdp_pipeline.lib.golden import quality
from cdp_pipeline.settings import get_settings


def _result(outcome: quality.CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=outcome.passed, description=outcome.description,
                               metadata={k: v if isinstance(v, (int, float, str)) else str(v)
                                         for k, v in outcome.metadata.items()})


@dg.asset_check(asset=CUSTOMERS, name="one_row_per_customer", pool=DUCKDB_POOL,
                description="Every customer_id of identity.customer_map has exactly one golden row, and no other rows.")
def one_row_per_customer(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        return _result(quality.check_one_row_per_customer(con))


@dg.asset_check(asset=CUSTOMERS, name="rows_have_source_records", pool=DUCKDB_POOL,
                description="No golden row without at least one source record behind it.")
def rows_have_source_records(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        return _result(quality.check_rows_have_source_records(con))


@dg.asset_check(asset=CUSTOMERS, name="trait_sanity", pool=DUCKDB_POOL,
                description="No negative spend, last_seen >= first_seen, order counts add up, RFM scores 1-5.")
def trait_sanity(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        return _result(quality.check_trait_sanity(con))


@dg.asset_check(asset=TIMELINE, name="every_event_once", pool=DUCKDB_POOL,
                description="Every staging event of a mapped record (before the as-of cutoff) appears exactly "
                            "once in the timeline, for its customer: the whole timeline, also after an "
                            "incremental build (compared per staging table by count and hash sum of "
                            "(customer_id, event_ref), event by event where those differ).")
def every_event_once(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        return _result(quality.check_timeline_complete(con, get_settings().timezone))


GOLDEN_CHECKS = [one_row_per_customer, rows_have_source_records, trait_sanity, every_event_once]
