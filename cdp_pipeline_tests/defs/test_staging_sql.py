"""Staging SQL calls each standardisation function once per distinct value and joins the
result back. Over messy raw rows full of repeats and NULLs, every standardised column must
equal the plain row-by-row call of the same functions (the oracle queries below)."""

import random

import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR, STAGING_TABLES
from cdp_pipeline.lib.staging import udfs
from cdp_pipeline.lib.staging.build import build_staging_table, data_as_of
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.staging.build_db import open_build_db

# Few values per field, so that they repeat across rows and sources; NULL and '' in each.
NAMES = ["ANNA", "Åsa", "svensson, anna", "Test", "Unknown", "Öberg", "-", "", None]
EMAILS = [" Anna@Firma.SE ", "anna@firma.se", "test@test.com", "bo@x", "mailto:kim@example.se", "", None]
PHONES = ["070-123 45 67", "+46 70 123 45 67", "20123456", "0000000", "4.67012E+10", "0046701234567", "", None]
COUNTRIES = ["Sverige", "SE", "DK", "Danmark", "", None]
POSTCODES = ["11453", "114 53", "2100", "123456", "", None]
STREETS = ["STORGATAN 1", "Storg. 1", "", None]
CITIES = ["STOCKHOLM", "københavn", "", None]
BIRTH_DATES = ["1980-03-12", "12.03.1980", "1885-01-01", "1980-02-30", "", None]
TIMES = ["2026-09-01 10:00:00", "2026-09-01T10:00:00+02:00", "1788000000", "2026-13-01 10:00", "", None]
ZONES = ["Europe/Stockholm", "UTC", " ", "", None]
STATUSES = ["subscribed", "unsubscribed", "cleaned", "nonsubscribed", "pending"]
# The row-by-row fallback must give a failing value NULL; one address makes check_email fail.
FAILING_EMAIL = "bo@x"


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    """The staged messy rows and the oracle functions. Built once for the module (the tests
    only read it); the raw rows go in as one transaction, not one commit per row."""
    real_check_email = udfs.check_email

    def check_email(raw):
        if raw == FAILING_EMAIL:
            raise ValueError("unreadable")
        return real_check_email(raw)

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(udfs, "check_email", check_email)
        c = open_build_db(tmp_path_factory.mktemp("staging_sql") / "b.duckdb")
        c.execute("BEGIN TRANSACTION")
        _insert_messy_rows(c, random.Random(11))
        c.execute("COMMIT")
        for table in STAGING_TABLES:
            build_staging_table(c, SQL_DIR, table, get_settings())
        # The oracle: the same functions, row by row.
        udfs.register_udfs(
            c, get_settings().default_region, get_settings().timezone, as_of=data_as_of(c), vectorised=False
        )
        yield c
        c.close()


def _insert(con, table: str, rows: list[dict]) -> None:
    for i, row in enumerate(rows, start=2):
        row = {"_file": f"{table}.csv", "_line": i, "_landing_date": "2026-10-01", "_file_sha256": "x", **row}
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO raw.{table} ({cols}) VALUES ({marks})", list(row.values()))


