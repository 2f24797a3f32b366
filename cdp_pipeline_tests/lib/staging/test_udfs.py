"""The DuckDB functions staging SQL calls: each one, through SQL."""

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from cdp_pipeline.lib.staging.udfs import register_udfs

CALLS = [
    ("std_email(' Anna@Firma.SE ')", "anna@firma.se"),
    # the SQL path (ASCII) and the Python path (non-ASCII) give one form of an internationalised domain
    ("std_email('Anna@xn--Bcher-kva.de')", "anna@xn--bcher-kva.de"),
    ("std_email('Anna@Bücher.de')", "anna@xn--bcher-kva.de"),
    ("std_email_flags('nope')", ["invalid_email"]),
    ("std_phone('070-123 45 67', NULL)", "+46701234567"),
    ("std_phone('20123456', 'DK')", "+4520123456"),
    ("std_phone_flags('4.67012E+10', NULL)", ["invalid_phone", "phone_lost_precision"]),
    ("std_display_name('ANNA SVENSSON')", "Anna Svensson"),
    ("std_match_name('Åsa Öberg')", "asa oberg"),
    ("std_split_first('Svensson, Anna')", "Anna"),
    ("std_split_last('Svensson, Anna')", "Svensson"),
    ("std_postcode('12345', 'SE')", "123 45"),
    ("std_postcode('12345', NULL)", "123 45"),
    ("std_postcode_flags('123456', 'SE')", ["invalid_postcode"]),
    ("std_country('Sverige')", "SE"),
    ("std_street('STORGATAN 1')", "Storgatan 1"),
    ("std_match_street('Storg. 1')", "storgatan 1"),
    ("std_city('STOCKHOLM')", "Stockholm"),
    ("std_date('02.03.1985')", date(1985, 3, 2)),
    ("std_birth_date('1885-01-01')", None),
    ("std_birth_date_flags('1885-01-01')", ["impossible_birth_date"]),
    ("std_timestamp('2016-04-18 13:51:14', NULL)", datetime(2016, 4, 18, 11, 51, 14)),
    ("std_timestamp('2016-04-18 13:51:14', 'UTC')", datetime(2016, 4, 18, 13, 51, 14)),
    ("std_money('1 234,50')", Decimal("1234.50")),
    ("std_currency('$3.00', NULL)", "USD"),
    ("std_currency('3.00', 'EUR')", "EUR"),
    ("std_bool('ja')", True),
    ("std_sms_keyword(' stop ')", "opt_out"),
    ("is_junk_email('test@test.com')", True),
    ("is_junk_phone('0000000')", True),
    ("std_phone_checked_junk('+46 70 111 11 11', NULL)", {"value": "+46701111111", "flags": [], "is_junk": True}),
    ("std_phone_checked_junk('+46701234567', NULL)", {"value": "+46701234567", "flags": [], "is_junk": False}),
    ("std_phone_checked_junk('call me', 'SE')", {"value": None, "flags": ["invalid_phone"], "is_junk": False}),
    ("is_junk_name('Unknown')", True),
]


TWO_ARGUMENTS = {
    "std_phone",
    "std_phone_flags",
    "std_phone_checked_junk",
    "std_postcode",
    "std_postcode_flags",
    "std_timestamp",
    "std_currency",
}


@pytest.fixture(scope="module", params=[True, False], ids=["arrow", "native"])
def con(request):
    connection = duckdb.connect()
    register_udfs(connection, vectorised=request.param)
    register_udfs(connection, vectorised=request.param)  # twice: must not fail
    yield connection
    connection.close()


@pytest.mark.parametrize("call, expected", CALLS)
def test_udf_known_answer(con, call, expected):
    assert con.execute(f"SELECT {call}").fetchone()[0] == expected


@pytest.mark.parametrize("call", [c for c, _ in CALLS])
def test_udf_null_in_null_out(con, call):
    two_args = call.split("(")[0] in TWO_ARGUMENTS
    first_arg_null = call[: call.index("(") + 1] + ("NULL, NULL)" if two_args else "NULL)")
    assert con.execute(f"SELECT {first_arg_null}").fetchone()[0] is None


def test_an_amount_without_a_currency_is_in_the_default_currency():
    # CDP_CURRENCY reaches the functions and the variable the staging SQL reads (a store receipt's currency)
    connection = duckdb.connect()
    register_udfs(connection, "US", "America/New_York", default_currency="THB")
    assert connection.execute(
        "SELECT std_currency('12.50', NULL), std_currency('12.50', 'EUR'), std_currency('$3.00', NULL), "
        "std_money('1 250,00 THB'), getvariable('default_currency')"
    ).fetchone() == ("THB", "EUR", "USD", Decimal("1250.00"), "THB")
    connection.close()


def test_udfs_have_declared_types(con):
    row = con.execute(
        "SELECT typeof(std_date('2020-01-01')), typeof(std_timestamp('2020-01-01 00:00', NULL)),"
        " typeof(std_money('1')), typeof(std_bool('1')), typeof(std_phone_flags('1', NULL))"
    ).fetchone()
    assert row == ("DATE", "TIMESTAMP", "DECIMAL(18,2)", "BOOLEAN", "VARCHAR[]")


def test_udfs_over_a_table_with_junk(con):
    con.execute("CREATE OR REPLACE TEMP TABLE raw_people(name VARCHAR, phone VARCHAR)")
    con.executemany(
        "INSERT INTO raw_people VALUES (?, ?)",
        [
            ("'; DROP TABLE customers; --", "070-123 45 67"),
            ("x" * 10_000, "x" * 10_000),
            (None, None),
            ("ANNA", "46701234567"),
        ],
    )
    rows = con.execute(
        "SELECT std_display_name(name), std_phone(phone, NULL) FROM raw_people ORDER BY rowid"
    ).fetchall()
    assert rows[0] == ("'; DROP TABLE customers; --", "+46701234567")
    assert rows[1][1] is None and rows[2] == (None, None) and rows[3] == ("Anna", "+46701234567")
