"""How a staging table built whole stores its columns.

Strings that rarely repeat (ids, hashes, addresses, numbers) are stored with ZSTD rather than
DuckDB's default for text (a dictionary with FSST, analysed per segment): cheaper to write and
smaller, as for golden.customers (lib/golden/build.py). At 1M records, writing the rows as the
night writes them (sorted): identity_records 1.41 -> 1.10 CPU s (161 -> 123 blocks),
web_events 1.30 -> 1.12 (179 -> 81), orders 0.84 -> 0.68, email_activity 0.57 -> 0.39,
consent_events 0.47 -> 0.35, order_lines 0.47 -> 0.38, sms_messages 0.38 -> 0.31,
web_sessions 0.27 -> 0.22; a scan of every column of a table costs 0.01-0.1 CPU s more. Strings
that repeat (names, cities, countries, flags, event names) keep DuckDB's choice. The rows and
their order are the same either way: only the bytes on disk differ.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.common.sql_files import quote_ident

ZSTD_COLUMNS: dict[str, frozenset[str]] = {
    "identity_records": frozenset(
        {
            "source_record_id",
            "email",
            "phone",
            "street",
            "postcode",
            "loyalty_card_id",
            "crm_customer_id",
            "web_user_id",
        }
    ),
    "web_events": frozenset({"event_id", "session_id", "cookie", "user_id", "source_record_id"}),
    "orders": frozenset({"order_id", "source_record_id", "email", "loyalty_card_id"}),
    "order_lines": frozenset({"order_id"}),
    "email_activity": frozenset({"activity_id", "email", "source_record_id"}),
    "consent_events": frozenset({"identifier", "source_record_id"}),
    "sms_messages": frozenset({"message_id", "source_record_id"}),
    "web_sessions": frozenset({"session_id", "cookie", "source_record_id"}),
}


def column_definitions(con: duckdb.DuckDBPyConnection, table: str, relation: str) -> str:
    """The columns of ``relation`` (the view of ``table``'s rows) as a CREATE TABLE lists them,
    with the compression of ``ZSTD_COLUMNS`` declared (a compression is declared when a table is made)."""
    zstd = ZSTD_COLUMNS.get(table, frozenset())
    return ", ".join(
        f"{quote_ident(name)} {data_type}{' USING COMPRESSION zstd' if name in zstd else ''}"
        for name, data_type, *_ in con.execute(f"DESCRIBE {relation}").fetchall()
    )
