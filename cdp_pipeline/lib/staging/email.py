"""Email addresses: the normalised form used for matching, hashing and export.

The normalised address is trimmed and lower-cased, because every mailbox
provider that matters treats addresses case-insensitively and ad platforms
hash the lower-case form. An internationalised domain is written in its ASCII
(IDNA, ``xn--``) form, as DNS and SMTP carry it, so ``anna@bücher.de`` and
``anna@xn--bcher-kva.de`` are one address (an unsubscribe in one spelling blocks
the other). Anything that is not syntactically an address
becomes None (flag ``invalid_email``); placeholders such as ``test@test.com``
stay but are flagged ``junk_email`` so they never link two people.
"""

from __future__ import annotations

import re

import idna

from ._common import Checked, as_text, text_cache
from .junk import is_junk_email

# RFC 5321 limits.
_MAX_LENGTH = 254
_MAX_LOCAL = 64
# Dot-atom local part (RFC 5322 atext); quoted local parts are legal but no
# real customer has one, and accepting them would let garbage through.
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
# Domain labels: letters (any script, for internationalised domains), digits,
# inner hyphens; the top-level label has at least two letters (or is punycode).
_LABEL = re.compile(r"^[^\W_](?:[\w-]{0,61}[^\W_])?$")
_TLD = re.compile(r"^(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{2,59})$")
_ANGLE = re.compile(r"<([^<>]*)>")


def _clean(raw: object) -> str | None:
    text = as_text(raw)
    if text is None:
        return None
    # "Anna Svensson <anna@x.se>": the address is between the brackets.
    bracketed = _ANGLE.search(text)
    if bracketed and "@" in bracketed.group(1):
        text = bracketed.group(1).strip()
    text = text.strip("\"'<> ").lower()
    if text.startswith("mailto:"):
        text = text[len("mailto:") :].split("?", 1)[0].strip()
    return text or None


def _is_valid(address: str) -> bool:
    if len(address) > _MAX_LENGTH or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    if not local or len(local) > _MAX_LOCAL or not _LOCAL.match(local):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return False
    return bool(_TLD.match(labels[-1]))


def _ascii_domain(address: str) -> str:
    """``address`` with a non-ASCII domain in its IDNA 2008 ASCII form (UTS 46 mapping, as browsers
    and mail clients read a typed domain); as it is when the domain cannot be encoded (it stays
    an address of its own rather than none, so an opt-out about it still counts)."""
    local, domain = address.split("@")
    if domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:
        return address


@text_cache()
def check_email(raw: object) -> Checked:
    """Standardise ``raw`` and say what is wrong with it.

    Flags: ``invalid_email`` (not an address; value None), ``junk_email``
    (a placeholder address; value kept).
    """
    address = _clean(raw)
    if address is None:
        return Checked(None)
    if not _is_valid(address):
        return Checked(None, ("invalid_email",))
    address = _ascii_domain(address)
    if is_junk_email(address):
        return Checked(address, ("junk_email",))
    return Checked(address)


def standardise_email(raw: object) -> str | None:
    """The normalised address (trimmed, ``<>``/``mailto:`` removed, lower case), or None if invalid."""
    return check_email(raw).value


def email_flags(raw: object) -> list[str]:
    """Data-quality flags for ``raw``: ``invalid_email`` and/or ``junk_email``."""
    return list(check_email(raw).flags)
