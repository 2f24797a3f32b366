"""DuckDB scalar functions over the normalisers, so staging SQL can call them.

``register_udfs(con)`` makes ``std_email(...)``, ``std_phone(...)`` and the rest
available on one connection. They are vectorised (Arrow batches in, Arrow
batches out) and call Python once per distinct argument tuple of a batch (Arrow
finds the distinct values and spreads the results back), because source values
repeat: the same phone number on every order line of a customer. Every
normaliser also caches per distinct value across batches; staging SQL goes
further and calls a function on the distinct values of a whole table.
A value that makes a normaliser fail becomes NULL instead of stopping the query:
bad input never stops the night.

The ``*_checked`` functions give a value and its data-quality flags as one
STRUCT from one call, so a distinct value is read once, not once per column
derived from it; ``std_phone_checked_junk`` adds ``is_junk_phone`` of the value.

``std_email``, ``std_email_flags``, ``std_email_checked``, ``std_timestamp``,
``std_money``, ``std_split_first``, ``std_split_last``, ``std_street`` and
``std_birth_date_checked`` are SQL
macros (``macros.sql``, defined by ``register_udfs`` too): they read the forms of
addresses, timestamps, amounts, names and streets that plain SQL reads exactly as
the Python does, and call the Python (``std_email_checked_py``, ``std_timestamp_py``,
``std_money_py``, ``std_split_first_py``, ``std_split_last_py``, ``std_street_py``,
``std_birth_date_checked_py``)
only for the rest. ``std_phone`` and ``std_phone_checked_junk`` are macros too: a
number of digits, spaces and hyphens reaches the Python as its "+" and digits alone
(``std_written_phone*_py``), the rest as written (``std_phone_py``, ``std_phone_checked_junk_py``), and a valid mobile
or fixed-line number written as "+" and a country code, or in the default region's national
forms, is read in SQL from the library's metadata (``_std_phone_sql``, ``phone_sql.py``); ``std_postcode_checked``
reads a postcode of plain digits of a country that writes them so in SQL, the rest in
``std_postcode_checked_py``. Every SQL that calls them gets the fast path; the answers are the
Python's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cdp_pipeline.lib.common.duckdb_functions import create_function
from cdp_pipeline.lib.common.sql_files import run_sql

from .address import check_postcode, match_street, standardise_city, standardise_country, standardise_street
from .consent import parse_bool, sms_keyword
from .dates import check_birth_date, parse_date, parse_timestamp, utc_offset_of_hour
from .email import check_email
from .junk import is_junk_email, is_junk_name, is_junk_phone, junk_phone_sequences
from .money import parse_money
from .names import PARTICLES, display_name, match_name, split_full_name
from .phone import (
    calling_code_pattern,
    check_phone,
    check_phone_junk,
    check_written_phone,
    check_written_phone_junk,
)
from .phone_sql import sql_international_reading, sql_reading
from .zones import iana_zone

_CHECKED_TEXT = "STRUCT(value VARCHAR, flags VARCHAR[])"
_CHECKED_DATE = "STRUCT(value DATE, flags VARCHAR[])"
_CHECKED_JUNK = "STRUCT(value VARCHAR, flags VARCHAR[], is_junk BOOLEAN)"
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "INTEGER": pa.int32(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "DECIMAL(18,2)": pa.decimal128(18, 2),
    "VARCHAR[]": pa.list_(pa.string()),
    _CHECKED_TEXT: pa.struct([("value", pa.string()), ("flags", pa.list_(pa.string()))]),
    _CHECKED_DATE: pa.struct([("value", pa.date32()), ("flags", pa.list_(pa.string()))]),
    _CHECKED_JUNK: pa.struct([("value", pa.string()), ("flags", pa.list_(pa.string())), ("is_junk", pa.bool_())]),
}
# macros.sql and the set_*.sql of its variables: the macros are created on a connection, not run as a step.
SQL_DIR = Path(__file__).parent


def _safe(fn: Callable, *args):
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - one odd value must not fail a night's query
        return None


def _apply_all(fn: Callable, arguments: list[list]) -> list:
    """``fn`` over argument lists (one list per parameter); arguments that make it fail give None.

    One try around the whole loop instead of one per value: failures are rare,
    and when one happens the loop is redone value by value (the normalisers are
    pure, so calling them again gives the same answers).
    """
    try:
        return list(map(fn, *arguments))
    except Exception:  # noqa: BLE001 - one odd value must not fail a night's query
        return [_safe(fn, *args) for args in zip(*arguments)]


def _dictionary(column: pa.Array | pa.ChunkedArray) -> tuple[list, pa.Array]:
    """(distinct values, per-row index into them; NULL for a NULL value), computed by Arrow."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    return encoded.dictionary.to_pylist(), encoded.indices


