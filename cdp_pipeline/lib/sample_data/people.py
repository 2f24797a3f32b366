"""The population: who the sample's customers really are (the truth behind every record).

Each Person carries canonical facts (name, birth date, address, email, phone), the
household they may share an email or phone with, and which sources they appear in.
"""

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

import phonenumbers
from faker.generator import Generator

from .fastfaker import fast_generator
from .fastrandom import FastRandom
from .variation import fold_ascii

# (Faker locale, country, share). Faker has no nb_NO; no_NO is its Norwegian (Bokmål) locale.
LOCALES = (
    ("sv_SE", "SE", 0.72),
    ("da_DK", "DK", 0.07),
    ("no_NO", "NO", 0.07),
    ("fi_FI", "FI", 0.06),
    ("de_DE", "DE", 0.04),
    ("en_GB", "GB", 0.04),
)

EMAIL_DOMAINS = {
    "SE": (
        "gmail.com",
        "gmail.com",
        "hotmail.com",
        "outlook.com",
        "telia.com",
        "yahoo.se",
        "icloud.com",
        "live.se",
        "bredband.net",
        "spray.se",
    ),
    "DK": ("gmail.com", "hotmail.dk", "mail.dk", "jubii.dk", "outlook.dk"),
    "NO": ("gmail.com", "online.no", "hotmail.no", "yahoo.no"),
    "FI": ("gmail.com", "luukku.com", "kolumbus.fi", "hotmail.fi"),
    "DE": ("gmx.de", "web.de", "t-online.de", "gmail.com"),
    "GB": ("gmail.com", "btinternet.com", "yahoo.co.uk", "hotmail.co.uk"),
}
WORK_DOMAINS = (
    "volvo.com",
    "ericsson.com",
    "skanska.se",
    "stockholm.se",
    "regionskane.se",
    "ica.se",
    "kth.se",
    "lu.se",
    "seb.se",
    "telia.se",
    "novonordisk.com",
    "equinor.com",
)


@dataclass(slots=True, eq=False)
class Person:
    person_id: str
    locale: str
    country: str
    gender: str
    first_name: str
    last_name: str
    birth_date: date
    email: str
    alt_email: str | None
    phone: str | None  # mobile, E.164
    street: str
    postcode: str
    city: str
    old_address: tuple[str, str, str] | None = None  # before a move: (street, postcode, city)
    household: int | None = None
    household_owner: bool = False
    shared_email: str | None = None
    shared_phone: str | None = None
    # memberships
    in_crm: bool = False
    crm_dupe: bool = False
    has_card: bool = False
    web_login: bool = False
    web_anonymous: bool = False
    in_esp: bool = False
    esp_second: bool = False
    in_sms: bool = False
    online_buyer: bool = False
    store_shopper: bool = False
    home_store: str = "S01"
    # designated hard cases (hardcases.py): how this person's records differ from the ordinary
    hard_case: str | None = None  # twins | parent_child | family_inbox | nickname | swapped_name | ...
    case_group: str | None = None  # ties the people of one case together (a pair of twins, ...)
    namesake_at_address: bool = False  # a parent and child of the same name at the same address
    family_inbox: bool = False  # the household's shared email and landline are on most records
    nickname: str | None = None  # a short form used on some non-CRM records
    swapped_billing: bool = False  # online orders often billed as "Last First"
    former_last_name: str | None = None  # the CRM still has the name before the marriage
    email_typo: str | None = None  # the first online order carries this mistyped address
    hide_birth_date: bool = False  # no record carries the birth date


# Country calling code and the length of "+<code>" in the candidates below.
_CALLING_CODES = {"SE": (46, 3), "DK": (45, 3), "NO": (47, 3), "FI": (358, 4), "DE": (49, 3), "GB": (44, 3)}


@lru_cache(maxsize=None)
def _mobile_desc(country: str) -> tuple[re.Pattern, tuple[int, ...]]:
    """The country's mobile numbers as phonenumbers' metadata describes them: their national
    number's pattern and possible lengths."""
    desc = phonenumbers.PhoneMetadata.metadata_for_region(country).mobile
    return re.compile(desc.national_number_pattern), tuple(desc.possible_length)


def _mobile(rng: FastRandom, country: str) -> str:
    """A mobile number in a block that is really allocated, as a real customer's would be: its
    national number matches the country's mobile pattern in phonenumbers' metadata (what
    phonenumbers.is_valid_number checks for a mobile, without its walk over every number type)."""
    _, prefix = _CALLING_CODES[country]
    pattern, lengths = _mobile_desc(country)
    while True:
        number = _mobile_candidate(rng, country)
        national = number[prefix:]
        if len(national) in lengths and pattern.fullmatch(national):
            return number


def _mobile_candidate(rng: FastRandom, country: str) -> str:
    if country == "SE":
        return "+467" + rng.choice("02369") + rng.digits(7)
    if country == "DK":
        return "+452" + rng.digits(7)
    if country == "NO":
        return "+47" + rng.choice("49") + rng.digits(7)
    if country == "FI":
        return "+358" + rng.choice(("40", "50")) + rng.digits(7)
    if country == "DE":
        return "+49151" + rng.digits(8)
    return "+447" + rng.choice("4579") + rng.digits(8)


def _postcode(raw: str, country: str) -> str:
    if country == "SE":
        digits = "".join(c for c in raw if c.isdigit())[:5].rjust(5, "1")
        return digits[:3] + " " + digits[3:]
    return raw


