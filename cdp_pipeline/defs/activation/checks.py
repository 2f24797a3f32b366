"""The consent check: every exported row, in the files and in the table, is allowed by golden.customers
and carries no address or number the consent ledger (golden.identifier_consent) blocks."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.activation.assets import EXPORT_LOG_KEY, _ensure_tables, _query
from cdp_pipeline.defs.resources import DUCKDB_POOL
from cdp_pipeline.lib.activation.consent_gate import LedgerMissing, export_file_problems, ledger_table
from cdp_pipeline.lib.activation.destinations import load_destinations


def find_consent_violations(con) -> list[str]:
    """Problems with the latest export of every configured destination (empty when all is well)."""
    configured = {d.name for d in load_destinations()}
    files = [f for f in _query(con, "select_latest_export_files") if f["destination"] in configured]
    try:
        ledger_table(con)
    except LedgerMissing as exc:
        # which identifiers are blocked is unknown: no export can be shown to be allowed
        return [f"{exc}; {len(files)} export file(s) not verified"] if files else []
    problems = export_file_problems(con, files)
    for r in _query(con, "select_unconsented_export_members"):
        if r["destination"] in configured:
            problems.append(f"{r['destination']} export_members: customer {r['customer_id']}: {r['problem']}")
    return problems


@dg.asset_check(
    asset=EXPORT_LOG_KEY,
    name="exported_rows_have_consent",
    description="Every row of every destination's latest full and delta files, and of activation.export_members, "
                "belongs to a customer still in golden.customers with the consent the destination and the "
                "identifier need, and carries no address or number blocked in golden.identifier_consent (an "
                "opt-out, bounce, cleaning or STOP on any customer); files are unchanged since written.",
    blocking=True,
    pool=DUCKDB_POOL,
)
def exported_rows_have_consent(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        _ensure_tables(con)
        problems = find_consent_violations(con)
    return dg.AssetCheckResult(
        passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"problems": len(problems),
                  "examples": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:25]) or "none")},
    )
