"""Identity-bearing records before they are rendered into a source's file format.

Builders create IdRecords holding standardised values (canonical email, E.164 phone);
writers render them with the source's formatting quirks. Keeping the two apart lets the
linkability pass (linkability.py) inspect and repair records before any byte is written.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from .people import Person
from .variation import JUNK_EMAILS, JUNK_PHONES, double_name_short, vary_name


@dataclass(slots=True, eq=False)
class IdRecord:
    source: str  # crm | esp | sms | web | pos
    kind: str  # crm | esp | sms | web | order | receipt
    srid: str  # source_record_id as docs/sources.md defines it
    person: Person
    first: str | None = None
    last: str | None = None
    email: str | None = None  # canonical lower case, or a junk value
    email_flag: str | None = None  # None | "junk" | "shared" (household)
    phone: str | None = None  # E.164, or a junk value
    phone_flag: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    birth_date: date | None = None
    card: str | None = None
    crm_id: str | None = None  # crm: its own customer_id; web: the user_id
    dropped: bool = False
    data: dict = field(default_factory=dict)


_NO_DATA = MappingProxyType({})


class BareRecord:
    """A nameless record (a carded receipt, a web user, an SMS subscriber) as the linkability
    pass, the truth and the hard cases read it: an IdRecord without the fields it never fills.
    There are millions of them in a large sample, and an IdRecord's twenty slots and its own
    dict would be most of their memory; the unfilled fields are None here for every record."""

    __slots__ = ("source", "kind", "srid", "person", "phone", "card", "crm_id", "dropped")
    first = last = email = email_flag = phone_flag = street = postcode = city = country = birth_date = None
    data = _NO_DATA  # read-only: nothing is stored on these records

    def __init__(
        self,
        source: str,
        kind: str,
        srid: str,
        person: Person,
        *,
        phone: str | None = None,
        card: str | None = None,
        crm_id: str | None = None,
    ) -> None:
        self.source, self.kind, self.srid, self.person = source, kind, srid, person
        self.phone, self.card, self.crm_id, self.dropped = phone, card, crm_id, False


def pick(rng: random.Random, options: dict[str, float]) -> str:
    """Weighted choice over a small dict; the last key takes any remainder."""
    roll = rng.random()
    key = None
    for key, weight in options.items():
        if roll < weight:
            return key
        roll -= weight
    return key


def poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; means here are small.
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def choose_email(rng: random.Random, p: Person, weights: dict[str, float]) -> tuple[str | None, str | None]:
    """(email, flag) by weights over primary / alt / shared / junk / missing."""
    kind = pick(rng, weights)
    if kind == "alt" and p.alt_email:
        return p.alt_email, None
    if kind == "shared" and p.shared_email:
        return p.shared_email, "shared"
    if kind == "junk":
        return rng.choice(JUNK_EMAILS), "junk"
    if kind == "missing":
        return None, None
    return p.email, None


def choose_phone(rng: random.Random, p: Person, weights: dict[str, float]) -> tuple[str | None, str | None]:
    kind = pick(rng, weights)
    if kind == "shared" and p.shared_phone:
        return p.shared_phone, "shared"
    if kind == "junk":
        return rng.choice(JUNK_PHONES), "junk"
    if kind == "missing" or p.phone is None:
        return None, None
    return p.phone, None


def person_name(
    rng: random.Random, p: Person, weights: dict[str, float], where: str, *, more_nicknames: bool = False
) -> tuple[str | None, str | None, str]:
    """(first, last, variation) as a record of kind ``where`` (crm | esp | order) spells the
    person's name: a hard case's form (hardcases.py) on some records, else vary_name's.
    The CRM keeps the canonical first name and, after a marriage, the former surname.
    more_nicknames: the sample has hard cases (variation.HARD_CASE_NICKNAMES)."""
    last = p.former_last_name if p.former_last_name and where == "crm" else p.last_name
    if where != "crm":
        if p.nickname and rng.random() < 0.6:
            return p.nickname, last, "nickname"
        if p.hard_case == "double_name" and rng.random() < 0.6:
            return double_name_short(rng, p.first_name), last, "double_short"
        if p.swapped_billing and where == "order" and rng.random() < 0.7:
            return last, p.first_name, "swapped"
    return vary_name(rng, p.first_name, last, weights, more_nicknames=more_nicknames)
