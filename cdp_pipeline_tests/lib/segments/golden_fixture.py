"""A tiny golden.customers with the contract columns (docs/architecture.md), for segment and
activation tests: the golden layer is built by another part of the pipeline."""

from __future__ import annotations

from datetime import date, datetime

import duckdb

GOLDEN_COLUMNS: dict[str, str] = {
    "customer_id": "VARCHAR",
    **{c: "VARCHAR" for c in ("first_name", "last_name", "email", "phone", "street", "postcode", "city", "country")},
    "birth_date": "DATE",
    **{
        f"{a}_{s}": "VARCHAR"
        for a in ("first_name", "last_name", "email", "phone", "street", "postcode", "city", "country", "birth_date")
        for s in ("source", "source_record_id")
    },
    **{
        c: "VARCHAR[]"
        for c in ("emails", "phones", "loyalty_card_ids", "crm_customer_ids", "web_user_ids", "cookies", "sources")
    },
    "record_count": "INTEGER",
    "first_seen": "TIMESTAMP",
    "last_seen": "TIMESTAMP",
    "orders_count": "INTEGER",
    "online_orders_count": "INTEGER",
    "store_orders_count": "INTEGER",
    "total_spend": "DECIMAL(12,2)",
    "online_spend": "DECIMAL(12,2)",
    "store_spend": "DECIMAL(12,2)",
    "average_order_value": "DECIMAL(12,2)",
    "first_order_at": "TIMESTAMP",
    "last_order_at": "TIMESTAMP",
    "days_since_last_order": "INTEGER",
    "rfm_recency": "INTEGER",
    "rfm_frequency": "INTEGER",
    "rfm_monetary": "INTEGER",
    "rfm_segment": "VARCHAR",
    "preferred_store": "VARCHAR",
    "preferred_channel": "VARCHAR",
    "email_opens_30d": "INTEGER",
    "email_clicks_30d": "INTEGER",
    "email_opens_90d": "INTEGER",
    "email_clicks_90d": "INTEGER",
    "sms_received": "INTEGER",
    "sms_replied": "INTEGER",
    "web_sessions_30d": "INTEGER",
    "last_web_visit": "TIMESTAMP",
    "last_add_to_cart_at": "TIMESTAMP",
    "has_abandoned_cart": "BOOLEAN",
    "email_consent": "VARCHAR",
    "email_consent_at": "TIMESTAMP",
    "email_consent_source": "VARCHAR",
    "sms_consent": "VARCHAR",
    "sms_consent_at": "TIMESTAMP",
    "sms_consent_source": "VARCHAR",
    "email_contactable": "BOOLEAN",
    "sms_contactable": "BOOLEAN",
    "as_of_date": "DATE",
}


def customer(customer_id: str, **values) -> dict:
    row = {c: None for c in GOLDEN_COLUMNS}
    row.update(
        customer_id=customer_id,
        orders_count=0,
        total_spend=0,
        has_abandoned_cart=False,
        email_contactable=False,
        sms_contactable=False,
        rfm_segment="prospect",
        email_opens_90d=0,
        email_clicks_90d=0,
        loyalty_card_ids=[],
        sources=["crm"],
        as_of_date=date(2025, 6, 1),
    )
    row.update(values)
    return row


LEDGER_COLUMNS: dict[str, str] = {
    "channel": "VARCHAR",
    "identifier": "VARCHAR",
    "consent": "VARCHAR",
    "blocked": "BOOLEAN",
    "reason": "VARCHAR",
    "event_at": "TIMESTAMP",
    "source": "VARCHAR",
    "source_record_id": "VARCHAR",
    "signals": "BIGINT",
}


