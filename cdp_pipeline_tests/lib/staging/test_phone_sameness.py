"""check_phone reads each number once per what its answer depends on, and answers as before.

``_reference_check_phone`` is check_phone as it was before it was split into a text step and
a phonenumbers step cached on (candidates, region), the region left out for a "+" number
that starts with a country code, and before it asked validity without naming the type
(``_is_valid_number``). These change how often and how long phonenumbers runs, never an
answer: these tests compare the two over real-looking, generated and hostile numbers, in
every region and with the record countries that change how a "+" number is read, and the
validity with the library's over every region's numbers and their near misses.
"""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from cdp_pipeline.lib.staging import junk as J
from cdp_pipeline.lib.staging import phone as P
from cdp_pipeline.lib.staging import phone_sql as S
from cdp_pipeline.lib.staging._common import Checked, as_text


def _reference_valid_e164(text, region):
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if number.extension or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _reference_retry_without_trunk_zero(candidate):
    for cc_length in (1, 2, 3):
        code, rest = candidate[1 : 1 + cc_length], candidate[1 + cc_length :]
        if rest.startswith("0") and phonenumbers.region_code_for_country_code(int(code or 0)) != "ZZ":
            return _reference_valid_e164("+" + code + rest[1:], None)
    return None


def _reference_check_phone(raw, default_region="SE", country_hint=None) -> Checked:
    text = as_text(raw)
    if text is None:
        return Checked(None)
    if len(text) > P._MAX_RAW_LENGTH:
        return Checked(None, ("invalid_phone",))
    text = text.strip("'\"")
    if P._SCIENTIFIC.match(text.replace(" ", "")):
        return Checked(None, ("invalid_phone", "phone_lost_precision"))
    if P._EXTENSION.search(text):
        return Checked(None, ("invalid_phone", "phone_has_extension"))
    artefact = P._FLOAT_ARTEFACT.match(text)
    if artefact:
        text = artefact.group(1)
    text = P._TRUNK_IN_BRACKETS.sub(" ", text).strip()
    if not P._ALLOWED.match(text) or not text.isascii():
        return Checked(None, ("invalid_phone",))
    digits = re.sub(r"\D", "", text)
    if not digits:
        return Checked(None, ("invalid_phone",))
    region = P._region(country_hint) or P._region(default_region)
    if text.startswith("+"):
        candidates = ["+" + digits.lstrip("0")] if digits.startswith("00") else ["+" + digits]
    elif digits.startswith("00"):
        candidates = ["+" + digits[2:]]
    else:
        candidates = [digits]
        if not digits.startswith("0"):
            candidates.append("+" + digits)
    for candidate in candidates:
        value = _reference_valid_e164(candidate, region)
        if value is None and candidate.startswith("+"):
            value = _reference_retry_without_trunk_zero(candidate)
        if value is not None:
            return Checked(value)
    if text.startswith("+") or digits.startswith("00"):
        value = P._possible_e164(candidates[0])
        if value is not None:
            return Checked(value, ("phone_unverified_range",))
    return Checked(None, ("invalid_phone",))


# Record countries: none, the usual ones, and regions whose international prefix makes
# phonenumbers read a "+" number without a known country code differently (Israel's 01x,
# the US's 011, Russia's 810, Japan's 010, Australia's 0011, Brazil's 00xx), and junk.
HINTS = [
    None,
    "SE",
    "NO",
    "DK",
    "FI",
    "DE",
    "GB",
    "US",
    "CA",
    "IL",
    "RU",
    "KZ",
    "JP",
    "AU",
    "BR",
    "IT",
    "AR",
    "MX",
    "CN",
    "IN",
    "Sverige",
    "zz",
    "001",
    "",
]
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


def _example_numbers() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    """(region, number): the library's example number of every number type of every region."""
    examples = (
        (r, phonenumbers.example_number_for_type(r, kind)) for r in REGIONS for kind in PhoneNumberType.values()
    )
    return [(region, number) for region, number in examples if number is not None]


def _same(raw, default_region="SE", hint=None):
    P.check_phone.cache_clear()
    P._check_candidates.cache_clear()
    J.is_junk_phone.cache_clear()
    expected = _reference_check_phone(raw, default_region, hint)
    assert P.check_phone(raw, default_region, hint) == expected, (raw, default_region, hint)
    # check_phone_junk: the same reading, and is_junk_phone of its value (not read from it)
    assert P.check_phone_junk(raw, default_region, hint) == (expected, J.is_junk_phone(expected.value))
    # and from a warm cache, where an earlier call in another region answered first
    for other in ("IL", "US", None):
        P.check_phone(raw, default_region, other)
    assert P.check_phone(raw, default_region, hint) == expected, (raw, default_region, hint)


