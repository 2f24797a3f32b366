"""The consent check: every exported row, in the files and in the table, is allowed by golden.customers
and carries no address or number the consent ledger (golden.identifier_consent) blocks; and the
warning that names the destinations held back because a consent-bearing file could not be read."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.activation.assets import EXPORT_LOG_KEY
from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.lib.activation.consent_check import consent_violations
from cdp_pipeline.lib.activation.destinations import load_destinations
from cdp_pipeline.lib.activation.holds import holds_on, unread_consent_files
from cdp_pipeline.lib.activation.store import ensure_activation_tables
from cdp_pipeline.lib.common.previews import markdown_table
from cdp_pipeline.lib.common.remedies import remedy
from cdp_pipeline.lib.segments.store import run_date


@dg.asset_check(
    asset=EXPORT_LOG_KEY,
    name="exported_rows_have_consent",
    description="Every row of every destination's latest full and delta files, and of activation.export_members, "
    "belongs to a customer still in golden.customers with the consent the destination and the "
    "identifier need, and carries no address or number blocked in golden.identifier_consent (an "
    "opt-out, bounce, cleaning or STOP on any customer); files are unchanged since written.",
    blocking=True,
)
def exported_rows_have_consent(duckdb: DuckDBResource, settings: CdpSettings) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        ensure_activation_tables(con)
        problems = consent_violations(con, load_destinations(settings.config_dir), settings.timezone)
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "problems": len(problems),
            "examples": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:25]) or "none"),
            **remedy("exported_rows_have_consent", not problems),
        },
    )


@dg.asset_check(
    asset=EXPORT_LOG_KEY,
    name="no_destination_held",
    description="Warns when a destination's files were not refreshed tonight because a file of the ESP, SMS "
    "gateway or CRM could not be read (whole, or rows that may carry an opt-out): names the file, "
    "the destinations it held and how to release it (fix the file, or acknowledge it in the inbox).",
    blocking=False,
)
def no_destination_held(duckdb: DuckDBResource, settings: CdpSettings) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        ensure_activation_tables(con)
        holds = holds_on(con, run_date(con, settings.timezone))
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