def _distinct_arguments(columns, null_in_null_out: bool) -> tuple[list[list], pa.Array]:
    """The distinct argument tuples of a batch (one list per parameter) and, per row, its tuple's index.

    A row whose result is NULL without a call (NULL first argument, or any NULL
    argument when ``null_in_null_out``) gets a NULL index.
    """
    values, codes = [], []
    for position, column in enumerate(columns):
        distinct, indices = _dictionary(column)
        if position > 0 and not null_in_null_out:  # a NULL here is an argument: it gets a slot of its own
            indices = pc.coalesce(indices, pa.scalar(len(distinct), indices.type))
            distinct.append(None)
        values.append(distinct)
        codes.append(indices)
    if len(columns) == 1:
        return values, codes[0]
    encoded = pc.dictionary_encode(_tuple_numbers(values, codes))
    return _tuples_of(encoded.dictionary, values), encoded.indices


def _tuple_numbers(values: list[list], codes: list[pa.Array]) -> pa.Array:
    """Per row, its argument tuple as one number in mixed radix (digit i indexes ``values[i]``),
    so that Arrow can find the distinct tuples; a NULL code stays NULL."""
    number = pc.cast(codes[0], pa.int64())
    for distinct, indices in zip(values[1:], codes[1:]):
        number = pc.add(pc.multiply(number, len(distinct)), pc.cast(indices, pa.int64()))
    return number


def _tuples_of(numbers: pa.Array, values: list[list]) -> list[list]:
    """The argument lists (one per parameter) of tuple ``numbers``: ``_tuple_numbers`` undone."""
    rest, digits = numbers, []
    for distinct in reversed(values[1:]):
        quotient = pc.divide(rest, len(distinct))  # integer division: the numbers are never negative
        digits.append(pc.subtract(rest, pc.multiply(quotient, len(distinct))).to_pylist())
        rest = quotient
    digits.append(rest.to_pylist())
    return [[distinct[i] for i in digit] for distinct, digit in zip(values, reversed(digits))]


def _arrow_udf(fn: Callable, return_type: str, null_in_null_out: bool, arity: int) -> Callable:
    arrow_type = _ARROW_TYPES[return_type]

    def apply(*columns):
        # Values repeat within a batch (an order's lines, a customer's messages): the
        # Python function runs once per distinct argument tuple, and Arrow spreads
        # the results back over the rows.
        arguments, indices = _distinct_arguments(columns, null_in_null_out)
        results = pa.array(_apply_all(fn, arguments), type=arrow_type)
        return pc.take(results, indices)

    # DuckDB checks the Python signature against the parameter list: no *args.
    if arity == 1:
        return lambda a: apply(a)
    return lambda a, b: apply(a, b)


def _native_udf(fn: Callable, null_in_null_out: bool, arity: int) -> Callable:
    def apply(*row):
        if (None in row) if null_in_null_out else row[0] is None:
            return None
        return _safe(fn, *row)

    if arity == 1:
        return lambda a: apply(a)
    return lambda a, b: apply(a, b)


def _flags(checked) -> list[str] | None:
    return list(checked.flags)


def _struct(checked) -> dict:
    return {"value": checked.value, "flags": list(checked.flags)}


def _junk_struct(checked_junk) -> dict:
    checked, junk = checked_junk
    return {"value": checked.value, "flags": list(checked.flags), "is_junk": junk}


