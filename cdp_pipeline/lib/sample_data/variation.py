"""How the same fact gets written differently by different systems and people.

Typos, nicknames and initials, swapped names, the phone formats spreadsheets produce,
email case and whitespace, postcode and date spellings, and junk placeholder values.
All functions take an explicit random.Random so output is reproducible.
"""

import random
import re
import unicodedata
from datetime import date
from functools import lru_cache

# Common short forms; the identity layer should not rely on this list, it only makes data real.
# The first form is the one the ordinary variation uses; hard-case people (hardcases.py) use any.
NICKNAMES = {
    "Alexander": ("Alex",),
    "Anders": ("Andy",),
    "Andreas": ("Andy",),
    "Christer": ("Krille",),
    "Christoffer": ("Chris", "Stoffe"),
    "Daniel": ("Danne",),
    "Elisabeth": ("Lisa", "Lisbeth"),
    "Elisabet": ("Lisa",),
    "Fredrik": ("Fredde",),
    "Gustav": ("Gurra", "Gusse"),
    "Henrik": ("Henke",),
    "Jan": ("Janne",),
    "Joakim": ("Jocke",),
    "Johan": ("Jocke", "Jojje"),
    "Johanna": ("Jossan", "Hanna"),
    "Jonathan": ("Jonte",),
    "Karl": ("Kalle",),
    "Katarina": ("Kattis",),
    "Kristina": ("Stina", "Kicki", "Tina"),
    "Lars": ("Lasse",),
    "Magnus": ("Manne",),
    "Margareta": ("Maggan", "Greta"),
    "Mikael": ("Micke",),
    "Michael": ("Micke", "Mike"),
    "Nils": ("Nisse",),
    "Per": ("Pelle",),
    "Peter": ("Pelle",),
    "Robert": ("Robban", "Bob"),
    "Sebastian": ("Sebbe",),
    "Thomas": ("Tompa", "Tom"),
    "Tomas": ("Tompa",),
    "Ulf": ("Uffe",),
    "Viktoria": ("Vicky",),
    "Victoria": ("Vicky",),
    "Håkan": ("Hocke",),
    "Ingrid": ("Inga",),
    "Birgitta": ("Bitte", "Gittan"),
    "Gunilla": ("Gunnis",),
    "Cecilia": ("Cissi",),
    "Susanne": ("Sanna", "Sussi"),
    "Rasmus": ("Rasse",),
    "Mette": ("Mette",),
    "Kristian": ("Kris",),
    "Jørgen": ("Jørn",),
    "Bjørn": ("Bjønn",),
    "Ole": ("Olle",),
    "Jussi": ("Jussi",),
    "Johannes": ("Hannes",),
    "Wolfgang": ("Wolfi",),
    "Katharina": ("Kathi",),
    "William": ("Bill", "Will"),
    "Elizabeth": ("Liz", "Beth"),
    "Katherine": ("Kate",),
    "Margaret": ("Maggie", "Peggy"),
    "James": ("Jim",),
    "Richard": ("Rick",),
    "Matthew": ("Matt",),
    "Christopher": ("Chris",),
}
# More names with short forms, known to the variation only when the sample has hard cases
# (`hard_cases=True`): without them a sample stays as it was before they existed.
HARD_CASE_NICKNAMES = {
    "Christina": ("Kicki", "Stina"),
    "Therese": ("Tessan",),
    "Bo": ("Bosse",),
    "Lennart": ("Lelle",),
    "Mats": ("Matte",),
    "Marcus": ("Mackan",),
    "Markus": ("Mackan",),
    "Niklas": ("Nicke",),
    "Patrik": ("Patte",),
    "Stefan": ("Steffe",),
    "Tobias": ("Tobbe",),
    "Torbjörn": ("Tobbe",),
    "Bengt": ("Bengan",),
    "Kenneth": ("Kenta",),
    "Sven": ("Svenne",),
    "Ulrika": ("Ullis",),
    "Charlotte": ("Lotta",),
    "Maria": ("Mia", "Maja"),
    "Jesper": ("Jeppe",),
    "Frederik": ("Frede",),
    "Niels": ("Nisse",),
    "Kristiina": ("Tiina",),
    "Juhani": ("Jussi",),
    "Kristoffer": ("Kris",),
}

