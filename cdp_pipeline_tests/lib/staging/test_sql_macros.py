"""The SQL macros of macros.sql give exactly what the Python functions give: on the forms SQL
reads itself, on their near misses (which must go to the Python), and on generated text."""

from datetime import datetime
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdp_pipeline.lib.staging.udfs import register_udfs

ZONES = [None, "UTC", "Europe/Stockholm", "utc", "+0100", "America/New_York", "Mars/Olympus", ""]


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    register_udfs(connection)
    yield connection
    connection.close()


def _sql_and_python(con, sql: str, python: str, rows: list[tuple]) -> list[tuple]:
    """(row, SQL answer, Python answer) of every row where the two differ."""
    width = len(rows[0])
    columns = ", ".join(f"a{i}" for i in range(width))
    con.execute(f"CREATE OR REPLACE TEMP TABLE probe (id INTEGER, {', '.join(f'a{i} VARCHAR' for i in range(width))})")
    # one statement (the lists unnested side by side), not a statement per row
    lists = [list(range(len(rows)))] + [[r[i] for r in rows] for i in range(width)]
    con.execute(f"INSERT INTO probe SELECT {', '.join('unnest(?)' for _ in lists)}", lists)
    return con.execute(
        f"SELECT {columns}, {sql}, {python} FROM probe WHERE {sql} IS DISTINCT FROM {python} ORDER BY id"
    ).fetchall()


TIMESTAMPS = [
    # the forms SQL reads
    "2026-10-01 12:34:56 +0200",
    "2026-10-01 12:34:56 -0130",
    "2026-10-01T12:34:56Z",
    "2026-10-01 12:34:56Z",
    "2026-10-01T12:34:56 +0000",
    "2026-10-01 12:34:56",
    "2026-10-01T00:00:00",
    "Mon, 16 Aug 2021 12:00:00 +0000",
    "Thu, 01 Oct 2026 23:59:59 -0000",
    "Sun, 01 Oct 2026 23:59:59 +2359",  # wrong weekday: RFC 2822 parsing ignores it
    "1800-01-01 00:00:00 +0100",
    "2099-12-31 23:59:59 -2359",
    # near misses: impossible dates and times, other separators and widths, odd offsets
    "2026-02-30 12:00:00 +0200",
    "2026-13-01 12:00:00Z",
    "2026-00-10 12:00:00Z",
    "2026-10-01 24:00:00 +0200",
    "2026-10-01 12:60:00Z",
    "2026-10-01 12:00:60Z",
    "2026-10-01 12:00:00 +2400",
    "2026-10-01 12:00:00 +0160",
    "2026-10-01 12:00:00 +02:00",
    "2026-10-01 12:00:00+0200",
    "2026-10-01 12:00:00 z",
    "2026-10-01 12:00:00.5Z",
    "2026-1-01 12:00:00Z",
    "26-10-01 12:00:00Z",
    "1799-12-31 23:00:00 -0200",
    "2100-01-01 00:00:00 +0100",
    "0001-01-01 00:30:00 +0100",
    "9999-12-31 23:30:00 -0100",
    " 2026-10-01 12:00:00Z",
    "2026-10-01 12:00:00Z ",
    "２０２６-10-01 12:00:00Z",
    "2026-10-25 02:30:00",  # the repeated autumn hour: zoneinfo's answer, not ICU's
    "2026-10-25T02:30:00",
    "2026-10-25 01:59:59",
    "2026-10-25 03:00:00",
    "2026-03-29 02:30:00",  # the skipped spring hour
    "1945-07-01 01:30:00",
    "Mon, 31 Feb 2021 12:00:00 +0000",
    "Mon, 00 Feb 2021 12:00:00 +0000",
    "Mon, 16 Aug 2021 24:00:00 +0000",
    "Mon, 16 Aug 2021 12:00:00 +0099",
    "Mon, 16 Aug 2021 12:00:00 GMT",
    "mon, 16 aug 2021 12:00:00 +0000",
    "Mon,16 Aug 2021 12:00:00 +0000",
    "Mon, 6 Aug 2021 12:00:00 +0000",
    "1476790000",
    "2026-10-01",
    "",
    "   ",
    None,
]