def udf_specs(
    default_region: str = "SE",
    default_tz: str = "Europe/Stockholm",
    as_of: date | None = None,
    default_currency: str = "SEK",
) -> list[tuple[str, Callable, list[str], str, bool]]:
    """(name, python function, parameter types, return type, NULL-in-NULL-out) for every UDF.

    When the last field is False, only a NULL first argument gives NULL; a NULL
    in a later argument means "use the default" (region, time zone, currency).
    """
    region = default_region
    return [
        # std_email, std_email_flags and std_email_checked are macros over this (macros.sql)
        ("std_email_checked_py", lambda raw: _struct(check_email(raw)), ["VARCHAR"], _CHECKED_TEXT, True),
        # std_phone and std_phone_checked_junk are macros over these (macros.sql): the "written"
        # ones take a number the macro reduced to its "+" and digits
        (
            "std_phone_py",
            lambda raw, hint: check_phone(raw, region, hint).value,
            ["VARCHAR", "VARCHAR"],
            "VARCHAR",
            False,
        ),
        (
            "std_written_phone_py",
            lambda written, hint: check_written_phone(written, region, hint).value,
            ["VARCHAR", "VARCHAR"],
            "VARCHAR",
            False,
        ),
        (
            "std_phone_flags",
            lambda raw, hint: _flags(check_phone(raw, region, hint)),
            ["VARCHAR", "VARCHAR"],
            "VARCHAR[]",
            False,
        ),
        (
            "std_phone_checked",
            lambda raw, hint: _struct(check_phone(raw, region, hint)),
            ["VARCHAR", "VARCHAR"],
            _CHECKED_TEXT,
            False,
        ),
        (  # std_phone_checked and is_junk_phone of its value, from one reading of the number
            "std_phone_checked_junk_py",
            lambda raw, hint: _junk_struct(check_phone_junk(raw, region, hint)),
            ["VARCHAR", "VARCHAR"],
            _CHECKED_JUNK,
            False,
        ),
        (
            "std_written_phone_checked_junk_py",
            lambda written, hint: _junk_struct(check_written_phone_junk(written, region, hint)),
            ["VARCHAR", "VARCHAR"],
            _CHECKED_JUNK,
            False,
        ),
        ("std_display_name", display_name, ["VARCHAR"], "VARCHAR", True),
        ("std_match_name", match_name, ["VARCHAR"], "VARCHAR", True),
        # std_split_first and std_split_last are macros over these (macros.sql)
        ("std_split_first_py", lambda raw: split_full_name(raw)[0], ["VARCHAR"], "VARCHAR", True),
        ("std_split_last_py", lambda raw: split_full_name(raw)[1], ["VARCHAR"], "VARCHAR", True),
        (
            "std_postcode",
            lambda raw, country: check_postcode(raw, country, region).value,
            ["VARCHAR", "VARCHAR"],
            "VARCHAR",
            False,
        ),
        (
            "std_postcode_flags",
            lambda raw, country: _flags(check_postcode(raw, country, region)),
            ["VARCHAR", "VARCHAR"],
            "VARCHAR[]",
            False,
        ),
        (  # std_postcode_checked is a macro over this (macros.sql)
            "std_postcode_checked_py",
            lambda raw, country: _struct(check_postcode(raw, country, region)),
            ["VARCHAR", "VARCHAR"],
            _CHECKED_TEXT,
            False,
        ),
        ("std_country", standardise_country, ["VARCHAR"], "VARCHAR", True),
        ("std_street_py", standardise_street, ["VARCHAR"], "VARCHAR", True),  # std_street is a macro over this
        ("std_match_street", match_street, ["VARCHAR"], "VARCHAR", True),
        ("std_city", standardise_city, ["VARCHAR"], "VARCHAR", True),
        ("std_date", parse_date, ["VARCHAR"], "DATE", True),
        ("std_birth_date", lambda raw: check_birth_date(raw, as_of).value, ["VARCHAR"], "DATE", True),
        ("std_birth_date_flags", lambda raw: _flags(check_birth_date(raw, as_of)), ["VARCHAR"], "VARCHAR[]", True),
        (  # std_birth_date_checked is a macro over this (macros.sql)
            "std_birth_date_checked_py",
            lambda raw: _struct(check_birth_date(raw, as_of)),
            ["VARCHAR"],
            _CHECKED_DATE,
            True,
        ),
        (  # std_timestamp is a macro over this (macros.sql)
            "std_timestamp_py",
            lambda raw, tz: parse_timestamp(raw, tz or default_tz),
            ["VARCHAR", "VARCHAR"],
            "TIMESTAMP",
            False,
        ),
        (  # the local-time branch of the std_timestamp macro (macros.sql)
            "std_utc_offset_py",
            lambda hour, tz: utc_offset_of_hour(hour, tz or default_tz),
            ["VARCHAR", "VARCHAR"],
            "INTEGER",
            False,
        ),
        # a vendor's zone name (Square's Rails display names) as the IANA zone std_timestamp takes
        ("std_iana_zone", iana_zone, ["VARCHAR"], "VARCHAR", True),
        # std_money is a macro over this (macros.sql)
        ("std_money_py", lambda raw: parse_money(raw, default_currency)[0], ["VARCHAR"], "DECIMAL(18,2)", True),
        (
            "std_currency",
            lambda raw, default: parse_money(raw, default or default_currency)[1],
            ["VARCHAR", "VARCHAR"],
            "VARCHAR",
            False,
        ),
        ("std_bool", parse_bool, ["VARCHAR"], "BOOLEAN", True),
        ("std_sms_keyword", sms_keyword, ["VARCHAR"], "VARCHAR", True),
        ("is_junk_email", is_junk_email, ["VARCHAR"], "BOOLEAN", True),
        ("is_junk_phone", is_junk_phone, ["VARCHAR"], "BOOLEAN", True),
        ("is_junk_name", is_junk_name, ["VARCHAR"], "BOOLEAN", True),
    ]


