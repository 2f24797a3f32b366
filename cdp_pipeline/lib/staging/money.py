"""Money amounts as the sources write them, to ``Decimal`` with two places.

Which of ``.`` and ``,`` is the decimal separator is decided per value: the
last separator is decimal when 1-2 digits follow it (``1 234,50``, ``1,234.50``)
or when both kinds appear; a single kind followed by exactly three digits
groups thousands (``1,234`` is 1234). The currency comes from a symbol or ISO
code in the value (``$``, ``€``, ``kr``, ``SEK``), else ``default_currency`` (staging passes
``CDP_CURRENCY``, the warehouse currency). ``kr`` is the default when that is a krona (SEK, DKK,
NOK, ISK), else SEK.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ._common import as_text, text_cache

CENT = Decimal("0.01")
# DECIMAL(18,2) holds 16 digits before the point.
_LIMIT = Decimal(10) ** 16

_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "zł": "PLN", "CHF": "CHF"}
_CODES = frozenset(
    {
        "SEK",
        "DKK",
        "NOK",
        "ISK",
        "EUR",
        "USD",
        "GBP",
        "CHF",
        "PLN",
        "JPY",
        "CAD",
        "AUD",
        "NZD",
        "CZK",
        "HUF",
        "CNY",
        "HKD",
        "SGD",
        "INR",
        "BRL",
        "MXN",
        "ZAR",
        "TRY",
        "RUB",
    }
)
_KRONA = frozenset({"SEK", "DKK", "NOK", "ISK"})
_CURRENCY_TOKEN = re.compile(r"US\$|[$€£¥]|zł|\b[A-Za-z]{3}\b|\bkr\.?(?=\s|\d|$)|\bKr\.?(?=\s|\d|$)|:-")
_NUMBER = re.compile(r"^\d[\d.,]*$|^[.,]\d+$")


def _number(text: str) -> Decimal | None:
    if not _NUMBER.match(text):
        return None
    last = max(text.rfind("."), text.rfind(","))
    if last < 0:
        return Decimal(text)
    separator = text[last]
    tail = text[last + 1 :]
    head = text[:last]
    both_kinds = "." in head and "," in head or (separator == "." and "," in head) or (separator == "," and "." in head)
    repeated = separator in head
    if (len(tail) in (1, 2) and not repeated) or (both_kinds and not repeated and tail.isdigit()):
        integer = head.replace(".", "").replace(",", "") if head else "0"
        if head and not _valid_grouping(head):
            return None
        return Decimal(f"{integer or '0'}.{tail}")
    if len(tail) == 3 and head and _valid_grouping(text):
        return Decimal(text.replace(".", "").replace(",", ""))
    if not repeated and not both_kinds and head in {"", "0"} and tail.isdigit():
        return Decimal(f"0.{tail}")  # 0,125: a fraction, not a thousands group
    return None


def _valid_grouping(text: str) -> bool:
    """``1.234.567`` or ``1234``: one kind of separator, groups of three after the first."""
    if text.isdigit():
        return True
    kinds = {ch for ch in text if ch in ".,"}
    if len(kinds) != 1:
        return False
    groups = re.split(r"[.,]", text)
    if groups[0].startswith("0"):
        return False  # 0,125 is a fraction; nobody writes thousands with a leading zero
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _currency_of(token: str, default_currency: str | None) -> str | None:
    upper = token.upper().rstrip(".")
    if token in _SYMBOLS:
        return _SYMBOLS[token]
    if upper in _CODES or upper == default_currency:
        # the default (CDP_CURRENCY) may be a code the list leaves out (THB): an amount written
        # with the warehouse's own code is an amount
        return upper
    if upper == "KR" or token == ":-":
        # "kr" is the krona in Sweden, Denmark, Norway and Iceland: take the
        # default when it is one of them.
        return default_currency if default_currency in _KRONA else "SEK"
    return None


@text_cache(262_144)
def parse_money(raw: object, default_currency: str | None = "SEK") -> tuple[Decimal | None, str | None]:
    """(amount, ISO currency) from ``1 234,50``, ``"$1,240.00"``, ``($3.00)``, ``99:-``, ``€12,50`` …

    Negative amounts: a leading or trailing minus or parentheses. The amount is
    rounded half-up to two places. Garbage gives (None, None).
    """
    text = as_text(raw)
    if text is None or len(text) > 64:
        return None, None
    text = text.strip("\"'")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    text = text.replace("\u2212", "-")  # the Unicode minus sign
    currency = None
    for token in _CURRENCY_TOKEN.findall(text):
        found = _currency_of(token, default_currency)
        if found is None:
            return None, None  # a word that is not a currency: not an amount
        if currency not in (None, found):
            return None, None
        currency = found
    text = _CURRENCY_TOKEN.sub(" ", text)
    compact = re.sub(r"[\s\u00a0\u202f']", "", text)  # spaces and Swiss 1'234 group thousands
    if compact.startswith("-"):
        negative, compact = True, compact[1:]
    elif compact.endswith("-"):
        negative, compact = True, compact[:-1]
    if compact.startswith("+"):
        compact = compact[1:]
    if ":" in compact:
        # Swedish price tags: 99:50 is 99.50, and "99:-" (already removed) is 99.00.
        whole, _, ore = compact.partition(":")
        if not (whole.isdigit() and ore.isdigit() and len(ore) == 2):
            return None, None
        compact = f"{whole}.{ore}"
    if len(compact) > 40:
        return None, None
    try:
        amount = _number(compact)
        if amount is None or abs(amount) >= _LIMIT:
            return None, None
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None, None
    if abs(amount) >= _LIMIT:
        return None, None
    if negative:
        amount = -amount
    if amount == 0:
        amount = abs(amount)  # no "-0.00"
    return amount, currency or default_currency
