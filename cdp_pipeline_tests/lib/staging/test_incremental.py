"""Staging tables rebuilt for only the records a night's files touch (identity_records,
orders, order_lines, sms_messages, web_events, email_activity, consent_events), and
web_sessions and consent_events' SMS and Shopify rows written only where they differ, equal the
tables built whole from the same raw layer: a new day, a file replaced by other bytes, a file taken
away (its day reloaded), an unchanged night, a member who changes address (their activity is
re-attached) and a customer who changes a consent flag."""

import csv
import io
import re
import shutil

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.raw.load import load_partition
from cdp_pipeline.lib.sample_data import generate_sample
from cdp_pipeline.lib.staging.build import build_staging
from cdp_pipeline.settings import SOURCES, get_settings


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("stg_inc")
    generate_sample(root / "landing", customers=120, days=4, seed=1, truth_file=root / "truth.csv")
    # The tests need a last day with an SMS JSON-lines file and no GA4 re-export of an earlier
    # day (a new day that supersedes no file): seed 1 draws one (seed 5 did before FastRandom).
    last = sorted((root / "landing").glob("*/2026-10-04/*"))
    assert any(p.name == "messages_20261004.jsonl" for p in last)
    assert [p.name for p in last if p.parent.parent.name == "web"] == ["events_20261003.jsonl"]
    return root / "landing"


def _days(landing):
    return sorted({p.name for p in landing.glob("*/*") if p.is_dir()})


def _load(con, landing, days):
    for day in days:
        for source in SOURCES:
            load_partition(con, landing, source, day, suppression=set())


# in pipeline order: email_activity reads identity_records, consent_events sms_messages and orders,
# web_sessions web_events (made again from every event, only the rows that differ written)
TABLES = (
    "identity_records",
    "orders",
    "order_lines",
    "sms_messages",
    "web_events",
    "web_sessions",
    "email_activity",
    "consent_events",
)


def _build(con, full_refresh=False):
    """Build the keyed tables in pipeline order; the identity_records plan is returned, the
    others must agree with it on the mode."""
    plans = [build_staging(con, SQL_DIR, t, get_settings(), full_refresh=full_refresh)[1] for t in TABLES]
    assert len({p.mode for p in plans}) == 1
    return plans[0]


def _rows(con):
    return {t: con.execute(f"SELECT * FROM staging.{t} ORDER BY ALL").fetchall() for t in TABLES}


