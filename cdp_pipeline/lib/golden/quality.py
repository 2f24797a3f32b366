"""The golden layer's data-quality checks as plain functions: (passed, figures) per check.

``defs/golden/checks.py`` wraps them as Dagster asset checks; tests call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import fetch_sql, query_sql, run_sql
from cdp_pipeline.lib.golden.inputs import resolve_inputs, table_exists
from cdp_pipeline.lib.golden.traits import as_of_cutoff

SQL_DIR = Path(__file__).parent / "sql"


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)
    warn: bool = False  # a failure is a warning (the tables are usable), not an error


def _golden_missing(con) -> CheckOutcome | None:
    if not table_exists(con, "golden", "customers") or not table_exists(con, "golden", "customer_timeline"):
        return CheckOutcome(False, "golden tables do not exist")
    return None


def check_one_row_per_customer(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    if missing := _golden_missing(con):
        return missing
    tables = resolve_inputs(con)
    absent, unmapped, duplicated = fetch_sql(
        con, SQL_DIR, "select_customer_coverage", customer_map=tables["customer_map"]
    )[0]
    return CheckOutcome(
        absent == unmapped == duplicated == 0,
        "every customer of identity.customer_map has exactly one golden row",
        {"missing": absent, "unmapped": unmapped, "duplicated": duplicated},
    )


def check_rows_have_source_records(
    con: duckdb.DuckDBPyConnection, coverage: CheckOutcome | None = None
) -> CheckOutcome:
    """``coverage``: check_one_row_per_customer's outcome on ``con`` just before, if it was run. When it
    found no golden row of a customer_id missing from identity.customer_map (``unmapped`` 0), the
    map is not looked up again: only the rows' own record counts and sources are read (0.01 CPU s
    against 0.1-0.2 at 1M customers for the anti join on the map's customer_ids)."""
    if missing := _golden_missing(con):
        return missing
    if coverage is not None and coverage.metadata.get("unmapped") == 0:
        rows = fetch_sql(con, SQL_DIR, "select_customers_counted_without_records")
    else:
        tables = resolve_inputs(con)
        rows = fetch_sql(con, SQL_DIR, "select_customers_without_records", customer_map=tables["customer_map"])
    return CheckOutcome(
        not rows,
        "every golden row is backed by at least one source record",
        {"customers_without_records_sample": ", ".join(r[0] for r in rows) or "none"},
    )


def check_trait_sanity(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    if missing := _golden_missing(con):
        return missing
    names, rows = query_sql(con, SQL_DIR, "select_trait_violations")
    figures = dict(zip(names, rows[0]))
    return CheckOutcome(
        all(v == 0 for v in figures.values()),
        "no negative spend, last_seen >= first_seen, order counts add up, RFM scores 1-5",
        figures,
    )


def check_timeline_complete(con: duckdb.DuckDBPyConnection, tz: str = "UTC") -> CheckOutcome:
    """Every staging event of a mapped record before the cutoff of golden.customers.as_of_date
    appears exactly once in golden.customer_timeline, for its customer.

    First compared per staging table by the number and a hash sum of (customer_id, event_ref)
    pairs, expected and found (``select_timeline_fingerprints``: one join, no per-event
    comparison); only when a table's figures differ are its events compared one by one
    (``select_timeline_mismatches``), to count what is missing, unexpected or miscounted."""
    if missing := _golden_missing(con):
        return missing
    as_of = fetch_sql(con, SQL_DIR, "select_golden_as_of_date")[0][0]
    if as_of is None:
        count = con.execute("SELECT count(*) FROM golden.customer_timeline").fetchone()[0]
        return CheckOutcome(count == 0, "no customers, so the timeline must be empty", {"timeline_rows": count})
    tables = resolve_inputs(con)
    names = {
        k: tables[k]
        for k in (
            "customer_map",
            "orders",
            "email_activity",
            "sms_messages",
            "web_sessions",
            "web_events",
            "consent_events",
        )
    }
    params = {"cutoff": as_of_cutoff(as_of, tz)}
    description = "every mapped staging event appears exactly once in the timeline"
    run_sql(con, SQL_DIR, "create_timeline_check_macros", **names)
    differing = [kind for (kind,) in fetch_sql(con, SQL_DIR, "select_timeline_fingerprints", params, **names)]
    if not differing:
        return CheckOutcome(
            True,
            description,
            {"mismatches": 0, "compared": "per table: count and hash sum of (customer_id, event_ref)"},
        )
    rows = fetch_sql(con, SQL_DIR, "select_timeline_mismatches", params, **names)
    figures = {
        f"{kind}_{what}": n
        for kind, *counts in rows
        for what, n in zip(("missing", "unexpected", "miscounted"), counts)
        if n
    }
    return CheckOutcome(not figures, description, figures or {"mismatches": 0})


def check_money_in_one_currency(con: duckdb.DuckDBPyConnection, tz: str = "UTC", currency: str = "SEK") -> CheckOutcome:
    """Orders (of mapped records, before the as-of cutoff) in another currency than ``currency`` (the warehouse
    currency ``CDP_CURRENCY``, the one golden's money traits are in), or in one that could not be read: the
    traits count them as orders but leave their amounts out of spend (no rate to convert them with), so a
    customer's lifetime value is short by them. A warning, with the customers they belong to and those whose
    orders mix currencies."""
    if missing := _golden_missing(con):
        return missing
    as_of = fetch_sql(con, SQL_DIR, "select_golden_as_of_date")[0][0]
    if as_of is None:
        return CheckOutcome(True, "no customers", {"orders_not_in_warehouse_currency": 0}, warn=True)
    tables = resolve_inputs(con)
    names, rows = query_sql(
        con,
        SQL_DIR,
        "select_currency_mix",
        {"cutoff": as_of_cutoff(as_of, tz), "currency": currency},
        orders=tables["orders"],
        customer_map=tables["customer_map"],
    )
    figures = {"warehouse_currency": currency, **dict(zip(names, rows[0]))}
    return CheckOutcome(
        figures["orders_not_in_warehouse_currency"] == 0,
        f"every order is in {currency}: an order in another currency counts as an order but adds nothing "
        "to total_spend or average_order_value",
        figures,
        warn=True,
    )
