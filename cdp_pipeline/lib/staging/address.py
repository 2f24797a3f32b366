"""Postal addresses: country codes, postcodes, streets and cities.

Display forms keep the address readable (NFC, single spaces, title case where
the source shouted). ``match_street`` is a separate, lossy form for comparing
two addresses: lower case ASCII with common abbreviations expanded.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import phonenumbers

from ._common import Checked, as_text, fold_ascii, is_shouting_or_whispering, text_cache, title_word

# ISO 3166-1 alpha-2 codes we recognise: every region phonenumbers knows
# (it tracks ISO closely) minus its non-country "001" entries.
_ISO2 = frozenset(r for r in phonenumbers.SUPPORTED_REGIONS if r.isalpha()) | {"XK"}

# Names people write for a country that are no country's name in CLDR: the nations of the
# United Kingdom, long official names, "America", dotted abbreviations (``U.S.A.`` folds to
# ``u s a``), IOC/EU codes. Every other name comes from ``_country_lookup`` below.
_COLLOQUIAL_COUNTRY_NAMES = {
    "GB": [
        "great britain",
        "britain",
        "england",
        "scotland",
        "wales",
        "northern ireland",
        "u k",
        "united kingdom of great britain and northern ireland",
    ],
    "US": ["united states of america", "america", "u s", "u s a"],
    "DE": ["ger"],
    "GR": ["el"],
}


def _fold_key(text: str) -> str:
    """``Côte d'Ivoire`` -> ``cote d ivoire``; a name in another script (``বাংলাদেশ``), which
    has no ASCII form, is only case-folded."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold_ascii(text)).split()) or " ".join(text.casefold().split())


# ``cldr_country_lookup``'s answer, written by ``write_country_names`` (a test compares the two):
# building it reads a hundred of babel's locales, ~0.36 CPU s in every process that reads a
# country (the night's staging/identity_records); the file loads in ~3 ms.
COUNTRY_NAMES = Path(__file__).with_name("country_names.json")


@lru_cache(maxsize=1)
def _country_lookup() -> dict[str, str]:
    """Folded country name or code -> ISO alpha-2 (``cldr_country_lookup``, as stored in
    ``COUNTRY_NAMES``)."""
    return json.loads(COUNTRY_NAMES.read_text(encoding="utf-8"))


def cldr_country_lookup() -> dict[str, str]:
    """Folded country name or code -> ISO alpha-2, for every country phonenumbers knows.

    Names are CLDR's (through babel): each country's name in English and in every official
    language of every country, so ``Sverige``, ``Deutschland``, ``Sydafrika`` and
    ``বাংলাদেশ`` are all found; alpha-3 and retired codes (``SWE``, ``UK``) are CLDR's territory
    aliases. A folded name that means two countries (``Kongo``) is left out, not guessed.
    """
    from babel import Locale, UnknownLocaleError
    from babel.core import get_global
    from babel.languages import get_official_languages

    languages = {"en"} | {lang for code in _ISO2 for lang in get_official_languages(code, de_facto=True)}
    seen: dict[str, set[str]] = {}
    for language in sorted(languages):
        try:
            territories = Locale.parse(language).territories
        except (UnknownLocaleError, ValueError):
            continue  # an official language CLDR has no locale data for
        for code, name in territories.items():
            if code in _ISO2:
                seen.setdefault(_fold_key(name), set()).add(code)
    for alias, targets in get_global("territory_aliases").items():
        if alias.isalpha() and len(targets) == 1 and targets[0] in _ISO2:
            seen.setdefault(alias.lower(), set()).add(targets[0])
    for code, names in _COLLOQUIAL_COUNTRY_NAMES.items():
        for name in names:
            seen.setdefault(name, set()).add(code)
    return {key: codes.pop() for key, codes in seen.items() if key and len(codes) == 1}