def test_timestamps_known_answers(con):
    rows = con.execute(
        "SELECT std_timestamp('2026-10-01 12:34:56 -0130', NULL), std_timestamp('Mon, 16 Aug 2021 12:00:00 +0200', 'UTC'),"
        " std_timestamp('2026-10-01T12:34:56Z', 'Europe/Stockholm'), std_timestamp('2026-10-01 12:34:56', 'UTC'),"
        " std_timestamp('2026-02-30 12:00:00 +0200', NULL)"
    ).fetchone()
    assert rows == (
        datetime(2026, 10, 1, 14, 4, 56),
        datetime(2021, 8, 16, 10, 0, 0),
        datetime(2026, 10, 1, 12, 34, 56),
        datetime(2026, 10, 1, 12, 34, 56),
        None,
    )


def test_local_times_same_as_python_across_daylight_saving_changes(con):
    # Every 10 minutes (and the last second of each hour) of the days around each change in
    # 2026, and around the 1945 and 1980 changes, in zones with whole-hour, negative (Dublin)
    # and half-hour (Lord Howe) daylight saving, and an unknown zone (read as UTC).
    days = [
        "2026-03-08",
        "2026-03-29",
        "2026-04-05",
        "2026-10-04",
        "2026-10-25",
        "2026-11-01",
        "1945-04-02",
        "1945-10-01",
        "1980-04-06",
        "1980-09-28",
    ]
    zones = [None, "Europe/Stockholm", "America/New_York", "Europe/Dublin", "Australia/Lord_Howe", "Mars/Olympus"]
    times = [f"{h:02d}:{m:02d}:00" for h in range(24) for m in range(0, 60, 10)] + [f"{h:02d}:59:59" for h in range(24)]
    rows = [(f"{day}{sep}{time}", zone) for day in days for time in times for zone in zones for sep in (" ", "T")]
    assert _sql_and_python(con, "std_timestamp(a0, a1)", "std_timestamp_py(a0, a1)", rows) == []
    assert _sql_and_python(con, AT_HOURS_OFFSET, "std_timestamp_py(a0, a1)", rows) == []


def test_timestamps_same_as_python_on_forms_and_near_misses(con):
    rows = [(raw, zone) for raw in TIMESTAMPS for zone in ZONES]
    assert _sql_and_python(con, "std_timestamp(a0, a1)", "std_timestamp_py(a0, a1)", rows) == []


# std_timestamp_at_offset as create_orders.sql calls it: the hour's offset read apart (there
# once per distinct hour, joined back), here in the same row
AT_HOURS_OFFSET = "std_timestamp_at_offset(a0, a1, std_utc_offset_py(std_local_hour(a0), a1))"


def test_timestamps_at_their_hours_offset_same_as_python_on_forms_and_near_misses(con):
    rows = [(raw, zone) for raw in TIMESTAMPS for zone in ZONES]
    assert _sql_and_python(con, AT_HOURS_OFFSET, "std_timestamp_py(a0, a1)", rows) == []
    # an offset that does not fit the hour is used as given (the caller joins the right one):
    # the local-time branch reads it, the other forms do not
    assert con.execute(
        "SELECT std_timestamp_at_offset('2026-10-01 12:00:00', 'Europe/Stockholm', 3600),"
        " std_timestamp_at_offset('2026-10-01 12:00:00', 'UTC', 3600),"
        " std_timestamp_at_offset('2026-10-01 12:00:00 +0200', NULL, 3600),"
        " std_timestamp_at_offset('2026-10-25 02:30:00', 'Europe/Stockholm', NULL)"
    ).fetchall() == [
        (
            datetime(2026, 10, 1, 11, 0, 0),
            datetime(2026, 10, 1, 12, 0, 0),
            datetime(2026, 10, 1, 10, 0, 0),
            con.execute("SELECT std_timestamp_py('2026-10-25 02:30:00', 'Europe/Stockholm')").fetchall()[0][0],
        )
    ]


_DIGIT = st.sampled_from("0123456789")
_TIMESTAMP_LIKE = st.builds(
    lambda parts: "".join(parts),
    st.lists(
        st.one_of(
            st.sampled_from(["18", "19", "20", "21", "-", ":", " ", "T", "Z", "+", "-0", "+23", "60", "24", "31"]),
            _DIGIT,
        ),
        max_size=30,
    ),
)


