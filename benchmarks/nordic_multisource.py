"""A labelled Nordic multi-source set, written independently of the project's own generator.

    python benchmarks/nordic_multisource.py --out LANDING --truth TRUTH.csv [--seed 11] [--persons 4000]
        [--names nordic|world]

Writes landing files as the vendors deliver them (docs/sources.md, the vendor fixtures in
cdp_pipeline_tests/fixtures/vendors), under ``<landing>/<source>/<YYYY-MM-DD>/``:

- ``crm/``: a Nordic CRM extract, ``;``-separated UTF-8 with BOM, headers a CRM of its own
  (``mobile``, ``zip``, ``date_of_birth``: the reader's aliases), dates in several formats;
- ``esp/``: Mailchimp audience exports (``subscribed_`` / ``unsubscribed_`` / ``cleaned_
  email_audience_export_<id>.csv``) with merge fields and ``CC``, some members without a name;
- ``pos/``: Shopify orders exports (the 79-column header, one row per line item) and store
  receipts in Windows-1252 with ``;`` and a decimal comma, carrying a loyalty card;
- ``sms/``: Twilio console message logs (CSV) and a Bulk Export day file (``.json.gz``):
  nameless numbers.

and the truth ``cdp evaluate --truth`` reads (``source, source_record_id, person_id``) with its
companion ``<truth stem>_cases.csv`` (``person_id, case_type, case_group``), which
``cdp evaluate`` turns into recall and false merges per case type.

It imports nothing from cdp_pipeline (in particular not lib/sample_data, nor the name-variant
YAML): its people, short forms and corruptions are its own, so that a score on it is not a
score on the generator the identity work was tuned on. Faker (sv_SE, no_NO, da_DK, fi_FI)
gives names and addresses; everything is drawn from one ``random.Random(seed)``, so a seed gives
the same bytes.

Hard cases (case types in the companion; a person may have several):
``twins`` (same surname, birth date, address and landline, different first names),
``parent_child`` (same first and last name, birth dates a generation apart, often the same
address or landline), ``household`` (a family inbox and a landline shared by 2-3 people),
``nickname`` (a short form in some sources: Tessan/Therese, Lasse/Lars, Bosse/Bo, ...),
``swapped_name`` (a Shopify billing name written surname first), ``double_name``
(Anna-Karin / Anna / A-K / Anna Karin), ``initial`` (``M. Berglund``), ``married_name`` (a
surname changed between registrations), ``moved`` (an old address in one source, the new one in
another), ``email_typo`` (a mistyped address on an order or a second CRM registration),
``nameless_esp`` (an ESP member without a name, linked by e-mail only).

``--names world`` (``build(..., names="world")``): the same shop and sources, but most people's
names come from other cultures (Faker's Polish, Turkish, Spanish, Mexican, Brazilian, Vietnamese,
Pakistani, Indian, Kenyan, Ghanaian, Yoruba, Irish and Icelandic tables; the country's own for
the rest); ``nickname`` becomes ``transliteration`` (Mohammed / Mohamed / Muhammad, Aleksandr /
Alexander / Oleksandr, Yusuf / Youssef, Jurij / Yuri in some sources); twins and households carry
names one edit or so apart that are two people's (Marta / Maria, Jan / Jana, Ali / Alin, Yasir /
Yasin, Umair beside his brother Omar, Zaid beside Said); double names are Spanish, French,
Persian, Arabic and Vietnamese ones (Juan Carlos / Juan, Mohammad Reza / Reza). The default,
``nordic``, writes the same bytes as before the option existed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import io
import json
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

# --------------------------------------------------------------------------- constants
COUNTRIES = (("SE", "sv_SE", 0.70), ("NO", "no_NO", 0.10), ("DK", "da_DK", 0.10), ("FI", "fi_FI", 0.10))
DIAL = {"SE": "46", "NO": "47", "DK": "45", "FI": "358"}
DK_MOBILE = tuple(f"2{d}" for d in range(10)) + ("30", "31", "40", "41", "42", "50", "51", "52", "53", "60", "61", "71")
DAYS = ("2026-10-01", "2026-10-02", "2026-10-03")
NAME_PROFILES = ("nordic", "world")
ESP_LIST_ID = "9c1d37a2e0"
TWILIO_ACCOUNT = "AC" + "4e" * 16
TWILIO_SENDER = "+46766860100"

DOMAINS = {
    "SE": ("gmail.com", "hotmail.com", "outlook.com", "telia.com", "live.se", "icloud.com", "bredband.net", "yahoo.se"),
    "NO": ("gmail.com", "online.no", "hotmail.com", "outlook.com", "icloud.com"),
    "DK": ("gmail.com", "hotmail.dk", "jubii.dk", "outlook.dk", "mail.dk"),
    "FI": ("gmail.com", "hotmail.com", "luukku.com", "outlook.com", "kolumbus.fi"),
}
DOMAIN_TYPOS = {
    "gmail.com": "gmial.com",
    "hotmail.com": "hotmial.com",
    "outlook.com": "outlok.com",
    "telia.com": "telia.se",
}

# Short forms written for this set (not the project's name_variants.yaml): full name -> forms.
SHORT_FORMS = {
    "Therese": ("Tessan", "Tess"),
    "Christina": ("Kicki", "Stina"),
    "Kristina": ("Stina", "Kicki"),
    "Lars": ("Lasse",),
    "Bo": ("Bosse",),
    "Jan": ("Janne",),
    "Thomas": ("Tompa", "Tommy"),
    "Margareta": ("Maggan", "Greta"),
    "Katarina": ("Kattis", "Kajsa"),
    "Elisabeth": ("Lisa", "Lisbeth"),
    "Joakim": ("Jocke",),
    "Mikael": ("Micke",),
    "Fredrik": ("Fredde",),
    "Gustav": ("Gurra", "Gusse"),
    "Robert": ("Robban",),
    "Per": ("Pelle", "Perra"),
    "Nils": ("Nisse",),
    "Karl": ("Kalle",),
    "Carl": ("Calle",),
    "Kristoffer": ("Kris", "Stoffe"),
    "Susanne": ("Sanna", "Sussi"),
    "Birgitta": ("Bittan", "Gittan"),
    "Ingegerd": ("Inger", "Gerd"),
    "Alexander": ("Alex", "Sander"),
    "Johannes": ("Jussi", "Hannes"),
    "Henrik": ("Henke", "Hinke"),
    "Ulrika": ("Ulla", "Rika"),
    "Charlotte": ("Lotta", "Lotte"),
    "Hans": ("Hasse",),
}
FEMALE_SHORT = ("Therese", "Christina", "Kristina", "Margareta", "Katarina", "Elisabeth", "Susanne", "Birgitta")
FEMALE_SHORT += ("Ingegerd", "Ulrika", "Charlotte")
MALE_SHORT = ("Lars", "Bo", "Jan", "Thomas", "Joakim", "Mikael", "Fredrik", "Gustav", "Robert", "Per", "Nils")
MALE_SHORT += ("Karl", "Carl", "Kristoffer", "Alexander", "Johannes", "Henrik", "Hans")
# double names and how people write them elsewhere
DOUBLE_NAMES = {
    "Anna-Karin": ("Anna", "Anna Karin", "A-K", "AnnaKarin"),
    "Per-Olof": ("P-O", "Per Olof", "Per", "PO"),
    "Ann-Sofie": ("Ann", "Ann Sofie", "Annsofie"),
    "Lars-Erik": ("Lasse", "L-E", "Lars Erik"),
    "Eva-Lena": ("Eva", "Eva Lena"),
    "Karl-Johan": ("Kalle", "K-J", "Karl Johan"),
    "Jan-Erik": ("Janne", "Jan Erik", "J-E"),
    "Carl-Henrik": ("Calle", "Carl Henrik", "C-H"),
    "Anne-Marie": ("Anne", "Annemarie", "Anne Marie"),
    "Hans-Olov": ("Hasse", "H-O", "Hans Olov"),
}
FEMALE_DOUBLE = ("Anna-Karin", "Ann-Sofie", "Eva-Lena", "Anne-Marie")
# twins: pairs of first names, some alike (the hard part)
TWIN_NAMES = (
    ("Emma", "Emil"), ("Linnea", "Linda"), ("Oskar", "Olle"), ("Hanna", "Hampus"), ("Elin", "Elias"),
    ("Maja", "Max"), ("Jonas", "Johan"), ("Sara", "Sofia"), ("Ida", "Isak"), ("Filip", "Felix"),
)  # fmt: skip
HOUSEHOLD_FIRSTS = (
    ("Carl-Henrik", "Caroline"), ("Magnus", "Maria"), ("Anders", "Annika"), ("Peter", "Petra"),
    ("Stefan", "Sofia"), ("Mats", "Malin"), ("Jonas", "Josefin"), ("Erik", "Eva"),
)  # fmt: skip

# --names world (written for this set, not from the project's name_variants.yaml): name locales and
# weights (None: the country's own); a share of them is outside the Faker tables the identity stage
# reads as "real names" (es_MX, en_KE, tw_GH, yo_NG, ga_IE, is_IS), so a score is not one on its table
WORLD_NAME_LOCALES = (
    ("pl_PL", 0.09), ("tr_TR", 0.10), ("es_ES", 0.05), ("es_MX", 0.05), ("pt_BR", 0.06), ("vi_VN", 0.06),
    ("en_PK", 0.12), ("en_IN", 0.06), ("en_KE", 0.06), ("tw_GH", 0.04), ("yo_NG", 0.04), ("ga_IE", 0.04),
    ("is_IS", 0.04), (None, 0.19),
)  # fmt: skip
# transliterations and spellings of one name, as one person's name arrives from different systems
TRANSLITERATIONS = {
    "Mohammed": ("Mohamed", "Muhammad", "Mohammad", "Muhammed"),
    "Aleksandr": ("Alexander", "Oleksandr", "Aleksander", "Alexandr"),
    "Yusuf": ("Youssef", "Yousef", "Jusuf", "Yousuf"),
    "Jurij": ("Yuri", "Yuriy", "Juri", "Iurii"),
    "Ahmed": ("Ahmad", "Ahmet", "Achmed"),
    "Mustafa": ("Mostafa", "Moustafa", "Mustapha"),
    "Hussein": ("Husein", "Hüseyin", "Hussain", "Hossein"),
    "Dmitri": ("Dmitry", "Dmytro", "Dimitri"),
    "Sergei": ("Sergey", "Serhii", "Sergej"),
    "Nikolai": ("Nikolay", "Mykola", "Nikolaj"),
    "Andrei": ("Andrey", "Andrii", "Andrej"),
    "Mikhail": ("Mihail", "Mykhailo", "Michail"),
    "Khalid": ("Khaled", "Halid", "Chalid"),
    "Ibrahim": ("Ebrahim", "Ibrahem", "Brahim"),
    "Osman": ("Usman", "Othman", "Uthman"),
    "Omar": ("Umar", "Omer", "Ömer"),
    "Hassan": ("Hasan", "Hassen"),
    "Fatima": ("Fatma", "Fatemeh", "Fatimah"),
    "Olga": ("Olha",),
    "Ekaterina": ("Yekaterina", "Jekaterina", "Katerina"),
    "Natalia": ("Natalya", "Nataliya", "Natalja"),
    "Tatiana": ("Tatyana", "Tetiana", "Tatjana"),
    "Maryam": ("Mariam", "Meryem", "Miriam"),
    "Zeynep": ("Zainab", "Zaynab", "Zeinab"),
    "Ayşe": ("Aisha", "Aysha", "Ayesha"),
}
FEMALE_TRANSLIT = ("Fatima", "Olga", "Ekaterina", "Natalia", "Tatiana", "Maryam", "Zeynep", "Ayşe")
# two people whose names are one edit or so apart: (first, female, second, female)
WORLD_TWIN_NAMES = (
    ("Marta", True, "Maria", True), ("Jan", False, "Jana", True), ("Ali", False, "Alin", False),
    ("Ana", True, "Ama", True), ("Yasir", False, "Yasin", False), ("Hasan", False, "Hüseyin", False),
    ("Umair", False, "Omar", False), ("Zaid", False, "Saeed", False), ("Hatima", True, "Fatma", True),
    ("Domas", False, "Tomas", False),
)  # fmt: skip
# households: (man, woman, a third member's name one edit or so from the man's: his son or brother;
# never his own short form: Pelle beside Per is one man's name, whoever wrote it)
WORLD_HOUSEHOLDS = (
    ("Omar", "Fatma", "Umair"), ("Said", "Amina", "Zaid"), ("Tomas", "Ona", "Domas"), ("Per", "Perla", "Pedro"),
    ("Oleg", "Olga", "Olle"), ("Yasin", "Hatice", "Yasir"), ("Mehmet", "Meryem", "Mehdi"), ("Ali", "Alina", "Alin"),
)  # fmt: skip
WORLD_DOUBLE_NAMES = {
    "Juan Carlos": ("Juan", "Juan-Carlos", "JC"),
    "José Luis": ("José", "Jose Luis", "J. Luis"),
    "María José": ("María", "Maria Jose", "M. José"),
    "Jean-Pierre": ("Jean", "Jean Pierre", "J-P"),
    "Marie-Claire": ("Marie", "Marie Claire", "Marieclaire"),
    "Mohammad Reza": ("Reza", "Mohammadreza", "Mohammad"),
    "Abdul Rahman": ("Abdulrahman", "Abdul-Rahman", "Abdul"),
    "Ana Maria": ("Ana", "Anamaria", "Ana-Maria"),
    "Anh Thu": ("Anh", "Anh-Thu", "Anhthu"),
}
FEMALE_WORLD_DOUBLE = ("María José", "Marie-Claire", "Ana Maria")

SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,"
    "Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,"
    "Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,"
    "Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,"
    "Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,"
    "Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,"
    "Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,"
    "Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,"
    "Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
).split(",")
MAILCHIMP_HEADER = (
    "Email Address", "First Name", "Last Name", "Address", "Zip", "City", "Phone Number", "Date of Birth",
    "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF",
    "DSTOFF", "TIMEZONE", "CC", "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS",
)  # fmt: skip
UNSUB_EXTRA = ("UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON", "UNSUB_REASON_OTHER")
CLEAN_EXTRA = ("CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID")
CRM_HEADER = (
    "customer_id", "first_name", "last_name", "email", "mobile", "street", "zip", "city", "country",
    "date_of_birth", "loyalty_card_id", "created_at", "updated_at", "consent_email", "consent_sms",
)  # fmt: skip
RECEIPT_HEADER = ("receipt_id", "store_id", "ts_local", "tz", "loyalty_card_id", "line_no", "sku", "article", "qty")
RECEIPT_HEADER += ("unit_price", "discount", "vat_rate")
TWILIO_HEADER = ("Sid", "From", "To", "Body", "Status", "SentDate", "ApiVersion", "NumSegments", "ErrorCode")
TWILIO_HEADER += ("AccountSid", "Direction", "Price", "PriceUnit")
ARTICLES = (("KAF-500", "Kaffe mörkrost 500 g", 64.9), ("BRD-01", "Surdegsbröd – råg", 42.0),
            ("CHK-70", "Choklad 70 % “Ecuador”", 29.5), ("OST-12", "Västerbottensost 450 g", 119.0),
            ("MJL-1", "Mjölk 1,5 % 1 l", 16.9), ("TVL-2", "Tvål – lavendel", 24.0))  # fmt: skip
PRODUCTS = (("Ullfilt Grå", "UF-01", 349.0), ("Termos 0,5 l", "TM-05", 229.0), ("Kaffe 250 g", "KF-250", 89.0),
            ("Linneduk", "LD-02", 199.0), ("Ljusstake Mässing", "LS-11", 449.0))  # fmt: skip
STORES = ("S014", "S027", "S103")


# --------------------------------------------------------------------------- people
@dataclass
class Person:
    pid: str
    country: str
    female: bool
    first: str
    last: str
    birth: dt.date | None
    street: str
    postcode: str
    city: str
    email: str
    mobile: str  # national significant number (no trunk 0)
    landline: str | None = None
    cases: list[tuple[str, str]] = field(default_factory=list)  # (case_type, case_group)
    old_last: str | None = None  # married_name: the surname before
    old_address: tuple[str, str, str] | None = None  # moved: (street, postcode, city) before
    family_email: str | None = None
    no_mobile: bool = False
    written: set[str] = field(default_factory=set)  # identifiers some record of theirs carries


def fold(text: str) -> str:
    """ASCII as web forms and e-mail local parts write Nordic letters."""
    text = text.replace("æ", "ae").replace("Æ", "Ae").replace("ø", "o").replace("Ø", "O").replace("ß", "ss")
    text = text.replace("ı", "i").replace("ł", "l").replace("Ł", "L").replace("đ", "d").replace("Đ", "D")
    text = text.replace("ð", "d").replace("Ð", "D").replace("þ", "th").replace("Þ", "Th")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def e164(country: str, nsn: str) -> str:
    return "+" + DIAL[country] + nsn


def national(country: str, nsn: str) -> str:
    """The number as written at home: trunk 0 in SE and FI, none in NO and DK."""
    return ("0" + nsn) if country in ("SE", "FI") else nsn


def phone_written(rng: random.Random, country: str, nsn: str, landline: bool = False) -> str:
    """One of the ways people and systems write a number (docs/sources.md, Phones)."""
    nat, cc = national(country, nsn), DIAL[country]
    if country == "SE":
        if landline:  # Stockholm 08-xxx xx xx
            forms = [f"08-{nsn[1:4]} {nsn[4:6]} {nsn[6:]}", "0" + nsn, f"+46 8 {nsn[1:4]} {nsn[4:6]} {nsn[6:]}"]
        else:
            forms = [
                f"{nat[:3]}-{nat[3:6]} {nat[6:8]} {nat[8:]}",
                nat,
                f"+46 {nsn[:2]} {nsn[2:5]} {nsn[5:7]} {nsn[7:]}",
                "0046" + nsn,
                "46" + nsn,
                nsn,  # the leading zero a spreadsheet dropped
                f"{nat[:3]} {nat[3:6]} {nat[6:8]} {nat[8:]}",
                "+46" + nsn,
            ]
    elif country == "FI":
        forms = [f"{nat[:3]} {nat[3:]}", f"{nat[:3]}-{nat[3:]}", f"+358 {nsn[:2]} {nsn[2:]}", "+358" + nsn, nat]
    else:  # NO, DK: eight digits, no trunk prefix
        forms = [nsn, f"{nsn[:2]} {nsn[2:4]} {nsn[4:6]} {nsn[6:]}", f"+{cc} {nsn[:3]} {nsn[3:5]} {nsn[5:]}"]
        forms += ["00" + cc + nsn, "+" + cc + nsn]
    return rng.choice(forms)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def new_mobile(rng: random.Random, country: str) -> str:
    if country == "SE":
        return "7" + rng.choice("0236") + _digits(rng, 7)
    if country == "NO":
        return rng.choice("49") + _digits(rng, 7)
    if country == "DK":
        return rng.choice(DK_MOBILE) + _digits(rng, 6)
    return rng.choice(("40", "50", "44", "45")) + _digits(rng, 7)


def new_landline(rng: random.Random, country: str) -> str:
    return {"SE": "8", "NO": "2", "DK": "3", "FI": "9"}[country] + _digits(rng, 7)


def email_for(rng: random.Random, first: str, last: str, country: str, taken: set[str]) -> str:
    f, l_ = fold(first).lower().replace(" ", ""), fold(last).lower().replace(" ", "")
    local = rng.choice((f"{f}.{l_}", f"{f}{l_}", f"{f[0]}{l_}", f"{f}.{l_}{rng.randint(1, 99)}", f"{f}_{l_}"))
    domain = rng.choice(DOMAINS[country])
    address = f"{local}@{domain}"
    while address in taken:
        address = f"{local}{rng.randint(1, 999)}@{domain}"
    taken.add(address)
    return address


# --------------------------------------------------------------------------- corruption
def typo(rng: random.Random, s: str) -> str:
    """One keyboard error: a letter dropped, doubled, swapped with its neighbour, or replaced."""
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return s[:i] + s[i + 1 :]
    if kind == 1:
        return s[:i] + s[i] + s[i:]
    if kind == 2:
        return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]
    return s[:i] + rng.choice("aeiournstl") + s[i + 1 :]


def name_noise(rng: random.Random, s: str) -> str:
    """Case, folding and the odd typo, as names arrive from forms and tills."""
    r = rng.random()
    if r < 0.05:
        s = typo(rng, s)
    elif r < 0.10:
        s = fold(s)
    r = rng.random()
    if r < 0.06:
        s = s.upper()
    elif r < 0.10:
        s = s.lower()
    return s + (" " if rng.random() < 0.03 else "")


def street_noise(rng: random.Random, street: str) -> str:
    r = rng.random()
    if r < 0.06:
        return street.replace("gatan", "g.").replace("vägen", "v.").replace("veien", "vn.").replace("vej ", "vej ")
    if r < 0.10:
        return street + f" lgh {rng.randint(1001, 1405)}"
    if r < 0.14:
        return street.lower()
    if r < 0.17:
        return typo(rng, street)
    return street


def postcode_written(rng: random.Random, country: str, postcode: str) -> str:
    digits = postcode.replace(" ", "")
    if country == "SE" and rng.random() < 0.5:
        return f"{digits[:3]} {digits[3:]}"
    return digits


def date_written(rng: random.Random, d: dt.date, country: str) -> str:
    if country == "SE":
        forms = (d.isoformat(), d.isoformat(), d.strftime("%Y%m%d"))
    else:
        forms = (d.strftime("%d.%m.%Y"), d.isoformat(), d.strftime("%d/%m/%Y"))
    return rng.choice(forms)


def birth_typo(rng: random.Random, d: dt.date) -> dt.date:
    """One digit wrong in the day or the month (27 -> 17), never an impossible date."""
    for _ in range(10):
        try:
            if rng.random() < 0.7:
                return d.replace(day=(d.day + rng.choice((-10, 10, 1, -1))))
            return d.replace(month=(d.month % 12) + 1)
        except ValueError:
            continue
    return d


def email_typo(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    if domain in DOMAIN_TYPOS and rng.random() < 0.5:
        return f"{local}@{DOMAIN_TYPOS[domain]}"
    return f"{typo(rng, local)}@{domain}"


def email_written(rng: random.Random, email: str) -> str:
    r = rng.random()
    if r < 0.05:
        return email.upper()
    if r < 0.10:
        return email[0].upper() + email[1:]
    if r < 0.13:
        return f" {email} "
    return email


# --------------------------------------------------------------------------- the set
class Builder:
    def __init__(self, seed: int, persons: int, names: str = "nordic"):
        from faker import Faker

        if names not in NAME_PROFILES:
            raise ValueError(f"names must be one of {NAME_PROFILES}, not {names!r}")
        self.names = names
        self.rng = random.Random(seed)
        self.fakers = {}
        for i, (cc, locale, _) in enumerate(COUNTRIES):
            f = Faker(locale)
            f.seed_instance(seed * 10 + i)
            self.fakers[cc] = f
        self.name_fakers = {}  # --names world: a Faker per name locale
        if names == "world":
            for i, (locale, _) in enumerate(WORLD_NAME_LOCALES):
                if locale is not None:
                    f = Faker(locale)
                    f.seed_instance(seed * 10 + 100 + i)
                    self.name_fakers[locale] = f
        self.n = persons
        self.people: list[Person] = []
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.truth: list[tuple[str, str, str]] = []
        self.crm: list[dict] = []
        self.esp: dict[str, list[dict]] = {"subscribed": [], "unsubscribed": [], "cleaned": []}
        self.orders: dict[str, list[list[str]]] = {d: [] for d in DAYS}
        self.receipts: dict[tuple[str, str], list[list[str]]] = {}
        self.sms: dict[str, list[list[str]]] = {d: [] for d in DAYS}
        self.sms_bulk: list[dict] = []
        self.counters = {"crm": 100000, "leid": 40000000, "order": 1000, "card": 0, "receipt": 5000, "sms": 0}
        self.groups = 0

    # ---- people
    def _country(self) -> str:
        r, acc = self.rng.random(), 0.0
        for cc, _, w in COUNTRIES:
            acc += w
            if r < acc:
                return cc
        return "SE"

    def _phone(self, country: str, landline: bool = False) -> str:
        import phonenumbers

        while True:
            nsn = new_landline(self.rng, country) if landline else self._mobile(country)
            if nsn in self.phones:
                continue
            num = phonenumbers.parse(e164(country, nsn))
            if phonenumbers.is_valid_number(num):
                self.phones.add(nsn)
                return nsn

    def _mobile(self, country: str) -> str:
        return new_mobile(self.rng, country)

    def _address(self, country: str) -> tuple[str, str, str]:
        f = self.fakers[country]
        return f.street_address(), f.postcode().replace(" ", ""), f.city()

    def _name_faker(self, cc: str):
        """The Faker a person's names come from: the country's own, or (--names world) a name locale's."""
        if self.names != "world":
            return self.fakers[cc]
        r, acc = self.rng.random(), 0.0
        for locale, w in WORLD_NAME_LOCALES:
            acc += w
            if r < acc:
                return self.name_fakers[locale] if locale else self.fakers[cc]
        return self.fakers[cc]

    def person(self, country: str | None = None, **over) -> Person:
        cc = country or self._country()
        f = self._name_faker(cc)
        female = over.pop("female", self.rng.random() < 0.5)
        first = over.pop("first", None) or (f.first_name_female() if female else f.first_name_male())
        last = over.pop("last", None) or f.last_name()
        birth = over.pop("birth", None) or dt.date(1940, 1, 1) + dt.timedelta(days=self.rng.randrange(66 * 365))
        street, postcode, city = over.pop("address", None) or self._address(cc)
        p = Person(
            pid=f"P{len(self.people) + 1:05d}",
            country=cc,
            female=female,
            first=first,
            last=last,
            birth=birth,
            street=street,
            postcode=postcode,
            city=city,
            email=over.pop("email", None) or email_for(self.rng, first, last, cc, self.emails),
            mobile=self._phone(cc),
            **over,
        )
        self.people.append(p)
        return p

    def group(self, case: str, members: list[Person]) -> None:
        self.groups += 1
        for m in members:
            m.cases.append((case, f"{case}-{self.groups:03d}"))

    def make_people(self) -> None:
        rng = self.rng
        for i in range(20):  # twins: same surname, birth date, address and landline
            cc = "SE" if i < 14 else self._country()
            if self.names == "world":
                a, fem_a, b, fem_b = WORLD_TWIN_NAMES[i % len(WORLD_TWIN_NAMES)]
            else:
                a, b = TWIN_NAMES[i % len(TWIN_NAMES)]
                fem_a, fem_b = a in ("Emma", "Linnea", "Hanna", "Elin", "Maja", "Sara", "Ida"), b in ("Linda", "Sofia")
            t1 = self.person(cc, first=a, female=fem_a)
            t2 = self.person(
                cc, first=b, female=fem_b, last=t1.last, birth=t1.birth, address=(t1.street, t1.postcode, t1.city)
            )
            if rng.random() < 0.6:
                t1.landline = t2.landline = self._phone(cc, landline=True)
            self.group("twins", [t1, t2])
        for i in range(20):  # parent and child of the same name
            cc = "SE" if i < 15 else self._country()
            par = self.person(cc, birth=dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20 * 365)))
            kid_birth = par.birth + dt.timedelta(days=rng.randint(22 * 365, 34 * 365))
            home = (par.street, par.postcode, par.city) if rng.random() < 0.6 else None
            kid = self.person(cc, first=par.first, last=par.last, female=par.female, birth=kid_birth, address=home)
            if home and rng.random() < 0.5:
                par.landline = kid.landline = self._phone(cc, landline=True)
            self.group("parent_child", [par, kid])
        for i in range(30):  # households: a family inbox and a landline
            cc = "SE" if i < 22 else self._country()
            third = None
            if self.names == "world":
                a, b, third = WORLD_HOUSEHOLDS[i % len(WORLD_HOUSEHOLDS)]
            else:
                a, b = HOUSEHOLD_FIRSTS[i % len(HOUSEHOLD_FIRSTS)]
            p1 = self.person(cc, first=a, female=False)
            p2 = self.person(cc, first=b, female=True, last=p1.last, address=(p1.street, p1.postcode, p1.city))
            members = [p1, p2]
            if third and rng.random() < 0.7:  # the son or brother whose name is one edit from his
                home = (p1.street, p1.postcode, p1.city)
                members.append(self.person(cc, first=third, female=False, last=p1.last, address=home))
            elif rng.random() < 0.4:
                members.append(self.person(cc, last=p1.last, address=(p1.street, p1.postcode, p1.city)))
            inbox = f"familjen.{fold(p1.last).lower()}@{rng.choice(DOMAINS[cc])}"
            while inbox in self.emails:
                inbox = inbox.replace("@", f"{rng.randint(1, 9)}@")
            self.emails.add(inbox)
            line = self._phone(cc, landline=True)
            for m in members:
                m.family_email, m.landline = inbox, line
            self.group("household", members)
        single = (
            [("nickname", 70), ("swapped_name", 60), ("double_name", 40), ("initial", 25), ("married_name", 40)]
            + [("moved", 60), ("email_typo", 40), ("nameless_esp", 50)]
        )  # fmt: skip
        if self.names == "world":
            single[0] = ("transliteration", 70)
        for case, count in single:
            for _ in range(count):
                cc = "SE" if rng.random() < 0.75 else self._country()
                over: dict = {}
                if case == "nickname":
                    female = rng.random() < 0.5
                    over = {"female": female, "first": rng.choice(FEMALE_SHORT if female else MALE_SHORT)}
                elif case == "transliteration":
                    name = rng.choice(tuple(TRANSLITERATIONS))
                    over = {"female": name in FEMALE_TRANSLIT, "first": name}
                elif case == "double_name" and self.names == "world":
                    name = rng.choice(tuple(WORLD_DOUBLE_NAMES))
                    over = {"female": name in FEMALE_WORLD_DOUBLE, "first": name}
                elif case == "double_name":
                    name = rng.choice(tuple(DOUBLE_NAMES))
                    over = {"female": name in FEMALE_DOUBLE, "first": name}
                elif case == "married_name":
                    over = {"female": True}
                p = self.person(cc, **over)
                if case == "married_name":
                    p.old_last = self.fakers[cc].last_name()
                if case == "moved":
                    p.old_address = self._address(cc)
                p.cases.append((case, ""))
        while len(self.people) < self.n:
            self.person()
        for p in self.people:
            if rng.random() < 0.12 and not any(c[0] in ("twins", "parent_child") for c in p.cases):
                p.birth = None  # nobody ever told a system their birth date
            if rng.random() < 0.04 and not p.landline:
                p.no_mobile = True

    # ---- records
    def cases(self, p: Person) -> set[str]:
        return {c for c, _ in p.cases}

    def first_written(self, p: Person, source: str) -> str:
        """The first name a source holds: the short form, double-name form or initial for those cases."""
        cs, rng = self.cases(p), self.rng
        if "nickname" in cs and source in ("esp", "order", "crm2") and rng.random() < 0.75:
            return rng.choice(SHORT_FORMS[p.first])
        if "transliteration" in cs and source in ("esp", "order", "crm2") and rng.random() < 0.75:
            return name_noise(rng, rng.choice(TRANSLITERATIONS[p.first]))
        if "double_name" in cs and source in ("esp", "order", "crm2") and rng.random() < 0.8:
            return rng.choice(WORLD_DOUBLE_NAMES.get(p.first) or DOUBLE_NAMES[p.first])
        if "initial" in cs and source in ("order", "esp", "crm2") and rng.random() < 0.8:
            return p.first[0] + rng.choice((".", "", "."))
        return name_noise(rng, p.first)

    def add_truth(self, source: str, record_id: str, p: Person) -> None:
        self.truth.append((source, record_id, p.pid))

    def crm_record(self, p: Person, second: bool = False) -> None:
        rng = self.rng
        self.counters["crm"] += rng.randint(1, 7)
        cid = f"{self.counters['crm']}"
        cs = self.cases(p)
        last, (street, postcode, city), email = p.last, (p.street, p.postcode, p.city), p.email
        if "married_name" in cs and not second:
            last = p.old_last or last  # the first registration, before the wedding
        if "moved" in cs and not second:
            street, postcode, city = p.old_address or (street, postcode, city)
        if second and "email_typo" in cs:
            email = email_typo(rng, email)
        elif second and rng.random() < 0.5:
            email = email_for(rng, p.first, p.last, p.country, self.emails)  # a new address since
        if "household" in cs and rng.random() < 0.5:
            email = p.family_email or email
        phone = None
        if p.landline and (rng.random() < 0.5 or p.no_mobile):
            phone = phone_written(rng, p.country, p.landline, landline=True)
        elif not p.no_mobile and rng.random() < 0.85:
            phone = phone_written(rng, p.country, p.mobile)
        keep_email = rng.random() < 0.95 or "nameless_esp" in cs
        p.written |= {email.lower()} if keep_email else set()
        p.written |= (
            {"mobile"}
            if phone and not (p.landline and p.landline in phone.replace(" ", "").replace("-", ""))
            else set()
        )
        birth = p.birth if p.birth and rng.random() < 0.9 else None
        if birth and rng.random() < 0.03:
            birth = birth_typo(rng, birth)
        created = dt.datetime(2015, 1, 1) + dt.timedelta(minutes=rng.randrange(10 * 365 * 1440))
        card = None
        if not second and rng.random() < 0.3:
            self.counters["card"] += 1
            card = f"7350{self.counters['card']:08d}"
            for _ in range(rng.choice((1, 1, 2))):
                self.receipt(p, card)
        self.crm.append(
            {
                "customer_id": cid,
                "first_name": self.first_written(p, "crm2" if second else "crm"),
                "last_name": name_noise(rng, last),
                "email": email_written(rng, email) if keep_email else "",
                "mobile": phone or "",
                "street": street_noise(rng, street),
                "zip": postcode_written(rng, p.country, postcode),
                "city": city if rng.random() < 0.9 else city.upper(),
                "country": rng.choice((p.country, p.country, {"SE": "Sverige", "NO": "Norge", "DK": "Danmark", "FI": "Suomi"}[p.country])),
                "date_of_birth": date_written(rng, birth, p.country) if birth else "",
                "loyalty_card_id": card or "",
                "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
                "updated_at": (created + dt.timedelta(days=rng.randrange(300))).strftime("%Y-%m-%d %H:%M:%S"),
                "consent_email": rng.choice(("yes", "no", "1", "")),
                "consent_sms": rng.choice(("yes", "no", "")),
            }
        )  # fmt: skip
        self.add_truth("crm", cid, p)

    def receipt(self, p: Person, card: str) -> None:
        rng = self.rng
        store, day = rng.choice(STORES), rng.choice(DAYS)
        self.counters["receipt"] += 1
        rid = f"{self.counters['receipt']}"
        ts = f"{day} {rng.randint(8, 20):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        rows = self.receipts.setdefault((store, day), [])
        for line_no in range(1, rng.randint(1, 4) + 1):
            sku, article, price = rng.choice(ARTICLES)
            rows.append([rid, store, ts, "Europe/Stockholm", card, str(line_no), sku, article, str(rng.randint(1, 3))])
            rows[-1] += [f"{price:.2f}".replace(".", ","), "0,00", "12" if sku != "TVL-2" else "25"]
        self.add_truth("pos", f"receipt:{store}:{rid}", p)

    def esp_member(self, p: Person) -> None:
        rng = self.rng
        cs = self.cases(p)
        email = p.email
        if "household" in cs and rng.random() < 0.5 and p.family_email:
            email = p.family_email
            if any(r["Email Address"].strip().lower() == email for rs in self.esp.values() for r in rs):
                email = p.email  # one member per address in a Mailchimp audience
        # a member without a name: only when some other record of theirs has the address
        nameless = ("nameless_esp" in cs or rng.random() < 0.08) and email.lower() in p.written
        last = p.last
        if "married_name" in cs:
            last = rng.choice((p.last, f"{p.old_last} {p.last}", f"{p.old_last}-{p.last}"))
        street, postcode, city = (p.street, p.postcode, p.city)
        has_addr = rng.random() < 0.35 and not nameless
        esp_phone = phone_written(rng, p.country, p.mobile) if not p.no_mobile and rng.random() < 0.3 else ""
        p.written |= {"mobile"} if esp_phone else set()
        self.counters["leid"] += rng.randint(1, 50)
        leid = str(self.counters["leid"])
        optin = dt.datetime(2019, 1, 1) + dt.timedelta(minutes=rng.randrange(7 * 365 * 1440))
        status = rng.choices(("subscribed", "unsubscribed", "cleaned"), (0.82, 0.13, 0.05))[0]
        row = {
            "Email Address": email_written(rng, email),
            "First Name": "" if nameless else self.first_written(p, "esp"),
            "Last Name": "" if nameless else name_noise(rng, last),
            "Address": street_noise(rng, street) if has_addr else "",
            "Zip": postcode_written(rng, p.country, postcode) if has_addr else "",
            "City": city if has_addr else "",
            "Phone Number": esp_phone,
            "Date of Birth": date_written(rng, p.birth, p.country) if p.birth and rng.random() < 0.4 else "",
            "MEMBER_RATING": str(rng.randint(1, 5)),
            "OPTIN_TIME": optin.strftime("%Y-%m-%d %H:%M:%S"),
            "CONFIRM_TIME": (optin + dt.timedelta(seconds=rng.randint(30, 900))).strftime("%Y-%m-%d %H:%M:%S"),
            "TIMEZONE": {"SE": "Europe/Stockholm", "NO": "Europe/Oslo", "DK": "Europe/Copenhagen", "FI": "Europe/Helsinki"}[p.country],
            "CC": p.country,
            "LAST_CHANGED": (optin + dt.timedelta(days=rng.randrange(400))).strftime("%Y-%m-%d %H:%M:%S"),
            "LEID": leid,
            "EUID": f"{rng.getrandbits(40):010x}",
        }  # fmt: skip
        if status == "unsubscribed":
            row |= {"UNSUB_TIME": row["LAST_CHANGED"], "UNSUB_REASON": "NORMAL"}
        if status == "cleaned":
            row |= {"CLEAN_TIME": row["LAST_CHANGED"], "CLEAN_CAMPAIGN_TITLE": "Nyhetsbrev vecka 12"}
        self.esp[status].append(row)
        self.add_truth("esp", leid, p)

    def order(self, p: Person) -> None:
        rng = self.rng
        cs = self.cases(p)
        self.counters["order"] += rng.randint(1, 3)
        name = f"#{self.counters['order']}"
        day = rng.choice(DAYS)
        created = dt.datetime.fromisoformat(day) - dt.timedelta(minutes=rng.randrange(1, 1440))
        stamp = created.strftime("%Y-%m-%d %H:%M:%S") + " +0200"
        email = p.email
        if "email_typo" in cs and rng.random() < 0.7:
            email = email_typo(rng, email)
        elif "household" in cs and p.family_email and rng.random() < 0.6:
            email = p.family_email
        first, last = self.first_written(p, "order"), name_noise(rng, p.last)
        if "married_name" in cs and rng.random() < 0.3:
            last = f"{p.old_last} {p.last}"
        billing = f"{last} {first}" if ("swapped_name" in cs and rng.random() < 0.8) else f"{first} {last}"
        billing = billing.strip()
        phone = ""
        if p.landline and ("parent_child" in cs or "household" in cs) and rng.random() < 0.3:
            phone = phone_written(rng, p.country, p.landline, landline=True)
        elif not p.no_mobile and rng.random() < 0.7:
            phone = phone_written(rng, p.country, p.mobile)
            p.written.add("mobile")
        p.written.add(email.lower())
        zip_ = postcode_written(rng, p.country, p.postcode)
        if rng.random() < 0.15:
            zip_ = "'" + zip_.replace(" ", "")
        lines = rng.sample(PRODUCTS, rng.randint(1, 3))
        subtotal = sum(price * q for (_, _, price), q in zip(lines, [1] * len(lines)))
        street = street_noise(rng, p.street)
        for i, (title, sku, price) in enumerate(lines):
            row = dict.fromkeys(SHOPIFY_HEADER, "")
            row |= {"Name": name, "Email": email if i == 0 else "", "Created at": stamp, "Lineitem quantity": "1"}
            row |= {"Lineitem name": title, "Lineitem price": f"{price:.2f}", "Lineitem sku": sku}
            row |= {"Lineitem discount": "0.00", "Lineitem requires shipping": "true", "Lineitem taxable": "true"}
            if i == 0:
                row |= {"Financial Status": "paid", "Paid at": stamp, "Fulfillment Status": "fulfilled"}
                row |= {
                    "Accepts Marketing": rng.choice(("yes", "no")),
                    "Currency": "SEK" if p.country == "SE" else "EUR",
                }
                row |= {"Subtotal": f"{subtotal:.2f}", "Shipping": "49.00", "Total": f"{subtotal + 49:.2f}"}
                row |= {"Taxes": f"{subtotal * 0.2:.2f}", "Discount Amount": "0.00", "Shipping Method": "PostNord"}
                row |= {"Billing Name": billing, "Billing Street": street, "Billing Address1": street}
                row |= {"Billing City": p.city, "Billing Zip": zip_, "Billing Country": p.country}
                row |= {"Billing Phone": phone, "Shipping Name": billing, "Shipping Street": street}
                row |= {"Shipping City": p.city, "Shipping Zip": zip_, "Shipping Country": p.country}
                row |= {"Payment Method": "Klarna", "Id": str(6634244370000 + self.counters["order"])}
                row |= {"Risk Level": "Low", "Source": "web", "Vendor": "Nordhem"}
            self.orders[day].append([row[h] for h in SHOPIFY_HEADER])
        self.add_truth("pos", f"order:{name}", p)

    def sms_number(self, p: Person) -> None:
        rng = self.rng
        number = e164(p.country, p.mobile)
        for _ in range(rng.randint(1, 3)):
            day = rng.choice(DAYS)
            self.counters["sms"] += 1
            sid = f"SM{self.counters['sms']:032x}"
            inbound = rng.random() < 0.2
            sent = f"{day}T{rng.randint(7, 21):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
            body = rng.choice(("STOP", "Tack!", "Ok", "START")) if inbound else "Hej! Din order har skickats."
            frm, to = (number, TWILIO_SENDER) if inbound else (TWILIO_SENDER, number)
            direction = "inbound" if inbound else "outbound-api"
            if rng.random() < 0.25:  # the bulk export day file
                self.sms_bulk.append(
                    {
                        "sid": sid, "account_sid": TWILIO_ACCOUNT, "messaging_service_sid": None,
                        "date_created": sent, "date_updated": sent, "date_sent": sent, "from": frm, "to": to,
                        "body": body, "status": "received" if inbound else "delivered", "direction": direction,
                        "num_segments": "1", "num_media": "0", "price": "-0.0079", "error_code": None,
                    }
                )  # fmt: skip
            else:
                status = "received" if inbound else "delivered"
                row = [sid, frm, to, body, status, sent, "2010-04-01", "1", "", TWILIO_ACCOUNT, direction]
                self.sms[day].append(row + ["-0.0492", "USD"])
        self.add_truth("sms", number, p)

    def make_records(self) -> None:
        rng = self.rng
        for p in self.people:
            cs = self.cases(p)
            hard = bool(cs)
            has_crm = hard or rng.random() < 0.70
            if "nameless_esp" in cs:
                has_crm = True
            if has_crm:
                self.crm_record(p)
                if rng.random() < 0.05 or ("married_name" in cs and rng.random() < 0.5) or "email_typo" in cs:
                    if "email_typo" not in cs or rng.random() < 0.4:
                        self.crm_record(p, second=True)
            n_orders = rng.choices((0, 1, 2, 3), (0.70, 0.22, 0.06, 0.02))[0]
            if hard and cs & {"swapped_name", "email_typo", "moved", "initial", "parent_child", "household"}:
                n_orders = max(n_orders, 1)
            if not has_crm and n_orders == 0 and rng.random() < 0.5:
                n_orders = 1
            for _ in range(n_orders):
                self.order(p)
            if rng.random() < (0.45 if not hard else 0.6) or "nameless_esp" in cs:
                self.esp_member(p)
            if not any(t[2] == p.pid for t in self.truth[-12:]):
                self.crm_record(p)  # everyone is known somewhere
            # a Twilio number is one the shop has from somewhere: a nameless record linked by phone only
            if "mobile" in p.written and rng.random() < 0.25:
                self.sms_number(p)

    # ---- files
    def write(self, landing: Path, truth: Path) -> dict:
        landing.mkdir(parents=True, exist_ok=True)
        files = []

        def put(rel: str, data: bytes) -> None:
            path = landing / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            files.append(rel)

        def table(header, rows, delimiter=",", dict_rows=False) -> str:
            buf = io.StringIO()
            w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if delimiter == ";" else "\n")
            w.writerow(header)
            for r in rows:
                w.writerow([r.get(h, "") for h in header] if dict_rows else r)
            return buf.getvalue()

        put(f"crm/{DAYS[0]}/kundregister_{DAYS[0].replace('-', '')}.csv",
            ("\ufeff" + table(CRM_HEADER, self.crm, ";", True)).encode("utf-8"))  # fmt: skip
        for status, rows in self.esp.items():
            header = MAILCHIMP_HEADER + (UNSUB_EXTRA if status == "unsubscribed" else ())
            header += CLEAN_EXTRA if status == "cleaned" else ()
            put(f"esp/{DAYS[0]}/{status}_email_audience_export_{ESP_LIST_ID}.csv",
                table(header, rows, ",", True).encode("utf-8"))  # fmt: skip
        for i, day in enumerate(DAYS):
            if self.orders[day]:
                put(f"pos/{day}/orders_export_{i + 1}.csv", table(SHOPIFY_HEADER, self.orders[day]).encode("utf-8"))
            if self.sms[day]:
                put(f"sms/{day}/twilio_message_log_{day}.csv", table(TWILIO_HEADER, self.sms[day]).encode("utf-8"))
        for (store, day), rows in sorted(self.receipts.items()):
            text = table(RECEIPT_HEADER, rows, ";")
            put(f"pos/{day}/kassa_{store}_{day.replace('-', '')}.csv", text.encode("cp1252"))
        if self.sms_bulk:
            body = "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in self.sms_bulk).encode("utf-8")
            put(f"sms/{DAYS[-1]}/messages_{DAYS[-1]}.json.gz", gzip.compress(body, mtime=0))

        truth.parent.mkdir(parents=True, exist_ok=True)
        with open(truth, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(("source", "source_record_id", "person_id"))
            w.writerows(self.truth)
        cases_path = truth.with_name(truth.stem + "_cases.csv")
        with open(cases_path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(("person_id", "case_type", "case_group"))
            w.writerows((p.pid, c, g) for p in self.people for c, g in p.cases)
        return {
            "files": files,
            "records": len(self.truth),
            "persons": len({t[2] for t in self.truth}),
            "by_source": {s: sum(1 for t in self.truth if t[0] == s) for s in ("crm", "esp", "pos", "sms")},
            "cases_file": str(cases_path),
        }


def build(landing: Path | str, truth: Path | str, seed: int = 11, persons: int = 4000, names: str = "nordic") -> dict:
    """Write the landing files, the truth and its cases companion; the same seed, the same bytes.
    ``names``: "nordic" (the people's own countries' names) or "world" (the module docstring)."""
    b = Builder(seed, persons, names)
    b.make_people()
    b.make_records()
    return b.write(Path(landing), Path(truth))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="the landing folder to write into")
    ap.add_argument("--truth", required=True, help="the truth CSV (keep it outside the data folder)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--persons", type=int, default=4000)
    ap.add_argument("--names", choices=NAME_PROFILES, default="nordic", help="whose names (see the docstring)")
    args = ap.parse_args(argv)
    info = build(args.out, args.truth, args.seed, args.persons, args.names)
    print(json.dumps({k: v for k, v in info.items() if k != "files"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
