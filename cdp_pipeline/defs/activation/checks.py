"""The consent check: every exported row, in the files and in the table, is allowed by golden.customers."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.activation.assets import EXPORT_LOG_KEY, SQL_DIR, _ensure_tables, _query
from cdp_pipeline.defs.resources import DUCKDB_POOL
from cdp_pipeline.lib.activation.consent_gate import unconsented_file_rows
from cdp_pipeline.lib.activation.csv_safe import file_sha256, read_csv_rows
from cdp_pipeline.lib.activation.destinations import Destination, load_destinations


def find_consent_violations(con) -> list[str]:
    """Problems with the latest export of every configured destination (empty when all is well)."""
    configured = {d.name for d in load_destinations()}
    files = [f for f in _query(con, "select_latest_export_files") if f["destination"] in configured]
    problems: list[str] = []
    allowed_cache: dict[tuple[bool, bool], dict[str, set[str]]] = {}
    for f in files:
        dest = Destination(name=f["destination"], kind=f["kind"], segments=tuple(f["segments"]),
                           required_consent=tuple(f["required_consent"]))
        path = Path(f["path"])
        where = f"{dest.name} {f['run_date']} {f['file_kind']}"
        if not path.exists():
            problems.append(f"{where}: file missing ({path})")
            continue
        if file_sha256(path) != f["sha256"]:
            problems.append(f"{where}: file changed since it was written (checksum differs from the log)")
        if f["file_kind"] not in ("full", "delta_added"):
            continue  # removals tell the destination to forget someone: no consent needed
        need = ("email" in dest.required_consent, "sms" in dest.required_consent)
        if need not in allowed_cache:
            allowed: dict[str, set[str]] = {}
            for r in _query(con, "select_consented_identifiers", {"need_email": need[0], "need_sms": need[1]}):
                allowed.setdefault(r["identifier_kind"], set()).add(r["value"])
            allowed_cache[need] = allowed
        problems += [f"{where}: {p}" for p in unconsented_file_rows(read_csv_rows(path), dest, allowed_cache[need])]
    for r in _query(con, "select_unconsented_export_members"):
        if r["destination"] in configured:
            problems.append(f"{r['destination']} export_members: customer {r['customer_id']}: {r['problem']}")
    return problems


@dg.asset_check(
    asset=EXPORT_LOG_KEY,
    name="exported_rows_have_consent",
    description="Every row of every destination's latest full and delta files, and of activation.export_members, "
                "belongs to a customer still in golden.customers with the consent the destination and the "
                "identifier need; files are unchanged since written.",
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
