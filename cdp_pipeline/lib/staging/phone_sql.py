"""What the phone macros of macros.sql (``_std_phone_sql``) read without the library: the valid
mobile and fixed-line numbers that ``phone._read_digits`` reads, taken from ``phonenumbers``'
own metadata, as the variable ``phone_key`` of set_phone_key.sql (``udfs.define_macros``).

Two readings: ``sql_reading`` for the default region's national forms (``0701234567``,
``701234567``, ``46701234567``), and ``sql_international_reading`` for a "+" then any country
calling code and a national number (``+46701234567``, ``+4520123456``), which ``_read_digits``
reads alike in every region. Each gives a number's E.164 value and the national number of the
junk test exactly as the Python does, or nothing (the Python reads it); test_sql_macros.py
compares the two.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneMetadata

from .phone import _REGIONS

# A pattern no text the macros test matches (their texts are a "+" and digits, or digits).
_NOTHING = "x"


def _types(metadata: PhoneMetadata) -> dict[str, tuple[str, list[int]]]:
    """The mobile and fixed-line (pattern, possible lengths) the SQL tests a national number
    with, as ``phone._is_valid_number`` tests them: the library tests the mobile pattern only
    when it is not the fixed line's (then the fixed line's test is the same). ("", []) for a
    kind the region has no numbers of (SQL reads none of it)."""
    descs = {"fixed": metadata.fixed_line}
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs["mobile"] = metadata.mobile
    out = {}
    for kind in ("mobile", "fixed"):
        desc = descs.get(kind)
        pattern = desc.national_number_pattern if desc is not None else None
        lengths = list(desc.possible_length or ()) if desc is not None else []
        out[kind] = ("", []) if not pattern or -1 in lengths else (pattern, lengths)
    return out


def _lengths(metadata: PhoneMetadata) -> list[int]:
    """The general lengths of a national number SQL reads: not local-only, and 2 to 17 digits
    (``phone._national_number``'s bounds)."""
    general = metadata.general_desc
    local_only = set(general.possible_length_local_only or ())
    return [n for n in general.possible_length if n not in local_only and 2 <= n <= 17]


def sql_reading(default_region: str) -> dict[str, object]:
    """What ``_std_phone_sql`` needs to read, without the library, the numbers of
    ``default_region`` written without a "+" that ``_read_digits`` reads in that region as
    valid mobile or fixed-line numbers: (``national``) the national prefix 0 then the national
    number, read in the default region. It gives ``Checked("+<code><national>")`` and the
    national number for the junk test.

    Taken from the library's metadata: the national number must match the region's general
    pattern and the mobile or fixed-line pattern, each with its possible lengths, as
    ``_is_valid_number`` tests them. ``code`` is empty (nothing read in SQL) for a region whose
    code other regions share (the library then picks the region by the number), or whose
    national prefix is not a plain 0 (``_national_number`` strips it when it matches the start,
    so SQL reads only numbers that do not start with 0); ``national`` is false unless the
    national prefix is 0, without a rewrite rule, and the international prefix 00 (then a
    0 and a digit other than 0 is a national prefix: ``_parse_national_digits`` strips it when
    the rest is of a possible length that is not local-only, as the lengths here are). ``bare``:
    the international prefix is digits from a 0, so no number from 1 to 9 starts with it; then
    a number without its national prefix (``701234567``), or after the country code without the
    "+" (``46701234567``, when those digits do not match the general pattern: then
    ``_parse_national_digits`` takes the code off), read in the default region, is read in SQL
    too (``_read_digits`` reads such digits in the region first)."""
    off = {"code": "", "national": False, "bare": False, "lengths": [], "general": ""}
    off |= {
        f"{kind}{part}": [] if part == "_lengths" else "" for kind in ("mobile", "fixed") for part in ("", "_lengths")
    }
    metadata = PhoneMetadata.metadata_for_region(default_region) if default_region in _REGIONS else None
    if (
        metadata is None
        or phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code) != (default_region,)
        or metadata.national_prefix_for_parsing not in (None, "", "0")
    ):
        return off
    reading = {
        "code": str(metadata.country_code),
        "national": metadata.national_prefix_for_parsing == "0"
        and metadata.national_prefix == "0"
        and not metadata.national_prefix_transform_rule
        and metadata.international_prefix == "00",
        "bare": bool(re.fullmatch(r"0[0-9]*", metadata.international_prefix or "")),
        "lengths": _lengths(metadata),
        "general": metadata.general_desc.national_number_pattern or "",
    }
    for kind, (pattern, lengths) in _types(metadata).items():
        reading[kind] = pattern
        reading[f"{kind}_lengths"] = lengths
    if not reading["general"] or not reading["lengths"]:
        return off
    return reading