def _examples() -> list[str]:
    """Example numbers of every region and type, in the ways people and systems write them."""
    out = []
    for region in REGIONS:
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            out += [
                e164,
                e164[1:],
                "00" + e164[1:],
                "+0" + e164[1:],
                "+00" + e164[1:],
                national,
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                str(number.national_number),
                e164[:-1],
                e164 + "9",
            ]
    return out


def test_every_regions_examples_in_every_form_and_record_country():
    for raw in _examples():
        for hint in ("SE", None, "IL", "US", "RU", "JP"):
            _same(raw, "SE", hint)


@pytest.mark.parametrize(
    "raw",
    [
        # "+" then no known country code: phonenumbers reads the digits in the region
        "+0121 46 70 123 45 67",
        "+01146701234567",
        "+81046701234567",
        "+01046701234567",
        "+0011 46 70 123 45 67",
        "+0046701234567",
        "+000",
        "+0",
        "+00",
        "+1",
        "+12",
        "+123",
        "+80 1234 5678",
        "+83 1234 567",
        "+89 123 4567",
        "+99946701234567",
        "+28 1234 5678",
        "+46 (0)70-123 45 67",
        "+46 070 123 45 67",
        "0046 070 123 45 67",
        "000046701234567",
        "00 0 46 70 123 45 67",
        "+1 650 253 0000",
        "+7 701 123 4567",
        "+7 912 345 67 89",
        "+44 7400 123456",
        "+44 1624 756789",
        "+39 06 1234 5678",
        "+54 9 11 1234 5678",
        "+52 1 55 1234 5678",
        "+800 1234 5678",
        "+882 1234 5678",
        "+979 123 456 789",
        "070-123 45 67",
        "0701234567",
        "701234567",
        "46701234567",
        "4670 123 45 67",
        "810 46 70 123 45 67",
        "011 46 70 123 45 67",
        "'+46701234567",
        "46701234567.0",
        "+46701234567.0",
        "+4520054791",
        "004520054791",
        "+45 2005 479",
        # junk: is_junk_phone reads a "+" number's national number (a prefix, then one digit)
        "+46701111111",
        "+46 70 111 11 11",
        "070-111 11 11",
        "+4520000000",
        "+4791111111",
        "+447000000000",
        "+393333333333",
        "+12025550000",
        "+46123456789",
        "+358401234567",
    ],
)
@pytest.mark.parametrize("hint", HINTS)
def test_hostile_numbers_in_every_record_country(raw, hint):
    _same(raw, "SE", hint)
    _same(raw, "US", hint)


PHONE_TEXT = st.text(alphabet="0123456789 +-()./", min_size=1, max_size=22)
INTERNATIONAL = st.builds(
    lambda lead, digits: lead + digits,
    st.sampled_from(["+", "00", "+0", "+00", "000", "+1", "+4", "+8", "+9", ""]),
    st.text(alphabet="0123456789", min_size=1, max_size=16),
)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(PHONE_TEXT, INTERNATIONAL), st.sampled_from(HINTS), st.sampled_from(["SE", "US", "IL", "GB"]))
def test_generated_numbers(raw, hint, default_region):
    _same(raw, default_region, hint)


def test_many_random_numbers_after_a_plus_in_many_regions():
    rng = random.Random(19)
    for _ in range(4000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 16)))
        raw = rng.choice(["+", "00", "+0", ""]) + digits
        _same(raw, rng.choice(REGIONS), rng.choice(HINTS))


def test_the_region_is_left_out_only_after_a_country_code():
    assert P._has_country_code("46701234567")
    assert P._has_country_code("1650")
    assert P._has_country_code("800123")
    assert not P._has_country_code("0121467")  # Israel's international prefix, not a code
    assert not P._has_country_code("80123456")  # 8, 80 and 801 are no country's code
    assert not P._has_country_code("46")  # too short: phonenumbers stops before the code


