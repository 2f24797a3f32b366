"""Suppression at ingest, the salt file, request files and the scan's matching rules."""

import hashlib
import stat

import duckdb
import pytest

from cdp_pipeline.lib.audit import queue_erasure, read_requests, run_pending_erasures, scan_for_identifiers
from cdp_pipeline.lib.audit.suppression import (
    REDACTED_RECORD,
    SALT_ENV,
    add_suppressions,
    candidate_forms,
    identifier_hash,
    load_salt,
    salt_path,
)
from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.lib.raw.ledger import ledger_balance

from .fixture_warehouse import ANNA, BO, build, identifiers_of

DAY = "2026-10-02"


def drop(settings, source, name, text, encoding="utf-8"):
    p = settings.landing_dir / source / DAY / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text.encode(encoding))


def test_redelivered_extracts_do_not_bring_an_erased_person_back(cdp_env):
    settings = cdp_env
    con = duckdb.connect(str(settings.build_db))
    build(con)
    queue_erasure(ANNA["email"], settings.inbox_dir)
    run_pending_erasures(con, settings)
    # the fixture's quarantine row (redacted by the erasure) has no ledger entry of its own
    con.execute("DELETE FROM audit.quarantine WHERE file = 'crm/x.csv'")

    # tomorrow's extracts, with Anna written differently
    drop(
        settings,
        "crm",
        "customers.csv",
        "customer_id,first_name,email,phone,loyalty_card_id\n"
        "1001,Anna,ANNA.S@POSTEN.SE ,0701234567,LC-000111\n"
        "1002,Bo,bo.b@telia.se,+46702222333,LC-000222\n"
        '1003,Cy,cy@telia.se,"broken,LC-9\n'
        f'1004,Anna again,"x"y",{ANNA["email"]}\n',
    )
    drop(
        settings,
        "pos",
        "orders_export.csv",
        "Name,Email,Total,Lineitem name,Billing Phone\n"
        "#6001,,10.00,Gloves,+46 70 123 45 67\n#6001,,,Scarf,\n#6002,bo.b@telia.se,5.00,Cap,\n",
    )
    drop(
        settings,
        "sms",
        "log.csv",
        "From,To,Body,Direction,SentDate\n"
        "+46700000000,+46701234567,Hej,outbound-api,2026-10-02 10:00:00\n"
        "0046701234567,+46700000000,STOP,inbound,2026-10-02 10:01:00\n"
        "+46700000000,+46702222333,Hej,outbound-api,2026-10-02 10:00:00\n",
    )
    drop(
        settings,
        "web",
        "events_20261002.jsonl",
        '{"event_timestamp": 1, "event_name": "login", "user_pseudo_id": "ck.1111111111", "user_id": "1001"}\n'
        '{"event_timestamp": 2, "event_name": "page_view", "user_pseudo_id": "ck.1111111111"}\n'
        '{"event_timestamp": 3, "event_name": "login", "user_pseudo_id": "ck.2222222222", "user_id": "1002"}\n',
    )
    for source in ("crm", "pos", "sms", "web"):
        load_partition(con, settings.landing_dir, source, DAY, settings=settings)

    today = f" WHERE _landing_date = DATE '{DAY}'"
    assert con.execute("SELECT customer_id FROM raw.crm_customers" + today).fetchall() == [("1002",)]
    assert con.execute("SELECT name FROM raw.pos_orders" + today).fetchall() == [("#6002",)]
    assert con.execute("SELECT count(*) FROM raw.sms_messages" + today).fetchone()[0] == 1
    assert con.execute("SELECT user_pseudo_id FROM raw.web_events" + today).fetchall() == [("ck.2222222222",)]
    assert scan_for_identifiers(con, identifiers_of(ANNA) + ["0701234567", "ANNA.S@POSTEN.SE"]) == []
    # the ledger says where the rows went and still balances
    files = dict(con.execute("SELECT file_kind, rows_suppressed FROM audit.files").fetchall())
    assert files == {"crm_customers": 1, "pos_orders": 2, "sms_messages_csv": 2, "web_events": 2}
    for source, table in (
        ("crm", "crm_customers"),
        ("pos", "pos_orders"),
        ("sms", "sms_messages"),
        ("web", "web_events"),
    ):
        b = ledger_balance(con, source, table)
        assert b["balanced"], (table, b)  # (raw_matches is off by the fixture's rows, which have no ledger)
    # a quarantined line that carries her address keeps its place in the ledger, not her address
    records = dict(con.execute("SELECT line_number, raw_record FROM audit.quarantine").fetchall())
    assert records[5] == REDACTED_RECORD and "LC-9" in records[4]
    con.close()