def _of_lengths(lengths: list[int]) -> str:
    """A national number of one of ``lengths`` that does not start with 0."""
    return "[1-9](?:" + "|".join(f"[0-9]{{{n - 1}}}" for n in sorted(lengths)) + ")"


def sql_international_reading() -> dict[str, str]:
    """What ``_std_phone_sql`` needs to read, without the library, a "+", a country calling
    code and a national number, as ``_read_digits`` reads it (in no region: ``_parse_plus_digits``
    with the metadata of the code's main region) when the library calls it a valid mobile or
    fixed-line number. The value is the text itself; the national number, the digits after the
    code, is the junk test's (the value parses back to it).

    Each entry is one regular expression over the whole text, an alternative per calling code
    ("+" code then the national number; codes are prefix-free, so the code picks the branch):
    DuckDB compiles a constant pattern once per query, where a pattern looked up per row would
    be compiled per row. A text is read in SQL when it full-matches ``general``, ``lengths``
    and ``leading``, not ``prefixed``, and ``mobile`` with ``mobile_lengths`` or ``fixed`` with
    ``fixed_lengths``:

    - the national number does not start with 0 (an Italian leading zero, a trunk 0 after the
      code: the Python reads those) and has one of the general lengths (``_lengths``);
    - ``prefixed``: it starts with what the main region's ``national_prefix_for_parsing``
      matches; then ``_national_number`` may strip it, so the Python reads it. Otherwise the
      digits after the code are the national number as written;
    - ``leading``: for a code several regions share (+1, +7, +44, +47, +358, …) the library
      takes the first region of the code, its main region, whose metadata the number is read
      with, when the main region has no ``leading_digits`` or they match the start of the
      national number, and the number is of a type there (``_region_code_for_number_from_list``;
      a valid mobile or fixed-line number is); SQL reads only those. A code of one region: any;
    - the general, mobile and fixed-line patterns and lengths: ``_is_valid_number``'s.

    Codes without a region's metadata (the non-geographic +800, +808, …: toll-free and other
    types, never mobile or fixed line) are not read."""
    parts: dict[str, list[str]] = {k: [] for k in ("calling_codes", "general", "lengths", "leading", "prefixed")}
    for kind in ("mobile", "fixed"):
        parts[kind], parts[f"{kind}_lengths"] = [], []
    for code, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()):
        metadata = PhoneMetadata.metadata_for_region(regions[0]) if regions[0] in _REGIONS else None
        if metadata is None:
            continue
        general, lengths = metadata.general_desc.national_number_pattern, _lengths(metadata)
        types = {kind: t for kind, t in _types(metadata).items() if t[0]}
        if not general or not lengths or not types:
            continue
        parts["calling_codes"].append(str(code))
        parts["general"].append(f"{code}(?:{general})")
        parts["lengths"].append(f"{code}{_of_lengths(lengths)}")
        parts["leading"].append(
            f"{code}(?:{metadata.leading_digits})[0-9]*" if metadata.leading_digits else f"{code}[0-9]*"
        )
        if metadata.national_prefix_for_parsing:
            parts["prefixed"].append(f"{code}(?:{metadata.national_prefix_for_parsing})[0-9]*")
        for kind, (pattern, kind_lengths) in types.items():
            parts[kind].append(f"{code}(?:{pattern})")
            parts[f"{kind}_lengths"].append(f"{code}{_of_lengths(kind_lengths or lengths)}")
    reading = {
        key: "\\+(?:" + "|".join(alternatives) + ")" if alternatives else _NOTHING
        for key, alternatives in parts.items()
    }
    reading["calling_codes"] = "^\\+(" + "|".join(parts["calling_codes"]) + ")"
    return reading
