"""The upstream tables the golden layer reads, by their contract (docs/architecture.md).

Other layers own these tables. When one does not exist yet (a source not delivered,
a layer not built), an empty temporary stand-in with the contract columns takes its
place, so the golden layer still builds from whatever exists.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.common.warehouse import table_exists  # noqa: F401 - re-exported

# (schema, table) -> contract columns and types.
CONTRACT: dict[tuple[str, str], dict[str, str]] = {
    ("identity", "customer_map"): {"source": "VARCHAR", "source_record_id": "VARCHAR", "customer_id": "VARCHAR"},
    ("staging", "identity_records"): {
        "source": "VARCHAR",
        "source_record_id": "VARCHAR",
        "record_time": "TIMESTAMP",
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "first_name_match": "VARCHAR",
        "last_name_match": "VARCHAR",
        "email": "VARCHAR",
        "phone": "VARCHAR",
        "street": "VARCHAR",
        "postcode": "VARCHAR",
        "city": "VARCHAR",
        "country": "VARCHAR",
        "birth_date": "DATE",
        "loyalty_card_id": "VARCHAR",
        "crm_customer_id": "VARCHAR",
        "web_user_id": "VARCHAR",
        "cookies": "VARCHAR[]",
        "email_is_junk": "BOOLEAN",
        "phone_is_junk": "BOOLEAN",
        "name_is_junk": "BOOLEAN",
        "dq_flags": "VARCHAR[]",
    },
    ("staging", "email_activity"): {
        "activity_id": "VARCHAR",
        "source": "VARCHAR",
        "source_record_id": "VARCHAR",
        "email": "VARCHAR",
        "action": "VARCHAR",
        "event_time": "TIMESTAMP",
        "campaign_id": "VARCHAR",
        "campaign_title": "VARCHAR",
        "url": "VARCHAR",
    },
    ("staging", "sms_messages"): {
        "message_id": "VARCHAR",
        "source": "VARCHAR",
        "source_record_id": "VARCHAR",
        "direction": "VARCHAR",
        "body": "VARCHAR",
        "status": "VARCHAR",
        "sent_at": "TIMESTAMP",
        "keyword": "VARCHAR",
        "error_code": "VARCHAR",
        "channel": "VARCHAR",
    },
    ("staging", "web_events"): {
        "event_id": "VARCHAR",
        "source": "VARCHAR",
        "source_record_id": "VARCHAR",
        "cookie": "VARCHAR",
        "user_id": "VARCHAR",
        "session_id": "VARCHAR",
        "event_time": "TIMESTAMP",
        "event_date": "DATE",
        "event_name": "VARCHAR",
        "page_location": "VARCHAR",
        "transaction_id": "VARCHAR",
        "revenue": "DECIMAL(18,2)",
        "currency": "VARCHAR",
    },
    ("staging", "web_sessions"): {
        "session_id": "VARCHAR",
        "source": "VARCHAR",
        "source_record_id": "VARCHAR",
        "cookie": "VARCHAR",
        "started_at": "TIMESTAMP",
        "ended_at": "TIMESTAMP",
        "events": "BIGINT",
        "page_views": "BIGINT",
        "add_to_carts": "BIGINT",
        "purchases": "BIGINT",
    },
    ("staging", "orders"): {
        "order_id": "VARCHAR",
        "source": "VARCHAR",
        "source_record_id": "VARCHAR",
        "channel": "VARCHAR",
        "ordered_at": "TIMESTAMP",
        "currency": "VARCHAR",
        "subtotal": "DECIMAL(18,2)",
        "shipping": "DECIMAL(18,2)",
        "taxes": "DECIMAL(18,2)",
        "discount": "DECIMAL(18,2)",
        "total": "DECIMAL(18,2)",
        "refunded_amount": "DECIMAL(18,2)",
        "financial_status": "VARCHAR",
        "cancelled_at": "TIMESTAMP",
        "store_id": "VARCHAR",
        "loyalty_card_id": "VARCHAR",
        "email": "VARCHAR",
        "accepts_marketing": "BOOLEAN",
        "dq_flags": "VARCHAR[]",
    },
    ("staging", "consent_events"): {
        "source": "VARCHAR",
        "source_record_id": "VARCHAR",
        "channel": "VARCHAR",
        "identifier": "VARCHAR",
        "state": "VARCHAR",
        "reason": "VARCHAR",
        "event_time": "TIMESTAMP",
    },
}


def resolve_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Placeholder name (the table name) -> the table to read: the real one, or an empty stand-in."""
    names: dict[str, str] = {}
    for (schema, table), columns in CONTRACT.items():
        if table_exists(con, schema, table):
            names[table] = f"{schema}.{table}"
            continue
        stand_in = f"_golden_missing_{schema}_{table}"
        cols = ", ".join(f"{c} {t}" for c, t in columns.items())
        con.execute(f"CREATE OR REPLACE TEMP TABLE {stand_in} ({cols})")
        names[table] = stand_in
    return names


def missing_inputs(names: dict[str, str]) -> list[str]:
    return sorted(
        v.removeprefix("_golden_missing_").replace("_", ".", 1)
        for v in names.values()
        if v.startswith("_golden_missing_")
    )