JUNK_EMAILS = ("test@test.com", "noreply@nordhem.se", "no-reply@example.com", "ingen@example.com")
JUNK_PHONES = ("0000000", "1234567", "0700000000")

_FOLD_EXTRA = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d", "ł": "l", "Ł": "L"})


@lru_cache(maxsize=1 << 16)  # names and streets recur: every record of a person, and the linkability pass
def fold_ascii(text: str) -> str:
    """å→a, ø→o, æ→ae, ß→ss; what email local parts and matching keys are made of."""
    text = text.translate(_FOLD_EXTRA)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1 << 20)  # every street of a large sample: the linkability pass asks for each on every record
def match_key(text: str | None) -> str:
    """Lower case, accents folded, letters and digits only."""
    if not text:
        return ""
    return re.sub(r"[^a-z0-9]", "", fold_ascii(text).lower())


def typo(rng: random.Random, text: str) -> str:
    """One keyboard slip: swapped, dropped or doubled letter, or an accent lost."""
    if len(text) < 4:
        return text + text[-1]
    kind = rng.randrange(4)
    i = rng.randrange(1, len(text) - 2)
    if kind == 0 and text[i] != text[i + 1]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    folded = fold_ascii(text)
    if folded != text:
        return folded
    return text[:i] + text[i + 1 :]


def _forms(first: str, more: bool) -> tuple[str, ...]:
    key = first.split("-")[0].split(" ")[0]
    return NICKNAMES.get(key) or (HARD_CASE_NICKNAMES.get(key, ()) if more else ())


def nickname(first: str, *, more: bool = False) -> str | None:
    """The usual short form of the name (of its first part, for a double name); more=True
    also knows HARD_CASE_NICKNAMES."""
    forms = _forms(first, more)
    return forms[0] if forms and forms[0] != first else None


def nicknames(first: str) -> tuple[str, ...]:
    """Every short form of the name (of its first part, for a double name), from both tables."""
    return tuple(f for f in _forms(first, True) if f != first)


def initial(first: str) -> str:
    return first[0] + "."


def vary_name(
    rng: random.Random, first: str, last: str, weights: dict[str, float], *, more_nicknames: bool = False
) -> tuple[str | None, str | None, str]:
    """Pick one variation by weight; return (first, last, variation). more_nicknames: a sample
    with hard cases also shortens the names of HARD_CASE_NICKNAMES."""
    roll = rng.random()
    for kind, weight in weights.items():  # noqa: B007 - the kind the roll stopped at is used below
        if roll < weight:
            break
        roll -= weight
    else:
        return first, last, "canonical"
    if kind == "typo":
        if rng.random() < 0.5:
            return typo(rng, first), last, kind
        return first, typo(rng, last), kind
    if kind == "nickname":
        short = nickname(first, more=more_nicknames)
        return (short, last, kind) if short else (first, last, "canonical")
    if kind == "initial":
        return initial(first), last, kind
    if kind == "upper":
        return first.upper(), last.upper(), kind
    if kind == "lower":
        return first.lower(), last.lower(), kind
    if kind == "swapped":
        return last, first, kind
    if kind == "missing_first":
        return None, last, kind
    if kind == "missing":
        return None, None, kind
    return first, last, "canonical"


def format_phone(rng: random.Random, e164: str, *, spreadsheet: bool = True) -> str:
    """One of the ways a number reaches an export; spreadsheet=False keeps the leading +/0."""
    if not e164.startswith("+46"):
        style = rng.randrange(3)
        if style == 0:
            return e164
        if style == 1:
            return "00" + e164[1:]
        return e164[:3] + " " + e164[3:6] + " " + e164[6:]
    n = e164[3:]
    if n.startswith("7"):
        styles = [
            f"+46 {n[:2]} {n[2:5]} {n[5:7]} {n[7:]}",
            f"0{n[:2]}-{n[2:5]} {n[5:7]} {n[7:]}",
            "0" + n,
            "0046" + n,
            e164,
            f"0{n[:2]} {n[2:5]} {n[5:7]} {n[7:]}",
            f"0{n[:2]}-{n[2:]}",
        ]
        if spreadsheet:
            styles += ["46" + n, n]
    else:  # landline: area code 8, e.g. 08-123 456 78
        styles = [f"0{n[0]}-{n[1:4]} {n[4:6]} {n[6:]}", f"+46 {n[0]} {n[1:4]} {n[4:6]} {n[6:]}", "0" + n, e164]
    return rng.choice(styles)