@settings(max_examples=200)
@given(st.lists(st.tuples(_TIMESTAMP_LIKE, st.sampled_from(ZONES)), min_size=1, max_size=20))
def test_timestamps_same_as_python_on_generated_text(con, rows):
    assert _sql_and_python(con, "std_timestamp(a0, a1)", "std_timestamp_py(a0, a1)", rows) == []
    assert _sql_and_python(con, AT_HOURS_OFFSET, "std_timestamp_py(a0, a1)", rows) == []


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.builds(
                "{}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}{}".format,
                st.integers(1790, 2110),
                st.integers(0, 13),
                st.integers(0, 32),
                st.sampled_from([" ", "T"]),
                st.integers(0, 25),
                st.integers(0, 61),
                st.integers(0, 61),
                st.sampled_from(["", "Z", " +0000", " -0000", " +0530", " -1200", " +2330", " +2400", " +0060"]),
            ),
            st.sampled_from(ZONES),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_timestamps_same_as_python_on_generated_iso_times(con, rows):
    assert _sql_and_python(con, "std_timestamp(a0, a1)", "std_timestamp_py(a0, a1)", rows) == []
    assert _sql_and_python(con, AT_HOURS_OFFSET, "std_timestamp_py(a0, a1)", rows) == []


EMAILS = [
    "anna@firma.se",
    " Anna.Svensson+news@Firma.SE ",
    "a_b-c@sub.example-shop.co.uk",
    "x@y.zz",  # too short to be anyone's
    "aaa@aaa.aa",
    "a.a@a-a.aa",
    "test@firma.se",
    "test+1@firma.se",
    "no-reply@firma.se",
    "noreply.alerts@firma.se",
    "donotreply@firma.se",
    "anna@example.com",
    "anna@shop.test",
    "anna@test.se",
    "anna@localhost",
    "anna@domain.se",
    "kund@firma.se",
    "anna@xn--ngstrm-hua.se",
    "anna@firma.xn--p1ai",
    "Anna@Firma.XN--P1AI",
    "aaa@AAA.aa",
    " Noreply+1@Firma.SE ",
    "anna@firma.xn--",
    "anna@firma.s",
    "anna@firma.123",
    "anna@-firma.se",
    "anna@firma-.se",
    "anna@fir_ma.se",
    "anna@_firma.se",
    "anna@firma..se",
    ".anna@firma.se",
    "anna.@firma.se",
    "an..na@firma.se",
    "anna@@firma.se",
    "anna@firma@x.se",
    "@firma.se",
    "anna@",
    "anna",
    "a" * 64 + "@firma.se",
    "a" * 65 + "@firma.se",
    "anna@" + "b" * 63 + ".se",
    "anna@" + "b" * 64 + ".se",
    "anna@" + ".".join(["b" * 60] * 4) + ".se",
    # other forms go to the Python
    "Anna Svensson <anna@firma.se>",
    "mailto:anna@firma.se?subject=hi",
    "anna@firmа.se",  # a Cyrillic а
    "anna@firma.se\u212a",  # the Kelvin sign: a case-insensitive pattern would read it as k
    "\u017fanna@firma.se",  # the long s
    "anna@fírma.se",
    "an na@firma.se",
    "anna@firma.se\t",
    "'anna@firma.se'",
    "anna!#$%&'*/=?^`{|}~@firma.se",
    "",
    " ",
    None,
]


def test_emails_same_as_python(con):
    rows = [(raw,) for raw in EMAILS]
    assert _sql_and_python(con, "std_email_checked(a0)", "std_email_checked_py(a0)", rows) == []
    # std_email reads the value without the junk checks: the same value, junk or not
    assert _sql_and_python(con, "std_email(a0)", "std_email_checked_py(a0).value", rows) == []
    assert con.execute(
        "SELECT std_email(' Anna@Firma.SE '), std_email_flags('test+1@firma.se'), std_email_flags('anna@firma..se')"
    ).fetchone() == ("anna@firma.se", ["junk_email"], ["invalid_email"])


_EMAIL_LIKE = st.builds(
    lambda parts: "".join(parts),
    st.lists(
        st.one_of(
            st.sampled_from(
                ["@", ".", "-", "_", "+", " ", "xn--", "test", "noreply", "example", "a", "A", "é", "<", ":"]
            ),
            st.sampled_from("abz09"),
        ),
        max_size=25,
    ),
)


