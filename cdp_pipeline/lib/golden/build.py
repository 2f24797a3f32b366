"""Build the golden layer: ``golden.customer_timeline`` then ``golden.customers``, as of a date.

Everything is set-based SQL over the whole customer base (no Python per customer):
the survivorship statement is generated from the YAML rules, the rest are the
``defs/golden/sql`` files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from cdp_pipeline.lib.golden._sql import run_golden_sql
from cdp_pipeline.lib.golden.comments import apply_golden_comments
from cdp_pipeline.lib.golden.consent import build_consent
from cdp_pipeline.lib.golden.inputs import missing_inputs, resolve_inputs
from cdp_pipeline.lib.golden.survivorship import AttributeRules, load_survivorship_config, run_survivorship
from cdp_pipeline.lib.golden.timeline import build_timeline
from cdp_pipeline.lib.golden.traits import as_of_cutoff, build_traits

_TEMP_TABLES = ("_golden_records", "_golden_survived", "_golden_traits", "_golden_consent",
                "_golden_consent_strengths")


@dataclass(frozen=True)
class GoldenBuild:
    as_of_date: date
    cutoff: datetime
    missing_inputs: list[str] = field(default_factory=list)


def latest_event_date(con: duckdb.DuckDBPyConnection, tz: str = "UTC") -> date | None:
    """Local date of the latest event in staging: the as-of date when a run names no day."""
    tables = resolve_inputs(con)
    parts = [f"SELECT max(ordered_at) AS t FROM {tables['orders']}",
             f"SELECT max(event_time) FROM {tables['email_activity']}",
             f"SELECT max(sent_at) FROM {tables['sms_messages']}",
             f"SELECT max(started_at) FROM {tables['web_sessions']}",
             f"SELECT max(event_time) FROM {tables['web_events']}",
             f"SELECT max(event_time) FROM {tables['consent_events']}",
             f"SELECT max(record_time) FROM {tables['identity_records']}"]
    # The local date is taken in SQL and capped at the last representable day: a hostile
    # timestamp at the very end of year 9999 must not overflow Python's date.
    return con.execute(
        f"SELECT least(CAST(timezone($tz, max(t) AT TIME ZONE 'UTC') AS DATE), DATE '9999-12-31') "
        f"FROM ({' UNION ALL '.join(parts)})", {"tz": tz}).fetchall()[0][0]


def build_golden(con: duckdb.DuckDBPyConnection, as_of_date: date, *, tz: str = "UTC",
                 config: tuple[AttributeRules, ...] | None = None) -> GoldenBuild:
    """(Re)create golden.customer_timeline and golden.customers as of ``as_of_date`` (a day in ``tz``)."""
    config = config or load_survivorship_config()
    cutoff = as_of_cutoff(as_of_date, tz)
    tables = resolve_inputs(con)
    try:
        run_golden_sql(con, "create_golden_schema")
        run_golden_sql(con, "create_customer_records", customer_map=tables["customer_map"],
                       identity_records=tables["identity_records"])
        run_survivorship(con, config, records="_golden_records", customers="_golden_records",
                         target="_golden_survived")
        build_timeline(con, tables, cutoff)
        build_traits(con, tables, as_of_date, cutoff)
        build_consent(con, tables, cutoff)
        run_golden_sql(con, "create_golden_customers", {"as_of_date": as_of_date},
                       records="_golden_records", survived="_golden_survived", traits="_golden_traits",
                       consent="_golden_consent")
        apply_golden_comments(con)
    finally:
        for name in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    return GoldenBuild(as_of_date, cutoff, missing_inputs(tables))