def test_junk_from_the_reading_of_a_number_written_in_e164():
    # the national number comes from check_phone's own parse: the prefix 70 then 1111111
    P._check_candidates.cache_clear()
    assert P._read_phone("+46701111111", "SE", None) == (Checked("+46701111111"), "701111111")
    assert P.check_phone_junk("+46701111111") == (Checked("+46701111111"), True)
    assert P.check_phone_junk("+46701234567") == (Checked("+46701234567"), False)
    # written otherwise: Sweden's national prefix (0) is not at the start of 701111111, so
    # parsing the value gives the same national number
    assert P._read_phone("070-111 11 11", "SE", None) == (Checked("+46701111111"), "701111111")
    assert P.check_phone_junk("070-111 11 11") == (Checked("+46701111111"), True)


def test_a_national_number_is_reused_only_when_parsing_the_e164_value_gives_it_back():
    rng = random.Random(3)
    reused = 0
    for region, example in _example_numbers():
        for number in _variants(example, rng):
            if not phonenumbers.is_valid_number(number):
                continue
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            again = phonenumbers.parse(e164, None).national_number
            if P._reparsed_alike(number):
                assert again == number.national_number, e164
                reused += 1
            # and through check_phone_junk, written nationally in its region
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            _same(national, region, region)
    assert reused > 5000


def _variants(number: phonenumbers.PhoneNumber, rng: random.Random) -> list[phonenumbers.PhoneNumber]:
    """The number, each digit changed, one digit fewer and more, and random numbers as long."""
    national = phonenumbers.national_significant_number(number)
    texts = {national, national[:-1], national + "0", national + "7"}
    for i in range(len(national)):
        texts.add(national[:i] + str((int(national[i]) + rng.randint(1, 9)) % 10) + national[i + 1 :])
    texts |= {"".join(rng.choice("0123456789") for _ in national) for _ in range(5)}
    out = []
    for text in texts:
        try:
            out.append(phonenumbers.parse(f"+{number.country_code}{text}", None))
        except phonenumbers.NumberParseException:
            pass
    return out


def test_validity_is_the_librarys_for_every_regions_numbers_and_their_near_misses():
    rng = random.Random(5)
    numbers = [number for _, number in _example_numbers()]
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            numbers.append(number)
    assert len(numbers) > 1300  # every region's examples were found
    checked = valid = 0
    for example in numbers:
        for number in _variants(example, rng):
            expected = phonenumbers.is_valid_number(number)
            assert P._is_valid_number(number) == expected, phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
            checked += 1
            valid += expected
    assert checked > 20_000 and 0.1 < valid / checked < 0.9  # both answers were tested, many times


def test_validity_is_the_librarys_for_random_numbers_after_every_country_code():
    rng = random.Random(11)
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for _ in range(40):
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 14)))
            try:
                number = phonenumbers.parse(f"+{code}{digits}", None)
            except phonenumbers.NumberParseException:
                continue
            assert P._is_valid_number(number) == phonenumbers.is_valid_number(number), (code, digits)


@pytest.mark.parametrize(
    "e164, alike",
    [
        ("+46701234567", True),  # Sweden's prefix 0 is not at the start of 701234567
        ("+441134960000", True),  # the UK's 0|180020: neither at the start
        ("+390612345678", True),  # Italy has no national prefix to strip
        ("+78001234567", False),  # Russia's prefix 8 is at the start of 8001234567: not assumed
        ("+5491123456789", False),  # Argentina's optional prefix matches anywhere: not assumed
    ],
)
def test_reparsed_alike_only_without_a_national_prefix_at_the_start(e164, alike):
    number = phonenumbers.parse(e164, None)
    assert phonenumbers.is_valid_number(number)
    assert P._reparsed_alike(number) is alike
    # either way check_phone_junk answers as is_junk_phone does
    _same(e164[1:], "SE", None)
    _same(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        "SE",
        phonenumbers.region_code_for_number(number),
    )


def _parsed(parse, text, region):
    """A parse's number, or the kind of its NumberParseException."""
    try:
        return parse(text, region)
    except phonenumbers.NumberParseException as error:
        return ("raised", error.error_type)