@settings(max_examples=200)
@given(st.lists(_EMAIL_LIKE, min_size=1, max_size=20))
def test_emails_same_as_python_on_generated_text(con, values):
    rows = [(v,) for v in values]
    assert _sql_and_python(con, "std_email_checked(a0)", "std_email_checked_py(a0)", rows) == []
    assert _sql_and_python(con, "std_email(a0)", "std_email_checked_py(a0).value", rows) == []


def test_checked_functions_give_value_and_flags_of_one_call(con):
    row = con.execute(
        "SELECT std_phone_checked('070-111 11 11', NULL), std_phone_checked('4.67012E+10', 'SE'),"
        " std_postcode_checked('12345', 'SE'), std_birth_date_checked('1885-01-01')"
    ).fetchone()
    assert row[0] == {"value": "+46701111111", "flags": []}
    assert row[1] == {"value": None, "flags": ["invalid_phone", "phone_lost_precision"]}
    assert row[2] == {"value": "123 45", "flags": []}
    assert row[3] == {"value": None, "flags": ["impossible_birth_date"]}


MONEY = [
    "1234.50",
    "99",
    "0",
    "0.00",
    "007.50",
    "12345678901234.99",  # fourteen digits: the largest SQL reads
    "123456789012345.99",  # fifteen: the Python's
    "9999999999999999",
    "10000000000000000",
    "1234.5",
    "1234.505",
    "1,234.50",
    "1 234,50",
    "1234,50",
    "649,00",
    "12345678901234,99",
    "1234,5",
    "1234,505",
    "1.234,50",
    "-12.50",
    "(12.50)",
    "$3.00",
    "99:-",
    "12.50 kr",
    " 12.50",
    "12.50 ",
    "١٢.٥٠",  # Arabic-Indic digits
    ".50",
    "12.",
    "",
    "  ",
    None,
]


def test_money_same_as_python(con):
    rows = [(raw,) for raw in MONEY]
    assert _sql_and_python(con, "std_money(a0)", "std_money_py(a0)", rows) == []
    assert con.execute("SELECT std_money('007.50'), std_money('99'), std_money('1 234,50')").fetchone() == (
        Decimal("7.50"),
        Decimal("99.00"),
        Decimal("1234.50"),
    )


@settings(max_examples=200)
@given(st.lists(st.text(alphabet="0123456789.,- $", max_size=20), min_size=1, max_size=20))
def test_money_same_as_python_on_generated_text(con, values):
    rows = [(v,) for v in values]
    assert _sql_and_python(con, "std_money(a0)", "std_money_py(a0)", rows) == []


# the names SQL splits, and near misses: particles (as words, any case), commas, shouting and
# whispering, initials, hyphens and apostrophes, other letters, spaces, one word
NAMES = [
    "Anna Svensson",
    "Anna Maria Svensson",
    "Åsa Öberg",
    "Per Olof Åkesson Lindqvist",
    "Ludwig Van Beethoven",
    "Ludwig van Beethoven",
    "De Niro Robert",
    "Af Klint",
    "Anna De La Cruz",
    "Svensson, Anna",
    "ANNA SVENSSON",
    "anna svensson",
    "E Wahlberg",
    "Anna S",
    "Marie-Louise Nilsson",
    "Sean O'Brien",
    "Zoë Ärlig",
    "Øystein Ærø",
    "Anna  Svensson",
    " Anna Svensson",
    "Anna Svensson ",
    "Anna\u200bSvensson",
    "Anna Svensson\u00a0Berg",
    "Ａnna Svensson",
    "Anna",
    # forms of address and generational suffixes: the Python leaves them out or joins them to the surname
    "Dr Anna Svensson",
    "Fru Karin Berg",
    "Fröken Anna Berg",
    "Mr Smith",
    "Therése Koch Ii",
    "John Smith Jr",
    "John Smith Sr",
    "Jr Smith Anna",
    "Drake Anna Svensson",
    "A" + "a" * 120 + " B" + "b" * 120,
    "",
    None,
]


