"""staging.phone_lookup: each phone text is read by phonenumbers once, and the reading is kept
between nights until the code reading it changes."""

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables
from cdp_pipeline.lib.staging import phone_lookup, udfs
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.lib.staging.phone import check_phone_junk

TABLES = ("identity_records", "sms_messages", "orders", "consent_events")
PHONE_TABLES = {"identity_records": "phone", "sms_messages": "source_record_id", "consent_events": "identifier"}
# (phone, country) of CRM customers: one number in several forms, countries, and the unreadable
CRM = [
    ("070-123 45 67", "SE"),
    ("+46 70 123 45 67", None),
    ("0046701234567", "Sverige"),
    ("20123456", "DK"),
    ("20123456", None),
    ("4.67012E+10", None),
    ("+46 (0)70 123 45 67", "SE"),
    ("0000000", None),
    ("12", "NO"),
]


def _insert(con, table: str, rows: list[dict]) -> None:
    for i, row in enumerate(rows, start=2):
        row = {"_file": f"{table}.csv", "_line": i, "_landing_date": "2026-10-01", "_file_sha256": "x", **row}
        cols = ", ".join(f'"{c}"' for c in row)
        con.execute(f"INSERT INTO raw.{table} ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


@pytest.fixture
def con(tmp_path, cdp_env):
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    ensure_ingest_tables(c)
    c.execute(
        "INSERT INTO audit.files (file, source, landing_date, sha256, bytes, rows_read, rows_loaded, "
        "rows_quarantined, status, loaded_at) "
        "VALUES ('f.csv', 'crm', DATE '2026-10-02', 'x', 1, 0, 0, 0, 'loaded', TIMESTAMP '2026-10-02')"
    )
    _insert(
        c,
        "crm_customers",
        [
            {"customer_id": f"C{i}", "phone": p, "country": k, "consent_sms": "yes", "updated_at": "2026-09-01"}
            for i, (p, k) in enumerate(CRM)
        ],
    )
    _insert(
        c,
        "esp_members",
        [{"klaviyo_id": "K1", "email_address": "a@b.se", "phone": "+47 912 34 567", "cc": "NO", "consent": "sms"}],
    )
    _insert(
        c,
        "sms_messages",
        [
            {"sid": "M1", "from": "+46700000000", "to": "0046701234567", "direction": "outbound-api"},
            {"sid": "M2", "from": "whatsapp:+46 70 123 45 67", "to": "+46700000000", "direction": "inbound"},
            {"sid": "M3", "from": "+46700000000", "to": "not a number", "direction": "outbound-api"},
        ],
    )
    _insert(c, "pos_orders", [{"name": "#1", "billing_phone": "070 123 45 67", "billing_country": "SE"}])
    yield c
    c.close()


def _build(con, settings):
    for table in TABLES:
        build_staging_table(con, SQL_DIR, table, settings, full_refresh=True)
    return {t: sorted(map(repr, con.execute(f"SELECT * FROM staging.{t}").fetchall())) for t in PHONE_TABLES}


@pytest.fixture
def phonenumbers_calls(monkeypatch):
    """The numbers the staging functions handed to phone.py for a reading with its flags and junk
    test: the lookup's (the record index keys SMS messages by their number alone, std_phone)."""
    calls = []
    for name in ("check_phone_junk", "check_written_phone_junk"):
        real = getattr(udfs, name)
        monkeypatch.setattr(udfs, name, lambda *args, _real=real: calls.append(args) or _real(*args))
    return calls


def test_each_text_is_read_once_and_the_lookup_is_the_functions_answer(con, cdp_env, phonenumbers_calls):
    tables = _build(con, cdp_env)
    rows = con.execute("SELECT phone_text, country, phone, flags, is_junk FROM staging.phone_lookup").fetchall()
    keys = [(text, country) for text, country, *_ in rows]
    assert len(keys) == len(set(keys))
    # each (text, country) pair went to phone.py once, in all four tables
    assert sorted(phonenumbers_calls, key=repr) == sorted(((t, "SE", k) for t, k in keys), key=repr)
    for text, country, phone, flags, is_junk in rows:
        checked, junk = check_phone_junk(text, "SE", country)
        assert (phone, tuple(flags), is_junk) == (checked.value, checked.flags, junk), text
    # every way of writing one number with digits, spaces and hyphens is one text
    assert ("0701234567", "SE") in keys and ("070-123 45 67", "SE") not in keys
    assert ("+46 (0)70 123 45 67", "SE") in keys  # brackets: read as written
    assert ("+46 70 123 45 67", None) not in keys and ("+46701234567", None) in keys  # whatsapp: stripped
    assert any("+46701234567" in r for r in tables["sms_messages"])


def test_a_second_night_reads_no_number_again_and_makes_the_same_tables(con, cdp_env, phonenumbers_calls):
    first = _build(con, cdp_env)
    assert phonenumbers_calls
    phonenumbers_calls.clear()
    assert _build(con, cdp_env) == first
    assert phonenumbers_calls == []


def test_the_tables_read_the_lookup_and_other_code_empties_it(con, cdp_env, phonenumbers_calls, monkeypatch):
    first = _build(con, cdp_env)
    assert any("+46701234567" in r for r in first["identity_records"])
    # a reading kept from an earlier night is what the tables get...
    con.execute("UPDATE staging.phone_lookup SET phone = '+46709999999' WHERE phone = '+46701234567'")
    stale = _build(con, cdp_env)
    assert not any("+46701234567" in r for t in stale.values() for r in t)
    assert any("+46709999999" in r for r in stale["identity_records"])
    # ...until the code that read it changes: then every number is read again
    monkeypatch.setattr(phone_lookup, "lookup_version", lambda region: "other code")
    phonenumbers_calls.clear()
    assert _build(con, cdp_env) == first
    assert phonenumbers_calls
