"""Known answers for the Twilio and GA4 files of the conformance corpus
(cdp_pipeline_tests/fixtures/vendors/twilio, …/ga4; see the README there), loaded into raw
as delivered and built into staging: every row is accounted for, none lost without a reason."""

import json
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables
from cdp_pipeline.lib.staging.accounting import sms_message_accounting, web_event_accounting
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
# (corpus file, source, landing day): the GA4 intraday snapshot of 2 October lands that day,
# the day's complete export (two gzipped shards) the next.
DELIVERIES = [
    ("twilio/messages_2026-10-01.json.gz", "sms", "2026-10-02"),
    ("twilio/messages_api_twilio_python.jsonl", "sms", "2026-10-02"),
    ("twilio/twilio_message_log.csv", "sms", "2026-10-02"),
    ("ga4/events_20261001.json", "web", "2026-10-02"),
    ("ga4/events_intraday_20261002.json", "web", "2026-10-02"),
    ("ga4/events_20261002-000000000000.json.gz", "web", "2026-10-03"),
    ("ga4/events_20261002-000000000001.json.gz", "web", "2026-10-03"),
]
STAGING = ("sms_messages", "web_events", "web_sessions", "identity_records", "orders", "consent_events")


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vendors")
    landing = tmp / "landing"
    for rel, source, day in DELIVERIES:
        folder = landing / source / day
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(VENDORS / rel, folder / Path(rel).name)
    c = duckdb.connect(str(tmp / "w.duckdb"))
    ensure_ingest_tables(c)
    for source, day in sorted({(s, d) for _, s, d in DELIVERIES}, key=lambda x: (x[1], x[0])):
        load_partition(c, landing, source, day)
    for table in STAGING:
        build_staging_table(c, SQL_DIR, table, get_settings())
    yield c
    c.close()


