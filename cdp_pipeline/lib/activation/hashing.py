"""Identifiers in the exact form each ad platform hashes, and their SHA-256.

A wrongly formatted hash is accepted by the platform and silently never matches, so each
form is pinned by known-answer tests. Email: trimmed, lower case (both platforms). Phone:
Meta wants the digits with the country code and no ``+`` (``46701234567``); Google
Customer Match wants E.164 with the ``+`` (``+46701234567``). Phones arrive E.164 from
golden.customers; anything else is not guessed at and gives no hash.
"""

from __future__ import annotations

import hashlib
import re

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalise_email(email: str | None) -> str | None:
    if email is None:
        return None
    e = email.strip().lower()
    return e if "@" in e else None


def is_e164(phone: str | None) -> bool:
    return phone is not None and bool(E164.match(phone))


def meta_phone(phone: str | None) -> str | None:
    """``+46701234567`` -> ``46701234567`` (Meta: digits with country code, no '+')."""
    p = phone.strip() if phone else None
    return p[1:] if is_e164(p) else None


def google_phone(phone: str | None) -> str | None:
    """``+46701234567`` stays ``+46701234567`` (Google Customer Match: E.164)."""
    p = phone.strip() if phone else None
    return p if is_e164(p) else None


def hashed_email(email: str | None) -> str | None:
    e = normalise_email(email)
    return sha256_hex(e) if e else None


def meta_hashed_phone(phone: str | None) -> str | None:
    p = meta_phone(phone)
    return sha256_hex(p) if p else None


def google_hashed_phone(phone: str | None) -> str | None:
    p = google_phone(phone)
    return sha256_hex(p) if p else None