def test_without_suppressions_ingest_creates_no_salt(cdp_env):
    con = duckdb.connect(str(cdp_env.build_db))
    drop(cdp_env, "crm", "c.csv", "customer_id,email\n1,a@b.se\n")
    load_partition(con, cdp_env.landing_dir, "crm", DAY, settings=cdp_env)
    assert con.execute("SELECT rows_read, rows_loaded, rows_suppressed FROM audit.files").fetchall() == [(1, 1, 0)]
    assert not salt_path(cdp_env.data_dir).exists()
    con.close()


def test_salt_file_is_private_and_stable(tmp_path, monkeypatch):
    monkeypatch.delenv(SALT_ENV, raising=False)
    path = salt_path(tmp_path / "data")
    assert path == tmp_path / "data" / "secrets" / "suppression_salt"
    salt = load_salt(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(salt) == 64 and load_salt(path) == salt
    path.chmod(0o644)
    load_salt(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv(SALT_ENV, str(tmp_path / "elsewhere" / "salt"))
    assert salt_path(tmp_path / "data") == tmp_path / "elsewhere" / "salt"


def test_hash_is_salted_sha256_of_the_normal_form_in_python_and_duckdb():
    salt = "s" * 64
    forms = dict((k, v) for k, v in candidate_forms(" Anna.S@Posten.SE "))
    assert forms == {"email": "anna.s@posten.se"}
    assert dict(candidate_forms("070-123 45 67")) == {"id": "070-123 45 67", "phone": "+46701234567"}
    expected = hashlib.sha256(f"{salt}:anna.s@posten.se".encode()).hexdigest()
    assert identifier_hash("anna.s@posten.se", salt) == expected
    got = (
        duckdb.connect()
        .execute("SELECT sha256($s || ':' || lower(trim(' Anna.S@Posten.SE ')))", {"s": salt})
        .fetchall()[0][0]
    )
    assert got == expected


def test_requests_from_the_queue_and_from_dropped_csvs(tmp_path):
    inbox = tmp_path / "inbox"
    queue_erasure("anna.s@posten.se", inbox, reference="T-1")
    (inbox / "identity_review.csv").write_text("record_l,record_r,decision\na,b,must_link\n")
    (inbox / "dpo_batch.csv").write_text("\ufeffIdentifier,Kind,Requested_At\n 070-123 45 67 ,phone,2026-10-01\n,,\n")
    reqs = read_requests(inbox)
    assert [(r.identifier, r.kind, r.file) for r in reqs] == [
        ("anna.s@posten.se", None, "erasure_requests/requests.csv"),
        ("070-123 45 67", "phone", "dpo_batch.csv"),
    ]
    queue_file = inbox / "erasure_requests" / "requests.csv"
    assert stat.S_IMODE(queue_file.stat().st_mode) == 0o600
    rid = reqs[0].request_id("salt")
    assert rid == reqs[0].request_id("salt") and "anna" not in rid and rid != reqs[0].request_id("other")
    with pytest.raises(ValueError):
        queue_erasure("x", inbox, kind="shoe_size")


def test_short_ids_are_matched_only_as_whole_values_of_id_columns():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.t (customer_id VARCHAR, total VARCHAR, note VARCHAR, cookies VARCHAR[])")
    con.execute(
        "INSERT INTO raw.t VALUES ('1001', '1001', 'order 1001', []), ('x', '5', 'mail ANNA.S@posten.se!', "
        "['ck.1111111111'])"
    )
    assert scan_for_identifiers(con, ["1001"]) == [("raw", "t", "customer_id", 1)]
    assert scan_for_identifiers(con, ["anna.s@posten.se", "ck.1111111111"]) == [
        ("raw", "t", "note", 1),
        ("raw", "t", "cookies", 1),
    ]
    # a longer address that merely contains hers is someone else
    assert scan_for_identifiers(con, ["s@posten.se"]) == []
    assert BO["email"] not in str(scan_for_identifiers(con, [BO["email"]]))


def test_every_phone_column_staging_reads_is_suppressed_in_the_rows_country(cdp_env):
    """Staging reads a customer's number from a CRM export's Default Address Phone and a Shopify
    order's Phone and Shipping Phone too, each in its row's country: a later file with the erased
    number only there, or written nationally in a Danish row, must not bring the person back."""
    settings = cdp_env
    con = duckdb.connect(str(settings.build_db))
    build(con)
    queue_erasure(ANNA["email"], settings.inbox_dir)
    run_pending_erasures(con, settings)
    con.execute("DELETE FROM audit.quarantine WHERE file = 'crm/x.csv'")
    # a Danish number on the list as an erasure lists it: E.164, salted
    add_suppressions(con, [(identifier_hash("+4520123456", load_salt(salt_path(settings.data_dir))), "phone")], "t")

    drop(
        settings,
        "crm",
        "customers_export.csv",
        "Customer ID,First Name,Email,Phone,Default Address Country Code,Default Address Phone\n"
        "2001,Cy,cy@new.se,,SE,070-123 45 67\n"  # Anna's number as the address's phone
        "2002,Dan,dan@new.dk,20 12 34 56,DK,\n"  # the Danish number, written nationally
        "2003,Eva,eva@new.se,020-12 34 56,SE,\n",  # another number: kept
    )
    drop(
        settings,
        "pos",
        "orders_export.csv",
        "Name,Email,Total,Lineitem name,Phone,Shipping Phone,Billing Country\n"
        "#7001,new1@x.se,10.00,Gloves,070-123 45 67,,SE\n"
        "#7002,new2@x.se,5.00,Cap,,+46 70 123 45 67,SE\n"
        "#7003,new3@x.dk,5.00,Hat,20123456,,DK\n"
        "#7004,new4@x.se,5.00,Scarf,,,SE\n",
    )
    for source in ("crm", "pos"):
        load_partition(con, settings.landing_dir, source, DAY, settings=settings)

    today = f" WHERE _landing_date = DATE '{DAY}'"
    assert con.execute("SELECT customer_id FROM raw.crm_customers" + today).fetchall() == [("2003",)]
    assert con.execute("SELECT name FROM raw.pos_orders" + today).fetchall() == [("#7004",)]
    files = dict(con.execute("SELECT file_kind, rows_suppressed FROM audit.files").fetchall())
    assert files == {"crm_customers": 2, "pos_orders": 3}
    con.close()


def test_each_rows_country_for_its_phones_is_its_first_non_empty_country_column():
    """_row_countries: the ISO code of each row's first non-empty country column (Shopify's billing
    country, else its shipping country), read once per distinct value; None without one; a kind with
    no country column gives None for the whole file."""
    import pyarrow as pa

    from cdp_pipeline.lib.audit.suppression import _row_countries
    from cdp_pipeline.lib.raw.file_kinds import POS_ORDERS, SMS_MESSAGES_CSV
    from cdp_pipeline.lib.raw.parsed import ParsedFile

    orders = ParsedFile(POS_ORDERS, "utf-8", ",")
    orders.columns = {
        "billing_country": ["SE", "", None, " ", "Danmark", "SE", None],
        "shipping_country": pa.array(["DK", "Norge", "dk", None, "SE", None, None]),
    }
    assert _row_countries(orders) == ["SE", "NO", "DK", None, "DK", "SE", None]
    shipped = ParsedFile(POS_ORDERS, "utf-8", ",")
    shipped.columns = {"shipping_country": ["Sverige", "Sverige", "", "FI"]}
    assert _row_countries(shipped) == ["SE", "SE", None, "FI"]
    sms = ParsedFile(SMS_MESSAGES_CSV, "utf-8", ",")
    sms.columns = {"from": ["+46701234567"]}
    assert _row_countries(sms) is None


def test_vendor_variants_of_a_raw_table_are_suppressed_at_ingest(cdp_env):
    """A Klaviyo profile export (esp/, written to raw.esp_members) and a legacy Shopify customers
    export (crm/, no Customer ID) are file kinds of their own: an erased person in a later delivery
    of either must be left out at ingest as in a Mailchimp or CRM file, by address and by a phone
    written nationally in the row's country (Klaviyo's Country, the legacy export's Country)."""
    settings = cdp_env
    con = duckdb.connect(str(settings.build_db))
    build(con)
    queue_erasure(ANNA["email"], settings.inbox_dir)
    run_pending_erasures(con, settings)
    con.execute("DELETE FROM audit.quarantine WHERE file = 'crm/x.csv'")
    # a Danish number on the list as an erasure lists it: E.164, salted
    add_suppressions(con, [(identifier_hash("+4520123456", load_salt(salt_path(settings.data_dir))), "phone")], "t")

    drop(
        settings,
        "esp",
        "profiles_export.csv",
        "Email,Klaviyo ID,First Name,Phone Number,Country,Email Marketing Consent\n"
        f"{ANNA['raw_email']},01HX0AAAAAAAAAAAAAAAAAAAAA,Anna,,Sweden,SUBSCRIBED\n"  # her address
        "dan@new.dk,01HX0BBBBBBBBBBBBBBBBBBBBB,Dan,20 12 34 56,Denmark,SUBSCRIBED\n"  # the Danish number
        "eva@new.se,01HX0CCCCCCCCCCCCCCCCCCCCC,Eva,020-12 34 56,Sweden,SUBSCRIBED\n",  # kept
    )
    drop(
        settings,
        "crm",
        "customers_export_legacy.csv",
        "First Name,Last Name,Email,Country,Phone,Accepts Marketing\n"
        "Cy,Ek,cy@new.se,Sweden,070-123 45 67,yes\n"  # Anna's number
        "Dan,Lund,dan2@new.dk,Denmark,20 12 34 56,yes\n"  # the Danish number, written nationally
        "Eva,Berg,eva@new.se,Sweden,,no\n",  # kept
    )
    for source in ("esp", "crm"):
        load_partition(con, settings.landing_dir, source, DAY, settings=settings)

    today = f" WHERE _landing_date = DATE '{DAY}'"
    assert con.execute("SELECT email_address FROM raw.esp_members" + today).fetchall() == [("eva@new.se",)]
    assert con.execute("SELECT email FROM raw.crm_customers" + today).fetchall() == [("eva@new.se",)]
    files = dict(con.execute("SELECT file_kind, rows_suppressed FROM audit.files").fetchall())
    assert files == {"esp_klaviyo_profiles": 2, "shopify_customers_legacy": 2}
    for source, table in (("esp", "esp_members"), ("crm", "crm_customers")):
        assert ledger_balance(con, source, table)["balanced"], table
    con.close()


def test_every_file_kind_names_its_identifier_columns_for_ingest():
    """Suppression at ingest looks a file's identifier columns up by its file kind: a kind missing
    from the table loads an erased person's rows again. Every kind has an entry, and each column
    named is one of the kind's columns."""
    from cdp_pipeline.lib.audit.suppression import INGEST_IDENTIFIER_COLUMNS, PHONE_COUNTRY_COLUMNS
    from cdp_pipeline.lib.raw.file_kinds import FILE_KINDS

    assert set(INGEST_IDENTIFIER_COLUMNS) == set(FILE_KINDS)
    for name, columns in INGEST_IDENTIFIER_COLUMNS.items():
        assert columns and {c for c, _ in columns} <= set(FILE_KINDS[name].columns), name
    for name, columns in PHONE_COUNTRY_COLUMNS.items():
        assert set(columns) <= set(FILE_KINDS[name].columns), name
    # a kind whose phones are read in its row's country is suppressed in that country too
    assert {"esp_klaviyo_profiles", "shopify_customers_legacy"} <= set(PHONE_COUNTRY_COLUMNS)
