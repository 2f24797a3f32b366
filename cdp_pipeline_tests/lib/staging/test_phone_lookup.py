"""staging.phone_lookup: each phone text is read by phonenumbers once, and the reading is kept
between nights until the code reading it changes."""

import re

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.staging import phone as phone_py
from cdp_pipeline.lib.staging import phone_lookup, udfs
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.lib.staging.phone import check_phone_junk
from cdp_pipeline_tests.lib.staging.build_db import insert_raw, open_build_db

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
    insert_raw(con, table, rows, file=f"{table}.csv")


@pytest.fixture
def con(tmp_path, cdp_env):
    c = open_build_db(tmp_path / "b.duckdb")
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
    test (the lookup's), or for its value alone (``std_phone``: a number missing from the lookup
    where a statement or the record index's SMS key reads it), each call with its function."""
    calls = []
    for name in ("check_phone_junk", "check_written_phone_junk", "check_phone", "check_written_phone"):
        real = getattr(udfs, name)
        monkeypatch.setattr(udfs, name, lambda *args, _real=real, _n=name: calls.append((_n, *args)) or _real(*args))
    return calls


def test_each_text_is_read_once_and_the_lookup_is_the_functions_answer(con, cdp_env, phonenumbers_calls):
    tables = _build(con, cdp_env)
    rows = con.execute("SELECT phone_text, country, phone, flags, is_junk FROM staging.phone_lookup").fetchall()
    keys = [(text, country) for text, country, *_ in rows]
    assert len(keys) == len(set(keys))
    # each key went to phone.py once, in all four tables and the record index (which reads the
    # SMS numbers' values from the lookup too), unless the SQL of macros.sql read it (a valid
    # number written "+" and its code, a Swedish one 0…): nothing else was read
    in_sql = {
        (text, country)
        for text, country in keys
        if con.execute("SELECT _std_phone_sql(_std_phone_written(?), ?)", [text, country]).fetchone()[0]
    }
    assert ("+46701234567", None) in in_sql and ("0701234567", None) in in_sql
    assert ("+4791234567", None) in in_sql  # Norway's
    assert sorted((tuple(args) for _, *args in phonenumbers_calls), key=repr) == sorted(
        ((t, "SE", k) for t, k in keys if (t, k) not in in_sql), key=repr
    )
    assert {name for name, *_ in phonenumbers_calls} <= {"check_phone_junk", "check_written_phone_junk"}
    for text, country, phone, flags, is_junk in rows:
        checked, junk = check_phone_junk(text, "SE", country)
        assert (phone, tuple(flags), is_junk) == (checked.value, checked.flags, junk), text
    # every way of writing one number with digits, spaces and hyphens is one text; the default
    # region is no country, and a number with its country code is read in none
    assert ("0701234567", None) in keys and ("070-123 45 67", None) not in keys
    assert ("+46 (0)70 123 45 67", None) in keys  # brackets: read as written
    assert ("+46701234567", None) in keys  # 0046…, +46 70… and the whatsapp: number
    assert not [k for k in keys if k[0] in ("0046701234567", "+46 70 123 45 67")]
    assert ("20123456", "DK") in keys and ("+4791234567", None) in keys  # esp: cc NO
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


# one number in the forms sources write it, others, and text phone.py reads in other ways
KEY_NUMBERS = [
    "070-123 45 67",
    "0701234567",
    "701234567",
    "+46 70 123 45 67",
    "0046701234567",
    "+0046701234567",
    "+00046701234567",
    "00046701234567",
    "000046701234567",
    "46701234567",
    "+046701234567",
    "+46 (0)70 123 45 67",
    "+46070123 45 67",
    "20123456",
    "+45 20 12 34 56",
    "004520123456",
    "+1 202 555 0143",
    "0012025550143",
    "12025550143",
    "+999123456",
    "+00",
    "00",
    "+12",
    "12",
    "0000000",
    "4.67012E+10",
    "not a number",
    "1" * 70,
]
KEY_HINTS = [None, "SE", "DK", "NO", "US", "XK", "ZZ"]


def test_the_key_is_one_row_per_reading_of_a_number(monkeypatch):
    """(std_phone_text, std_phone_country) of a number and the country it is read in: the same
    key reads the same (the lookup's row of the key is the number's reading), and readings
    phone.py makes alike (the same call of phonenumbers) share one key, in the countries
    phonenumbers knows."""
    con = duckdb.connect()
    udfs.register_udfs(con, "SE")
    real, parsed = phone_py._check_candidates, []
    monkeypatch.setattr(phone_py, "_check_candidates", lambda *a: parsed.append(a) or real(*a))
    by_key, by_parse = {}, {}
    for number in KEY_NUMBERS:
        for hint in KEY_HINTS:
            key = con.execute(
                "SELECT t, std_phone_country(t, $2) FROM (SELECT std_phone_text($1) AS t)", [number, hint]
            ).fetchone()
            parsed.clear()
            reading = check_phone_junk(number, "SE", hint)
            assert check_phone_junk(key[0], "SE", key[1]) == reading, (number, hint, key)  # the fill's reading
            assert by_key.setdefault(key, reading) == reading, (number, hint, key)
            # (text the macros hand the Python as written, brackets and all, is keyed as written; so
            # is "00" or "+00", nothing after the prefix; a code phonenumbers lacks reads in the
            # default region, keyed apart)
            written = re.fullmatch(r" *\+?[0-9][0-9 -]*", number) and len(number) <= 64
            if parsed and written and parsed[0][0] != ("+",) and hint != "ZZ":
                assert by_parse.setdefault(parsed[0], key) == key, (number, hint, parsed[0])
    assert by_key[("+46701234567", None)] == check_phone_junk("+46701234567")
    # the forms of +46 70 123 45 67 in international form, in every country, are one key
    assert len({k for k in by_key if k[0] == "+46701234567"}) == 1
