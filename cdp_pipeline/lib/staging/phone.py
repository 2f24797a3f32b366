"""Phone numbers: E.164 (``+46701234567``), the form every channel and ad platform shares.

Numbers reach us mangled by spreadsheets: the ``+`` and the leading zero
stripped, ``00`` instead of ``+``, a ``(0)`` trunk prefix written after the
country code. Those are recovered when the digits can only mean one valid
number. Anything else that is not a valid number (``phonenumbers.is_valid_number``)
becomes None with the flag ``invalid_phone``; a number a spreadsheet turned into
scientific notation (``4.67012E+10``) has lost its last digits and is flagged
``phone_lost_precision``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumber, PhoneNumberFormat, ValidationResult

# the library's own steps of parse and its pattern test
from phonenumbers.phonenumberutil import (
    _extract_country_code,
    _is_number_matching_desc,
    _match_national_number,
    _maybe_strip_national_prefix_carrier_code,
    _parse_prefix_as_idd,
    _set_italian_leading_zeros_for_phone_number,
    _test_number_length,
)
from phonenumbers.re_util import re_compile

from ._common import Checked, as_text, text_cache
from .address import standardise_country
from .junk import is_junk_phone, junk_phone_digits

# Every number is checked against its region's patterns, of many regions in a night: keep each
# compiled pattern (the library's option) instead of looking it up in re's small cache per test.
phonenumbers.enable_pattern_cache()

# Longer than any real number with formatting; phonenumbers rejects > 250 anyway.
_MAX_RAW_LENGTH = 64
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_FLOAT_ARTEFACT = re.compile(r"^(\+?\d+)\.0+$")  # 46701234567.0 from a float column
_EXTENSION = re.compile(r"(?:ext\.?|extension|anknytning|ankn\.?|x|#|;)\s*\d", re.IGNORECASE)
_TRUNK_IN_BRACKETS = re.compile(r"\(\s*0\s*\)")
# What a phone field may contain besides digits: separators people type.
_ALLOWED = re.compile(r"^\+?[\d\s().\-/]+$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# A "+" then ASCII digits, not 0 first (a country code never starts with 0): ``_parse`` reads
# these itself. The library's limit on the text is 250 characters.
_PLUS_DIGITS = re.compile(r"\+[1-9][0-9]{2,248}")
# ASCII digits alone, as a national number (``_parse`` reads them in a region itself)
_NATIONAL_DIGITS = re.compile(r"[0-9]{2,250}")
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)
# What parse keeps of a national number stripped of its national prefix only when the rest is
# of a possible length.
_NOT_STRIPPED = (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY, ValidationResult.INVALID_LENGTH)


def _region(code: str | None) -> str | None:
    if not code:
        return None
    region = standardise_country(code)
    if region and phonenumbers.country_code_for_region(region):
        return region
    return None


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber:
    """``phonenumbers.parse(text, region)``; raises its NumberParseException.

    Numbers reach the library as ASCII digits: after a "+" and a country code (a gateway's
    E.164, a number after ``_read_digits``), or national, read in the record's region. For
    those most of ``parse`` finds nothing to do: no text before or after the number to cut,
    no extension, no RFC 3966 context, nothing to normalise (its per-character normalisation
    of Unicode digits, twice for a national number, was most of a staging night's phone
    parsing). ``_parse_plus_digits`` and ``_parse_national_digits`` run only the steps that
    act on such text, each the library's own function, in the library's order; any other
    text, and any the library rejects, goes to ``phonenumbers.parse``. Tests compare the two
    (``test_phone_sameness.py``)."""
    # (in the non-geographic "region" 001 the library reads a +800 number without metadata)
    if region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY and _PLUS_DIGITS.fullmatch(text):
        number = _parse_plus_digits(text[1:])
        if number is not None:
            return number
    elif region in _REGIONS and _NATIONAL_DIGITS.fullmatch(text):
        number = _parse_national_digits(text, region)
        if number is not None:
            return number
    return phonenumbers.parse(text, region)


def _parse_plus_digits(digits: str) -> phonenumbers.PhoneNumber | None:
    """``phonenumbers.parse("+" + digits, region)`` (any region) for ASCII ``digits`` of at least
    three, not starting with 0; None where the library would not give a number this way (no
    known country code, or a national number of an impossible length: it raises there)."""
    for length in (1, 2, 3):  # _extract_country_code: country codes are prefix-free
        code = int(digits[:length])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, phonenumbers.region_code_for_country_code(code))
    return None if metadata is None else _national_number(code, digits[length:], metadata)


def _parse_national_digits(digits: str, region: str) -> phonenumbers.PhoneNumber | None:
    """``phonenumbers.parse(digits, region)`` for ASCII ``digits`` (at least two) and a region the
    library knows; None where it would not give a number this way (it raises there). The
    library's ``_maybe_extract_country_code`` for such text: an international prefix of the
    region's then a country code, else the region's own country code at the start when the
    rest reads better (as the library decides), else the region's number as written."""
    metadata = PhoneMetadata.metadata_for_region(region)
    idd = metadata.international_prefix if metadata.international_prefix is not None else "NonMatch"
    dialled_abroad, number = _parse_prefix_as_idd(re_compile(idd), digits)
    if dialled_abroad:
        if len(number) <= 2:
            return None
        code, national = _extract_country_code(number)
        if code == 0:
            return None
    else:
        code, national = 0, digits
        own = str(metadata.country_code)
        if digits.startswith(own):
            _, rest, _ = _maybe_strip_national_prefix_carrier_code(digits[len(own) :], metadata)
            general = metadata.general_desc
            if (
                not _match_national_number(digits, general, False) and _match_national_number(rest, general, False)
            ) or _test_number_length(digits, metadata) == ValidationResult.TOO_LONG:
                code, national = metadata.country_code, rest
    if code == 0:  # the region's number as written, read with the region's metadata
        return _national_number(metadata.country_code, national, metadata)
    main_region = phonenumbers.region_code_for_country_code(code)
    if main_region != region:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, main_region)
    return _national_number(code, national, metadata)


