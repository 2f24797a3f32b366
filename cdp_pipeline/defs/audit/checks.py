"""Proof that erasure worked: a blocking check that publish waits for."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.audit.assets import ERASURE_LOG_KEY
from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.lib.audit.erase import ensure_erasure_tables
from cdp_pipeline.lib.audit.verify import scan_erased
from cdp_pipeline.lib.common.remedies import remedy


@dg.asset_check(
    asset=ERASURE_LOG_KEY,
    name="no_erased_identifiers_remain",
    blocking=True,
    description="No erased identifier (named in a request file, or on the suppression list) is left in any "
    "text column of any table, in an undelivered export file, or in the bytes of a file the "
    "pipeline keeps (build database and WAL, exports, reports; the published warehouse and its "
    "previous copy for the erasures they record). Blocks publish.",
)
def no_erased_identifiers_remain(duckdb: DuckDBResource, settings: CdpSettings) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        ensure_erasure_tables(con)
        result = scan_erased(con, settings.export_dir, settings, files=True)
    return dg.AssetCheckResult(
        passed=result.clean,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "identifiers_scanned": result.identifiers,
            "suppressed_hashes": result.suppressed,
            "tables_with_matches": len({(s, t) for s, t, _, _ in result.in_tables + result.suppressed_in_tables}),
            "export_files_with_matches": len(result.in_exports),
            "files_scanned_as_bytes": result.files_scanned,
            "files_with_matches_in_bytes": len(result.in_files),
            "where": dg.MetadataValue.text(result.summary()[:2000]),
            **remedy("no_erased_identifiers_remain", result.clean),
        },
    )