def _local_part(rng: random.Random, first: str, last: str) -> str:
    f = fold_ascii(first).lower().replace(" ", "").replace("'", "")
    l = fold_ascii(last).lower().replace(" ", "").replace("'", "")
    pattern = rng.randrange(6)
    if pattern == 0:
        return f"{f}.{l}"
    if pattern == 1:
        return f"{f}{l}"
    if pattern == 2:
        return f"{f}_{l}"
    if pattern == 3:
        return f"{f[0]}.{l}"
    if pattern == 4:
        return f"{f}.{l}{rng.randrange(60, 100)}"
    return f"{f}{rng.randrange(1, 1000)}"


def build_population(count: int, seed: int, start: date, *, hard_cases: bool = False) -> list[Person]:
    rng = FastRandom(f"{seed}/people")
    fakers = {locale: fast_generator(locale, seed * 31 + index) for index, (locale, _, _) in enumerate(LOCALES)}
    # random.choices(weights=...) accumulates the weights on every call; the same draw with them kept.
    cum_weights = list(accumulate(w for _, _, w in LOCALES))
    used_emails: set[str] = set()
    used_phones: set[str] = set()

    def unique_email(local: str, domain: str) -> str:
        email = f"{local}@{domain}"
        while email in used_emails:
            email = f"{local}{rng.randrange(1, 10000)}@{domain}"
        used_emails.add(email)
        return email

    def unique_phone(make) -> str:
        phone = make()
        while phone in used_phones:
            phone = make()
        used_phones.add(phone)
        return phone

    def address(fake: Generator, country: str) -> tuple[str, str, str]:
        return fake.street_address().replace("\n", ", "), _postcode(fake.postcode(), country), fake.city()

    people: list[Person] = []
    for n in range(count):
        locale, country, _ = rng.choices(LOCALES, cum_weights=cum_weights)[0]
        fake = fakers[locale]
        gender = rng.choice("FM")
        first = fake.first_name_female() if gender == "F" else fake.first_name_male()
        last = fake.last_name()
        birth = start - timedelta(days=rng.randrange(18 * 365, 85 * 365))
        email = unique_email(_local_part(rng, first, last), rng.choice(EMAIL_DOMAINS[country]))
        alt = None
        if rng.random() < 0.18:
            domain = rng.choice(WORK_DOMAINS) if rng.random() < 0.6 else rng.choice(EMAIL_DOMAINS[country])
            alt = unique_email(_local_part(rng, first, last), domain)
        phone = unique_phone(lambda: _mobile(rng, country)) if rng.random() < 0.88 else None
        street, postcode, city = address(fake, country)
        old = address(fake, country) if rng.random() < 0.08 else None
        people.append(
            Person(
                f"P{n + 1:07d}",
                locale,
                country,
                gender,
                first,
                last,
                birth,
                email,
                alt,
                phone,
                street,
                postcode,
                city,
                old,
            )
        )

    _form_households(rng, people, unique_email, unique_phone)
    _assign_sources(rng, people)
    if hard_cases:
        from .hardcases import make_hard_cases  # here: hardcases builds on this module's helpers

        # Its own random stream: the ordinary population above is drawn exactly as before.
        make_hard_cases(FastRandom(f"{seed}/hardcases"), people, fakers, start, unique_email, unique_phone)
    return people


def _form_households(rng, people, unique_email, unique_phone) -> None:
    """Families: same address, often the same last name, sometimes one shared email or landline."""
    household = 0
    i = 0
    while i < len(people) - 3:
        if rng.random() >= 0.05:
            i += 1
            continue
        household += 1
        size = rng.choice((2, 2, 2, 3))
        head, members = people[i], people[i : i + size]
        shared_email = None
        if rng.random() < 0.35:
            shared_email = unique_email(
                f"familjen.{fold_ascii(head.last_name).lower().replace(' ', '')}",
                rng.choice(("telia.com", "bredband.net", "gmail.com")),
            )
        shared_phone = None
        if head.country == "SE" and rng.random() < 0.3:
            shared_phone = unique_phone(lambda: "+468" + rng.digits(8))
        for index, member in enumerate(members):
            member.household = household
            member.household_owner = index == 0
            if index > 0:
                member.street, member.postcode, member.city = head.street, head.postcode, head.city
                member.country, member.old_address = head.country, head.old_address
                if rng.random() < 0.6:
                    member.last_name = head.last_name
            member.shared_email = shared_email
            member.shared_phone = shared_phone
        i += size


def _assign_sources(rng: random.Random, people: list[Person]) -> None:
    stores = ("S01", "S01", "S02", "S03", "S04", "S05")
    for p in people:
        p.in_crm = rng.random() < 0.62
        p.crm_dupe = p.in_crm and rng.random() < 0.025
        p.has_card = p.in_crm and rng.random() < 0.7
        p.web_login = p.in_crm and rng.random() < 0.45
        p.in_esp = rng.random() < (0.6 if p.in_crm else 0.35)
        p.esp_second = p.in_esp and p.alt_email is not None and rng.random() < 0.2
        p.in_sms = p.phone is not None and rng.random() < 0.3
        p.online_buyer = rng.random() < 0.35
        p.store_shopper = p.has_card and rng.random() < 0.6
        p.web_anonymous = not p.web_login and rng.random() < 0.25
        p.home_store = "K01" if p.country == "DK" else rng.choice(stores)
        if not (p.in_crm or p.in_esp or p.in_sms or p.online_buyer):
            choice = rng.random()
            if choice < 0.45:
                p.in_esp = True
            elif choice < 0.8 or p.phone is None:
                p.online_buyer = True
            else:
                p.in_sms = True
