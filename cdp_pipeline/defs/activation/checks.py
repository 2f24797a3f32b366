"""The consent check: every exported row, in the files and in the table, is allowed by golden.customers
and carries no address or number the consent ledger (golden.identifier_consent) blocks."""

import hashlib
from pathlib import Path

import dagster as dg
import duckdb as duckdb_module
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.activation.assets import EXPORT_LOG_KEY, SQL_DIR, _ensure_tables, _query
from cdp_pipeline.defs.resources import DUCKDB_POOL
from cdp_pipeline.lib.activation.consent_gate import (
    IDENTIFIER_COLUMNS, LedgerMissing, count_unconsented_file_values, ledger_table, csv_header, file_identifier_values,
    register_consent_check_functions, unconsented_file_values,
)
from cdp_pipeline.lib.activation.destinations import Destination, load_destinations
from cdp_pipeline.lib.sql_files import run_sql


def find_consent_violations(con) -> list[str]:
    """Problems with the latest export of every configured destination (empty when all is well)."""
    configured = {d.name for d in load_destinations()}
    files = [f for f in _query(con, "select_latest_export_files") if f["destination"] in configured]
    problems: list[str] = []
    try:
        ledger_table(con)
    except LedgerMissing as exc:
        # which identifiers are blocked is unknown: no export can be shown to be allowed
        return [f"{exc}; {len(files)} export file(s) not verified"] if files else []
    # The identifiers golden allows, per consent the destination requires (a temp table each, holding
    # the identifier kinds the files of such destinations carry).
    kinds_by_need: dict[tuple[bool, bool], set[str]] = {}
    for f in files:
        need = ("email" in f["required_consent"], "sms" in f["required_consent"])
        kinds_by_need.setdefault(need, set()).update(IDENTIFIER_COLUMNS[f["kind"]].values())
    allowed_tables: dict[tuple[bool, bool], str] = {}
    try:
        for f in files:
            dest = Destination(name=f["destination"], kind=f["kind"], segments=tuple(f["segments"]),
                               required_consent=tuple(f["required_consent"]))
            path = Path(f["path"])
            where = f"{dest.name} {f['run_date']} {f['file_kind']}"
            if not path.exists():
                problems.append(f"{where}: file missing ({path})")
                continue
            data = path.read_bytes()
            unchanged = hashlib.sha256(data).hexdigest() == f["sha256"]
            if not unchanged:
                problems.append(f"{where}: file changed since it was written (checksum differs from the log)")
            if f["file_kind"] not in ("full", "delta_added"):
                continue  # removals tell the destination to forget someone: no consent needed
            need = ("email" in dest.required_consent, "sms" in dest.required_consent)
            if need not in allowed_tables:
                if not allowed_tables:
                    register_consent_check_functions(con)
                table = f"consent_check_allowed_{int(need[0])}{int(need[1])}"
                run_sql(con, SQL_DIR, "create_consented_identifiers",
                        {"need_email": need[0], "need_sms": need[1], "kinds": sorted(kinds_by_need[need])},
                        table=table)
                allowed_tables[need] = table
            text = data.decode("utf-8")
            if unchanged:
                # The file as the exporter wrote it: DuckDB reads and compares it. Only when it finds a
                # problem (or will not read the file) is the file read row by row in Python, which
                # says where each problem is.
                try:
                    if count_unconsented_file_values(con, path, csv_header(text), dest, allowed_tables[need]) == 0:
                        continue
                except duckdb_module.Error:
                    pass
            values = file_identifier_values(text, list(IDENTIFIER_COLUMNS[dest.kind]))
            problems += [f"{where}: {p}" for p in unconsented_file_values(con, values, dest, allowed_tables[need])]
    finally:
        for table in allowed_tables.values():
            con.execute(f"DROP TABLE IF EXISTS {table}")
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
