"""Activation: segment audiences delivered as files to each destination, only with consent."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.defs.segments.assets import GOLDEN_CUSTOMERS, MEMBERSHIP_KEY
from cdp_pipeline.defs.table_metadata import table_metadata
from cdp_pipeline.lib.activation import store
from cdp_pipeline.lib.activation.consent_gate import ConsentedIdentifiers, destination_identifier_kinds
from cdp_pipeline.lib.activation.destinations import load_destinations
from cdp_pipeline.lib.activation.export_staging import clear_staging, staging_root
from cdp_pipeline.lib.activation.exporter import ExportAudience
from cdp_pipeline.lib.activation.holds import blocking_files, export_holds, record_holds
from cdp_pipeline.lib.activation.store import DestinationExport
from cdp_pipeline.lib.common.remedies import remedy
from cdp_pipeline.lib.segments.store import run_date as segments_run_date

EXPORT_MEMBERS_KEY = dg.AssetKey(["activation", "export_members"])
EXPORT_LOG_KEY = dg.AssetKey(["activation", "export_log"])


@dg.asset(
    key=EXPORT_MEMBERS_KEY,
    group_name="activation",
    kinds={"duckdb"},
    deps=[MEMBERSHIP_KEY, GOLDEN_CUSTOMERS],
    description="The rows each destination receives this run: members of its segments who pass the "
    "consent gate, in the destination's format (hashed for ad platforms).",
)
def export_members(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings
) -> dg.MaterializeResult:
    destinations = load_destinations(settings.config_dir)
    summary = []
    with duckdb.get_connection() as con:
        store.ensure_activation_tables(con)
        run_date = segments_run_date(con, settings.timezone)
        defined = store.defined_segments(con)
        # The members of every destination's segments, joined with golden and checked against the
        # consent ledger once for all destinations.
        with ExportAudience(con, destinations) as audience:
            for dest in destinations:
                unknown = [s for s in dest.segments if s not in defined]
                if unknown:
                    context.log.warning(f"destination {dest.name!r} names undefined segment(s) {unknown}")
                staged = store.replace_export_members(con, dest, run_date, audience)
                summary.append(
                    (
                        dest,
                        staged.candidates,
                        staged.dropped_without_consent,
                        staged.skipped_no_identifier,
                        staged.rows,
                        ", ".join(unknown),
                    )
                )
        table = table_metadata(con, context.asset_key)
    md = [
        "| destination | kind | candidates | dropped (no consent) | no identifier | rows | undefined segments |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    md += [f"| {d.name} | {d.kind} | {c:,} | {x:,} | {s:,} | {n:,} | {u} |" for d, c, x, s, n, u in summary]
    return dg.MaterializeResult(
        metadata={
            **table,
            "run_date": run_date.isoformat(),
            "rows": sum(n for *_, n, _ in summary),
            "dropped_without_consent": sum(x for _, _, x, *_ in summary),
            "destinations": dg.MetadataValue.md("\n".join(md)),
        }
    )


STAGED_EXPORTS_CHECK = "staged_exports_have_consent"


@dg.asset(
    key=EXPORT_LOG_KEY,
    group_name="activation",
    kinds={"duckdb"},
    deps=[EXPORT_MEMBERS_KEY],
    check_specs=[
        dg.AssetCheckSpec(
            STAGED_EXPORTS_CHECK,
            asset=EXPORT_LOG_KEY,
            blocking=True,
            description="Tonight's files of every destination, checked in the staging folder before they move "
            "into place, as exported_rows_have_consent checks the files in place: a destination "
            "whose files fail keeps its last passing export, and the night does not publish.",
        )
    ],
    description="Audience files per destination and run date (full, delta added/removed since the last "
    "export, manifest) under the export folder, and the log of every file written. Files are "
    "written to <export folder>/.staging/<run>/ and a destination's folder only receives them "
    "once they passed the consent check. A destination whose channel a consent-bearing file "
    "could not be read for is held: its files are not refreshed (audit.export_holds).",
)
def export_log(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings
) -> dg.MaterializeResult:
    destinations = load_destinations(settings.config_dir)
    clear_staging(settings.export_dir)
    staging = staging_root(settings.export_dir, context.run.run_id)
    outcomes: list[DestinationExport] = []
    try:
        with duckdb.get_connection() as con:
            store.ensure_activation_tables(con)
            run_date = segments_run_date(con, settings.timezone)
            # Fail closed: an unread ESP, SMS or CRM file may hold opt-outs the ledger does not know.
            holds = export_holds(destinations, blocking_files(con, settings.inbox_dir), settings.inbox_dir)
            record_holds(con, run_date, holds)
            held = {h.destination for h in holds}
            for h in holds:
                context.log.warning(
                    f"{h.destination} held ({h.channel}): {h.file.file}: {h.file.reason}; to release: {h.release}"
                )
            # The identifiers golden allows, put in export form and hashed once for every destination.
            with ConsentedIdentifiers(con, destination_identifier_kinds(destinations)) as allowed:
                for dest in destinations:
                    if dest.name not in held:
                        outcomes.append(
                            store.export_destination(con, dest, run_date, settings.export_dir, staging, allowed)
                        )
            table = table_metadata(con, context.asset_key)
    finally:
        clear_staging(settings.export_dir)
    failed = [o for o in outcomes if o.problems]
    for o in failed:
        context.log.error(
            f"{o.manifest['destination']}: tonight's export failed the consent check and was not "
            f"delivered ({len(o.problems)} problem(s)); {o.path.parent} keeps its last passing export"
        )
    md = [
        "| destination | kind | rows | added | updated | removed | since | consent | status |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    md += [
        f"| {m['destination']} | {m['kind']} | {m['rows']:,} | {m['delta']['added']:,} | "
        f"{m['delta']['updated']:,} | {m['delta']['removed']:,} | {m['previous_run_date'] or 'first export'} | "
        f"{', '.join(m['required_consent']) or 'none'} | "
        f"{'check failed: not delivered' if o.problems else 'in place'} |"
        for o in outcomes
        for m in [o.manifest]
    ]
    problems = [p for o in failed for p in o.problems]
    check = dg.AssetCheckResult(
        check_name=STAGED_EXPORTS_CHECK,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "problems": len(problems),
            "failed_destinations": ", ".join(o.manifest["destination"] for o in failed) or "none",
            "examples": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:25]) or "none"),
            **remedy(STAGED_EXPORTS_CHECK, not failed),
        },
    )
    return dg.MaterializeResult(
        metadata={
            **table,
            "run_date": run_date.isoformat(),
            "export_dir": dg.MetadataValue.path(str(settings.export_dir)),
            "destinations": len(outcomes),
            "destinations_held": dg.MetadataValue.text(", ".join(sorted(held)) or "none"),
            "delivered": len(outcomes) - len(failed),
            "rows": sum(o.manifest["rows"] for o in outcomes if not o.problems),
            "exports": dg.MetadataValue.md("\n".join(md)),
        },
        check_results=[check],
    )
