"""Placeholder values that look like identifiers but identify nobody.

A junk email, phone or name is kept on the record (it is what the source sent)
but is flagged and never used to link two records: thousands of people "share"
``test@test.com`` or ``0000000`` and linking on them would merge strangers.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from ._common import as_text, fold_ascii, text_cache

# Local parts that people type when a form insists on an email address.
_JUNK_LOCAL_PARTS = frozenset(
    {
        "test",
        "testing",
        "tester",
        "test1",
        "test123",
        "testtest",
        "asdf",
        "asdfg",
        "asdfgh",
        "asdfasdf",
        "qwerty",
        "qwe",
        "abc",
        "abc123",
        "example",
        "sample",
        "noemail",
        "no-email",
        "no.email",
        "nomail",
        "no-mail",
        "none",
        "null",
        "nil",
        "nobody",
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "dontreply",
        "dummy",
        "fake",
        "unknown",
        "na",
        "n.a",
        "xxx",
        "foo",
        "bar",
        "foobar",
        "blah",
        "spam",
        "email",
        "mail",
        "invalid",
        "someone",
        "anonymous",
        "ingen",
        "saknas",
        "kund",
        "customer",
    }
)
# Local parts that mark a machine sender on any domain.
_NO_REPLY = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply)([-_.+].*)?$")
# Domains reserved for documentation and testing (RFC 2606) or obviously made up.
_JUNK_DOMAINS = re.compile(
    r"(^|\.)(example|test|invalid|localhost|domain|none|noemail)(\.[a-z]{2,})?$"
    r"|^(example|test)\.[a-z.]+$"
    r"|(^|\.)(test|invalid|localhost|example)$"
)


@text_cache(65_536)
def is_junk_email(email: str | None) -> bool:
    """True when ``email`` is a placeholder address (``test@test.com``, ``noreply@…``).

    Accepts a raw or standardised address; a missing value is not junk (False).
    """
    text = as_text(email)
    if text is None:
        return False
    text = text.lower().strip("<>").removeprefix("mailto:")
    local, sep, domain = text.rpartition("@")
    if not sep:
        return False
    local_base = local.split("+", 1)[0]  # plus-addressing: test+1@… is still test@…
    if local_base in _JUNK_LOCAL_PARTS or _NO_REPLY.match(local_base):
        return True
    if _JUNK_DOMAINS.search(domain):
        return True
    domain_name = domain.split(".", 1)[0]
    # a@a.a, x@y.zz: too short to be anyone's real address.
    if len(local_base) <= 1 and len(domain_name) <= 1:
        return True
    # aaa@aaa.aa, xxx@xxx.xx: one character repeated everywhere.
    if len(set(re.sub(r"[^a-z0-9]", "", local_base + domain_name))) == 1:
        return True
    return False


_SEQUENCES = ("01234567890", "12345678901234567890", "98765432109876543210")
# The runs as one text: a text of digits is in one of them exactly when it is in this (no digit
# text spans the "|"), tested with one ``in``.
_SEQUENCES_TEXT = "|".join(_SEQUENCES)


def junk_phone_sequences() -> str:
    """The runs of consecutive digits as one text (``_SEQUENCES_TEXT``), for the SQL of
    macros.sql that tests the digits of a number as ``junk_phone_digits`` does."""
    return _SEQUENCES_TEXT


@text_cache(65_536)
def is_junk_phone(phone: str | None) -> bool:
    """True when ``phone`` is a placeholder number (``0000000``, ``1234567``, ``+46000000000``).

    Accepts E.164 or raw text. A missing value is not junk (False). Junk means:
    every digit the same, a run of consecutive digits (``123456789``), or a real
    prefix followed by one repeated digit (``070-111 11 11``).
    """
    text = as_text(phone)
    if text is None:
        return False
    digits = re.sub(r"\D", "", text)
    if not digits:
        return False
    national = digits
    if text.startswith("+"):
        try:
            national = str(phonenumbers.parse(text, None).national_number)
        except phonenumbers.NumberParseException:
            pass
    return junk_phone_digits(digits, national)


@lru_cache(maxsize=65_536)
def junk_phone_digits(digits: str, national: str) -> bool:
    """``is_junk_phone`` of a number with these ``digits`` (not empty) and ``national`` number
    (phonenumbers', when it was written with a "+"; else the digits). Cached: a number's
    spellings and record countries each ask it (``phone.check_phone_junk``)."""
    for candidate in {digits, national, digits.lstrip("0"), national.lstrip("0")}:
        if not candidate:  # only zeros
            return True
        if len(set(candidate)) == 1:
            return True
        if len(candidate) >= 6 and candidate in _SEQUENCES_TEXT:
            return True
    # A plausible prefix then one digit repeated: 070-000 00 00, +46 70 111 11 11.
    subscriber = national.lstrip("0")[2:]
    if len(subscriber) >= 6 and len(set(subscriber)) == 1:
        return True
    return False


# Names that stand in for "we don't know", in English and Swedish.
_JUNK_NAME_TOKENS = frozenset(
    {
        "test",
        "tester",
        "testing",
        "testsson",
        "testson",
        "testperson",
        "testkund",
        "unknown",
        "okand",
        "n a",
        "na",
        "xxx",
        "xx",
        "x",
        "asdf",
        "qwerty",
        "none",
        "null",
        "nil",
        "nan",
        "kund",
        "customer",
        "client",
        "guest",
        "gast",
        "anonymous",
        "anonym",
        "dummy",
        "fake",
        "sample",
        "example",
        "noname",
        "no name",
        "ingen",
        "saknas",
        "privat",
        "private",
        "foo",
        "bar",
        "abc",
        "blah",
        "firstname",
        "lastname",
        "first name",
        "last name",
        "fornamn",
        "efternamn",
        "name",
        "namn",
    }
)


_EMAIL_IN_NAME = re.compile(r"\S@\S+\.\S")


@text_cache(65_536)
def is_junk_name(name: str | None) -> bool:
    """True when ``name`` is a placeholder (``Test``, ``Unknown``, ``N/A``, ``xxx``, ``Kund``).

    A name made only of placeholder words (``Test Testsson``), of punctuation
    (``-``, ``.``) or of digits (a phone number) is junk, and so is one holding an e-mail
    address (``anna@firma.se``). A missing value is not junk (False).
    """
    text = as_text(name)
    if text is None:
        return False
    if _EMAIL_IN_NAME.search(text):
        return True  # an e-mail address typed in a name field (a phone number is junk as digits, below)
    folded = fold_ascii(text)
    words = re.sub(r"[^a-z0-9]+", " ", folded).split()
    if not words:
        # Only punctuation or symbols ("-", ".", "?"); a name in another script
        # folds to nothing too, so only call it junk when it has no letters at all.
        return not any(ch.isalpha() for ch in text)
    compact = " ".join(words)
    if compact in _JUNK_NAME_TOKENS or compact.replace(" ", "") in {"na", "nn"}:
        return True
    if all(w in _JUNK_NAME_TOKENS or w.isdigit() for w in words):
        return True
    # aaa, zzzz: one letter repeated.
    joined = "".join(words)
    return len(joined) >= 2 and len(set(joined)) == 1
