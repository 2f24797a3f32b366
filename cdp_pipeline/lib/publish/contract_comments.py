"""COMMENTs on the contract tables other layers own (identity.customer_map, audit.quarantine).

golden, segments and activation comment their own tables as they build them; these two
are written by code that knows nothing of documentation, so publish comments them last.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.common.table_comments import apply_table_comments

CONTRACT_COMMENTS: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("identity", "customer_map"): (
        "Public contract: every identity-bearing source record (staging.identity_records) and the "
        "persistent customer it resolved to, exactly once.",
        {
            "source": "source system: crm, esp, sms, web or pos",
            "source_record_id": "the record's id in its source (see docs/sources.md)",
            "customer_id": "persistent, opaque customer id (kept across nights; see identity.id_history)",
            "customer_created_at": "when the customer id was first created",
            "run_id": "identity run that last wrote the mapping",
            "resolved_at": "when that run resolved it",
        },
    ),
    ("audit", "quarantine"): (
        "Public contract: every row (or whole file) that could not be read, with the file, line and reason; "
        "nothing is dropped silently.",
        {
            "source": "source system of the file",
            "file": "file path relative to the landing folder",
            "line_number": "physical line of the row in the file (header = 1); NULL when the whole file was rejected",
            "reason": "why it could not be read",
            "raw_record": "the line as received (redacted when it held an erased person's identifier)",
            "landing_date": "landing day (partition) of the file",
            "file_sha256": "SHA-256 of the file",
            "file_kind": "file kind the file was read as, when known",
            "quarantined_at": "when the row was quarantined",
        },
    ),
}


def comment_contract_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Comment each contract table that exists (only its columns that exist)."""
    for (schema, table), (table_comment, columns) in CONTRACT_COMMENTS.items():
        present = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                "AND database_name = current_database()",
                [schema, table],
            ).fetchall()
        }
        if present:
            apply_table_comments(con, schema, table, table_comment, {c: t for c, t in columns.items() if c in present})