def _national_number(code: int, national: str, metadata: PhoneMetadata) -> phonenumbers.PhoneNumber | None:
    """The end of ``phonenumbers.parse`` once it has the country code ``code``, the digits after
    it, ``national``, and the metadata they are read with: the national prefix stripped when
    the rest is of a possible length; None where the library raises."""
    if len(national) < 2:
        return None
    _, stripped, _ = _maybe_strip_national_prefix_carrier_code(national, metadata)
    if _test_number_length(stripped, metadata) not in _NOT_STRIPPED:
        national = stripped
    if not 2 <= len(national) <= 17:
        return None
    number = PhoneNumber(country_code=code)
    _set_italian_leading_zeros_for_phone_number(national, number)
    number.national_number = int(national)
    return number


def _valid_number(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = _parse(text, region)
    except NumberParseException:
        return None
    if number.extension or not _is_valid_number(number):
        return None
    return number


def _is_valid_number(number: phonenumbers.PhoneNumber) -> bool:
    """``phonenumbers.is_valid_number``, without naming the number's type.

    The library finds the type by trying the region's number patterns one by one (premium
    rate, toll free, … fixed line, then mobile: eleven regular expressions for a mobile
    number) and calls the number valid when one matches. Whether any matches does not depend
    on the order, so this tries mobile and fixed line first and stops at the first match.
    The rest is the library's own code path (``is_valid_number_for_region``).
    """
    region = phonenumbers.region_code_for_number(number)
    if region is None:
        return False
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(number.country_code, region.upper())
    if metadata is None or (
        region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
        and number.country_code != phonenumbers.country_code_for_valid_region(region)
    ):
        return False
    national = phonenumbers.national_significant_number(number)
    if not _is_number_matching_desc(national, metadata.general_desc):
        return False
    # The library tests mobile only when its pattern is not the fixed line's (then a fixed
    # line match is the answer either way).
    if not metadata.same_mobile_and_fixed_line_pattern and _is_number_matching_desc(national, metadata.mobile):
        return True
    return any(
        _is_number_matching_desc(national, desc)
        for desc in (
            metadata.fixed_line,
            metadata.premium_rate,
            metadata.toll_free,
            metadata.shared_cost,
            metadata.voip,
            metadata.personal_number,
            metadata.pager,
            metadata.uan,
            metadata.voicemail,
        )
    )


def _valid_e164(text: str, region: str | None) -> str | None:
    number = _valid_number(text, region)
    return None if number is None else phonenumbers.format_number(number, PhoneNumberFormat.E164)


@text_cache(262_144)
def check_phone(raw: object, default_region: str = "SE", country_hint: str | None = None) -> Checked:
    """Standardise ``raw`` to E.164 and say what is wrong with it.

    ``country_hint`` is the country of the record's address (code or name); a
    number written without a country code is read in it, else in
    ``default_region``. Flags: ``invalid_phone``, ``phone_lost_precision``,
    ``phone_has_extension``, ``phone_unverified_range`` (kept: a full international
    number of the right length in a range phonenumbers does not know).
    """
    return _read_phone(raw, default_region, country_hint)[0]


def check_phone_junk(raw: object, default_region: str = "SE", country_hint: str | None = None) -> tuple[Checked, bool]:
    """``check_phone`` and ``is_junk_phone`` of its value, from one reading of the number.

    ``is_junk_phone`` parses the E.164 value again for its national number; when the number
    was written in E.164 already (a gateway's, a shop's), that parse is the one ``check_phone``
    made, so its national number is used instead of parsing the same text twice.
    """
    return _with_junk(*_read_phone(raw, default_region, country_hint))


def _with_junk(checked: Checked, national: str | None) -> tuple[Checked, bool]:
    """``checked`` and ``is_junk_phone`` of its value (``national``: see ``_read_phone``)."""
    if checked.value is None:
        return checked, False
    if national is None:
        return checked, is_junk_phone(checked.value)
    return checked, junk_phone_digits(checked.value[1:], national)


def _read_phone(raw: object, default_region: str, country_hint: str | None) -> tuple[Checked, str | None]:
    """``check_phone``'s answer, and the national number of its value when the number was read
    from that very text (None otherwise)."""
    text = as_text(raw)
    if text is None:
        return Checked(None), None
    if len(text) > _MAX_RAW_LENGTH:
        return Checked(None, ("invalid_phone",)), None
    text = text.strip("'\"")  # a spreadsheet's text marker or stray quotes
    if _SCIENTIFIC.match(text.replace(" ", "")):
        return Checked(None, ("invalid_phone", "phone_lost_precision")), None
    if _EXTENSION.search(text):
        return Checked(None, ("invalid_phone", "phone_has_extension")), None
    artefact = _FLOAT_ARTEFACT.match(text)
    if artefact:
        text = artefact.group(1)
    # "+46 (0)70 …": the bracketed trunk zero is not dialled from abroad.
    text = _TRUNK_IN_BRACKETS.sub(" ", text).strip()
    if not _ALLOWED.match(text) or not text.isascii():
        return Checked(None, ("invalid_phone",)), None
    digits = re.sub(r"\D", "", text)
    if not digits:
        return Checked(None, ("invalid_phone",)), None
    return _read_digits(text.startswith("+"), digits, default_region, country_hint)


def check_written_phone_junk(
    written: str, default_region: str = "SE", country_hint: str | None = None
) -> tuple[Checked, bool]:
    """``check_phone_junk`` of a number written as ASCII digits, spaces and hyphens after an
    optional "+" (``070-123 45 67``, ``+46 70 123 45 67``), given as that "+" and its digits
    alone (``0701234567``, ``+46701234567``): ``_read_phone`` keeps nothing else of such text,
    so its answer is the raw text's. The ``std_phone*`` macros (macros.sql) hand these forms
    here, sparing the text checks, and every way of writing one number is one distinct value."""
    return _with_junk(*_read_written(written, default_region, country_hint))


def check_written_phone(written: str, default_region: str = "SE", country_hint: str | None = None) -> Checked:
    """``check_phone`` of a number given as ``check_written_phone_junk`` takes it, without the
    junk test (``std_phone`` wants the value alone)."""
    return _read_written(written, default_region, country_hint)[0]


def _read_written(written: str, default_region: str, country_hint: str | None) -> tuple[Checked, str | None]:
    plus = written.startswith("+")
    return _read_digits(plus, written[1:] if plus else written, default_region, country_hint)


def _read_digits(plus: bool, digits: str, default_region: str, country_hint: str | None) -> tuple[Checked, str | None]:
    """``_read_phone`` of a number whose text, once cleaned, is its ``digits`` after a "+"
    (``plus``) or not."""
    international = plus or digits.startswith("00")
    if plus:
        candidates = ("+" + digits.lstrip("0"),) if digits.startswith("00") else ("+" + digits,)
    elif international:
        candidates = ("+" + digits[2:],)
    else:
        # In the record's region first (this also handles a national number
        # whose trunk 0 was lost, and the region's own country code without "+");
        # then as an international number whose "+" a spreadsheet dropped.
        candidates = (digits,) if digits.startswith("0") else (digits, "+" + digits)
    # The rest is phonenumbers, read once per (candidates, region) however many ways the
    # number was written (``_check_candidates`` is cached). A number after "+" that starts
    # with a country code is read alike in every region, so it is read once for all.
    if international and _has_country_code(candidates[0][1:]):
        return _check_candidates(candidates, True, None)
    return _check_candidates(candidates, international, _region(country_hint) or _region(default_region))


def _reparsed_alike(number: phonenumbers.PhoneNumber) -> bool:
    """Whether parsing ``number``'s E.164 form (as ``is_junk_phone`` does) gives its national
    number back; when False, it may or may not.

    ``phonenumbers.parse`` reads "+<code><national significant number>" in the main region
    of the code and, after the code, strips a national prefix (or applies the region's prefix
    rewrite) only when its ``national_prefix_for_parsing`` matches at the start of what
    follows; otherwise the national number is those digits as they are. (A number written as
    its E.164 value is this very parse: see ``_check_candidates``.)
    """
    code = number.country_code
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, phonenumbers.region_code_for_country_code(code))
    if metadata is None:
        return False
    prefix = metadata.national_prefix_for_parsing
    return not prefix or re.match(prefix, phonenumbers.national_significant_number(number)) is None


