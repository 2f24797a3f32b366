"""Identity hard cases: people whose records are hard to resolve right, on purpose.

After the ordinary population is drawn, a small share of it (about 0.5-1.5 % of people per
case, from its own random stream) is turned into the cases identity resolution gets wrong
on real data: twins, a same-name parent and child, households sharing a family inbox and a
landline, nicknames, swapped billing names, double names, married-name changes, e-mail
typos and missing birth dates. The builders of each source read the Person's fields set
here (records.person_name and the `p.<field>` checks in crm/esp/pos).

`case_rows` then labels every person whose *kept* records show a case (moves, nicknames and
swapped names also happen to ordinary people, and count too); the labels go to the truth's
companion file (`<truth stem>_cases.csv`: person_id, case_type, case_group) for
`cdp evaluate` to score per case.
"""

import random
from datetime import date, timedelta

from .people import EMAIL_DOMAINS, Person, _local_part, _mobile
from .records import IdRecord
from .variation import email_typo, fold_ascii, match_key, nicknames

CASE_TYPES = (
    "twins",
    "parent_child",
    "household",
    "nickname",
    "swapped_name",
    "double_name",
    "married_name",
    "moved",
    "email_typo",
    "missing_birth_date",
)
CASES_HEADER = ["person_id", "case_type", "case_group"]

# Chance that a position in the population starts a case of two (or three) people.
PAIR_CASES = {"twins": 0.005, "parent_child": 0.005, "family_inbox": 0.01}
# Chance per remaining person; a nickname needs a first name that has a short form.
SINGLE_CASES = {
    "nickname": 0.05,
    "swapped_name": 0.01,
    "double_name": 0.015,
    "married_name": 0.01,
    "email_typo": 0.01,
    "missing_birth_date": 0.015,
}

DOUBLE_NAMES = {
    "SE": {
        "F": ("Anna-Karin", "Eva-Lena", "Ann-Sofie", "Anna-Lena", "Marie-Louise", "Ann-Christin"),
        "M": ("Per-Olof", "Karl Johan", "Jan-Erik", "Lars-Göran", "Carl-Henrik", "Hans-Erik", "Nils Erik"),
    },
    "NO": {"F": ("Anne-Lise", "Mari-Ann", "Kari-Anne"), "M": ("Ole-Petter", "Jan-Erik", "Tor-Arne", "Per Kristian")},
    "DK": {"F": ("Anne-Marie", "Mette-Marie", "Anne Sofie"), "M": ("Hans Christian", "Jens Peter", "Niels-Erik")},
    "FI": {"F": ("Anna-Liisa", "Marja-Leena", "Anna-Maija"), "M": ("Juha-Pekka", "Jukka-Pekka", "Veli-Matti")},
    "DE": {"F": ("Anna-Lena", "Marie-Luise"), "M": ("Karl-Heinz", "Hans-Peter", "Klaus-Dieter")},
    "GB": {"F": ("Mary-Jane", "Anne-Marie"), "M": ("John Paul", "Mark-Anthony")},
}
FAMILY_WORD = {"SE": "familjen", "DK": "familien", "NO": "familien", "FI": "perhe", "DE": "familie", "GB": "family"}


def _pick(rng: random.Random, rates: dict[str, float]) -> str | None:
    roll = rng.random()
    for kind, rate in rates.items():
        if roll < rate:
            return kind
        roll -= rate
    return None


def _move_in(member: Person, head: Person, rng: random.Random, unique_phone) -> None:
    """The member lives at the head's address (and in the head's country)."""
    if member.country != head.country and member.phone:
        member.phone = unique_phone(lambda: _mobile(rng, head.country))
    member.locale, member.country = head.locale, head.country
    member.street, member.postcode, member.city, member.old_address = (
        head.street,
        head.postcode,
        head.city,
        head.old_address,
    )
    member.home_store = head.home_store


def _new_email(rng: random.Random, p: Person, unique_email) -> None:
    """An address made from the person's (new) name; the old one was never theirs."""
    p.email = unique_email(_local_part(rng, p.first_name, p.last_name), rng.choice(EMAIL_DOMAINS[p.country]))
    p.alt_email, p.esp_second = None, False


