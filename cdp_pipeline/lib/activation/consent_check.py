"""The blocking consent check over what was exported: every row of the latest files and of
activation.export_members is allowed by golden.customers and the consent ledger (the rule is
consent_gate's verification: ``export_file_problems`` and ``select_unconsented_export_members.sql``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from cdp_pipeline.lib.activation.consent_gate import (
    IDENTIFIER_COLUMNS,
    ConsentedIdentifiers,
    LedgerMissing,
    export_file_problems,
    ledger_table,
)
from cdp_pipeline.lib.activation.destinations import Destination
from cdp_pipeline.lib.activation.holds import holds_on
from cdp_pipeline.lib.common.sql_files import fetch_sql_dicts
from cdp_pipeline.lib.segments.store import run_date

SQL_DIR = Path(__file__).parent / "sql"


def held_destinations(con: duckdb.DuckDBPyConnection, timezone: str) -> set[str]:
    """Destinations held back on the current run date (audit.export_holds); ``timezone`` is the
    business time zone, which gives the run date while golden is empty."""
    try:
        return {h["destination"] for h in holds_on(con, run_date(con, timezone))}
    except duckdb.CatalogException:  # golden not built: nothing was exported or held
        return set()


def consent_violations(con: duckdb.DuckDBPyConnection, destinations: Iterable[Destination], timezone: str) -> list[str]:
    """Problems with the latest export of every one of ``destinations`` (empty when all is well)."""
    # A held destination's latest files are an earlier night's, not refreshed on purpose: they were
    # verified the night they were written, and are not sent again.
    configured = {d.name for d in destinations} - held_destinations(con, timezone)
    files = [f for f in fetch_sql_dicts(con, SQL_DIR, "select_latest_export_files") if f["destination"] in configured]
    try:
        ledger_table(con)
    except LedgerMissing as exc:
        # which identifiers are blocked is unknown: no export can be shown to be allowed
        return [f"{exc}; {len(files)} export file(s) not verified"] if files else []
    # One set of allowed identifiers for the files and the members: both read each customer's export
    # forms, consent flags and ledger look-ups from its table of customers, computed once.
    with ConsentedIdentifiers(con, {k for f in files for k in IDENTIFIER_COLUMNS[f["kind"]].values()}) as allowed:
        problems = export_file_problems(con, files, allowed)
        for r in fetch_sql_dicts(con, SQL_DIR, "select_unconsented_export_members", customers=allowed.customers()):
            if r["destination"] in configured:
                problems.append(f"{r['destination']} export_members: customer {r['customer_id']}: {r['problem']}")
    return problems