def _has_country_code(digits: str) -> bool:
    """Whether ``digits`` start with a country calling code, as phonenumbers looks for one after
    a "+" (the first 1 to 3 digits that are a code; codes are prefix-free). Only when they do
    not does ``phonenumbers.parse`` read a "+" number in its region (it then tries the digits
    as a national number, or after the region's international prefix)."""
    if len(digits) <= 2 or digits.startswith("0"):  # too short to parse, or no code: region matters
        return False
    return any(int(digits[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE for n in (1, 2, 3))


def calling_code_pattern() -> str:
    """A regular expression matching a "+" then a country calling code at the start of a text,
    as ``_has_country_code`` finds one (the codes are prefix-free): the SQL key of
    ``staging.phone_lookup`` (macros.sql) reads a number that has one in no region."""
    return "^\\+(" + "|".join(sorted(map(str, phonenumbers.COUNTRY_CODE_TO_REGION_CODE))) + ")"


@lru_cache(maxsize=262_144)
def _check_candidates(
    candidates: tuple[str, ...], international: bool, region: str | None
) -> tuple[Checked, str | None]:
    """``_read_phone`` of a number read as ``candidates`` (the first valid one wins) in
    ``region``; ``international``: it was written with a "+" or "00"."""
    for candidate in candidates:
        number = _valid_number(candidate, region)
        if number is not None:
            # The national number of the value, for is_junk_phone, when parsing the value would
            # give this number's: written as the value already (a "+" then a country code reads
            # alike in every region), or no national prefix to strip at its start.
            value = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            same = value == candidate or _reparsed_alike(number)
            return Checked(value), (str(number.national_number) if same else None)
        if candidate.startswith("+"):
            # "+46 070 …": a trunk 0 written after the country code.
            value = _retry_without_trunk_zero(candidate)
            if value is not None:
                return Checked(value), None
    if international:
        # Written in full international form, by a gateway or a person who knew it: trust
        # it when its length fits the country, even if phonenumbers' range tables (which
        # lag behind operators' new number blocks) do not know it yet.
        value = _possible_e164(candidates[0])
        if value is not None:
            return Checked(value, ("phone_unverified_range",)), None
    return Checked(None, ("invalid_phone",)), None


def _possible_e164(candidate: str) -> str | None:
    try:
        number = _parse(candidate, None)
    except NumberParseException:
        return None
    national = phonenumbers.national_significant_number(number)
    if (
        number.extension
        or phonenumbers.region_code_for_number(number) in (None, "ZZ")
        or national.startswith("0")
        or len(set(national)) == 1
    ):
        return None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _retry_without_trunk_zero(candidate: str) -> str | None:
    for cc_length in (1, 2, 3):
        code, rest = candidate[1 : 1 + cc_length], candidate[1 + cc_length :]
        if rest.startswith("0") and phonenumbers.region_code_for_country_code(int(code or 0)) != "ZZ":
            return _valid_e164("+" + code + rest[1:], None)
    return None


def standardise_phone(raw: object, default_region: str = "SE", country_hint: str | None = None) -> str | None:
    """The number in E.164 (``+46701234567``), or None when it is not a valid phone number."""
    return check_phone(raw, default_region, country_hint).value


def phone_flags(raw: object, default_region: str = "SE", country_hint: str | None = None) -> list[str]:
    """Data-quality flags for ``raw``: ``invalid_phone``, ``phone_lost_precision``, ``phone_has_extension``."""
    return list(check_phone(raw, default_region, country_hint).flags)