def test_name_split_same_as_python(con):
    rows = [(raw,) for raw in NAMES]
    assert _sql_and_python(con, "std_split_first(a0)", "std_split_first_py(a0)", rows) == []
    assert _sql_and_python(con, "std_split_last(a0)", "std_split_last_py(a0)", rows) == []
    assert con.execute("SELECT std_split_first('Anna Maria Öberg'), std_split_last('Anna Maria Öberg')").fetchone() == (
        "Anna Maria",
        "Öberg",
    )


@settings(max_examples=200)
@given(st.lists(st.text(alphabet="AaBbÅåÖö ,'-EeVvNnDd", max_size=16), min_size=1, max_size=20))
def test_name_split_same_as_python_on_generated_text(con, values):
    rows = [(v,) for v in values]
    assert _sql_and_python(con, "std_split_first(a0)", "std_split_first_py(a0)", rows) == []
    assert _sql_and_python(con, "std_split_last(a0)", "std_split_last_py(a0)", rows) == []


# the streets SQL keeps as written, and near misses: shouting, whispering, commas, spaces,
# other letters and symbols, invisible characters, no letters
STREETS = [
    "Storgatan 12",
    "Storgatan 12B",
    "Östra Långgatan 3/5",
    "Väg 3-5 lgh 1102",
    "St. Eriksgatan 7",
    "c/o Andersson Storgatan 1",
    "STORGATAN 12",
    "storgatan 12",
    "ÖSTRA LÅNGGATAN 3",
    "Storgatan 12, lgh 1102",
    "Storgatan 12 ,3tr",
    "Storgatan  12",
    " Storgatan 12",
    "Storgatan 12 ",
    "Storgatan\u200b12",
    "Storgatan\u00a012",
    "Ærøgade 4",
    "Straße 4",
    "Storgatan 12 #3",
    "12",
    "12-14",
    ",",
    "",
    None,
]


def test_street_same_as_python(con):
    rows = [(raw,) for raw in STREETS]
    assert _sql_and_python(con, "std_street(a0)", "std_street_py(a0)", rows) == []
    assert con.execute("SELECT std_street('Östra Långgatan 3/5'), std_street('STORGATAN 1')").fetchone() == (
        "Östra Långgatan 3/5",
        "Storgatan 1",
    )


@settings(max_examples=200)
@given(st.lists(st.text(alphabet="SsÖö12 ,./-\u00a0", max_size=16), min_size=1, max_size=20))
def test_street_same_as_python_on_generated_text(con, values):
    rows = [(v,) for v in values]
    assert _sql_and_python(con, "std_street(a0)", "std_street_py(a0)", rows) == []


PHONES = [
    # the forms the macros hand over as "+" and digits
    "070-123 45 67",
    "0701234567",
    "070 123 45 67",
    "+46 70 123 45 67",
    "+46701234567",
    "46701234567",
    "0046701234567",
    "+0046701234567",
    "+46 070 123 45 67",  # a trunk 0 after the country code
    "  +46701234567  ",
    "070--123",
    "1234",
    "0",
    "+1",
    "+46 70 111 11 11",  # junk
    "0701111111",
    "+99912345678",  # no such country code: read in the region
    "20123456",
    "+" + "1" * 63,  # the longest text read here
    # near misses: the Python reads them as written
    "+" + "1" * 64,
    "+ 46701234567",
    "+46(0)701234567",
    "46701234567.0",
    "4.67012E+10",
    "070-123 45 67 ext 12",
    "070/123 45 67",
    "070.123.45.67",
    "'0701234567",
    "070\t1234567",
    "０７０１２３４５６７",
    "-0701234567",
    "++46701234567",
    "whatsapp:+46701234567",
    "call me",
    "",
    " ",
    None,
]
PHONE_HINTS = [None, "SE", "DK", "NO", "US", "Sverige", "XX", ""]


def test_phones_same_as_python(con):
    rows = [(raw, hint) for raw in PHONES for hint in PHONE_HINTS]
    assert _sql_and_python(con, "std_phone(a0, a1)", "std_phone_py(a0, a1)", rows) == []
    assert _sql_and_python(con, "std_phone_checked_junk(a0, a1)", "std_phone_checked_junk_py(a0, a1)", rows) == []
    assert con.execute(
        "SELECT std_phone('070-123 45 67', NULL), std_phone_checked_junk('+46 70 111 11 11', 'SE'), "
        "_std_phone_written(' +46 70-123 45 67'), _std_phone_written('070.123')"
    ).fetchone() == ("+46701234567", {"value": "+46701111111", "flags": [], "is_junk": True}, "+46701234567", None)


