"""Which phone numbers are fixed lines: a household's line, not one person's.

A mobile number is carried by one person; a fixed line rings in a home, and a parent and a
child of one name give it alike. Staging writes numbers in E.164 (``+4681234567``); the line
type is ``phonenumbers``' own metadata for the number (a Stockholm 08 number is a fixed line,
a Swedish 07 number a mobile). Where the metadata cannot tell (Danish and North American
numbers are "fixed line or mobile"), the number is not taken for a fixed line.
"""

from __future__ import annotations

import duckdb
import phonenumbers

FIXED_LINES = "temp._id_fixed_lines"


def is_fixed_line(value: str) -> bool:
    """True for a number ``phonenumbers`` types as a fixed line (not "fixed line or mobile")."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE


def build_fixed_lines(con: duckdb.DuckDBPyConnection, phones_sql: str, table: str = FIXED_LINES) -> int:
    """Write ``table(value)`` (a temp table, ``temp._id_fixed_lines`` unless told): the fixed lines
    among ``phones_sql`` (a query of ``value``). Each distinct number is typed once, in Python: the
    callers ask about the few numbers of the clusters or pairs they look at."""
    values = sorted(v for (v,) in con.execute(f"SELECT DISTINCT value FROM ({phones_sql})").fetchall() if v)
    fixed = [v for v in values if is_fixed_line(v)]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table.split('.')[-1]} AS SELECT unnest($v::VARCHAR[]) AS value",
        {"v": fixed},
    )
    return len(fixed)
