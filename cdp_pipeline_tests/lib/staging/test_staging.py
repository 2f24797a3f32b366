"""Staging SQL over hand-made raw rows, with answers computed by hand."""

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR, STAGING_TABLES
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.staging.build_db import insert_raw as _insert
from cdp_pipeline_tests.lib.staging.build_db import open_build_db


@pytest.fixture
def con(tmp_path):
    c = open_build_db(tmp_path / "b.duckdb")
    yield c
    c.close()


def _build_all(con):
    for table in STAGING_TABLES:
        build_staging_table(con, SQL_DIR, table, get_settings())


def _records(con, source):
    return con.execute(
        "SELECT source_record_id, first_name, last_name, first_name_match, email, phone, postcode, country, "
        "birth_date, loyalty_card_id, email_is_junk, phone_is_junk, dq_flags "
        "FROM staging.identity_records WHERE source = ? ORDER BY 1",
        [source],
    ).fetchall()


def test_crm_latest_version_wins_and_fields_are_standardised(con):
    _insert(
        con,
        "crm_customers",
        [
            {
                "customer_id": "C1",
                "first_name": "ÅSA",
                "last_name": "öberg",
                "email": " Asa.Oberg@Example.SE ",
                "phone": "070-123 45 67",
                "postcode": "11453",
                "country": "Sverige",
                "birth_date": "1980-02-30",
                "loyalty_card_id": "L1",
                "updated_at": "2026-09-01 10:00:00",
            },
            {
                "customer_id": "C1",
                "first_name": "Åsa",
                "last_name": "Öberg",
                "email": "asa@oberg.se",
                "phone": "0046701234567",
                "postcode": "114 53",
                "country": "SE",
                "birth_date": "12.03.1980",
                "loyalty_card_id": "L1",
                "updated_at": "2026-09-15 10:00:00",
            },
            {
                "customer_id": "C2",
                "first_name": "Test",
                "last_name": "Test",
                "email": "test@test.com",
                "phone": "0000000",
                "updated_at": "2026-09-15 10:00:00",
            },
        ],
    )
    _build_all(con)
    rows = _records(con, "crm")
    assert rows[0][:10] == (
        "C1",
        "Åsa",
        "Öberg",
        "asa",
        "asa@oberg.se",
        "+46701234567",
        "114 53",
        "SE",
        date(1980, 3, 12),
        "L1",
    )
    c2 = rows[1]
    assert c2[0] == "C2" and c2[10] is True  # junk email flagged, not trusted
    assert "junk_name" in c2[12]


