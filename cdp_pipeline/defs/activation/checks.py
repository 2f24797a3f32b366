"""The consent check: every exported row, in the files and in the table, is allowed by golden.customers
and carries no address or number the consent ledger (golden.identifier_consent) blocks; and the
warning that names the destinations held back because a consent-bearing file could not be read."""

import dagster as dg
import duckdb as duckdb_module
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.activation.assets import EXPORT_LOG_KEY, _ensure_tables, _query
from cdp_pipeline.defs.resources import DUCKDB_POOL
from cdp_pipeline.lib.activation.consent_gate import LedgerMissing, export_file_problems, ledger_table
from cdp_pipeline.lib.activation.destinations import load_destinations
from cdp_pipeline.lib.activation.holds import holds_on, unread_consent_files
from cdp_pipeline.lib.previews import markdown_table


def held_destinations(con) -> set[str]:
    """Destinations held back on the current run date (audit.export_holds)."""
    from cdp_pipeline.defs.segments.assets import _run_date

    try:
        return {h["destination"] for h in holds_on(con, _run_date(con))}
    except duckdb_module.CatalogException:  # golden not built: nothing was exported or held
        return set()


def find_consent_violations(con) -> list[str]:
    """Problems with the latest export of every configured destination (empty when all is well)."""
    # A held destination's latest files are an earlier night's, not refreshed on purpose: they were
    # verified the night they were written, and are not sent again.
    configured = {d.name for d in load_destinations()} - held_destinations(con)
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
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "problems": len(problems),
            "examples": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:25]) or "none"),
        },
    )


@dg.asset_check(
    asset=EXPORT_LOG_KEY,
    name="no_destination_held",
    description="Warns when a destination's files were not refreshed tonight because a file of the ESP, SMS "
    "gateway or CRM could not be read (whole, or rows that may carry an opt-out): names the file, "
    "the destinations it held and how to release it (fix the file, or acknowledge it in the inbox).",
    blocking=False,
    pool=DUCKDB_POOL,
)
def no_destination_held(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    from cdp_pipeline.defs.segments.assets import _run_date

    with duckdb.get_connection() as con:
        _ensure_tables(con)
        holds = holds_on(con, _run_date(con))
        unread = unread_consent_files(con)
    by_file: dict[str, dict] = {}
    for h in holds:
        entry = by_file.setdefault(h["file"], {"destinations": [], **h})
        entry["destinations"].append(f"{h['destination']} ({h['channel']})")
    held = (
        markdown_table(
            ["file", "held destinations", "why", "to release"],
            [(f, ", ".join(e["destinations"]), e["reason"], e["release"]) for f, e in by_file.items()],
            400,
        )
        if holds
        else "none"
    )
    files = (
        markdown_table(
            ["file", "status", "rows quarantined", "holds", "why"],
            [(u.file, u.status, u.rows_quarantined, "yes" if u.blocking else "no", u.reason) for u in unread],
            200,
        )
        if unread
        else "none"
    )
    return dg.AssetCheckResult(
        passed=not holds,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "destinations_held": dg.MetadataValue.text(", ".join(sorted({h["destination"] for h in holds})) or "none"),
            "holds": dg.MetadataValue.md(held),
            "unread_consent_files": dg.MetadataValue.md(files),
        },
    )