@text_cache(4096)
def standardise_country(raw: object) -> str | None:
    """ISO 3166-1 alpha-2 code for a country code or name (``Sverige`` → ``SE``), else None.

    Accepts alpha-2 and alpha-3 codes in any case, and a country's name in English or in
    any country's official language (``_country_lookup``); a leading "the" is ignored.
    """
    text = as_text(raw)
    if text is None or len(text) > 80:
        return None
    key = _fold_key(text)
    code = key.upper()
    if len(code) == 2 and code in _ISO2:
        return code
    lookup = _country_lookup()
    if key in lookup:
        return lookup[key]
    if key.startswith("the ") and key[4:] in lookup:
        return lookup[key[4:]]
    return None


# Country prefixes written in front of postcodes (SE-123 45, D-10115, FIN-00100).
_POSTCODE_PREFIX = re.compile(r"^(?:SE|S|DK|DEN|NO|N|FI|FIN|SF|D|DE|IS|GB|UK)\s*[-–]\s*|^(?:SE|DK|NO|FI|DE)\s+(?=\d)")
_GB_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$")
# Countries whose postcodes are all digits, by length.
_DIGIT_POSTCODES = {"SE": 5, "FI": 5, "DE": 5, "DK": 4, "NO": 4, "IS": 3, "EE": 5, "FR": 5, "ES": 5, "IT": 5}
# Where a leading zero is a real part of the postcode (FI 00100 Helsinki,
# DE 01067 Dresden, NO 0150 Oslo) a spreadsheet that saw a number dropped it;
# the length is fixed, so padding back is unambiguous.
_LEADING_ZERO_POSSIBLE = {"FI", "DE", "NO", "DK", "FR", "ES", "IT"}


def _postcode_for(text: str, country: str) -> str | None:
    if country in _DIGIT_POSTCODES:
        digits = re.sub(r"[\s-]", "", text)
        if not digits.isdigit() or not digits.isascii():
            return None
        width = _DIGIT_POSTCODES[country]
        if len(digits) < width and country in _LEADING_ZERO_POSSIBLE and len(digits) >= width - 2:
            digits = digits.zfill(width)
        if len(digits) != width:
            return None
        if country == "SE":
            # Sweden writes "123 45"; Swedish postcodes never start with 0.
            return None if digits[0] == "0" else f"{digits[:3]} {digits[3:]}"
        return digits
    if country == "US":
        # ZIP or ZIP+4. A spreadsheet that saw a number dropped the leading zeros of New England's
        # and Puerto Rico's ZIPs (02134 → 2134, 00501 → 501) and the hyphen of a ZIP+4
        # (021341234): every ZIP has five digits, so padding back is unambiguous.
        digits = text.replace("-", "") if re.fullmatch(r"\d{5}-\d{4}", text) else text
        if not digits.isdigit() or not digits.isascii():
            return None
        if 3 <= len(digits) <= 5:
            return digits.zfill(5)
        return f"{digits[:5]}-{digits[5:]}" if len(digits) == 9 else None
    if country == "GB":
        compact = re.sub(r"\s", "", text)
        match = _GB_POSTCODE.match(compact)
        return f"{match.group(1)} {match.group(2)}" if match else None
    return _generic_postcode(text)


def _generic_postcode(text: str) -> str | None:
    if len(text) > 12 or not re.fullmatch(r"[A-Z0-9][A-Z0-9 -]*", text) or not text.isascii():
        return None
    return text


@text_cache(65_536)
def check_postcode(raw: object, country: str | None = None, default_country: str | None = None) -> Checked:
    """Standardise a postcode for ``country``; flag ``invalid_postcode`` when it cannot be one.

    ``country`` is the record's own country (code or name). When it is unknown,
    ``default_country`` is tried first and, if the postcode does not fit it, the
    postcode is only cleaned (upper case, single spaces), not rejected.
    """
    text = as_text(raw)
    if text is None:
        return Checked(None)
    # Spreadsheets mark text cells with a leading apostrophe ('75008).
    text = text.lstrip("'’`\"").rstrip("'’`\"").strip().upper()
    text = _POSTCODE_PREFIX.sub("", text).strip()
    if not text:
        return Checked(None, ("invalid_postcode",))
    code = standardise_country(country) if country else None
    if code:
        value = _postcode_for(text, code)
        return Checked(value) if value else Checked(None, ("invalid_postcode",))
    default = standardise_country(default_country) if default_country else None
    if default:
        value = _postcode_for(text, default)
        if value:
            return Checked(value)
    value = _generic_postcode(text)
    return Checked(value) if value else Checked(None, ("invalid_postcode",))