def _other_first_name(fake, gender: str, other: str) -> str:
    """A first name clearly not the other's (nor one of its short forms)."""
    for _ in range(50):
        name = fake.first_name_female() if gender == "F" else fake.first_name_male()
        if match_key(name) != match_key(other) and name not in nicknames(other) and other not in nicknames(name):
            return name
    return other + "a"  # never reached with real name lists


def _household(
    rng: random.Random,
    members: list[Person],
    household: int,
    *,
    email: bool,
    landline: bool,
    unique_email,
    unique_phone,
) -> None:
    head = members[0]
    shared_email = shared_phone = None
    if email:
        shared_email = unique_email(
            f"{FAMILY_WORD[head.country]}.{fold_ascii(head.last_name).lower().replace(' ', '')}",
            rng.choice(("telia.com", "bredband.net", "gmail.com")),
        )
    if landline and head.country == "SE":
        shared_phone = unique_phone(lambda: "+468" + rng.digits(8))
    for index, member in enumerate(members):
        member.household, member.household_owner = household, index == 0
        member.shared_email, member.shared_phone = shared_email, shared_phone
        member.family_inbox = bool(shared_email or shared_phone)


def _twins(rng, a: Person, b: Person, fakers, start: date, unique_email, unique_phone) -> None:
    _move_in(b, a, rng, unique_phone)
    b.last_name, b.birth_date = a.last_name, a.birth_date
    b.gender = rng.choice("FM")
    b.first_name = _other_first_name(fakers[a.locale], b.gender, a.first_name)
    _new_email(rng, b, unique_email)
    a.in_crm = b.in_crm = True  # the CRM carries surname, birth date and address: the risk of a merge


def _parent_child(rng, parent: Person, child: Person, fakers, start: date, unique_email, unique_phone) -> None:
    _move_in(child, parent, rng, unique_phone)
    child.first_name, child.last_name, child.gender = parent.first_name, parent.last_name, parent.gender
    gap = rng.randrange(19 * 365, 36 * 365)  # more than 18 years between the two birth dates
    child_age = rng.randrange(18 * 365, 85 * 365 - gap)
    child.birth_date = start - timedelta(days=child_age)
    parent.birth_date = start - timedelta(days=child_age + gap)
    _new_email(rng, child, unique_email)  # same name, but a different address all the same
    parent.namesake_at_address = child.namesake_at_address = True
    parent.in_crm = child.in_crm = True
    parent.online_buyer = True  # orders carry no birth date: the bridge between the two


