"""Checks that the raw layer lost nothing: per raw table, the ledger adds up."""

from collections.abc import Iterable, Iterator

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from cdp_pipeline.lib.common.remedies import remedy
from cdp_pipeline.lib.raw import SOURCE_TABLES, ledger


def _metadata(b: dict) -> dict:
    return {
        "files": dg.MetadataValue.int(b["files"]),
        "rows_read": dg.MetadataValue.int(b["rows_read"]),
        "rows_loaded_live": dg.MetadataValue.int(b["rows_loaded_live"]),
        "rows_quarantined": dg.MetadataValue.int(b["rows_quarantined"]),
        "rows_suppressed": dg.MetadataValue.int(b["rows_suppressed"]),
        "rows_erased": dg.MetadataValue.int(b["rows_erased"]),
        "raw_rows": dg.MetadataValue.int(b["raw_rows"]),
        "quarantine_rows": dg.MetadataValue.int(b["quarantine_rows"]),
        "imbalanced_files": dg.MetadataValue.text(", ".join(b["imbalanced_files"][:20]) or "none"),
    }


# name -> (what it verifies, the ledger_balance field that says so, severity)
LEDGER_CHECKS = {
    "ledger_balances": (
        "Every file's rows read equal rows loaded plus rows quarantined, and the quarantine holds "
        "exactly the rows the ledger says it does.",
        "balanced",
        dg.AssetCheckSeverity.ERROR,
    ),
    "raw_rows_match_ledger": (
        "The raw table holds the rows the ledger says were loaded, less those an erasure deleted "
        "since (rows_erased, counted per file by the erasure).",
        "raw_matches",
        dg.AssetCheckSeverity.WARN,
    ),
}

SOURCE_OF_TABLE = {table: source for source, tables in SOURCE_TABLES.items() for table in tables}


def check_key(table: str, name: str) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey(["raw", table]), name)


def ledger_check_results(
    con: duckdb.DuckDBPyConnection, selected: Iterable[dg.AssetCheckKey]
) -> Iterator[dg.AssetCheckResult]:
    """The ledger checks ``selected``; each raw table's balance is computed once for both of its checks."""
    by_table: dict[str, list[str]] = {}
    for key in selected:
        by_table.setdefault(key.asset_key.path[-1], []).append(key.name)
    for table in sorted(by_table):
        ledger.ensure_ingest_tables(con, (table,))
        b = ledger.ledger_balance(con, SOURCE_OF_TABLE[table], table)
        for name in sorted(by_table[table]):
            _, field, severity = LEDGER_CHECKS[name]
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(["raw", table]),
                check_name=name,
                passed=bool(b[field]),
                severity=severity,
                metadata={**_metadata(b), **remedy(name, bool(b[field]))},
            )


# One step for every raw table's checks: fourteen one-query steps cost more in Dagster's own
# bookkeeping than in DuckDB. Subsettable, so the UI still runs any one of them.
@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(name=name, asset=dg.AssetKey(["raw", table]), description=description, blocking=False)
        for table in SOURCE_OF_TABLE
        for name, (description, _, _) in LEDGER_CHECKS.items()
    ],
    name="raw_ledger_checks",
    can_subset=True,
)
def raw_ledger_checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource):
    with duckdb.get_connection() as con:
        yield from ledger_check_results(con, context.selected_asset_check_keys)


RAW_CHECKS = [raw_ledger_checks]