def _insert_messy_rows(con, rng: random.Random) -> None:
    pick = rng.choice
    _insert(
        con,
        "crm_customers",
        [
            {
                "customer_id": f"C{i}",
                "first_name": pick(NAMES),
                "last_name": pick(NAMES),
                "email": pick(EMAILS),
                "phone": pick(PHONES),
                "street": pick(STREETS),
                "postcode": pick(POSTCODES),
                "city": pick(CITIES),
                "country": pick(COUNTRIES),
                "birth_date": pick(BIRTH_DATES),
                "updated_at": pick(TIMES),
                "consent_email": pick(["yes", "no", None]),
                "consent_sms": pick(["1", "0", None]),
                "consent_updated_at": pick(TIMES),
            }
            for i in range(300)
        ],
    )
    _insert(
        con,
        "esp_members",
        [
            {
                "leid": f"L{i}",
                "email_address": pick(EMAILS),
                "first_name": pick(NAMES),
                "last_name": pick(NAMES),
                "phone": pick(PHONES),
                "address": pick(STREETS),
                "zip": pick(POSTCODES),
                "city": pick(CITIES),
                "birthday": pick(BIRTH_DATES),
                "status": pick(STATUSES),
                "last_changed": pick(TIMES),
                "optin_time": pick(TIMES),
                "confirm_time": pick(TIMES),
                "unsub_time": pick(TIMES),
                "clean_time": pick(TIMES),
            }
            for i in range(200)
        ],
    )
    _insert(
        con,
        "sms_messages",
        [
            {
                "sid": f"SM{i}",
                "from": pick(PHONES),
                "to": pick(PHONES),
                "direction": pick(["inbound", "outbound-api"]),
                "body": pick(["STOP", "start", "Hej!"]),
                "sent_date": pick(TIMES),
            }
            for i in range(300)
        ],
    )
    _insert(
        con,
        "esp_activity",
        [
            {
                "email_address": pick(EMAILS),
                "action": pick(["open", "click", "bounce"]),
                "timestamp": pick(TIMES),
                "campaign_id": f"K{i % 7}",
                "url": pick(["https://x.se", None]),
            }
            for i in range(300)
        ],
    )
    _insert(
        con,
        "pos_receipts",
        [  # receipts of three lines, then of one (no other line hides a wrong time)
            {
                "receipt_id": f"R{i // 3 if i < 90 else i}",
                "store_id": "S01",
                "line_no": str(i % 3 + 1),
                "ts_local": pick(TIMES),
                "tz": pick(ZONES),
                "loyalty_card_id": pick(["LC1", "LC2", "", None]),
                "qty": "1",
                "unit_price": "10,00",
                "discount": "0",
            }
            for i in range(150)
        ],
    )
    _insert(
        con,
        "pos_orders",
        [
            {
                "name": f"#{1000 + i // 2}",
                "email": pick(EMAILS),
                "created_at": pick(TIMES),
                "total": "10.00",
                "billing_name": pick(NAMES),
                "billing_phone": pick(PHONES),
                "billing_country": pick(COUNTRIES),
                "billing_zip": pick(POSTCODES),
                "lineitem_quantity": "1",
                "lineitem_price": "10.00",
                "accepts_marketing": pick(["yes", "no"]),
            }
            for i in range(100)
        ],
    )


def _standardised(
    raw_first, raw_last, raw_email, raw_phone, raw_street, raw_postcode, raw_city, raw_country, raw_birth_date
) -> str:
    """The identity record's standardised columns, each function called on its row's raw values."""
    country = f"std_country({raw_country})"
    first, last = f"std_display_name({raw_first})", f"std_display_name({raw_last})"
    phone = f"std_phone({raw_phone}, {country})"
    junk_name = f"coalesce(is_junk_name({first}), false) OR coalesce(is_junk_name({last}), false)"
    return f"""{first}, {last}, std_match_name({first}), std_match_name({last}), std_email({raw_email}),
        {phone}, std_street({raw_street}), std_postcode({raw_postcode}, {country}), std_city({raw_city}),
        {country}, std_birth_date({raw_birth_date}),
        coalesce(is_junk_email(std_email({raw_email})), false), coalesce(is_junk_phone({phone}), false),
        {junk_name},
        list_sort(list_distinct(list_concat(
            coalesce(std_email_flags({raw_email}), []), coalesce(std_phone_flags({raw_phone}, {country}), []),
            coalesce(std_postcode_flags({raw_postcode}, {country}), []),
            coalesce(std_birth_date_flags({raw_birth_date}), []),
            CASE WHEN {junk_name} THEN ['junk_name'] ELSE [] END)))"""


STAGED = """first_name, last_name, first_name_match, last_name_match, email, phone, street, postcode, city,
    country, birth_date, email_is_junk, phone_is_junk, name_is_junk, dq_flags"""


def test_identity_records_equal_the_row_by_row_functions(con):
    for source, oracle in {
        "crm": f"""SELECT customer_id, {
            _standardised(
                "first_name", "last_name", "email", "phone", "street", "postcode", "city", "country", "birth_date"
            )
        }
                   FROM raw.crm_customers""",
        "esp": f"""SELECT leid, {
            _standardised(
                "first_name",
                "last_name",
                "email_address",
                "phone",
                "address",
                "zip",
                "city",
                "coalesce(nullif(trim(cc), ''), country)",
                "birthday",
            )
        }
                   FROM raw.esp_members""",
    }.items():
        staged = con.execute(
            f"SELECT source_record_id, {STAGED} FROM staging.identity_records WHERE source = ? ORDER BY 1", [source]
        ).fetchall()
        expected = con.execute(f"{oracle} ORDER BY 1").fetchall()
        assert staged == expected, source
    # The failing address became NULL without failing the query; the others were read.
    emails = {r[0] for r in con.execute("SELECT email FROM staging.identity_records").fetchall()}
    assert {"anna@firma.se", "kim@example.se"} <= emails and FAILING_EMAIL not in emails