def test_identity_record_keys_per_source(con):
    _insert(
        con,
        "esp_members",
        [
            {
                "email_address": "Anna@Example.se",
                "leid": "901",
                "status": "subscribed",
                "last_changed": "2026-09-01 08:00:00",
            },
            {
                "email_address": "bo@example.se",
                "leid": "",
                "status": "unsubscribed",
                "unsub_time": "2026-09-03 08:00:00",
            },
        ],
    )
    _insert(
        con,
        "sms_messages",
        [
            {
                "from": "+46701111111",
                "to": "+46760000000",
                "body": "STOP",
                "direction": "inbound",
                "sent_date": "2026-09-20 10:00:00",
                "sid": "SM1",
            },
            {
                "from": "+46760000000",
                "to": "+46702222222",
                "body": "Hej!",
                "direction": "outbound-api",
                "sent_date": "2026-09-20 09:00:00",
                "sid": "SM2",
            },
            {
                "from": "+46702222222",
                "to": "+46760000000",
                "body": "STOP PLEASE",
                "direction": "inbound",
                "sent_date": "2026-09-20 11:00:00",
                "sid": "SM3",
            },
        ],
    )
    _insert(
        con,
        "pos_receipts",
        [
            {
                "receipt_id": "R1",
                "store_id": "S01",
                "ts_local": "2026-09-10 12:00:00",
                "tz": "Europe/Stockholm",
                "loyalty_card_id": "L1",
                "line_no": "1",
                "sku": "A",
                "qty": "2",
                "unit_price": "49,50",
                "discount": "0",
            },
            {
                "receipt_id": "R1",
                "store_id": "S01",
                "ts_local": "2026-09-10 12:00:00",
                "tz": "Europe/Stockholm",
                "loyalty_card_id": "L1",
                "line_no": "2",
                "sku": "B",
                "qty": "1",
                "unit_price": "1 000,00",
                "discount": "10,00",
            },
            {
                "receipt_id": "R2",
                "store_id": "S01",
                "ts_local": "2026-09-10 13:00:00",
                "tz": "Europe/Stockholm",
                "loyalty_card_id": "",
                "line_no": "1",
                "sku": "A",
                "qty": "1",
                "unit_price": "49,50",
                "discount": "0",
            },
        ],
        file="r.csv",
    )
    _build_all(con)
    ids = con.execute("SELECT source, source_record_id FROM staging.identity_records ORDER BY ALL").fetchall()
    assert ids == [
        ("esp", "901"),
        ("esp", "bo@example.se"),
        ("pos", "receipt:S01:R1"),
        ("sms", "+46701111111"),
        ("sms", "+46702222222"),
    ]
    # STOP opts out, and so does "STOP PLEASE" (an opt-out with courtesy words: docs/sources.md).
    consent = con.execute(
        "SELECT source, identifier, state, reason FROM staging.consent_events ORDER BY channel, identifier"
    ).fetchall()
    assert consent == [
        ("esp", "anna@example.se", "granted", "subscribed"),
        ("esp", "bo@example.se", "revoked", "unsubscribed"),
        ("sms", "+46701111111", "revoked", "sms_stop"),
        ("sms", "+46702222222", "revoked", "sms_stop"),
    ]
    orders = con.execute(
        "SELECT order_id, channel, source_record_id, total, ordered_at FROM staging.orders ORDER BY order_id"
    ).fetchall()
    assert orders == [
        ("receipt:S01:R1", "store", "receipt:S01:R1", Decimal("1089.00"), datetime(2026, 9, 10, 10, 0)),
        ("receipt:S01:R2", "store", None, Decimal("49.50"), datetime(2026, 9, 10, 11, 0)),
    ]


def test_shopify_order_grouped_by_name_with_order_fields_from_first_row(con):
    _insert(
        con,
        "pos_orders",
        [
            {
                "name": "#1001",
                "email": "Kim@Example.se",
                "financial_status": "paid",
                "accepts_marketing": "yes",
                "currency": "SEK",
                "subtotal": "300.00",
                "shipping": "49.00",
                "taxes": "60.00",
                "total": "349.00",
                "created_at": "2026-09-05 09:50:26 +0200",
                "lineitem_quantity": "1",
                "lineitem_name": "Mug",
                "lineitem_price": "100.00",
                "lineitem_sku": "MUG",
                "billing_name": "Kim Lindqvist",
                "billing_zip": "'41301",
                "billing_country": "SE",
                "billing_phone": "46701234567",
            },
            {
                "name": "#1001",
                "lineitem_quantity": "2",
                "lineitem_name": 'Plate, "big"',
                "lineitem_price": "100.00",
                "lineitem_sku": "PLT",
            },
        ],
        file="o.csv",
    )
    _build_all(con)
    rec = con.execute(
        "SELECT source_record_id, first_name, last_name, email, phone, postcode FROM "
        "staging.identity_records WHERE source = 'pos'"
    ).fetchall()
    assert rec == [("order:#1001", "Kim", "Lindqvist", "kim@example.se", "+46701234567", "413 01")]
    order = con.execute("SELECT total, shipping, ordered_at, accepts_marketing FROM staging.orders").fetchall()
    assert order == [(Decimal("349.00"), Decimal("49.00"), datetime(2026, 9, 5, 7, 50, 26), True)]
    lines = con.execute("SELECT line_no, sku, quantity, line_total FROM staging.order_lines ORDER BY 1").fetchall()
    assert lines == [(1, "MUG", Decimal("1.000"), Decimal("100.00")), (2, "PLT", Decimal("2.000"), Decimal("200.00"))]
    consent = con.execute("SELECT source, identifier, reason FROM staging.consent_events").fetchall()
    assert consent == [("pos", "kim@example.se", "accepts_marketing")]