def register_udfs(
    con: duckdb.DuckDBPyConnection,
    default_region: str = "SE",
    default_tz: str = "Europe/Stockholm",
    *,
    as_of: date | None = None,
    default_currency: str = "SEK",
    vectorised: bool = True,
) -> list[str]:
    """Register the standardisation functions (and the macros of ``macros.sql``) on ``con``;
    return the functions' names.

    ``default_region`` reads phone numbers without a country code and formats
    postcodes of records without a country; ``default_tz`` reads timestamps
    without an offset when the SQL passes a NULL zone; ``as_of`` bounds birth
    dates (default: the day of the call); ``default_currency`` (``CDP_CURRENCY``)
    is the currency of an amount written without one, ``std_currency``'s when the
    SQL passes a NULL default, and the variable ``default_currency`` the staging
    SQL reads (a store receipt's). Calling it again on the same
    connection replaces the functions, so it is safe to call per asset.
    """
    names = []
    specs = udf_specs(default_region, default_tz, as_of, default_currency)
    for name, fn, parameters, return_type, null_in_null_out in specs:
        if vectorised:
            udf = _arrow_udf(fn, return_type, null_in_null_out, len(parameters))
            kind = "arrow"
        else:
            udf = _native_udf(fn, null_in_null_out, len(parameters))
            kind = "native"
        create_function(
            con,
            name,
            udf,
            parameters,
            return_type,
            type=kind,
            # "special": DuckDB's default forbids a NULL result for a non-NULL
            # input, and an unreadable value must become NULL. NULLs in are
            # handled by the wrappers above.
            null_handling="special",
            side_effects=False,
        )
        names.append(name)
    define_macros(con, default_region, as_of, default_currency)
    return names


def junk_email_lists() -> dict[str, object]:
    """junk.py's placeholder local parts and no-reply pattern as one pattern of a local part
    (``local_pattern``: one regular expression costs less than a list lookup and another), and
    its junk-domain pattern (RE2-safe: no look-arounds or back-references), as the
    ``junk_email`` variable of ``macros.sql``."""
    from .junk import _JUNK_DOMAINS, _JUNK_LOCAL_PARTS, _NO_REPLY

    placeholders = "|".join(re.escape(part) for part in sorted(_JUNK_LOCAL_PARTS))
    return {
        "local_pattern": f"^(?:{placeholders})$|{_NO_REPLY.pattern}",
        "domains": _JUNK_DOMAINS.pattern,
    }


def define_macros(
    con: duckdb.DuckDBPyConnection, default_region: str, as_of: date | None = None, default_currency: str = "SEK"
) -> None:
    """Create the macros of ``macros.sql`` on ``con``, with the variables they read set first
    (``default_region``: the phone lookup's key reads a number of it in no country; ``as_of``:
    the latest birth date, by default the day of the call, as ``check_birth_date`` takes it), and
    the variable ``default_currency`` of the staging SQL (``CDP_CURRENCY``)."""
    run_sql(con, SQL_DIR, "set_default_currency", {"currency": default_currency})
    run_sql(con, SQL_DIR, "set_junk_email", {"junk_email": junk_email_lists()})
    run_sql(con, SQL_DIR, "set_birth_date_as_of", {"as_of": as_of or date.today()})
    run_sql(con, SQL_DIR, "set_name_particles", {"name_particles": sorted(PARTICLES)})
    phone_key = {
        "calling_codes": calling_code_pattern(),
        "default_region": default_region,
        # the numbers macros.sql reads itself (of the default region; after a "+" and any
        # code), and junk.py's digit runs
        "reading": sql_reading(default_region),
        "international": sql_international_reading(),
        "sequences": junk_phone_sequences(),
    }
    run_sql(con, SQL_DIR, "set_phone_key", {"phone_key": phone_key})
    run_sql(con, SQL_DIR, "macros")
