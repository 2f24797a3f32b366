"""Person names: a display form for people and a matching form for the linkage model.

``display_name`` keeps the name as the person wrote it, only tidied: NFC,
single spaces, no emoji, and title case when the source system shouted
(``ANNA SVENSSON``) or whispered (``anna svensson``); mixed case such as
``McDonald`` or ``von Essen`` is left alone because it is probably deliberate.
``match_name`` is lossy on purpose: ASCII lower case with accents folded, so
``Åsa Öberg`` and ``Asa Oberg`` compare equal.
"""

from __future__ import annotations

import re
import unicodedata

from ._common import as_text, fold_ascii, is_shouting_or_whispering, text_cache, title_word

# Nobiliary particles and prepositions that stay lower case inside a name
# (``af Klint``, ``von Essen``, ``van der Berg``, ``de la Cruz``).
PARTICLES = frozenset(
    {
        "af",
        "av",
        "von",
        "van",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "du",
        "la",
        "le",
        "zu",
        "zum",
        "zur",
        "ten",
        "ter",
        "dos",
        "das",
        "do",
        "y",
        "e",
    }
)
# Particles that join two surnames (Silva e Santos, García y López) and so never begin a name:
# a name's first word "E" or "Y" is an initial (a billing name "E Wahlberg"), not a surname's start.
_JOINING = frozenset({"e", "y"})
# Prefixes after which the next letter is upper case too (O'Brien, D'Angelo).
_APOSTROPHE_PREFIXES = frozenset({"o", "d", "l"})
_APOSTROPHES = "'’`´"
# Forms of address written before a full name (a billing name "Dr. Anna Svensson", "Fru Karin
# Berg"), never a given name: a split leaves them out. Generational suffixes after it ("John Smith
# Jr.", "Therése Koch II") are part of the surname, never the surname itself. macros.sql's
# _std_split_plain sends names with either to the Python.
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "herr", "fru", "fröken", "frk"})
_ROMAN_SUFFIXES = frozenset({"ii", "iii", "iv"})
_SUFFIXES = frozenset({"jr", "sr"}) | _ROMAN_SUFFIXES
_MAX_LENGTH = 200  # a longer "name" is a paste accident; keep the front, do not crash


def _drop_symbols(text: str) -> str:
    # Emoji and pictographs (So), private-use and unassigned code points are
    # decoration or corruption, never part of a name.
    return "".join(ch for ch in text if unicodedata.category(ch) not in {"So", "Co", "Cn", "Cs"} or ch in _APOSTROPHES)


def _title_token(token: str) -> str:
    parts = re.split(r"([-" + _APOSTROPHES + r"])", token)
    out = []
    for index, part in enumerate(parts):
        if index >= 2 and parts[index - 1] in _APOSTROPHES:
            before = parts[index - 2]
            # O'BRIEN → O'Brien, but ANN'S → Ann's
            out.append(title_word(part) if before.lower() in _APOSTROPHE_PREFIXES and len(part) > 1 else part.lower())
        else:
            out.append(title_word(part))
    return "".join(out)


def _title_name(text: str) -> str:
    tokens = text.split(" ")
    lowered = [token.lower() for token in tokens]
    # A particle stays lower case inside a name (Ludwig van Beethoven) and at the
    # start of a surname on its own (af Klint, de la Cruz), never as the last word.
    leading = 0
    while leading < len(tokens) and lowered[leading] in PARTICLES and not (leading == 0 and lowered[0] in _JOINING):
        leading += 1
    surname_only = leading > 0 and leading == len(tokens) - 1
    out = []
    for index, token in enumerate(tokens):
        is_particle = lowered[index] in PARTICLES and index < len(tokens) - 1
        if is_particle and (index > 0 or surname_only) and not (index == 0 and lowered[0] in _JOINING):
            out.append(lowered[index])
        elif index > 0 and lowered[index] in _ROMAN_SUFFIXES:
            out.append(tokens[index].upper())  # KOCH II → Koch II, not Koch Ii
        else:
            out.append(_title_token(token))
    return " ".join(out)