def standardise_postcode(raw: object, country: str | None = None, default_country: str | None = None) -> str | None:
    """Postcode in the country's own format (SE ``123 45``, DK/NO ``1234``, FI/DE ``12345``, GB ``SW1A 1AA``)."""
    return check_postcode(raw, country, default_country).value


# Words kept lower case inside a street or city name.
_LOWER_WORDS = frozenset({"c/o", "och", "and", "of", "the", "i", "på", "vid", "am", "an", "der", "im", "bei"})


def _title_address(text: str) -> str:
    words = []
    for index, word in enumerate(text.split(" ")):
        if any(ch.isdigit() for ch in word):
            words.append(word.upper())  # house numbers: 12b → 12B
        elif index > 0 and word.lower() in _LOWER_WORDS:
            words.append(word.lower())
        else:
            words.append("-".join(title_word(part) for part in word.split("-")))
    return " ".join(words)


@text_cache(65_536)
def standardise_street(raw: object) -> str | None:
    """Street line for display: NFC, single spaces, title case when the source shouted or whispered."""
    text = as_text(raw)
    if text is None:
        return None
    text = re.sub(r"\s*,\s*", ", ", text).strip(" ,")
    if not text:
        return None
    return _title_address(text) if is_shouting_or_whispering(text) else text


# Street-type abbreviations and their full words, applied to folded text.
_STREET_ABBREVIATIONS = [
    (re.compile(r"(?<=[a-z])g\.(?=\s|$|\d)"), "gatan"),
    (re.compile(r"(?<=[a-z])v\.(?=\s|$|\d)"), "vagen"),
    (re.compile(r"(?<=[a-z])str\.(?=\s|$|\d)"), "strasse"),
    (re.compile(r"\bg\.(?=\s|$|\d)"), "gatan"),
    (re.compile(r"\bv\.(?=\s|$|\d)"), "vagen"),
    (re.compile(r"\bstr\.(?=\s|$|\d)"), "strasse"),
    (re.compile(r"(?<=[a-z])strase\b"), "strasse"),
]


@text_cache(65_536)
def match_street(raw: object) -> str | None:
    """Street line for comparison: ASCII lower case, ``Storg.`` → ``storgatan``, ``12 B`` → ``12b``."""
    text = as_text(raw)
    if text is None:
        return None
    text = fold_ascii(text)
    for pattern, replacement in _STREET_ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    text = re.sub(r"(?<=\d) (?=[a-z]\b)", "", text)  # 12 b → 12b
    return text or None


@text_cache(65_536)
def standardise_city(raw: object) -> str | None:
    """City for display: NFC, single spaces, title case when shouted; a leading postcode is removed."""
    text = as_text(raw)
    if text is None:
        return None
    # "123 45 STOCKHOLM" / "SE-123 45 Stockholm": a postcode typed into the city field.
    text = re.sub(r"^(?:[A-Z]{1,3}-)?\d{3}\s?\d{2}\s+|^\d{4}\s+", "", text).strip(" ,")
    if not text or not any(ch.isalpha() for ch in text):
        return None
    return _title_address(text) if is_shouting_or_whispering(text) else text


def write_country_names(path: Path = COUNTRY_NAMES) -> None:
    """Store ``cldr_country_lookup`` where ``_country_lookup`` reads it (after a babel upgrade:
    ``python -c "from cdp_pipeline.lib.staging.address import write_country_names; write_country_names()"``)."""
    names = cldr_country_lookup()
    path.write_text(json.dumps(names, ensure_ascii=False, sort_keys=True, indent=0) + "\n", encoding="utf-8")
