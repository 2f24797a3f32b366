"""Checks that the raw layer lost nothing: per raw table, the ledger adds up."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import DUCKDB_POOL
from cdp_pipeline.lib.ingest import SOURCE_TABLES, ledger


def _metadata(b: dict) -> dict:
    return {
        "files": dg.MetadataValue.int(b["files"]),
        "rows_read": dg.MetadataValue.int(b["rows_read"]),
        "rows_loaded_live": dg.MetadataValue.int(b["rows_loaded_live"]),
        "rows_quarantined": dg.MetadataValue.int(b["rows_quarantined"]),
        "raw_rows": dg.MetadataValue.int(b["raw_rows"]),
        "quarantine_rows": dg.MetadataValue.int(b["quarantine_rows"]),
        "imbalanced_files": dg.MetadataValue.text(", ".join(b["imbalanced_files"][:20]) or "none"),
    }


# name -> (what it verifies, the ledger_balance field that says so, severity)
LEDGER_CHECKS = {
    "ledger_balances": (
        "Every file's rows read equal rows loaded plus rows quarantined, and the quarantine holds "
        "exactly the rows the ledger says it does.", "balanced", dg.AssetCheckSeverity.ERROR),
    "raw_rows_match_ledger": (
        "The raw table holds the rows the ledger says were loaded (a warning: an erasure deletes "
        "raw rows on purpose).", "raw_matches", dg.AssetCheckSeverity.WARN),
}


def build_ledger_check(source: str, table: str, name: str) -> dg.AssetChecksDefinition:
    description, field, severity = LEDGER_CHECKS[name]

    @dg.asset_check(asset=dg.AssetKey(["raw", table]), name=name, description=description,
                    blocking=False, pool=DUCKDB_POOL)
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            ledger.ensure_ingest_tables(con, (table,))
            b = ledger.ledger_balance(con, source, table)
        return dg.AssetCheckResult(passed=bool(b[field]), severity=severity, metadata=_metadata(b))

    return _check


CHECKS_BY_TABLE = {(table, name): build_ledger_check(source, table, name)
                   for source, tables in SOURCE_TABLES.items() for table in tables for name in LEDGER_CHECKS}
RAW_CHECKS = list(CHECKS_BY_TABLE.values())