def test_timestamps_phones_and_emails_of_activity_tables_equal_the_row_by_row_functions(con):
    checks = {
        "SELECT message_id, source_record_id, sent_at FROM staging.sms_messages":
        # every message, its number NULL when unreadable (kept, flagged), without a channel prefix
        """SELECT sid, std_phone(regexp_replace(CASE WHEN direction = 'inbound' THEN "from" ELSE "to" END,
                                                    '^\\s*[A-Za-z]+:', ''), NULL),
                      std_timestamp(coalesce(nullif(trim(sent_date), ''), nullif(trim(date_created), '')), 'UTC')
               FROM raw.sms_messages""",
        "SELECT DISTINCT email, event_time FROM staging.email_activity": """SELECT DISTINCT std_email(email_address), std_timestamp("timestamp", 'UTC') FROM raw.esp_activity
               WHERE std_email(email_address) IS NOT NULL AND std_timestamp("timestamp", 'UTC') IS NOT NULL""",
        "SELECT order_id, ordered_at, email FROM staging.orders": """SELECT 'receipt:S01:' || receipt_id, min(std_timestamp(ts_local, nullif(trim(tz), ''))), NULL
               FROM raw.pos_receipts GROUP BY receipt_id
               UNION ALL
               SELECT 'order:' || name, std_timestamp(first(created_at ORDER BY _line)
                                                      FILTER (WHERE nullif(trim(created_at), '') IS NOT NULL), NULL),
                      std_email(first(email ORDER BY _line) FILTER (WHERE nullif(trim(email), '') IS NOT NULL))
               FROM raw.pos_orders GROUP BY name""",
        "SELECT source_record_id, record_time FROM staging.identity_records WHERE source_record_id LIKE 'receipt:%'": """SELECT 'receipt:S01:' || receipt_id,
                      coalesce(min(std_timestamp(ts_local, nullif(trim(tz), ''))), TIMESTAMP '2026-10-01')
               FROM raw.pos_receipts GROUP BY receipt_id HAVING min(nullif(trim(loyalty_card_id), '')) IS NOT NULL""",
        "SELECT source_record_id, identifier, channel, event_time FROM staging.consent_events WHERE source = 'crm'": """SELECT * FROM (
                   SELECT customer_id, std_email(email) AS identifier, 'email',
                          coalesce(std_timestamp(consent_updated_at, NULL), std_timestamp(updated_at, NULL),
                                   CASE WHEN NOT std_bool(consent_email) THEN CAST(_landing_date AS TIMESTAMP) END)
                              AS changed_at
                   FROM raw.crm_customers WHERE std_bool(consent_email) IS NOT NULL
                   UNION ALL
                   SELECT customer_id, std_phone(phone, std_country(country)), 'sms',
                          coalesce(std_timestamp(consent_updated_at, NULL), std_timestamp(updated_at, NULL),
                                   CASE WHEN NOT std_bool(consent_sms) THEN CAST(_landing_date AS TIMESTAMP) END)
                   FROM raw.crm_customers WHERE std_bool(consent_sms) IS NOT NULL)
               WHERE identifier IS NOT NULL AND changed_at IS NOT NULL""",
    }
    for staged_sql, oracle in checks.items():
        staged = con.execute(f"{staged_sql} ORDER BY ALL").fetchall()
        expected = con.execute(f"{oracle} ORDER BY ALL").fetchall()
        assert staged == expected, staged_sql
        assert staged, staged_sql  # the random rows reached this table


def test_a_nonsubscribed_member_is_a_revoked_signal_never_a_grant(con):
    events = con.execute("""SELECT e.state, count(*) FROM staging.consent_events AS e
                            WHERE e.source = 'esp' AND e.reason = 'nonsubscribed' GROUP BY ALL""").fetchall()
    members = con.execute("""SELECT count(DISTINCT coalesce(nullif(trim(leid), ''), email_address)) FROM raw.esp_members
                             WHERE status = 'nonsubscribed' AND std_email(email_address) IS NOT NULL
                               AND std_timestamp(last_changed, 'UTC') IS NOT NULL""").fetchall()[0][0]
    assert members > 0
    assert [state for state, _ in events] == ["revoked"]
    assert events[0][1] >= members


