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


def build_ledger_balances_check(source: str, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", table]),
        name="ledger_balances",
        description="Every file's rows read equal rows loaded plus rows quarantined, and the "
                    "quarantine holds exactly the rows the ledger says it does.",
        blocking=False,
        pool=DUCKDB_POOL,
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            ledger.ensure_ingest_tables(con, (table,))
            b = ledger.ledger_balance(con, source, table)
        return dg.AssetCheckResult(passed=bool(b["balanced"]), severity=dg.AssetCheckSeverity.ERROR,
                                   metadata=_metadata(b))

    return _check


def build_raw_matches_ledger_check(source: str, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", table]),
        name="raw_rows_match_ledger",
        description="The raw table holds the rows the ledger says were loaded (a warning: an "
                    "erasure deletes raw rows on purpose).",
        blocking=False,
        pool=DUCKDB_POOL,
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            ledger.ensure_ingest_tables(con, (table,))
            b = ledger.ledger_balance(con, source, table)
        return dg.AssetCheckResult(passed=bool(b["raw_matches"]), severity=dg.AssetCheckSeverity.WARN,
                                   metadata=_metadata(b))

    return _check


raw_crm_customers_ledger_balances = build_ledger_balances_check("crm", "crm_customers")
raw_esp_members_ledger_balances = build_ledger_balances_check("esp", "esp_members")
raw_esp_activity_ledger_balances = build_ledger_balances_check("esp", "esp_activity")
raw_sms_messages_ledger_balances = build_ledger_balances_check("sms", "sms_messages")
raw_web_events_ledger_balances = build_ledger_balances_check("web", "web_events")
raw_pos_orders_ledger_balances = build_ledger_balances_check("pos", "pos_orders")
raw_pos_receipts_ledger_balances = build_ledger_balances_check("pos", "pos_receipts")

raw_crm_customers_rows_match_ledger = build_raw_matches_ledger_check("crm", "crm_customers")
raw_esp_members_rows_match_ledger = build_raw_matches_ledger_check("esp", "esp_members")
raw_esp_activity_rows_match_ledger = build_raw_matches_ledger_check("esp", "esp_activity")
raw_sms_messages_rows_match_ledger = build_raw_matches_ledger_check("sms", "sms_messages")
raw_web_events_rows_match_ledger = build_raw_matches_ledger_check("web", "web_events")
raw_pos_orders_rows_match_ledger = build_raw_matches_ledger_check("pos", "pos_orders")
raw_pos_receipts_rows_match_ledger = build_raw_matches_ledger_check("pos", "pos_receipts")

RAW_CHECKS = [
    build for name, build in sorted(globals().items())
    if name.startswith("raw_") and isinstance(build, dg.AssetChecksDefinition)
]
assert len(RAW_CHECKS) == 2 * sum(len(t) for t in SOURCE_TABLES.values())
