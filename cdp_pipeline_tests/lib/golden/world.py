"""A tiny hand-made world in DuckDB with contract-shaped staging.* and identity.customer_map,
and the answers worked out by hand (as of 2025-01-10, UTC)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from cdp_pipeline.lib.golden.inputs import CONTRACT

AS_OF = date(2025, 1, 10)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def create_contract_tables(con: duckdb.DuckDBPyConnection) -> None:
    for (schema, table), columns in CONTRACT.items():
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        cols = ", ".join(f"{c} {t}" for c, t in columns.items())
        con.execute(f"CREATE OR REPLACE TABLE {schema}.{table} ({cols})")


def insert(con: duckdb.DuckDBPyConnection, qualified: str, rows: list[dict]) -> None:
    schema, table = qualified.split(".")
    columns = list(CONTRACT[(schema, table)])
    for row in rows:
        unknown = set(row) - set(columns)
        assert not unknown, unknown
        con.execute(
            f"INSERT INTO {qualified} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [row.get(c) for c in columns],
        )


def record(customer_id: str, source: str, source_record_id: str, record_time: str, **attrs) -> tuple[dict, dict]:
    return (
        {"source": source, "source_record_id": source_record_id, "customer_id": customer_id},
        {"source": source, "source_record_id": source_record_id, "record_time": ts(record_time), **attrs},
    )


RECORDS = [
    # C1 Anna: CRM, ESP member, online orders, receipts, SMS number, web user.
    record(
        "C1",
        "crm",
        "100",
        "2025-01-05 10:00",
        first_name="Anna",
        last_name="Svensson",
        email="anna@crm.se",
        phone="+46701111111",
        street="Storgatan 1",
        postcode="11122",
        city="Stockholm",
        country="SE",
        birth_date=date(1990, 5, 1),
        crm_customer_id="100",
        loyalty_card_id="L-1",
    ),
    record(
        "C1",
        "esp",
        "leid-a",
        "2025-01-08 12:00",
        first_name="Annie",
        email="anna.new@mail.se",
        birth_date=date(1990, 5, 1),
    ),
    record(
        "C1",
        "pos",
        "order:#1001",
        "2025-01-07 12:00",
        first_name="Anna",
        last_name="Svensson",
        email="anna@crm.se",
        phone="+46701111111",
        street="Hamngatan 5",
        postcode="11147",
        city="Stockholm",
        country="SE",
    ),
    record("C1", "pos", "order:#1002", "2025-01-08 11:00", email="anna@crm.se"),
    record("C1", "pos", "receipt:S1:R1", "2025-01-03 15:00", loyalty_card_id="L-1"),
    record("C1", "pos", "receipt:S1:R2", "2025-01-09 15:00", loyalty_card_id="L-1"),
    record("C1", "pos", "receipt:S2:R9", "2025-01-12 15:00", loyalty_card_id="L-1"),
    record("C1", "sms", "+46701111111", "2025-01-06 09:00", phone="+46701111111"),
    record("C1", "web", "100", "2025-01-09 09:58", web_user_id="100", crm_customer_id="100", cookies=["ck2", "ck1"]),
    # C2 Bo: ESP member by email, one online order with a junk phone.
    record("C2", "esp", "bo@x.se", "2025-01-02 08:00", first_name="Bo", last_name="Ek", email="bo@x.se"),
    record(
        "C2",
        "pos",
        "order:#2001",
        "2025-01-06 10:00",
        first_name="Bo",
        last_name="Ek",
        email="bo@x.se",
        phone="+46700000000",
        phone_is_junk=True,
    ),
    # C3 Cecilia: a junk CRM email and an impossible CRM birth date; a cleaned then re-opted-in email.
    record(
        "C3",
        "crm",
        "300",
        "2025-01-04 10:00",
        first_name="Cecilia",
        last_name="Berg",
        email="test@test.com",
        email_is_junk=True,
        birth_date=date(2030, 1, 1),
        dq_flags=["impossible_birth_date"],
        crm_customer_id="300",
    ),
    record(
        "C3",
        "esp",
        "leid-c",
        "2024-12-01 10:00",
        first_name="Cissi",
        last_name="Berg",
        email="cecilia@mail.se",
        birth_date=date(1985, 3, 3),
    ),
    # C4 Dan: two CRM records merged, equal on every rule: the smaller source_record_id wins.
    record("C4", "crm", "401", "2025-01-01 10:00", first_name="Daniel", last_name="Lund", crm_customer_id="401"),
    record("C4", "crm", "400", "2025-01-01 10:00", first_name="Dan", last_name="Lund", crm_customer_id="400"),
    record("C4", "web", "400", "2025-01-02 10:00", web_user_id="400", crm_customer_id="400", cookies=["ck4"]),
]

ORDERS = [
    dict(
        order_id="order:#1001",
        source="pos",
        source_record_id="order:#1001",
        channel="online",
        ordered_at=ts("2025-01-07 12:00"),
        currency="SEK",
        total=500,
        refunded_amount=100,
        financial_status="partially_refunded",
        email="anna@crm.se",
        accepts_marketing=True,
    ),
    dict(
        order_id="order:#1002",
        source="pos",
        source_record_id="order:#1002",
        channel="online",
        ordered_at=ts("2025-01-08 11:00"),
        currency="SEK",
        total=300,
        financial_status="voided",
        cancelled_at=ts("2025-01-08 12:00"),
    ),
    dict(
        order_id="receipt:S1:R1",
        source="pos",
        source_record_id="receipt:S1:R1",
        channel="store",
        ordered_at=ts("2025-01-03 15:00"),
        currency="SEK",
        total=200,
        store_id="S1",
        loyalty_card_id="L-1",
    ),
    dict(
        order_id="receipt:S1:R2",
        source="pos",
        source_record_id="receipt:S1:R2",
        channel="store",
        ordered_at=ts("2025-01-09 15:00"),
        currency="SEK",
        total=50,
        store_id="S1",
        loyalty_card_id="L-1",
    ),
    dict(
        order_id="receipt:S2:R9",
        source="pos",
        source_record_id="receipt:S2:R9",
        channel="store",
        ordered_at=ts("2025-01-12 15:00"),
        currency="SEK",
        total=999,
        store_id="S2",
        loyalty_card_id="L-1",
    ),
    dict(
        order_id="order:#2001",
        source="pos",
        source_record_id="order:#2001",
        channel="online",
        ordered_at=ts("2025-01-06 10:00"),
        currency="SEK",
        total=100,
        email="bo@x.se",
        accepts_marketing=True,
    ),
    # An anonymous store sale: belongs to nobody.
    dict(
        order_id="receipt:S1:R3",
        source="pos",
        source_record_id=None,
        channel="store",
        ordered_at=ts("2025-01-05 15:00"),
        currency="SEK",
        total=10,
        store_id="S1",
    ),
]

EMAIL_ACTIVITY = [
    dict(
        activity_id="a1",
        source="esp",
        source_record_id="leid-a",
        email="anna.new@mail.se",
        action="open",
        event_time=ts("2025-01-09 07:00"),
        campaign_id="c1",
        campaign_title="January",
    ),
    dict(
        activity_id="a2",
        source="esp",
        source_record_id="leid-a",
        email="anna.new@mail.se",
        action="click",
        event_time=ts("2025-01-09 07:01"),
        campaign_id="c1",
        campaign_title="January",
        url="https://shop/x",
    ),
    dict(
        activity_id="a3",
        source="esp",
        source_record_id="leid-a",
        email="anna.new@mail.se",
        action="open",
        event_time=ts("2024-11-01 07:00"),
        campaign_id="c0",
        campaign_title="November",
    ),
    dict(
        activity_id="a4",
        source="esp",
        source_record_id="leid-a",
        email="anna.new@mail.se",
        action="open",
        event_time=ts("2024-09-01 07:00"),
        campaign_id="c9",
        campaign_title="September",
    ),
    dict(
        activity_id="a5",
        source="esp",
        source_record_id="stranger@x.se",
        email="stranger@x.se",
        action="open",
        event_time=ts("2025-01-09 07:00"),
        campaign_id="c1",
        campaign_title="January",
    ),
]

SMS = [
    dict(
        message_id="m1",
        source="sms",
        channel="sms",
        source_record_id="+46701111111",
        direction="outbound",
        body="Sale!",
        status="delivered",
        sent_at=ts("2025-01-02 09:00"),
    ),
    dict(
        message_id="m2",
        source="sms",
        channel="sms",
        source_record_id="+46701111111",
        direction="outbound",
        body="Sale 2",
        status="failed",
        sent_at=ts("2025-01-04 09:00"),
    ),
    dict(
        message_id="m3",
        source="sms",
        channel="sms",
        source_record_id="+46701111111",
        direction="inbound",
        body="STOP",
        status="received",
        sent_at=ts("2025-01-05 09:00"),
        keyword="opt_out",
    ),
    dict(
        message_id="m4",
        source="sms",
        channel="sms",
        source_record_id="+46701111111",
        direction="inbound",
        body="START",
        status="received",
        sent_at=ts("2025-01-06 09:00"),
        keyword="opt_in",
    ),
    # a WhatsApp reply on the same Twilio account: the timeline's whatsapp channel, no SMS trait
    dict(
        message_id="m5",
        source="sms",
        channel="whatsapp",
        source_record_id="+46701111111",
        direction="inbound",
        body="Thanks",
        status="received",
        sent_at=ts("2025-01-07 09:00"),
    ),
]

WEB_SESSIONS = [
    dict(
        session_id="s1",
        source="web",
        source_record_id="100",
        cookie="ck1",
        started_at=ts("2025-01-09 09:58"),
        ended_at=ts("2025-01-09 10:05"),
        events=4,
        page_views=2,
        add_to_carts=1,
        purchases=0,
    ),
    dict(
        session_id="s2",
        source="web",
        source_record_id="100",
        cookie="ck2",
        started_at=ts("2024-11-20 20:00"),
        ended_at=ts("2024-11-20 20:10"),
        events=1,
        page_views=1,
        add_to_carts=0,
        purchases=0,
    ),
    dict(
        session_id="s3",
        source="web",
        source_record_id=None,
        cookie="anon",
        started_at=ts("2025-01-09 10:00"),
        ended_at=ts("2025-01-09 10:01"),
        events=1,
        page_views=1,
        add_to_carts=0,
        purchases=0,
    ),
]

WEB_EVENTS = [
    dict(
        event_id="w1",
        source="web",
        source_record_id="100",
        cookie="ck1",
        user_id="100",
        session_id="s1",
        event_time=ts("2025-01-09 09:58"),
        event_name="page_view",
        page_location="https://shop/",
    ),
    dict(
        event_id="w2",
        source="web",
        source_record_id="100",
        cookie="ck1",
        user_id="100",
        session_id="s1",
        event_time=ts("2025-01-09 09:59"),
        event_name="login",
        page_location="https://shop/login",
    ),
    dict(
        event_id="w3",
        source="web",
        source_record_id="100",
        cookie="ck1",
        user_id="100",
        session_id="s1",
        event_time=ts("2025-01-09 10:00"),
        event_name="add_to_cart",
        page_location="https://shop/p/1",
    ),
    dict(
        event_id="d1",
        source="web",
        source_record_id="400",
        cookie="ck4",
        user_id="400",
        session_id="s4",
        event_time=ts("2025-01-02 10:00"),
        event_name="add_to_cart",
        page_location="https://shop/p/2",
    ),
    dict(
        event_id="d0",
        source="web",
        source_record_id="400",
        cookie="ck4",
        user_id="400",
        session_id="s5",
        event_time=ts("2024-11-02 10:00"),
        event_name="add_to_cart",
        page_location="https://shop/p/3",
    ),
    dict(
        event_id="w4",
        source="web",
        source_record_id="100",
        cookie="ck1",
        user_id="100",
        session_id="s1",
        event_time=ts("2025-01-09 10:01"),
        event_name="page_view",
        page_location="https://shop/cart",
    ),
]


def consent(source, srid, channel, identifier, state, reason, when) -> dict:
    return dict(
        source=source,
        source_record_id=srid,
        channel=channel,
        identifier=identifier,
        state=state,
        reason=reason,
        event_time=ts(when),
    )


CONSENT = [
    # C1 email: subscribed, unsubscribed, then a checkout tick box (implied): stays revoked.
    consent("esp", "leid-a", "email", "anna.new@mail.se", "granted", "subscribed", "2025-01-01 10:00"),
    consent("esp", "leid-a", "email", "anna.new@mail.se", "revoked", "unsubscribed", "2025-01-04 10:00"),
    consent("pos", "order:#1001", "email", "anna@crm.se", "granted", "accepts_marketing", "2025-01-07 12:00"),
    # C1 SMS: CRM opt-in, STOP, START: granted again.
    consent("crm", "100", "sms", "+46701111111", "granted", "crm_opt_in", "2025-01-01 10:00"),
    consent("sms", "+46701111111", "sms", "+46701111111", "revoked", "sms_stop", "2025-01-05 09:00"),
    consent("sms", "+46701111111", "sms", "+46701111111", "granted", "sms_start", "2025-01-06 09:00"),
    # C2 email: only a checkout tick box: granted.
    consent("pos", "order:#2001", "email", "bo@x.se", "granted", "accepts_marketing", "2025-01-06 10:00"),
    # C3 email: subscribed, cleaned, then an explicit CRM opt-in: granted. A later-than-cutoff STOP is ignored.
    consent("esp", "leid-c", "email", "cecilia@mail.se", "granted", "subscribed", "2025-01-02 10:00"),
    consent("esp", "leid-c", "email", "cecilia@mail.se", "revoked", "cleaned", "2025-01-03 10:00"),
    consent("crm", "300", "email", "cecilia@mail.se", "granted", "crm_opt_in", "2025-01-05 10:00"),
    consent("crm", "300", "email", "cecilia@mail.se", "revoked", "crm_opt_out", "2025-01-11 10:00"),
]


def load_world(con: duckdb.DuckDBPyConnection) -> None:
    create_contract_tables(con)
    insert(con, "identity.customer_map", [m for m, _ in RECORDS])
    insert(con, "staging.identity_records", [r for _, r in RECORDS])
    insert(con, "staging.orders", ORDERS)
    insert(con, "staging.email_activity", EMAIL_ACTIVITY)
    insert(con, "staging.sms_messages", SMS)
    insert(con, "staging.web_sessions", WEB_SESSIONS)
    insert(con, "staging.web_events", WEB_EVENTS)
    insert(con, "staging.consent_events", CONSENT)


def world_db(path: str | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(path or ":memory:")
    load_world(con)
    return con