def test_a_plus_and_digits_are_parsed_as_the_library_parses_them():
    # _parse reads a "+" then digits itself: the same number (every field, PhoneNumber's ==)
    # or the same exception as phonenumbers.parse, after every country code and none, at
    # every length up to the library's limit and past it, in regions that read a "+" number
    # differently (001: a non-geographic code's number without metadata)
    rng = random.Random(23)
    texts = []
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for length in range(0, 19):
            texts += [f"+{code}" + "".join(rng.choice("0123456789") for _ in range(length)) for _ in range(3)]
            texts.append(f"+{code}0" + "".join(rng.choice("0123456789") for _ in range(length)))
    texts += ["+" + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 30))) for _ in range(5000)]
    texts += ["+1" + "2" * n for n in range(0, 255)]
    for _, example in _example_numbers():
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        texts += [e164, e164[:-1], e164 + "1", e164[:3] + "0" + e164[3:]]
    read_alone = 0
    for text in texts:
        for region in (None, "SE", "US", "IT", "001", "ZZ"):
            assert _parsed(P._parse, text, region) == _parsed(phonenumbers.parse, text, region), (text, region)
        read_alone += P._parse_plus_digits(text[1:]) is not None if P._PLUS_DIGITS.fullmatch(text) else 0
    assert read_alone > len(texts) // 2  # most were read by _parse_plus_digits, not handed on


def test_digits_are_parsed_in_a_region_as_the_library_parses_them():
    # _parse reads ASCII digits in a region itself: the same number or the same exception as
    # phonenumbers.parse, for every region's numbers written nationally, after its country
    # code, after an international prefix (its own and others'), one digit off, with a
    # national prefix too many, and for random digits, read in their own region and others
    rng = random.Random(29)
    cases = []
    for region, example in _example_numbers():
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        national = phonenumbers.national_significant_number(example)
        written = re.sub(r"\D", "", phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL))
        for text in (
            e164[1:],
            "00" + e164[1:],
            "011" + e164[1:],
            "810" + e164[1:],
            national,
            written,
            written[:-1],
            written + "1",
            "0" + national,
            e164[1:-1],
        ):
            cases += [(text, region), (text, rng.choice(REGIONS))]
    for _ in range(20_000):
        text = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 20)))
        cases.append((text, rng.choice(REGIONS + ["SE"] * 20)))
    cases += [("1" * n, "SE") for n in range(0, 255)] + [("0701234567", r) for r in (None, "001", "ZZ", "se")]
    read_alone = 0
    for text, region in cases:
        assert _parsed(P._parse, text, region) == _parsed(phonenumbers.parse, text, region), (text, region)
        read_alone += (
            region in P._REGIONS
            and bool(P._NATIONAL_DIGITS.fullmatch(text))
            and (P._parse_national_digits(text, region) is not None)
        )
    assert read_alone > len(cases) // 2  # most were read by _parse_national_digits, not handed on


def test_sql_reading_is_the_regions_metadata():
    se = S.sql_reading("SE")
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("SE")
    assert (se["code"], se["national"], se["bare"]) == ("46", True, True)
    assert se["general"] == metadata.general_desc.national_number_pattern
    assert (se["mobile"], se["mobile_lengths"]) == (metadata.mobile.national_number_pattern, [9])
    assert se["fixed"] == metadata.fixed_line.national_number_pattern
    assert se["lengths"] == [6, 7, 8, 9, 10, 12]
    # Denmark has no national prefix: only "+45…" is read in SQL
    assert (S.sql_reading("DK")["code"], S.sql_reading("DK")["national"]) == ("45", False)
    # a code other regions share (+1: the US, Canada, …; +44: GB, Jersey, …): none
    assert S.sql_reading("US")["code"] == S.sql_reading("GB")["code"] == ""
    assert S.sql_reading("XX")["code"] == ""


def test_sql_international_reading_is_every_codes_main_region_metadata():
    reading = S.sql_international_reading()
    se, no = (phonenumbers.PhoneMetadata.metadata_for_region(r) for r in ("SE", "NO"))
    # an alternative per code, the code then its main region's pattern
    assert f"|46(?:{se.general_desc.national_number_pattern})|" in reading["general"]
    assert f"|46(?:{se.mobile.national_number_pattern})|" in reading["mobile"]
    assert "|46[1-9](?:[0-9]{8})|" in reading["mobile_lengths"]
    assert "|46(?:0)[0-9]*|" in reading["prefixed"]  # Sweden's national prefix
    # +47: Norway, then Svalbard; Norway's leading digits pick it
    assert f"|47(?:{no.leading_digits})[0-9]*|" in reading["leading"] and "|46[0-9]*|" in reading["leading"]
    # the non-geographic codes (+800, toll-free): none
    assert "|800(?:" not in reading["general"] and "|800|" not in reading["calling_codes"]
    assert re.match(reading["calling_codes"], "+4520123456").group(1) == "45"
    assert re.match(reading["calling_codes"], "+358401234567").group(1) == "358"