def q(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def _ledger(con, name):
    return q(
        con,
        "SELECT file_kind, status, rows_read, rows_loaded, rows_quarantined, message FROM audit.files "
        "WHERE file LIKE '%/' || ?",
        [name],
    )[0]


# ---------------------------------------------------------------- Twilio


def test_twilio_bulk_export_gz_console_csv_and_api_json_are_read_whole(con):
    assert _ledger(con, "messages_2026-10-01.json.gz")[:5] == ("sms_messages_jsonl", "loaded", 6, 6, 0)
    assert _ledger(con, "messages_api_twilio_python.jsonl")[:5] == ("sms_messages_jsonl", "loaded", 1, 1, 0)
    assert _ledger(con, "twilio_message_log.csv")[:5] == ("sms_messages_csv", "loaded", 4, 4, 0)
    assert q(con, "SELECT count(*) FROM audit.quarantine WHERE source = 'sms'") == [(0,)]
    # the console CSV's extra column is kept in raw
    assert q(con, "SELECT _extra->>'MessagingServiceSid' FROM raw.sms_messages WHERE sid LIKE '%101'") == [
        ("MGbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",)
    ]


def test_every_twilio_row_is_a_staged_message_whatsapp_and_unreadable_numbers_included(con):
    assert sms_message_accounting(con) == {
        "raw_rows": 11,
        "messages": 11,
        "staged": 11,
        "missing": 0,
        "other_channels": 3,
        "unreadable_number": 1,
        "redeliveries": 0,
    }
    whatsapp = q(
        con,
        "SELECT right(message_id, 3), source_record_id, direction, keyword FROM staging.sms_messages "
        "WHERE channel = 'whatsapp' ORDER BY message_id",
    )
    assert whatsapp == [
        ("003", "+27821234567", "outbound", None),
        ("004", "+27821234567", "inbound", "opt_out"),
        ("103", "+27831112222", "inbound", None),
    ]
    # a carrier short code is not a customer's number: the message stays, flagged, with no customer
    assert q(
        con, "SELECT source_record_id, channel, dq_flags FROM staging.sms_messages WHERE body LIKE 'Ditt saldo%'"
    ) == [(None, "sms", ["unreadable_number"])]
    # a message that failed before sending has no date_sent: it is dated by date_created
    assert q(
        con, "SELECT sent_at, status, error_code FROM staging.sms_messages WHERE right(message_id, 3) = '005'"
    ) == [(datetime(2026, 10, 1, 10, 0), "failed", "30003")]
    # the REST API record (twilio-python's fixture): outbound, so the customer is "to"
    assert q(
        con, "SELECT source_record_id, sent_at, body FROM staging.sms_messages WHERE message_id LIKE 'SMaaaa%'"
    ) == [("+14155552345", datetime(2015, 7, 30, 20, 12, 33), "O Slash: Ø, PoP: 💩")]


def test_whatsapp_numbers_are_phones_but_a_whatsapp_stop_is_not_an_sms_opt_out(con):
    phones = {r[0] for r in q(con, "SELECT source_record_id FROM staging.identity_records WHERE source = 'sms'")}
    assert phones == {
        "+46701234567",
        "+27821234567",
        "+46707654321",
        "+14155552345",
        "+46709876543",
        "+27831112222",
        "+46701112233",
    }
    assert q(con, "SELECT identifier, state, reason FROM staging.consent_events WHERE source = 'sms' ORDER BY 1") == [
        ("+46701234567", "revoked", "sms_stop"),
        ("+46709876543", "revoked", "sms_stop"),
    ]


# ---------------------------------------------------------------- GA4


def test_ga4_day_intraday_and_gzipped_shards_load_as_deliveries(con):
    day1 = _ledger(con, "events_20261001.json")
    assert day1[:5] == ("web_events", "loaded", 7, 7, 0)
    assert day1[5] == (
        "2 consent-mode (cookieless) event(s) without user_pseudo_id: loaded, counted, not attributed to a visitor"
    )
    assert _ledger(con, "events_intraday_20261002.json")[1] == "superseded"
    assert _ledger(con, "events_20261002-000000000000.json.gz")[:5] == ("web_events", "loaded", 3, 3, 0)
    assert _ledger(con, "events_20261002-000000000001.json.gz")[:5] == ("web_events", "loaded", 2, 2, 0)
    assert q(con, "SELECT events_day, count(*) FROM raw.web_events GROUP BY 1 ORDER BY 1") == [
        ("2026-10-01", 7),
        ("2026-10-02", 5),
    ]
    assert q(con, "SELECT count(*) FROM audit.quarantine WHERE source = 'web'") == [(0,)]


def test_every_ga4_row_is_a_staged_event_a_duplicate_or_a_counted_cookieless_ping(con):
    assert web_event_accounting(con) == {
        "raw_rows": 12,
        "cookieless_pings": 3,
        "staged": 8,
        "missing": 0,
        "duplicates": 1,
    }


def test_ga4_purchase_currency_comes_from_the_currency_event_parameter(con):
    assert q(
        con,
        "SELECT transaction_id, revenue, currency, source_record_id FROM staging.web_events "
        "WHERE event_name = 'purchase' ORDER BY transaction_id",
    ) == [
        ("T-1042", Decimal("1499.00"), "ZAR", "CRM-1001"),
        ("T-1043", Decimal("349.00"), "SEK", None),
        ("T-1050", Decimal("749.50"), "ZAR", None),
    ]


def test_a_ga4_purchase_without_purchase_revenue_is_worth_its_value_parameter(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_ingest_tables(c)
    line = {
        "event_timestamp": "1790841600000000",
        "event_name": "purchase",
        "user_pseudo_id": "c1",
        "event_params": [
            {"key": "currency", "value": {"string_value": " eur "}},
            {"key": "value", "value": {"int_value": "120"}},
        ],
        "ecommerce": {"transaction_id": "T1", "purchase_revenue": None},
    }
    c.execute(
        "INSERT INTO raw.web_events (event_timestamp, event_name, user_pseudo_id, event_json, _file, _line, "
        "_landing_date, _file_sha256) VALUES ('1790841600000000', 'purchase', 'c1', ?, 'w.json', 1, "
        "DATE '2026-10-02', 'x')",
        [json.dumps(line)],
    )
    build_staging_table(c, SQL_DIR, "web_events", get_settings())
    assert q(c, "SELECT revenue, currency FROM staging.web_events") == [(Decimal("120.00"), "EUR")]


def test_an_erased_persons_whatsapp_messages_are_suppressed_at_ingest_like_their_sms():
    from cdp_pipeline.lib.audit.suppression import normalise_phone

    assert normalise_phone("whatsapp:+27821234567") == normalise_phone("+27821234567") == "+27821234567"
    assert normalise_phone("WhatsApp: +46 70 123 45 67") == "+46701234567"


def test_the_accounting_checks_fail_when_a_message_or_an_event_goes_missing(tmp_path):
    import dagster as dg

    from cdp_pipeline.defs.staging.checks import every_event_accounted, every_message_accounted

    path = str(tmp_path / "w.duckdb")
    c = duckdb.connect(path)
    ensure_ingest_tables(c)
    c.execute("""INSERT INTO raw.sms_messages ("from", "to", body, direction, sent_date, sid, _file, _line,
                 _landing_date, _file_sha256) VALUES
                 ('whatsapp:+27821234567', 'whatsapp:+14155238886', 'STOP', 'inbound', '2026-10-01T09:10:00Z', 'SM1',
                  'm.json', 1, DATE '2026-10-02', 'x'),
                 ('72345', '+46766860100', 'Saldo', 'inbound', '2026-10-01T11:00:00Z', 'SM2',
                  'm.json', 2, DATE '2026-10-02', 'x')""")
    c.execute("""INSERT INTO raw.web_events (event_timestamp, event_name, user_pseudo_id, event_json, _file, _line,
                 _landing_date, _file_sha256) VALUES
                 ('1', 'page_view', 'c1', '{}', 'e.json', 1, DATE '2026-10-02', 'x'),
                 ('2', 'page_view', NULL, '{}', 'e.json', 2, DATE '2026-10-02', 'x')""")
    for table in ("sms_messages", "web_events"):
        build_staging_table(c, SQL_DIR, table, get_settings())
    ok_sms, ok_web = every_message_accounted(c), every_event_accounted(c)
    assert ok_sms.passed and ok_web.passed
    assert ok_web.metadata["cookieless_pings"] == dg.IntMetadataValue(1)
    c.execute("DELETE FROM staging.sms_messages WHERE message_id = 'SM1'")
    c.execute("DELETE FROM staging.web_events")
    lost_sms, lost_web = every_message_accounted(c), every_event_accounted(c)
    assert not lost_sms.passed and lost_sms.metadata["missing"] == dg.IntMetadataValue(1)
    assert not lost_web.passed and lost_web.metadata["missing"] == dg.IntMetadataValue(1)


def test_the_sms_accounting_finds_a_missing_message_when_the_counts_still_agree(tmp_path):
    # The check compares counts and key hash sums first: a staged message that is not in raw, in
    # place of one that is, keeps the counts equal and must still be counted as missing; so must
    # a message staged twice in place of another.
    import dagster as dg

    from cdp_pipeline.defs.staging.checks import every_message_accounted

    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_ingest_tables(c)
    c.execute("""INSERT INTO raw.sms_messages ("from", "to", body, direction, sent_date, sid, _file, _line,
                 _landing_date, _file_sha256) VALUES
                 ('+46701234567', '72345', 'Hej', 'inbound', '2026-10-01T09:10:00Z', 'SM1', 'm.json', 1,
                  DATE '2026-10-02', 'x'),
                 ('+46701234568', '72345', 'Saldo', 'inbound', '2026-10-01T11:00:00Z', 'SM2', 'm.json', 2,
                  DATE '2026-10-02', 'x'),
                 ('+46701234568', '72345', 'Saldo', 'inbound', '2026-10-01T11:00:00Z', 'SM2', 'm.json', 3,
                  DATE '2026-10-02', 'x')""")
    build_staging_table(c, SQL_DIR, "sms_messages", get_settings())
    ok = every_message_accounted(c)
    assert ok.passed
    assert {k: ok.metadata[k] for k in ("raw_rows", "messages", "staged", "missing", "redeliveries")} == {
        "raw_rows": dg.IntMetadataValue(3),
        "messages": dg.IntMetadataValue(2),
        "staged": dg.IntMetadataValue(2),
        "missing": dg.IntMetadataValue(0),
        "redeliveries": dg.IntMetadataValue(1),
    }
    c.execute("UPDATE staging.sms_messages SET message_id = 'SM9' WHERE message_id = 'SM1'")
    swapped = every_message_accounted(c)
    assert not swapped.passed and swapped.metadata["missing"] == dg.IntMetadataValue(1)
    assert swapped.metadata["staged"] == dg.IntMetadataValue(2)
    c.execute("UPDATE staging.sms_messages SET message_id = 'SM2' WHERE message_id = 'SM9'")
    doubled = every_message_accounted(c)
    assert not doubled.passed and doubled.metadata["missing"] == dg.IntMetadataValue(1)