@text_cache(262_144)
def display_name(raw: object) -> str | None:
    """A name tidied for display: NFC, no emoji, single spaces, title case when shouted or whispered."""
    text = as_text(raw)
    if text is None:
        return None
    text = as_text(_drop_symbols(text[: _MAX_LENGTH * 2]))
    if text is None:
        return None
    text = text[:_MAX_LENGTH].strip()
    if not any(ch.isalnum() for ch in text):
        return None
    if is_shouting_or_whispering(text):
        titled = _title_name(text)
        # Some letters change case class when titled (Unicode digraphs); keep the
        # original rather than produce something that would title again differently.
        if is_shouting_or_whispering(titled) and titled != _title_name(titled):
            return text
        return titled
    return text


@text_cache(262_144)
def match_name(raw: object) -> str | None:
    """A name for comparison: ASCII lower case, accents folded (å→a, ø→o, æ→ae, ß→ss), no punctuation.

    Apostrophes and dots disappear (``O'Brien`` → ``obrien``), hyphens and other
    punctuation become spaces (``Anna-Karin`` → ``anna karin``). Letters with no
    ASCII form (other scripts) are dropped; None when nothing is left.
    """
    text = as_text(raw)
    if text is None:
        return None
    # Symbols are dropped before folding, as display_name does, so that a compatibility
    # character such as '㍘' cannot decompose into digits in one form and not the other.
    text = fold_ascii(_drop_symbols(text[: _MAX_LENGTH * 2]))
    text = re.sub(r"['`.]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return text[:_MAX_LENGTH].strip() or None


def split_full_name(raw: object) -> tuple[str | None, str | None]:
    """Split a full name into (first, last), both in display form.

    ``Svensson, Anna`` → (``Anna``, ``Svensson``); ``Anna Maria Svensson`` →
    (``Anna Maria``, ``Svensson``); particles go with the surname
    (``Ludwig van Beethoven`` → (``Ludwig``, ``van Beethoven``)); a single word
    is taken as the first name. A first word ``E`` or ``Y`` is an initial (``E Wahlberg`` →
    (``E``, ``Wahlberg``)): those particles join two surnames and never begin one. Forms of
    address in front are left out (``Dr. Anna Svensson`` → (``Anna``, ``Svensson``), ``Mr Smith`` →
    (None, ``Smith``)); a generational suffix goes with the surname (``John Smith Jr.`` →
    (``John``, ``Smith Jr.``)).
    """
    return _split_full_name(raw)


@text_cache(65_536)
def _split_full_name(raw: object) -> tuple[str | None, str | None]:
    text = display_name(raw)
    if text is None:
        return None, None
    if "," in text:
        last, _, first = text.partition(",")
        first, last = as_text(first.replace(",", " ")), as_text(last)
        if first and last:
            return " ".join(_without_titles(first.split(" "))), last
        return (first or last), None
    tokens = text.split(" ")
    if len(tokens) == 1:
        return tokens[0], None
    untitled = _without_titles(tokens)
    if len(untitled) == 1 and len(tokens) > 1:
        return None, untitled[0]  # "Mr Smith": a surname
    tokens = untitled
    if tokens[0].lower() in PARTICLES and tokens[0].lower() not in _JOINING:
        return None, " ".join(tokens)  # "af Klint": a surname on its own
    # The surname starts at the first particle after the given name(s), else it
    # is the last word before any suffixes (Jr., II), which go with it.
    end = len(tokens)
    while end > 2 and _word(tokens[end - 1]) in _SUFFIXES:
        end -= 1
    start = end - 1
    for index in range(1, end - 1):
        if tokens[index].lower() in PARTICLES:
            start = index
            break
    return " ".join(tokens[:start]), " ".join(tokens[start:])


def _word(token: str) -> str:
    return token.lower().rstrip(".,")


def _without_titles(tokens: list[str]) -> list[str]:
    """``tokens`` without the forms of address in front (``Dr. Anna`` → ``Anna``); a last word stays."""
    start = 0
    while start < len(tokens) - 1 and _word(tokens[start]) in _TITLES:
        start += 1
    return tokens[start:]
