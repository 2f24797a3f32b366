"""Shared pieces of the normalisers: text cleaning, accent folding, the result type."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache, wraps
from typing import Any, NamedTuple

# Zero-width characters and the BOM sneak in from copy-paste and Excel; they are
# invisible to a person but make two equal-looking values differ.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_WHITESPACE = re.compile(r"\s+")

# Letters that Unicode decomposition does not fold to ASCII on its own.
_FOLD_MAP = str.maketrans(
    {
        "æ": "ae",
        "Æ": "ae",
        "ø": "o",
        "Ø": "o",
        "œ": "oe",
        "Œ": "oe",
        "ß": "ss",
        "ẞ": "ss",
        "þ": "th",
        "Þ": "th",
        "ð": "d",
        "Ð": "d",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "ı": "i",
        "ŋ": "n",
        "Ŋ": "n",
    }
)


def as_text(raw: object) -> str | None:
    """Return ``raw`` as a clean single-line string, or None when it is empty.

    NFC-normalised (so a decomposed ``å`` from macOS equals a composed one),
    invisible characters removed, control characters and runs of whitespace
    turned into single spaces, trimmed.
    """
    if raw is None:
        return None
    if isinstance(raw, float) and raw != raw:  # NaN from pandas means "missing"
        return None
    text = raw if isinstance(raw, str) else str(raw)
    if text.isascii() and text.isprintable() and "  " not in text:
        # most values: NFC and the invisible characters leave ASCII as it is, and its only
        # printable whitespace is the space (half the time of the steps below)
        return text.strip() or None
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = _WHITESPACE.sub(" ", text).strip()
    return text or None


def fold_ascii(text: str) -> str:
    """Lower-case ``text`` and fold accented Latin letters to ASCII (å→a, ø→o, ß→ss).

    Characters with no ASCII form (other scripts, symbols) are dropped.
    """
    text = text.translate(_FOLD_MAP).casefold().translate(_FOLD_MAP)
    text = unicodedata.normalize("NFKD", text)
    return text.encode("ascii", "ignore").decode("ascii")


def title_word(word: str) -> str:
    """Capitalise the first letter of ``word`` and lower-case the rest.

    Unlike ``str.capitalize`` a first letter whose upper case is two letters
    (``ß`` → ``SS``) is left as it is, so the word keeps its length.
    """
    if not word:
        return word
    first = word[0].upper()
    if len(first) != 1:
        first = word[0]
    return first + word[1:].lower()


def is_shouting_or_whispering(text: str) -> bool:
    """True when every cased letter in ``text`` is upper case, or every one is lower case."""
    has_upper = has_lower = False
    for ch in text:
        if ch.isupper():
            has_upper = True
        elif ch.islower():
            has_lower = True
        if has_upper and has_lower:
            return False
    return has_upper or has_lower


class Checked(NamedTuple):
    """A standardised value and the data-quality flags raised while producing it.

    ``value`` is None when the input was missing or could not be understood;
    ``flags`` is empty for missing input (absence is not a quality problem).
    """

    value: Any
    flags: tuple[str, ...] = ()


def text_cache(maxsize: int = 262_144):
    """``lru_cache`` for normalisers whose first argument is raw text.

    Source values repeat a lot (the same phone on every order line), so caching
    per distinct value makes the nightly run fast. Non-string inputs (numbers
    from pandas, dates) are turned into text first so they are hashable.
    """

    def decorate(fn):
        cached = lru_cache(maxsize=maxsize)(fn)

        @wraps(fn)
        def wrapper(raw, *args, **kwargs):
            if raw is not None and not isinstance(raw, str):
                raw = as_text(raw)
            return cached(raw, *args, **kwargs)

        wrapper.cache_info = cached.cache_info  # type: ignore[attr-defined]
        wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return wrapper

    return decorate