def test_an_opt_out_without_a_readable_time_still_counts(con):
    """An unsubscribe, cleaning or nonsubscribed status, or a CRM opt-out, whose times cannot be
    read is dated by its file's landing day, never dropped; a grant without a time is dropped."""
    undated = con.execute("""
        SELECT count(*) FROM raw.esp_members
        WHERE lower(trim(status)) IN ('unsubscribed', 'cleaned', 'nonsubscribed') AND std_email(email_address) IS NOT NULL
          AND coalesce(std_timestamp(unsub_time, 'UTC'), std_timestamp(clean_time, 'UTC'),
                       std_timestamp(last_changed, 'UTC'), std_timestamp(optin_time, 'UTC')) IS NULL""").fetchall()[0][
        0
    ]
    assert undated > 0  # the random rows hold some
    missing = con.execute("""
        SELECT count(*) FROM raw.esp_members r
        WHERE lower(trim(r.status)) IN ('unsubscribed', 'cleaned', 'nonsubscribed') AND std_email(r.email_address) IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM staging.consent_events e
                          WHERE e.source = 'esp' AND e.identifier = std_email(r.email_address) AND e.state = 'revoked'
                            AND e.event_time <= CAST(r._landing_date AS TIMESTAMP) + INTERVAL 1 DAY)""").fetchall()[0][
        0
    ]
    assert missing == 0
    crm_undated_out = con.execute("""
        SELECT count(*) FROM staging.consent_events
        WHERE source = 'crm' AND state = 'revoked' AND event_time = TIMESTAMP '2026-10-01'""").fetchall()[0][0]
    assert crm_undated_out > 0
    # an SMS STOP whose time cannot be read: dated by the day its message landed, like the others
    sms_stops = con.execute("""
        SELECT source_record_id, CAST(r._landing_date AS TIMESTAMP), m.sent_at IS NULL
        FROM staging.sms_messages m JOIN raw.sms_messages r ON r.sid = m.message_id
        WHERE m.keyword = 'opt_out' AND m.channel = 'sms' AND m.source_record_id IS NOT NULL""").fetchall()
    assert any(undated for *_, undated in sms_stops)  # the random rows hold some
    staged_stops = con.execute("""SELECT identifier, event_time FROM staging.consent_events
                                  WHERE source = 'sms' AND reason = 'sms_stop'""").fetchall()
    assert {(n, landed) for n, landed, undated in sms_stops if undated} <= set(staged_stops)
    assert len(staged_stops) == len(sms_stops)
    assert (
        con.execute("""SELECT count(*) FROM staging.consent_events
                          WHERE state = 'granted' AND event_time IS NULL""").fetchall()[0][0]
        == 0
    )


def test_odd_looking_opt_outs_are_staged_as_opt_outs_of_one_identifier(tmp_path):
    """SMS replies with punctuation, in two words or in Swedish, and an unsubscribe of an
    internationalised address in its other spelling, are revocations of the one number or address
    that the grants name (docs/sources.md)."""
    c = open_build_db(tmp_path / "b.duckdb")
    stops = ["Stopp.", "STOP PLEASE", "opt-out", "Stop!"]
    _insert(
        c,
        "sms_messages",
        [
            {"sid": f"SM{i}", "from": f"+4670111111{i}", "to": "+46766860100", "direction": "inbound", "body": body}
            | {"sent_date": "2026-09-01 10:00:00"}
            for i, body in enumerate([*stops, "Stopp i leveransen?"])
        ],
    )
    _insert(
        c,
        "crm_customers",
        [
            {"customer_id": "C1", "email": "Anna@XN--BCHER-KVA.DE", "consent_email": "yes"}
            | {"consent_updated_at": "2026-08-01 10:00:00", "updated_at": "2026-08-01 10:00:00"}
        ],
    )
    _insert(
        c,
        "esp_members",
        [
            {
                "leid": "L1",
                "email_address": "anna@Bücher.de",
                "status": "unsubscribed",
                "unsub_time": "2026-09-01 10:00:00",
            }
        ],
    )
    for table in STAGING_TABLES:
        build_staging_table(c, SQL_DIR, table, get_settings())
    rows = c.execute("SELECT channel, identifier, state, reason FROM staging.consent_events ORDER BY ALL").fetchall()
    assert rows == sorted(
        [("sms", f"+4670111111{i}", "revoked", "sms_stop") for i in range(len(stops))]
        + [
            ("email", "anna@xn--bcher-kva.de", "granted", "crm_opt_in"),
            ("email", "anna@xn--bcher-kva.de", "revoked", "unsubscribed"),
        ]
    )
    c.close()