@settings(max_examples=200)
@given(
    st.lists(st.text(alphabet="0123456789 -+()./xe'", max_size=18), min_size=1, max_size=20),
    st.sampled_from(PHONE_HINTS),
)
def test_phones_same_as_python_on_generated_text(con, values, hint):
    rows = [(v, hint) for v in values]
    assert _sql_and_python(con, "std_phone(a0, a1)", "std_phone_py(a0, a1)", rows) == []
    assert _sql_and_python(con, "std_phone_checked_junk(a0, a1)", "std_phone_checked_junk_py(a0, a1)", rows) == []


# Numbers the SQL reads itself (_std_phone_sql: of the default region, and after a "+" and any
# code), and the near misses it leaves to the Python: (text as _std_phone_written gives it,
# hint, what the SQL gives).
SQL_READ_PHONES = [
    ("+46701234567", None, {"value": "+46701234567", "flags": [], "is_junk": False}),  # mobile
    ("+46701234567", "DK", {"value": "+46701234567", "flags": [], "is_junk": False}),  # any hint after +46
    ("+4681234567", None, {"value": "+4681234567", "flags": [], "is_junk": False}),  # Stockholm fixed line
    ("0701234567", None, {"value": "+46701234567", "flags": [], "is_junk": False}),
    ("0701234567", "SE", {"value": "+46701234567", "flags": [], "is_junk": False}),
    ("08123456", None, {"value": "+468123456", "flags": [], "is_junk": False}),
    ("+46701111111", None, {"value": "+46701111111", "flags": [], "is_junk": True}),  # one digit repeated
    ("+46700000000", None, {"value": "+46700000000", "flags": [], "is_junk": True}),
    ("0701234567", "DK", None),  # read in Denmark
    ("0701234567", "Sverige", None),  # a country name: the Python reads it
    ("+460701234567", None, None),  # a trunk 0 after the code
    ("0046701234567", None, None),  # 00: the key macro makes it +46…, this is left alone
    ("701234567", None, {"value": "+46701234567", "flags": [], "is_junk": False}),  # the trunk 0 dropped
    ("46701234567", None, {"value": "+46701234567", "flags": [], "is_junk": False}),  # the + dropped
    ("46701234567", "DK", None),
    ("461234567", None, None),  # the general pattern matches it: a national number to the library
    ("8123456", "SE", {"value": "+468123456", "flags": [], "is_junk": False}),
    ("+4670123456", None, None),  # a digit short of a mobile number, no fixed line either
    ("+467012345678", None, None),
    ("0", None, None),
    # after a "+" and another country's code: read in no region, with the code's metadata
    ("+4571234567", None, {"value": "+4571234567", "flags": [], "is_junk": False}),  # Denmark
    ("+4520123456", "SE", {"value": "+4520123456", "flags": [], "is_junk": False}),  # any hint
    ("+4522222222", None, {"value": "+4522222222", "flags": [], "is_junk": True}),
    ("+4580123456", None, None),  # toll-free: only mobile and fixed-line numbers are read
    ("+4512345678", None, None),  # no Danish range: unverified, the Python's flag
    ("+4741234567", None, {"value": "+4741234567", "flags": [], "is_junk": False}),  # Norway's leading digits
    ("+4779123456", None, None),  # not Norway's: the library tries Svalbard next
    ("+358401234567", None, {"value": "+358401234567", "flags": [], "is_junk": False}),
    ("+3580401234567", None, None),  # a trunk 0 after the code
    ("+447400123456", None, {"value": "+447400123456", "flags": [], "is_junk": False}),
    ("+447797123456", None, None),  # Jersey's, not Great Britain's
    ("+4915123456789", None, {"value": "+4915123456789", "flags": [], "is_junk": False}),
    ("+4915111111111", None, {"value": "+4915111111111", "flags": [], "is_junk": True}),
    ("+12015550123", None, {"value": "+12015550123", "flags": [], "is_junk": False}),  # the US
    ("+14165550123", None, None),  # Canada: not the US's, the library tries the next region
    ("+79123456789", None, {"value": "+79123456789", "flags": [], "is_junk": False}),  # Russia
    ("+77012345678", None, None),  # Kazakhstan's
    ("+393123456789", None, {"value": "+393123456789", "flags": [], "is_junk": False}),
    ("+390612345678", None, None),  # an Italian leading zero
    ("+80012345678", None, None),  # non-geographic
]