def make_hard_cases(
    rng: random.Random, people: list[Person], fakers: dict, start: date, unique_email, unique_phone
) -> None:
    """Turn a small share of the population into hard cases, in place (see the module docstring)."""
    household = max((p.household or 0 for p in people), default=0)
    groups = 0
    i = 0
    while i < len(people) - 1:
        a, b = people[i], people[i + 1]
        if a.household is not None or b.household is not None:
            i += 1
            continue
        kind = _pick(rng, PAIR_CASES)
        if kind == "family_inbox" and not (a.country == b.country == "SE"):
            kind = None
        if kind is None:
            i += 1
            continue
        members = [a, b]
        household += 1
        groups += 1
        if kind == "twins":
            _twins(rng, a, b, fakers, start, unique_email, unique_phone)
            shared = rng.random() < 0.5
            _household(
                rng,
                members,
                household,
                email=shared,
                landline=shared,
                unique_email=unique_email,
                unique_phone=unique_phone,
            )
        elif kind == "parent_child":
            _parent_child(rng, a, b, fakers, start, unique_email, unique_phone)
            _household(
                rng,
                members,
                household,
                email=False,
                landline=rng.random() < 0.3,
                unique_email=unique_email,
                unique_phone=unique_phone,
            )
        else:
            third = people[i + 2] if i + 2 < len(people) else None
            if third and third.household is None and third.country == "SE" and rng.random() < 0.3:
                members.append(third)
            for member in members[1:]:
                _move_in(member, a, rng, unique_phone)
                if rng.random() < 0.8:
                    member.last_name = a.last_name
            _household(
                rng, members, household, email=True, landline=True, unique_email=unique_email, unique_phone=unique_phone
            )
            for member in members:
                member.in_crm = True  # each person's CRM record carries the family inbox
            a.in_esp = True  # the family's newsletter subscription: the inbox, no name
        for member in members:
            member.hard_case, member.case_group = kind, f"{kind}:{groups:05d}"
        i += len(members)

    for p in people:
        if p.household is not None or p.hard_case:
            continue
        kind = _pick(rng, SINGLE_CASES)
        if kind is None:
            continue
        if kind == "nickname":
            forms = nicknames(p.first_name)
            if not forms:
                continue
            p.nickname = rng.choice(forms)
            p.in_crm = p.online_buyer = True
        elif kind == "swapped_name":
            p.swapped_billing = True
            p.in_crm = p.online_buyer = True
        elif kind == "double_name":
            p.first_name = rng.choice(DOUBLE_NAMES[p.country][p.gender])
            _new_email(rng, p, unique_email)
            p.in_crm = p.online_buyer = True
        elif kind == "married_name":
            fake = fakers[p.locale]
            new = fake.last_name()
            while match_key(new) == match_key(p.last_name):
                new = fake.last_name()
            # The email keeps the name before the marriage, as most people's do.
            p.former_last_name, p.last_name = p.last_name, new
            p.in_crm = p.in_esp = True
        elif kind == "email_typo":
            local, _, domain = email_typo(rng, p.email).partition("@")
            p.email_typo = unique_email(local, domain)
            p.in_crm = p.online_buyer = True
        else:  # missing_birth_date
            p.hide_birth_date = True
            p.in_crm = p.in_esp = True
        p.hard_case = kind


def case_rows(people: list[Person], records: list[IdRecord]) -> list[tuple[str, str, str]]:
    """(person_id, case_type, case_group) for every case the person's kept records show.

    Twins and parent/child are labelled from the design (even a person with one record can
    be merged into the other); a household when its family inbox or landline is on a kept
    record; the rest only when the person has two or more kept records and the case is on
    them (a nickname record, a swapped billing name, a short form of a double name, both
    surnames, both addresses, the mistyped email, or no birth date anywhere).
    """
    kept: dict[str, list[IdRecord]] = {}
    for rec in records:
        if not rec.dropped:
            kept.setdefault(rec.person.person_id, []).append(rec)
    shared_households = {
        rec.person.household
        for recs in kept.values()
        for rec in recs
        if rec.person.household is not None and "shared" in (rec.email_flag, rec.phone_flag)
    }
    rows: list[tuple[str, str, str]] = []
    for p in people:
        recs = kept.get(p.person_id)
        if not recs:
            continue
        found: list[tuple[str, str]] = []
        if p.hard_case in ("twins", "parent_child"):
            found.append((p.hard_case, p.case_group))
        if p.household in shared_households:
            found.append(("household", f"household:{p.household:05d}"))
        if len(recs) >= 2:
            kinds = {rec.data.get("name_kind") for rec in recs}
            if "nickname" in kinds:
                found.append(("nickname", ""))
            if "swapped" in kinds:
                found.append(("swapped_name", ""))
            if "double_short" in kinds:
                found.append(("double_name", ""))
            if (
                p.former_last_name
                and any(r.kind == "crm" and r.last for r in recs)
                and any(r.kind != "crm" and r.last for r in recs)
            ):
                found.append(("married_name", ""))
            streets = {rec.street for rec in recs}
            if p.old_address and p.old_address[0] in streets and p.street in streets:
                found.append(("moved", ""))
            if p.email_typo and any(rec.email == p.email_typo for rec in recs):
                found.append(("email_typo", ""))
            if p.hide_birth_date:
                found.append(("missing_birth_date", ""))
        rows.extend((p.person_id, case_type, group) for case_type, group in found)
    return sorted(rows)
