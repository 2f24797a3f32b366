"""Properties every normaliser keeps on arbitrary input."""

import re
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cdp_pipeline.lib.staging import (
    display_name,
    is_junk_email,
    is_junk_name,
    is_junk_phone,
    match_name,
    match_street,
    parse_bool,
    parse_date,
    parse_money,
    parse_timestamp,
    sms_keyword,
    split_full_name,
    standardise_city,
    standardise_country,
    standardise_email,
    standardise_phone,
    standardise_postcode,
    standardise_street,
)
from cdp_pipeline.lib.staging.phone import E164

ANY_TEXT = st.one_of(st.none(), st.text(max_size=60))
# Text that looks like phone numbers, to reach the parsing paths.
PHONE_LIKE = st.text(alphabet="0123456789 +-()./eE", max_size=20)
NAME_LIKE = st.text(alphabet="abcåäöøæßéABCÅÄÖØÆ -'.", max_size=30)

NORMALISERS = [
    standardise_email,
    standardise_phone,
    display_name,
    match_name,
    split_full_name,
    standardise_postcode,
    standardise_country,
    standardise_street,
    match_street,
    standardise_city,
    parse_date,
    parse_timestamp,
    parse_money,
    parse_bool,
    sms_keyword,
    is_junk_email,
    is_junk_phone,
    is_junk_name,
]


@settings(max_examples=300)
@given(ANY_TEXT)
def test_never_raises_on_arbitrary_text(raw):
    for normalise in NORMALISERS:
        normalise(raw)


@given(st.one_of(ANY_TEXT, PHONE_LIKE), st.sampled_from([None, "SE", "DK", "NO", "FI", "DE", "GB", "zz"]))
def test_phone_output_is_e164_and_idempotent(raw, hint):
    value = standardise_phone(raw, country_hint=hint)
    if value is not None:
        assert E164.match(value)
        assert standardise_phone(value) == value


@given(st.one_of(ANY_TEXT, st.emails()))
def test_email_idempotent_and_lower(raw):
    value = standardise_email(raw)
    if value is not None:
        assert value == value.lower().strip()
        assert value.count("@") == 1 and " " not in value
        assert standardise_email(value) == value


@given(st.one_of(ANY_TEXT, NAME_LIKE))
def test_match_name_is_ascii_lower_without_punctuation(raw):
    value = match_name(raw)
    if value is not None:
        assert re.fullmatch(r"[a-z0-9]+( [a-z0-9]+)*", value)
        assert match_name(value) == value
        # the matching form does not depend on how the name was displayed
        assert match_name(display_name(raw)) in (value, None)


@given(st.one_of(ANY_TEXT, NAME_LIKE))
def test_display_name_idempotent(raw):
    value = display_name(raw)
    if value is not None:
        assert display_name(value) == value
        assert value == value.strip() and "  " not in value


@given(
    st.one_of(ANY_TEXT, st.text(alphabet="0123456789 -'SEse", max_size=10)),
    st.sampled_from([None, "SE", "FI", "DE", "DK", "NO", "GB"]),
)
def test_postcode_idempotent(raw, country):
    value = standardise_postcode(raw, country)
    if value is not None:
        assert standardise_postcode(value, country) == value


@given(ANY_TEXT)
def test_street_and_city_idempotent(raw):
    for normalise in (standardise_street, match_street, standardise_city, standardise_country):
        value = normalise(raw)
        if value is not None:
            assert normalise(value) == value


@given(st.dates())
def test_parse_date_reads_every_written_form(day):
    for text in (
        day.isoformat(),
        f"{day.day:02d}.{day.month:02d}.{day.year:04d}",
        f"{day.day}/{day.month}/{day.year:04d}",
        f"{day.year:04d}{day.month:02d}{day.day:02d}",
    ):
        assert parse_date(text) == day


@given(st.datetimes())
def test_parse_timestamp_round_trips_utc(moment):
    moment = moment.replace(microsecond=moment.microsecond)
    assert parse_timestamp(moment.isoformat() + "Z") == moment
    assert parse_timestamp(moment.isoformat(sep=" "), "UTC") == moment


@given(
    st.decimals(min_value=Decimal("-99999999999.99"), max_value=Decimal("99999999999.99"), places=2),
    st.sampled_from(["plain", "swedish", "german", "english", "dollar", "kr_suffix", "euro_prefix", "parens"]),
)
def test_parse_money_round_trips_formatted_decimals(amount, style):
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    grouped = f"{int(whole):,}"
    text, currency = {
        "plain": (f"{sign}{whole}.{cents}", "SEK"),
        "swedish": (f"{sign}{grouped.replace(',', ' ')},{cents}", "SEK"),
        "german": (f"{sign}{grouped.replace(',', '.')},{cents}", "SEK"),
        "english": (f"{sign}{grouped}.{cents}", "SEK"),
        "dollar": (f"{sign}${grouped}.{cents}", "USD"),
        "kr_suffix": (f"{sign}{whole},{cents} kr", "SEK"),
        "euro_prefix": (f"{sign}€{whole},{cents}", "EUR"),
        "parens": (f"(${grouped}.{cents})" if sign else f"${grouped}.{cents}", "USD"),
    }[style]
    assert parse_money(text) == (amount + 0, currency)


def _as_text_in_full(raw: str) -> str | None:
    """as_text without its ASCII shortcut: every step on every text."""
    import unicodedata

    from cdp_pipeline.lib.staging._common import _INVISIBLE, _WHITESPACE

    text = unicodedata.normalize("NFC", raw).translate(_INVISIBLE)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return _WHITESPACE.sub(" ", text).strip() or None


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text(" \t\n\x1c\x1fab.\u00a0\u200b\u00ad\u00e5a\u030a"))
def test_as_text_shortcut_for_ascii_is_the_full_cleaning(raw):
    from cdp_pipeline.lib.staging._common import as_text

    assert as_text(raw) == _as_text_in_full(raw)