def test_an_open_klaviyo_marks_apple_privacy_open_is_a_privacy_open_not_an_open(con):
    # Klaviyo's opens carry Apple Privacy Open (True/False), kept in raw _extra: an open by Apple Mail Privacy
    # Protection may be the mail app fetching images, not the person reading. It becomes action privacy_open
    # (the golden traits count only open); its activity_id is the open's. A click keeps its action.
    rows = [
        ("open", '{"Apple Privacy Open": "True"}'),
        ("open", '{"Apple Privacy Open": "False"}'),
        ("open", None),
        ("click", '{"apple_privacy_open": "true"}'),
    ]
    _insert(
        con,
        "esp_activity",
        [
            {
                "email_address": f"p{i}@x.se",
                "action": action,
                "timestamp": "2026-09-30 10:00:00",
                "campaign_id": "K1",
                "_extra": extra,
            }
            for i, (action, extra) in enumerate(rows)
        ],
    )
    _build_all(con)
    got = con.execute(
        "SELECT email, action, activity_id = md5(concat_ws('|', email, 'open', event_time, campaign_id, url)) "
        "FROM staging.email_activity ORDER BY email"
    ).fetchall()
    assert got == [
        ("p0@x.se", "privacy_open", True),
        ("p1@x.se", "open", True),
        ("p2@x.se", "open", True),
        ("p3@x.se", "click", False),
    ]


def test_web_events_deduplicated_and_cookie_history_attached_to_user(con):
    def ev(ts, name, cookie, user=None, session=7):
        params = f'[{{"key":"ga_session_id","value":{{"int_value":{session}}}}}]'
        line = json.dumps(
            {
                "event_timestamp": ts,
                "event_name": name,
                "user_pseudo_id": cookie,
                "user_id": user,
                "event_params": json.loads(params),
                "event_date": "20260910",
            }
        )
        return {
            "event_timestamp": str(ts),
            "event_name": name,
            "user_pseudo_id": cookie,
            "user_id": user,
            "event_json": line,
            "event_date": "20260910",
            "events_day": "2026-09-10",
        }

    _insert(
        con,
        "web_events",
        [
            ev(1_000_000, "page_view", "ck1"),
            ev(1_000_000, "page_view", "ck1"),  # duplicated delivery
            ev(2_000_000, "login", "ck1", user="C1"),
            ev(3_000_000, "page_view", "ck2"),  # anonymous
        ],
        file="events_20260910.jsonl",
    )
    _build_all(con)
    events = con.execute(
        "SELECT cookie, event_name, source_record_id FROM staging.web_events ORDER BY event_time"
    ).fetchall()
    assert events == [("ck1", "page_view", "C1"), ("ck1", "login", "C1"), ("ck2", "page_view", None)]
    assert con.execute("SELECT source_record_id, cookies FROM staging.identity_records").fetchall() == [("C1", ["ck1"])]
    assert con.execute("SELECT events, page_views FROM staging.web_sessions WHERE cookie = 'ck1'").fetchall() == [
        (2, 1)
    ]


def test_a_web_event_with_an_unreadable_event_date_is_kept_with_no_date(con):
    """GA4's event_date is not a required field: a value that is not YYYYMMDD (a hand-edited or
    re-serialised export) gives a NULL event_date, as other unreadable dates do, instead of failing
    the whole staging/web_events step (strptime raised before TRY_CAST could catch it, s44)."""

    def ev(ts, event_date):
        line = json.dumps({"event_timestamp": ts, "event_name": "page_view", "user_pseudo_id": "ck1"})
        return {
            "event_timestamp": str(ts),
            "event_name": "page_view",
            "user_pseudo_id": "ck1",
            "event_json": line,
            "event_date": event_date,
            "events_day": "2026-09-10",
        }

    _insert(con, "web_events", [ev(1_000_000, "x"), ev(2_000_000, "2026-09-10"), ev(3_000_000, "20260910")])
    _build_all(con)
    got = con.execute("SELECT event_time, event_date FROM staging.web_events ORDER BY event_time").fetchall()
    assert [d for _, d in got] == [None, None, date(2026, 9, 10)]