def test_phones_read_in_sql(con):
    for written, hint, expected in SQL_READ_PHONES:
        assert con.execute("SELECT _std_phone_sql(?, ?)", [written, hint]).fetchone()[0] == expected, written
    rows = [(w, h) for w, h, _ in SQL_READ_PHONES]
    python = "std_phone_checked_junk_py(a0, a1)"
    assert _sql_and_python(con, "std_phone_checked_junk(a0, a1)", python, rows) == []
    assert _sql_and_python(con, "std_phone_key_checked_junk(a0, a1)", python, rows) == []


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["+46", "0", "+467", "07", "+468", "08", "+46 70 ", "+4", "00", "46", "467", "7", "8", ""]),
            st.text("0123456789", max_size=12),
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from([None, "SE", "DK", "Sverige"]),
)
def test_swedish_numbers_same_as_python(con, parts, hint):
    rows = [(lead + digits, hint) for lead, digits in parts]
    assert _sql_and_python(con, "std_phone(a0, a1)", "std_phone_py(a0, a1)", rows) == []
    assert _sql_and_python(con, "std_phone_checked_junk(a0, a1)", "std_phone_checked_junk_py(a0, a1)", rows) == []


def test_numbers_after_a_plus_and_every_code_same_as_python(con):
    """After a "+" and any country code the SQL of the phone lookup's keys reads a valid mobile or fixed-line number with
    the metadata of the code's main region: every region's example numbers of every type and
    their near misses, and random digits after every code, give what the Python gives."""
    import random

    import phonenumbers

    rng = random.Random(19)
    texts = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        code = phonenumbers.country_code_for_region(region)
        for kind in range(12):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            national = phonenumbers.national_significant_number(example)
            for digits in (national, national[:-1], national + "1", national[:-1] + str(9 - int(national[-1]))):
                texts += [f"+{code}{digits}", f"+{code}0{digits}", f"+{code} {digits[:3]}-{digits[3:]}"]
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for _ in range(40):
            texts.append(f"+{code}" + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 13))))
    for lead in ("+467", "+468", "+46"):  # the default region's, more
        texts += [lead + "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 10))) for _ in range(200)]
    rows = [(t, h) for t in texts for h in (None, "DK")]
    # as the steps adding to staging.phone_lookup read its keys (and any other text)
    python = "std_phone_checked_junk_py(a0, a1)"
    assert _sql_and_python(con, "std_phone_key_checked_junk(a0, a1)", python, rows) == []
    read = con.execute(
        "SELECT count(DISTINCT a0), count(DISTINCT regexp_extract(a0, '^[+]([0-9]{1,3})', 1)) FROM probe "
        "WHERE _std_phone_sql(_std_phone_written(a0), a1) IS NOT NULL"
    ).fetchone()
    assert read[0] > 1500 and read[1] > 150  # most codes' example numbers were read in SQL


@pytest.mark.parametrize("region", ["SE", "DK", "NO", "FI", "DE", "IT", "FR", "GB", "US", "AU"])
def test_phones_same_as_python_in_other_default_regions(region):
    """The reading SQL takes from the library's metadata holds in any default region: its example
    numbers of every type, in international and national form, and their near misses."""
    import phonenumbers

    connection = duckdb.connect()
    register_udfs(connection, region)
    code = phonenumbers.country_code_for_region(region)
    texts = []
    for kind in range(12):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        national = phonenumbers.national_significant_number(example)
        for digits in (national, national[:-1], national + "1", national[:-1] + "0"):
            texts += [f"+{code}{digits}", f"0{digits}", digits, f"+{code}0{digits}"]
    rows = [(t, h) for t in texts for h in (None, region, "SE")]
    assert _sql_and_python(connection, "std_phone(a0, a1)", "std_phone_py(a0, a1)", rows) == []
    assert (
        _sql_and_python(connection, "std_phone_checked_junk(a0, a1)", "std_phone_checked_junk_py(a0, a1)", rows) == []
    )
    connection.close()


POSTCODES = [
    # the forms SQL reads
    "12345",
    "123 45",
    "'12345",
    "'123 45",
    "01234",  # not Swedish: Sweden's never start with 0
    "00100",
    "1234",
    "'0150",
    # near misses: the Python reads them
    "1234 5",
    "123  45",
    " 12345",
    "12345 ",
    "123-45",
    "SE-123 45",
    "S-12345",
    "''12345",
    "’12345",
    "123",
    "123456",
    "12 34",
    "１２３４５",
    "ABC 12",
    "",
    None,
]
POSTCODE_COUNTRIES = ["SE", "FI", "DE", "EE", "FR", "ES", "IT", "DK", "NO", "IS", "GB", "US", "se", "Sverige", "", None]


def test_postcodes_same_as_python(con):
    rows = [(raw, country) for raw in POSTCODES for country in POSTCODE_COUNTRIES]
    assert _sql_and_python(con, "std_postcode_checked(a0, a1)", "std_postcode_checked_py(a0, a1)", rows) == []
    assert con.execute(
        "SELECT std_postcode_checked('''12345', 'SE'), std_postcode_checked('01234', 'SE'), "
        "std_postcode_checked('123 45', 'FI')"
    ).fetchone() == (
        {"value": "123 45", "flags": []},
        {"value": None, "flags": ["invalid_postcode"]},
        {"value": "12345", "flags": []},
    )


@settings(max_examples=200)
@given(
    st.lists(st.text(alphabet="0123456789 -'’SEab", max_size=9), min_size=1, max_size=20),
    st.sampled_from(POSTCODE_COUNTRIES),
)
def test_postcodes_same_as_python_on_generated_text(con, values, country):
    rows = [(v, country) for v in values]
    assert _sql_and_python(con, "std_postcode_checked(a0, a1)", "std_postcode_checked_py(a0, a1)", rows) == []


BIRTH_DATES = [
    # the forms SQL reads
    "1990-05-17",
    "19900517",
    "17.05.1990",
    "1900-01-01",
    "1899-12-31",
    "1000-01-01",
    "10000101",
    "01.01.1000",
    "2999-01-01",
    "29.02.2000",
    # near misses: impossible days, other layouts, spaces, other digits go to the Python
    "1990-02-30",
    "1900-02-29",
    "19901301",
    "30.02.2021",
    "05.17.1990",
    "00.05.1990",
    "0990-01-01",
    "09900101",
    "1990-5-17",
    "1990-05-17 00:00",
    " 1990-05-17",
    "1990/05/17",
    "17/05/1990",
    "17-05-1990",
    "٢٠٠٠-01-01",
    "1990-05-170",
    "199005170",
    "",
    " ",
    None,
]


def test_birth_dates_same_as_python(con):
    rows = [(raw,) for raw in BIRTH_DATES]
    assert _sql_and_python(con, "std_birth_date_checked(a0)", "std_birth_date_checked_py(a0)", rows) == []
    assert con.execute(
        "SELECT std_birth_date_checked('1885-01-01'), std_birth_date_checked('17.05.1990')"
    ).fetchone() == (
        {"value": None, "flags": ["impossible_birth_date"]},
        {"value": datetime(1990, 5, 17).date(), "flags": []},
    )


def test_birth_dates_after_as_of_are_impossible():
    connection = duckdb.connect()
    register_udfs(connection, as_of=datetime(2026, 10, 30).date())
    try:
        assert connection.execute(
            "SELECT std_birth_date_checked('2026-10-30').flags, std_birth_date_checked('31.10.2026').flags"
        ).fetchone() == ([], ["impossible_birth_date"])
    finally:
        connection.close()


@settings(max_examples=200)
@given(
    st.lists(
        st.builds(
            lambda parts: "".join(parts),
            st.lists(
                st.one_of(st.sampled_from("0123456789"), st.sampled_from(["-", ".", " ", "/", "19", "20"])), max_size=12
            ),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_birth_dates_same_as_python_on_generated_text(con, values):
    rows = [(v,) for v in values]
    assert _sql_and_python(con, "std_birth_date_checked(a0)", "std_birth_date_checked_py(a0)", rows) == []