def _full_rows(con):
    """The same raw layer, staging built whole in a copy."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    con.execute("CHECKPOINT")
    copy = path + ".full"
    shutil.copy(path, copy)
    other = duckdb.connect(copy)
    try:
        plan = _build(other, full_refresh=True)
        assert plan.mode == "full"
        return _rows(other)
    finally:
        other.close()


@pytest.fixture(scope="module")
def built(landing, tmp_path_factory):
    """The build database after every day but the last, staging built whole: made once, each
    test gets a copy. The raw layer names files relative to the landing folder, so a copy next
    to a copy of the landing folder is the same night as a build of its own."""
    path = tmp_path_factory.mktemp("stg_inc_built") / "build.duckdb"
    con = duckdb.connect(str(path))
    try:
        _load(con, landing, _days(landing)[:-1])
        assert _build(con).mode == "full"
    finally:
        con.close()
    return path


@pytest.fixture
def night(landing, built, tmp_path):
    work = tmp_path / "landing"
    shutil.copytree(landing, work)
    shutil.copy(built, tmp_path / "build.duckdb")
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    yield con, work, _days(work)
    con.close()


def test_a_new_day_rebuilds_only_its_records(night):
    con, work, days = night
    before = len(_rows(con)["identity_records"])
    _load(con, work, days[-1:])
    plan = _build(con)
    assert plan.mode == "incremental" and plan.files_read > 0 and plan.files_gone == 0
    assert 0 < plan.affected_records < before
    _assert_index_is_of_the_current_files(con)
    rows = _rows(con)
    assert rows == _full_rows(con)
    assert all(rows[t] for t in TABLES)


def _drop_first_row(path):
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    path.write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")


def test_a_replaced_and_a_removed_file_rebuild_their_records(night):
    con, work, days = night
    _drop_first_row(sorted((work / "crm" / days[1]).iterdir())[0])  # one customer row fewer
    _drop_first_row(next(p for p in sorted((work / "esp" / days[1]).iterdir()) if "campaign_activity" in p.name))
    removed = next(p for p in sorted((work / "esp" / days[0]).iterdir()) if "subscribed_members" in p.name)
    removed.unlink()  # members (their consent, the attachment of their activity) and activity gone
    before = _rows(con)
    _load(con, work, days[:2])
    plan = _build(con)
    assert plan.mode == "incremental" and plan.files_gone >= 2
    _assert_index_is_of_the_current_files(con)  # the gone files' keys dropped once no table lists them
    rows = _rows(con)
    assert rows == _full_rows(con)
    assert all(rows[t] != before[t] for t in ("identity_records", "email_activity", "consent_events"))


def test_a_whole_build_after_a_file_went_drops_its_keys(night):
    """A full refresh lists only the current files: the keys of a file gone are dropped once no
    table lists it (the members' keys, which identity_records and consent_events share)."""
    con, work, days = night
    next(p for p in sorted((work / "esp" / days[0]).iterdir()) if "subscribed_members" in p.name).unlink()
    _load(con, work, days[:1])
    assert _build(con, full_refresh=True).mode == "full"
    _assert_index_is_of_the_current_files(con)


def _append_row(path, row: dict) -> None:
    """One more row (ASCII values) at the end of CSV export ``path``, whatever its encoding;
    columns not in ``row`` are empty."""
    data = path.read_bytes()
    header = next(csv.reader([data.removeprefix(b"\xef\xbb\xbf").decode("latin-1").splitlines()[0]]))
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow([row.get(c, "") for c in header])
    path.write_bytes(data + (b"" if data.endswith(newline) else newline) + line.getvalue().encode("ascii") + newline)


def test_a_member_with_a_new_address_and_a_new_consent_flag(night):
    """Tonight's files hold a member's new address (their old address's and their new
    address's activity, in earlier files, is attached anew) and a customer's new email consent."""
    con, work, days = night
    email, member = con.execute(
        "SELECT email, min(source_record_id) FROM staging.email_activity "
        "WHERE source_record_id <> email GROUP BY email ORDER BY email LIMIT 1"
    ).fetchall()[0]
    other = con.execute("SELECT min(email) FROM staging.email_activity WHERE email <> ?", [email]).fetchall()[0][0]
    customer, consent = con.execute(
        "SELECT trim(customer_id), consent_email FROM raw.crm_customers "
        "WHERE lower(consent_email) IN ('yes', 'no') ORDER BY ALL LIMIT 1"
    ).fetchall()[0]
    esp = next(p for p in sorted((work / "esp" / days[-1]).iterdir()) if "subscribed_members" in p.name)
    _append_row(
        esp,
        {
            "Email Address": other,
            "LEID": member,
            "OPTIN_TIME": "2026-01-01 10:00:00",
            "LAST_CHANGED": f"{days[-1]} 23:00:00",
        },
    )
    crm = sorted((work / "crm" / days[-1]).iterdir())[0]
    _append_row(
        crm,
        {
            "customer_id": customer,
            "email": "moved.on@example.se",
            "consent_email": "no" if consent.lower() == "yes" else "yes",
            "updated_at": f"{days[-1]} 22:00:00",
            "consent_updated_at": f"{days[-1]} 22:00:00",
        },
    )
    attached = "SELECT DISTINCT email, source_record_id FROM staging.email_activity WHERE email IN (?, ?) ORDER BY ALL"
    before = con.execute(attached, [email, other]).fetchall()
    _load(con, work, days[-1:])
    plan = _build(con)
    assert plan.mode == "incremental"
    assert _rows(con) == _full_rows(con)
    after = con.execute(attached, [email, other]).fetchall()
    assert (email, member) in before and (email, member) not in after  # the member left the address
    assert con.execute(
        "SELECT reason FROM staging.consent_events WHERE source = 'crm' AND source_record_id = ? "
        "AND identifier = 'moved.on@example.se'",
        [customer],
    ).fetchall() == [("crm_opt_out" if consent.lower() == "yes" else "crm_opt_in",)]


def test_a_night_without_new_files_rebuilds_nothing_but_birth_date_checks(night):
    con, _, _ = night
    before = _rows(con)
    flagged = con.execute(
        "SELECT count(*) FROM staging.identity_records WHERE list_contains(dq_flags, 'impossible_birth_date')"
    ).fetchall()[0][0]
    plan = _build(con)
    assert (plan.mode, plan.files_read, plan.files_gone, plan.affected_records) == ("incremental", 0, 0, flagged)
    assert _rows(con) == before


def test_a_table_with_nothing_to_do_registers_no_standardisation_function(night, monkeypatch):
    """Registering the functions (creating their macros) is skipped by a table whose build
    calls none: no new file, no key affected, nothing made from whole staging tables."""
    from cdp_pipeline.lib.staging import build as staging_build

    con, work, days = night
    _build(con)
    registered = []
    monkeypatch.setattr(staging_build, "register_udfs", lambda *a, **k: registered.append(True))
    for table in ("orders", "order_lines", "sms_messages", "web_events", "web_sessions", "email_activity"):
        build_staging(con, SQL_DIR, table, get_settings())
        assert registered == [], table
    build_staging(con, SQL_DIR, "consent_events", get_settings())  # its SMS and Shopify rows are made again
    assert registered == [True]
    monkeypatch.undo()
    _load(con, work, days[-1:])
    assert _build(con).mode == "incremental"  # tonight's files: their keys call the functions
    assert _rows(con) == _full_rows(con)


def test_a_night_without_new_files_writes_no_session_and_no_sms_or_shopify_consent(night):
    """web_sessions and consent_events' SMS and Shopify rows are made again from whole staging
    tables every night: when they come out the same, no row is deleted or written."""
    con, _, _ = night
    _build(con)
    sessions = build_staging(con, SQL_DIR, "web_sessions", get_settings())[1]
    assert (sessions.mode, sessions.affected_records) == ("incremental", 0)
    rowids = con.execute("SELECT rowid, * FROM staging.consent_events ORDER BY ALL").fetchall()
    assert any(r[1] in ("sms", "pos") for r in rowids)  # (source) the rows a build makes again exist
    build_staging(con, SQL_DIR, "consent_events", get_settings())
    assert con.execute("SELECT rowid, * FROM staging.consent_events ORDER BY ALL").fetchall() == rowids


def test_other_staging_code_rebuilds_whole(night, monkeypatch):
    """A deployment that changes the SQL or the normalisers must not keep yesterday's rows."""
    from cdp_pipeline.lib.staging import incremental as staging_incremental

    con, _, _ = night
    monkeypatch.setattr(staging_incremental, "code_hash", lambda table, settings="": "other code")
    assert _build(con).mode == "full"
    monkeypatch.undo()
    assert _build(con).mode == "full"  # built by "other code": today's code rebuilds it once
    assert _build(con).mode == "incremental"


def test_other_normaliser_settings_rebuild_whole(night):
    """A phone without a country code reads differently under another default region: a changed
    setting must not keep rows standardised under the old one."""
    import dataclasses

    con, _, _ = night
    other = dataclasses.replace(get_settings(), default_region="US")
    plans = [build_staging(con, SQL_DIR, t, other)[1] for t in TABLES]
    assert {p.mode for p in plans} == {"full"}
    assert _build(con).mode == "full"  # and back: the tables were built under "US"
    assert _build(con).mode == "incremental"


def test_another_warehouse_currency_rebuilds_whole_and_prices_the_store_receipts_in_it(night):
    """The receipts file has no currency: a receipt is in CDP_CURRENCY. Changing it must not keep
    the receipts staged under the old one."""
    import dataclasses

    con, _, _ = night

    def receipt_currencies():
        return con.execute(
            "SELECT DISTINCT currency FROM staging.orders WHERE order_id LIKE 'receipt:%' ORDER BY ALL"
        ).fetchall()

    assert receipt_currencies() == [("SEK",)]
    other = dataclasses.replace(get_settings(), currency="USD")
    plans = [build_staging(con, SQL_DIR, t, other)[1] for t in TABLES]
    assert {p.mode for p in plans} == {"full"}
    assert receipt_currencies() == [("USD",)]
    assert _build(con).mode == "full"  # and back
    assert receipt_currencies() == [("SEK",)]
    assert _build(con).mode == "incremental"


def test_a_number_written_another_way_tonight_rebuilds_its_earlier_messages(night):
    """An SMS number's record is keyed by the standardised number and dated by its latest
    message. Tonight's file brings a late delivery of an old message, the number written in
    national form; its later messages are in earlier files, in E.164. The index's raw arguments
    must find those rows (else the record would take the old message's date) without
    standardising every number of every file again."""
    import json

    con, work, days = night
    # a subscriber's number (the shop's own sender number is the "to" of the replies)
    number = con.execute(
        """SELECT "to" FROM raw.sms_messages WHERE "to" LIKE '+467%' AND "to" <> '+46766860100'
                            AND _landing_date < ? GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""",
        [days[-1]],
    ).fetchall()[0][0]
    national = "0" + number[3:5] + "-" + number[5:8] + " " + number[8:]
    sms = next(p for p in sorted((work / "sms" / days[-1]).iterdir()) if p.suffix == ".jsonl")
    message = {
        "sid": "SMtestnationalform",
        "from": "+46766860100",
        "to": national,
        "body": "Hej!",
        "status": "delivered",
        "direction": "outbound-api",
        "date_sent": f"{days[0]}T00:00:01Z",
        "num_segments": "1",
        "error_code": None,
        "price": "-0.04830",
        "price_unit": "USD",
    }
    with sms.open("a", encoding="utf-8") as f:
        f.write(json.dumps(message) + "\n")
    record = "SELECT record_time, phone FROM staging.identity_records WHERE source = 'sms' AND source_record_id = ?"
    before = con.execute(record, [number]).fetchall()
    _load(con, work, days[-1:])
    plan = _build(con)
    assert plan.mode == "incremental"
    assert _rows(con) == _full_rows(con)
    assert con.execute('SELECT count(*) FROM raw.sms_messages WHERE "to" = ?', [national]).fetchall() == [(1,)]
    assert con.execute(record, [number]).fetchall() == before and len(before) == 1


def test_a_number_on_whatsapp_tonight_rebuilds_its_sms_record(night):
    """Tonight a customer writes on WhatsApp (``whatsapp:+46…``) from a number whose SMS record
    exists: the number without its channel prefix is the record's key in the incremental index
    too, so the record is rebuilt (dated by tonight's message) and equals the whole build."""
    import json

    con, work, days = night
    # a subscriber's number (the shop's own sender number is the "to" of the replies)
    number = con.execute(
        """SELECT "to" FROM raw.sms_messages WHERE "to" LIKE '+467%' AND "to" <> '+46766860100'
                            AND _landing_date < ? GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""",
        [days[-1]],
    ).fetchall()[0][0]
    sms = next(p for p in sorted((work / "sms" / days[-1]).iterdir()) if p.suffix == ".jsonl")
    message = {
        "sid": "SMtestwhatsapp",
        "from": f"whatsapp:{number}",
        "to": "whatsapp:+14155238886",
        "body": "Hej!",
        "status": "received",
        "direction": "inbound",
        "date_sent": f"{days[-1]}T23:59:00Z",
    }
    with sms.open("a", encoding="utf-8") as f:
        f.write(json.dumps(message) + "\n")
    _load(con, work, days[-1:])
    plan = _build(con)
    assert plan.mode == "incremental"
    assert _rows(con) == _full_rows(con)
    assert con.execute(
        "SELECT record_time::VARCHAR FROM staging.identity_records WHERE source = 'sms' AND source_record_id = ?",
        [number],
    ).fetchall() == [(f"{days[-1]} 23:59:00",)]
    assert con.execute(
        "SELECT channel, source_record_id FROM staging.sms_messages WHERE message_id = 'SMtestwhatsapp'"
    ).fetchall() == [("whatsapp", number)]


def test_an_activity_repeated_tonight_keeps_its_earlier_rows(night):
    """A member opens an earlier campaign again tonight, the address written in capitals. The
    activity's earlier row sits in an earlier day's file, written as the ESP wrote it then:
    the index's raw forms must find it (else rebuilding the activity tonight would drop it)."""
    con, work, days = night
    address, action, campaign_id, url = con.execute(
        """SELECT email_address, action, campaign_id, url FROM raw.esp_activity
           WHERE _landing_date < ? AND action = 'open' AND email_address = lower(email_address)
           ORDER BY ALL LIMIT 1""",
        [days[-1]],
    ).fetchall()[0]
    activity = next(p for p in sorted((work / "esp" / days[-1]).iterdir()) if "campaign_activity" in p.name)
    _append_row(
        activity,
        {
            "Email Address": f"  {address.upper()} ",
            "Action": action,
            "Timestamp": f"{days[-1]} 21:00:00",
            "Campaign ID": campaign_id or "",
            "URL": url or "",
        },
    )
    rows_of = (
        "SELECT count(*) FROM staging.email_activity WHERE email = lower(?) AND action = ? "
        "AND campaign_id IS NOT DISTINCT FROM ?"
    )
    before = con.execute(rows_of, [address, action, campaign_id]).fetchall()[0][0]
    _load(con, work, days[-1:])
    assert _build(con).mode == "incremental"
    assert con.execute(rows_of, [address, action, campaign_id]).fetchall()[0][0] == before + 1
    assert _rows(con) == _full_rows(con)


def test_each_statement_reads_its_raw_tables_only_through_the_views_a_build_sets():
    """A keyed build swaps only the views ``temp.raw_<t>`` of its inputs; a statement that read a
    raw table directly (or one not among its inputs) would read all of it, or fail: neither may.
    The one direct read allowed is of whole files the view's rows come from (``raw.<t> WHERE
    _file IN (SELECT _file FROM temp.raw_<t>``): a file's own evidence, such as its date order
    (create_pos_month_first_files.sql), is the whole file's on every night."""
    import re

    from cdp_pipeline.defs.staging.assets import STAGING_TABLES
    from cdp_pipeline.lib.staging.incremental import KEYED_TABLES, adds_rows, raw_tables, step_file

    for table in STAGING_TABLES:
        steps = KEYED_TABLES[table].steps if table in KEYED_TABLES else ()
        files = (*(step_file(s) for s in steps), f"create_{table}")
        sql = "\n".join((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8") for name in files)
        body = "\n".join(line.split("--")[0] for line in sql.splitlines())
        whole_files = r"\braw\.(\w+)\s+WHERE _file IN \(SELECT _file FROM temp\.raw_\1\b"
        assert not re.search(r"\braw\.", re.sub(whole_files, "", body)), table
        assert set(re.findall(r"\btemp\.raw_(\w+)", body)) == set(raw_tables(table)), table
        assert f"CREATE OR REPLACE TEMP VIEW {table}_rows AS" in body, table
        for step in steps:
            if adds_rows(step):  # adds to the lookup kept between nights
                assert "INSERT INTO staging.phone_lookup" in body, step
            else:
                assert f"CREATE OR REPLACE TEMP TABLE {step} AS" in body, step


def _keys_computed(con, table):
    """The keys of ``table``'s raw files computed from the raw rows, as the index should hold them."""
    from cdp_pipeline.lib.staging import incremental as staging_incremental
    from cdp_pipeline.lib.staging.udfs import register_udfs

    settings = get_settings()
    register_udfs(con, settings.default_region, settings.timezone)  # the keys call std_email, std_phone
    spec = staging_incremental.KEYED_TABLES[table]
    staging_incremental._current_files(con, spec)
    staging_incremental._keys_of_files(con, spec, "temp._stg_files", "_stg_keys_check")
    return sorted(con.execute("SELECT * FROM temp._stg_keys_check").fetchall(), key=repr)


def _assert_index_is_of_the_current_files(con):
    """Every table lists the current raw files, and the index holds exactly their keys, once,
    under their owner: no copy per table, no keys of a file gone."""
    from cdp_pipeline.lib.staging.incremental import KEYED_TABLES, key_owner

    for table in (t for t in TABLES if t in KEYED_TABLES):
        computed = _keys_computed(con, table)  # writes temp._stg_files, the current files
        listed = con.execute(
            "SELECT raw_table, file, sha256 FROM staging.record_files WHERE staging_table = ?", [table]
        ).fetchall()
        assert sorted(listed) == sorted(con.execute("SELECT * FROM temp._stg_files").fetchall()), table
        for t in KEYED_TABLES[table].inputs:
            held = con.execute(
                "SELECT * FROM staging.record_keys_by_file WHERE staging_table = ? AND raw_table = ?",
                [key_owner(table, t), t],
            ).fetchall()
            assert sorted(held, key=repr) == [row for row in computed if row[1] == t], (table, t)
    owners = con.execute("SELECT DISTINCT staging_table FROM staging.record_keys_by_file").fetchall()
    assert {o for (o,) in owners} == {"identity_records", "sms_messages", "web_events", "email_activity"}


def test_tables_keying_a_raw_table_alike_keep_its_keys_once(night, monkeypatch):
    """orders, order_lines and identity_records key the POS tables alike: their keys are kept
    once, under identity_records. A whole build finds the keys of the files another table kept
    and computes only the others' (a day loaded since); an incremental build keeps no second
    copy; the index is the computed one either way. (The rows: the other tests; orders built
    before identity_records here attaches tonight's orders to no record.)"""
    from cdp_pipeline.lib.staging import incremental as staging_incremental

    con, work, days = night
    _assert_index_is_of_the_current_files(con)
    computed = []
    keys_of_raw_table = staging_incremental._keys_of_raw_table
    monkeypatch.setattr(
        staging_incremental,
        "_keys_of_raw_table",
        lambda name, t, source, key, files: (
            computed.append((name, t, con.execute(f"SELECT count(*) FROM {files} WHERE raw_table = ?", [t]).fetchall()))
            or keys_of_raw_table(name, t, source, key, files)
        ),
    )
    build_staging(con, SQL_DIR, "order_lines", get_settings(), full_refresh=True)
    assert computed == []  # every file's keys kept already
    _load(con, work, days[-1:])  # tonight's files have no keys yet
    build_staging(con, SQL_DIR, "orders", get_settings(), full_refresh=True)
    assert [(name, t) for name, t, _ in computed] == [
        ("identity_records", "pos_orders"),
        ("identity_records", "pos_receipts"),
    ]
    for _, t, files in computed:  # tonight's files only
        tonight = con.execute(f"SELECT count(DISTINCT _file) FROM raw.{t} WHERE _landing_date = ?", [days[-1]])
        assert files == tonight.fetchall() != [(0,)], t
    monkeypatch.undo()
    assert _build(con).mode == "incremental"  # the others read tonight's keys orders kept
    _assert_index_is_of_the_current_files(con)


def test_an_activity_key_read_from_its_columns_is_the_one_read_from_its_argument():
    """The index of email_activity is written from each file's raw columns (``LookupKey.columns``);
    its keys and arguments must be those read out of the argument, for any text."""
    import dataclasses

    from cdp_pipeline.lib.staging import incremental as staging_incremental
    from cdp_pipeline.lib.staging.udfs import register_udfs

    con = duckdb.connect()
    register_udfs(con)
    con.execute("CREATE SCHEMA raw")
    con.execute("""CREATE TABLE raw.esp_activity (_file VARCHAR, _file_sha256 VARCHAR, email_address VARCHAR,
                   action VARCHAR, campaign_id VARCHAR, url VARCHAR)""")
    odd = [
        (" Ann@Example.SE ", " Open", "c1", "https://x.se/?a=1|b"),
        ('"quoted"@x.se', "click", None, "back\\slash"),
        (None, "bounce", "c|2", ""),
        ("åsa@exempel.se", "OPEN", " ", None),
        ("a@b.se\u0001", "open", "c\n3", "ü"),
        ("null", "null", "null", "null"),
        ("ann@example.se", "open", "c1", "https://x.se/?a=1|b"),  # the first, written otherwise
    ]
    rows = [(f, "sha-" + f, *v) for f in ("f1", "f2") for v in odd] + [("f1", "sha-f1", *odd[0])]
    con.executemany("INSERT INTO raw.esp_activity VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.execute("""CREATE TEMP TABLE files AS
                   SELECT DISTINCT 'esp_activity' AS raw_table, _file AS file, _file_sha256 AS sha256 FROM raw.esp_activity""")
    key = staging_incremental.KEYED_TABLES["email_activity"].inputs["esp_activity"][1]
    assert key.columns

    def index_rows(k):
        sql = staging_incremental._keys_of_raw_table("email_activity", "esp_activity", "esp", k, "temp.files")
        return sorted(con.execute(sql).fetchall(), key=repr)

    by_columns = index_rows(key)
    assert len(by_columns) == 2 * len(odd)
    assert by_columns == index_rows(dataclasses.replace(key, columns=()))
    # the key of an activity is the same however its address and action were written
    assert len({k for _, _, file, _, _, k, _ in by_columns if file == "f1"}) == len(odd) - 1


class _RawViewColumns:
    """A connection recording the columns of each ``temp.raw_<t>`` view as a build makes it."""

    def __init__(self, con):
        self._con, self.columns = con, {}

    def execute(self, sql, *args, **kwargs):
        out = self._con.execute(sql, *args, **kwargs)
        made = re.match(r"\s*(?:--[^\n]*\n\s*)*CREATE OR REPLACE TEMP VIEW raw_(\w+) AS", str(sql))
        if made:
            t = made.group(1)
            self.columns[t] = [r[0] for r in self._con.execute(f"DESCRIBE temp.raw_{t}").fetchall()]
        return self if out is self._con else out

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_identity_records_reads_a_web_events_four_columns_in_both_builds(night):
    """identity_records reads of a web event its user, cookie and times alone (``KeyedTable.columns``):
    the keyed build copies only those of the affected events, not their JSON, and the whole build
    reads the same columns, so a statement reading another one fails in both. The rows are a whole
    build's (test_a_new_day_rebuilds_only_its_records)."""
    from cdp_pipeline.lib.staging.incremental import KEYED_TABLES

    declared = ["user_id", "user_pseudo_id", "event_timestamp", "_landing_date"]
    assert list(KEYED_TABLES["identity_records"].columns["web_events"]) == declared
    con, work, days = night
    _load(con, work, days[-1:])
    for full_refresh, mode in ((False, "incremental"), (True, "full")):
        spy = _RawViewColumns(con)
        plan = build_staging(spy, SQL_DIR, "identity_records", get_settings(), full_refresh=full_refresh)[1]
        assert plan.mode == mode
        assert spy.columns["web_events"] == declared, mode
        # the other raw tables are read whole
        assert "_file" in spy.columns["crm_customers"] and "event_json" not in spy.columns["web_events"]
        # web_events itself reads the whole events
        spy = _RawViewColumns(con)
        build_staging(spy, SQL_DIR, "web_events", get_settings(), full_refresh=full_refresh)
        assert "event_json" in spy.columns["web_events"], mode