def vary_email(rng: random.Random, email: str) -> str:
    """Mixed case and stray whitespace, as typed into forms."""
    roll = rng.random()
    if roll < 0.08:
        local, _, domain = email.partition("@")
        return local.capitalize() + "@" + domain.capitalize()
    if roll < 0.11:
        return email.upper()
    if roll < 0.15:
        return " " + email + " "
    return email


def format_postcode(rng: random.Random, postcode: str, country: str, *, spreadsheet: bool = False) -> str:
    """Swedish postcodes are '123 45' canonically; often written '12345', and a spreadsheet
    protects leading digits with an apostrophe ('12345)."""
    if country != "SE":
        return ("'" + postcode) if spreadsheet and postcode[:1].isdigit() and rng.random() < 0.3 else postcode
    digits = postcode.replace(" ", "")
    roll = rng.random()
    if spreadsheet and roll < 0.3:
        return "'" + digits
    if roll < 0.7:
        return postcode
    return digits


COUNTRY_SPELLINGS = {
    "SE": ("SE", "SE", "SE", "Sverige", "Sweden"),
    "DK": ("DK", "Danmark", "Denmark"),
    "NO": ("NO", "Norge", "Norway"),
    "FI": ("FI", "Finland", "Suomi"),
    "DE": ("DE", "Tyskland", "Germany"),
    "GB": ("GB", "UK", "United Kingdom"),
}


def format_country(rng: random.Random, country: str) -> str:
    return rng.choice(COUNTRY_SPELLINGS[country])


def format_birth_date(rng: random.Random, d: date) -> str:
    roll = rng.random()
    if roll < 0.85:
        return d.isoformat()
    if roll < 0.93:
        return d.strftime("%d.%m.%Y")
    return d.strftime("%Y%m%d")


# Domains mistyped often enough that mail providers register the typo themselves.
DOMAIN_TYPOS = {
    "gmail.com": ("gmial.com", "gmal.com", "gmail.con", "gmaill.com"),
    "hotmail.com": ("hotmial.com", "hotmal.com"),
    "hotmail.dk": ("hotmial.dk",),
    "hotmail.no": ("hotmial.no",),
    "hotmail.fi": ("hotmial.fi",),
    "hotmail.co.uk": ("hotmial.co.uk",),
    "outlook.com": ("outlok.com",),
    "outlook.dk": ("outlok.dk",),
    "yahoo.se": ("yaho.se",),
    "icloud.com": ("iclod.com",),
    "telia.com": ("telia.cm",),
}


def email_typo(rng: random.Random, email: str) -> str:
    """The address as someone mistyped it once: a well-known domain typo, or a letter of the
    local part dropped or two swapped. Always a different, well-formed address."""
    local, _, domain = email.partition("@")
    if domain in DOMAIN_TYPOS and (rng.random() < 0.6 or len(local) < 4):
        return f"{local}@{rng.choice(DOMAIN_TYPOS[domain])}"
    # Letters (not dots) whose loss leaves a well-formed local part.
    candidates = [
        i for i in range(1, len(local) - 1) if local[i] != "." and not (local[i - 1] == "." and local[i + 1] == ".")
    ]
    if not candidates:
        return f"{local}@{domain[0]}{domain}"  # a doubled first letter of the domain
    i = rng.choice(candidates)
    if rng.random() < 0.5 and local[i + 1] not in (".", local[i]):
        return f"{local[:i]}{local[i + 1]}{local[i]}{local[i + 2 :]}@{domain}"
    return f"{local[:i]}{local[i + 1 :]}@{domain}"


def double_name_short(rng: random.Random, first: str) -> str:
    """How a double name is often written: its first part (Anna-Karin → Anna), with a space
    instead of the hyphen or the other way round (Per Olof, Karl-Johan), or as initials (P-O)."""
    sep = "-" if "-" in first else " "
    parts = first.split(sep)
    forms = [parts[0], (" " if sep == "-" else "-").join(parts)]
    if sep == "-":
        forms.append("-".join(part[0] for part in parts))
    return rng.choice(forms)
