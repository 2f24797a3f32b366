"""DuckDB scalar functions over the normalisers, so staging SQL can call them.

``register_udfs(con)`` makes ``std_email(...)``, ``std_phone(...)`` and the rest
available on one connection. They are vectorised (Arrow batches in, Arrow
batches out) and every normaliser caches per distinct value, because source
values repeat: the same phone number on every order line of a customer.
A value that makes a normaliser fail becomes NULL instead of stopping the query:
bad input never stops the night.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb
import pyarrow as pa

from .address import check_postcode, match_street, standardise_city, standardise_country, standardise_street
from .consent import parse_bool, sms_keyword
from .dates import check_birth_date, parse_date, parse_timestamp
from .email import check_email
from .junk import is_junk_email, is_junk_name, is_junk_phone
from .money import parse_money
from .names import display_name, match_name, split_full_name
from .phone import check_phone

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "DECIMAL(18,2)": pa.decimal128(18, 2),
    "VARCHAR[]": pa.list_(pa.string()),
}


def _safe(fn: Callable, *args):
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - one odd value must not fail a night's query
        return None


def _arrow_udf(fn: Callable, return_type: str, null_in_null_out: bool, arity: int) -> Callable:
    arrow_type = _ARROW_TYPES[return_type]

    def apply(*columns):
        rows = zip(*(column.to_pylist() for column in columns))
        if null_in_null_out:
            values = [None if None in row else _safe(fn, *row) for row in rows]
        else:  # only the first argument decides NULL; the others have defaults
            values = [None if row[0] is None else _safe(fn, *row) for row in rows]
        return pa.array(values, type=arrow_type)

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


def udf_specs(default_region: str = "SE", default_tz: str = "Europe/Stockholm",
              as_of: date | None = None) -> list[tuple[str, Callable, list[str], str, bool]]:
    """(name, python function, parameter types, return type, NULL-in-NULL-out) for every UDF.

    When the last field is False, only a NULL first argument gives NULL; a NULL
    in a later argument means "use the default" (region, time zone, currency).
    """
    region = default_region
    return [
        ("std_email", lambda raw: check_email(raw).value, ["VARCHAR"], "VARCHAR", True),
        ("std_email_flags", lambda raw: _flags(check_email(raw)), ["VARCHAR"], "VARCHAR[]", True),
        ("std_phone", lambda raw, hint: check_phone(raw, region, hint).value,
         ["VARCHAR", "VARCHAR"], "VARCHAR", False),
        ("std_phone_flags", lambda raw, hint: _flags(check_phone(raw, region, hint)),
         ["VARCHAR", "VARCHAR"], "VARCHAR[]", False),
        ("std_display_name", display_name, ["VARCHAR"], "VARCHAR", True),
        ("std_match_name", match_name, ["VARCHAR"], "VARCHAR", True),
        ("std_split_first", lambda raw: split_full_name(raw)[0], ["VARCHAR"], "VARCHAR", True),
        ("std_split_last", lambda raw: split_full_name(raw)[1], ["VARCHAR"], "VARCHAR", True),
        ("std_postcode", lambda raw, country: check_postcode(raw, country, region).value,
         ["VARCHAR", "VARCHAR"], "VARCHAR", False),
        ("std_postcode_flags", lambda raw, country: _flags(check_postcode(raw, country, region)),
         ["VARCHAR", "VARCHAR"], "VARCHAR[]", False),
        ("std_country", standardise_country, ["VARCHAR"], "VARCHAR", True),
        ("std_street", standardise_street, ["VARCHAR"], "VARCHAR", True),
        ("std_match_street", match_street, ["VARCHAR"], "VARCHAR", True),
        ("std_city", standardise_city, ["VARCHAR"], "VARCHAR", True),
        ("std_date", parse_date, ["VARCHAR"], "DATE", True),
        ("std_birth_date", lambda raw: check_birth_date(raw, as_of).value, ["VARCHAR"], "DATE", True),
        ("std_birth_date_flags", lambda raw: _flags(check_birth_date(raw, as_of)),
         ["VARCHAR"], "VARCHAR[]", True),
        ("std_timestamp", lambda raw, tz: parse_timestamp(raw, tz or default_tz),
         ["VARCHAR", "VARCHAR"], "TIMESTAMP", False),
        ("std_money", lambda raw: parse_money(raw)[0], ["VARCHAR"], "DECIMAL(18,2)", True),
        ("std_currency", lambda raw, default: parse_money(raw, default or "SEK")[1],
         ["VARCHAR", "VARCHAR"], "VARCHAR", False),
        ("std_bool", parse_bool, ["VARCHAR"], "BOOLEAN", True),
        ("std_sms_keyword", sms_keyword, ["VARCHAR"], "VARCHAR", True),
        ("is_junk_email", is_junk_email, ["VARCHAR"], "BOOLEAN", True),
        ("is_junk_phone", is_junk_phone, ["VARCHAR"], "BOOLEAN", True),
        ("is_junk_name", is_junk_name, ["VARCHAR"], "BOOLEAN", True),
    ]


def register_udfs(con: duckdb.DuckDBPyConnection, default_region: str = "SE",
                  default_tz: str = "Europe/Stockholm", *, as_of: date | None = None,
                  vectorised: bool = True) -> list[str]:
    """Register the standardisation functions on ``con``; return their names.

    ``default_region`` reads phone numbers without a country code and formats
    postcodes of records without a country; ``default_tz`` reads timestamps
    without an offset when the SQL passes a NULL zone; ``as_of`` bounds birth
    dates (default: the day of the call). Calling it again on the same
    connection replaces the functions, so it is safe to call per asset.
    """
    names = []
    for name, fn, parameters, return_type, null_in_null_out in udf_specs(default_region, default_tz, as_of):
        try:
            con.remove_function(name)
        except duckdb.Error:
            pass  # not registered yet
        if vectorised:
            udf = _arrow_udf(fn, return_type, null_in_null_out, len(parameters))
            kind = "arrow"
        else:
            udf = _native_udf(fn, null_in_null_out, len(parameters))
            kind = "native"
        con.create_function(
            name, udf, parameters, return_type, type=kind,
            # "special": DuckDB's default forbids a NULL result for a non-NULL
            # input, and an unreadable value must become NULL. NULLs in are
            # handled by the wrappers above.
            null_handling="special",
            side_effects=False,
        )
        names.append(name)
    return names