def write_golden(con: duckdb.DuckDBPyConnection, rows: list[dict], blocked: list[tuple[str, str]] = ()) -> None:
    """(Re)create golden.customers holding ``rows``, and the consent ledger golden.identifier_consent
    with ``blocked`` (channel, identifier) as unsubscribed/STOPped identifiers."""
    con.execute("CREATE SCHEMA IF NOT EXISTS golden")
    cols = ", ".join(f'"{c}" {t}' for c, t in GOLDEN_COLUMNS.items())
    con.execute(f"CREATE OR REPLACE TABLE golden.customers ({cols})")
    names = list(GOLDEN_COLUMNS)
    placeholders = ", ".join("?" for _ in names)
    con.executemany(f"INSERT INTO golden.customers VALUES ({placeholders})", [[r.get(c) for c in names] for r in rows])
    write_ledger(con, blocked)


def write_ledger(con: duckdb.DuckDBPyConnection, blocked: list[tuple[str, str]] = ()) -> None:
    """(Re)create golden.identifier_consent: ``blocked`` (channel, identifier) revoked and blocked."""
    con.execute("CREATE SCHEMA IF NOT EXISTS golden")
    cols = ", ".join(f'"{c}" {t}' for c, t in LEDGER_COLUMNS.items())
    con.execute(f"CREATE OR REPLACE TABLE golden.identifier_consent ({cols})")
    if not blocked:
        return
    con.executemany(
        "INSERT INTO golden.identifier_consent VALUES (?, ?, 'revoked', true, ?, TIMESTAMP "
        "'2025-05-01 10:00', ?, 'x', 1)",
        [[c, i, "sms_stop" if c == "sms" else "unsubscribed", "sms" if c == "sms" else "esp"] for c, i in blocked],
    )


def sample_customers(as_of: date = date(2025, 6, 1)) -> list[dict]:
    """Six customers covering every default segment and every consent combination; a buyer's
    days_since_last_order from its last order's date, as golden computes it."""
    rows = _sample_customers(as_of)
    for r in rows:
        if r["last_order_at"] is not None and r["days_since_last_order"] is None:
            r["days_since_last_order"] = (as_of - r["last_order_at"].date()).days
    return rows


def _sample_customers(as_of: date) -> list[dict]:
    return [
        customer(
            "c1",
            first_name="Anna",
            email="anna.berg@example.se",
            phone="+46701234567",
            rfm_segment="champions",
            orders_count=12,
            total_spend=9000,
            last_order_at=datetime(2025, 5, 20),
            email_contactable=True,
            sms_contactable=True,
            loyalty_card_ids=["LC-0001"],
            as_of_date=as_of,
        ),
        customer(
            "c2",
            first_name='=HYPERLINK("http://x")',
            email="bo@example.se",
            phone="+46709876543",
            rfm_segment="loyal",
            orders_count=5,
            total_spend=2000,
            last_order_at=datetime(2025, 4, 1),
            email_contactable=True,
            sms_contactable=False,
            loyalty_card_ids=["LC-0002"],
            as_of_date=as_of,
        ),
        customer(
            "c3",
            first_name="Cia",
            email="cia@example.se",
            phone="+46705550000",
            rfm_segment="champions",
            orders_count=8,
            total_spend=5000,
            last_order_at=datetime(2025, 5, 1),
            email_contactable=False,
            sms_contactable=True,
            loyalty_card_ids=["LC-0003"],
            as_of_date=as_of,
        ),
        customer(
            "c4",
            first_name="Dan",
            email="dan@example.se",
            rfm_segment="hibernating",
            orders_count=1,
            total_spend=100,
            last_order_at=datetime(2024, 9, 1),
            email_contactable=True,
            as_of_date=as_of,
        ),
        customer(
            "c5",
            first_name="Eva",
            email="eva@example.se",
            email_opens_90d=3,
            has_abandoned_cart=True,
            email_contactable=True,
            as_of_date=as_of,
        ),
        customer(
            "c6",
            first_name="Fred",
            email="fred@example.se",
            phone="+46701112222",
            rfm_segment="at_risk",
            orders_count=3,
            total_spend=800,
            last_order_at=datetime(2024, 11, 1),
            email_contactable=False,
            sms_contactable=False,
            loyalty_card_ids=["LC-0006"],
            as_of_date=as_of,
        ),
    ]
