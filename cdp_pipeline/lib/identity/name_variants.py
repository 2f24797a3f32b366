"""Name variation as data: which first names may be one person's, and how two first names relate.

Two sources make the groups of names that may be one person's first name:

- the English nickname table of the ``nicknames`` package (Apache-2.0, github
  carltonnorthern/nicknames, ``names.csv``): every formal name with its nicknames is one
  group, named ``en:<formal name>`` (``en:robert`` = robert, rob, bob, bobby, ...);
- ``config/name_variants.yaml``: Nordic short forms and spellings, Arabic and Slavic
  transliterations, each group named by its key. A ``name_variants.yaml`` in the user's
  config folder is read after the packaged one and adds to it; a group with the same key
  replaces the earlier one and an empty list removes it. ``not_variants`` pairs (in either
  file) are taken apart last: the English table is a genealogy list and joins some names
  that are two people here (wilma/william, hannah/anna).

A name may sit in several groups ("ron": aaron's and ronald's); two names are variants
when they share a group, so "ron" is a variant of both and "aaron" is not one of
"ronald". Every entry is put in match form (``match_name``) on loading, so names compare
as the identity stage sees them.

How two first names relate (exact, a variant, a part of a double name, an initial, a typo, or
different) is graded by the model's first-name comparison (``splink_model``) over the group keys
and words of each name (``name_keys``); the deterministic stitching uses the same grading.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from cdp_pipeline.lib.common.config_files import ConfigError, check_keys, read_mapping
from cdp_pipeline.lib.staging.names import match_name

PACKAGED_NAME_VARIANTS_PATH = Path(__file__).resolve().parents[2] / "config" / "name_variants.yaml"
ENGLISH_GROUP_PREFIX = "en:"


@dataclass(frozen=True)
class NameVariants:
    """Groups of match-form first names that may be one person's (see the module docstring)."""

    members: Mapping[str, frozenset[str]]  # group id -> its names
    _groups_of: Mapping[str, frozenset[str]]  # name -> the ids of the groups it is in
    # names the groups hold only as a listed pet form's -an form (``_definite_pet_forms``): no
    # anchor of another name's typo reading (``_one_edit_index``)
    derived: frozenset[str] = frozenset()

    @classmethod
    def from_groups(cls, groups: Mapping[str, frozenset[str]], derived: frozenset[str] = frozenset()) -> "NameVariants":
        """From ``group id -> names`` (names already in match form); groups of fewer than two
        names say nothing and are dropped. ``derived``: see the field."""
        kept = {gid: frozenset(names) for gid, names in sorted(groups.items()) if len(set(names)) >= 2}
        index: dict[str, set[str]] = {}
        for gid, names in kept.items():
            for name in names:
                index.setdefault(name, set()).add(gid)
        groups_of = MappingProxyType({n: frozenset(g) for n, g in index.items()})
        return cls(MappingProxyType(kept), groups_of, frozenset(derived) & frozenset(groups_of))

    def __repr__(self) -> str:
        return f"NameVariants({len(self.members)} groups, {len(self._groups_of)} names)"

    def groups(self, name: str | None) -> frozenset[str]:
        """The ids of the groups a match-form name is in; none for a name in no group."""
        return self._groups_of.get(name, frozenset()) if name else frozenset()

    def are_variants(self, a: str | None, b: str | None) -> bool:
        """True when the two match-form names share a group (nickname, short form, spelling)."""
        return not self.groups(a).isdisjoint(self.groups(b))

    @functools.cached_property
    def _one_edit_index(self) -> dict[str, frozenset[str]]:
        """Every name of the groups and of ``real_first_names()``, under itself and under each of
        its one-letter deletions: two names one edit apart (a letter changed, put in, dropped or
        two swapped) share such a key (a symmetric-deletion index; candidates are checked). Not the
        ``derived`` forms: a predicted name, it reads no other name (at 1M "jssan" kept Jossan's
        reading, which Jussan would have taken; in the FEBRL4-like sets "lomman" did not become a
        typo of Thomas's Tomman, nor "dannyn" lose Danny's)."""
        index: dict[str, set[str]] = {}
        for name in (set(self._groups_of) - self.derived) | real_first_names():
            for key in {name, *(name[:i] + name[i + 1 :] for i in range(len(name)))}:
                index.setdefault(key, set()).add(name)
        return {key: frozenset(names) for key, names in index.items()}

    def typo_keys(self, name: str | None) -> frozenset[str]:
        """The groups a single match-form name is an unambiguous typo of a member of: the name
        has four letters or more, is in no group and is no real first name (``real_first_names``)
        nor one of the other cultures' (``other_first_names``: Oleg, Perla, Yasir, Zaid are
        names, one edit from Ole, Per, Yasin, Said, not typos of them), and every group or real
        name one edit from it (Damerau) is in
        these groups (all of them, so a real name one edit away that is in none, or in
        another, leaves none). "hons" is one edit from Hans only (Hasse's group): a typo of
        Hans, one name with Hasse; "peta" is one edit from Pete but also from Petra and Petar:
        none. Measured over the Nordic seeds, the samples, FEBRL-like sets and the 1M sample
        (``benchmarks/results/2026-12-07-s40-nick.md``, "R5"), this joined no two people; the
        looser forms (any name one edit from a variant, or without the real-name test) joined
        households on a family inbox."""
        if not name or len(name) < 4 or " " in name or name in self._groups_of:
            return frozenset()
        if name in real_first_names() or name in other_first_names():
            return frozenset()
        index = self._one_edit_index
        near = {
            other
            for key in {name, *(name[:i] + name[i + 1 :] for i in range(len(name)))}
            for other in index.get(key, ())
            if other != name and _one_edit(name, other)
        }
        if not near:
            return frozenset()
        return frozenset.intersection(*(self.groups(other) for other in near))

    @functools.cached_property
    def _joined_double_names(self) -> dict[str, tuple[str, ...]]:
        """Every double name of the groups and of ``real_first_names()`` ("eva lena", "anna
        karin", "per olof"), under its form written without the space or hyphen ("evalena"),
        unless that form is a name of its own."""
        names = set(self._groups_of) | real_first_names()
        joined: dict[str, tuple[str, ...]] = {}
        for name in sorted(names):
            words = tuple(name.split())
            together = "".join(words)
            if len(words) > 1 and together not in names and together not in other_first_names():
                joined.setdefault(together, words)
        return joined

    def joined_parts(self, name: str | None) -> tuple[str, ...]:
        """The words of the double name a one-word match-form name is, written together
        ("evalena": Eva-Lena, written "Evalena" or "EvaLena"; "annakarin", "perolof"): only a
        double name of the groups or of ``real_first_names()`` whose joined form is no name of
        its own. None for any other name. The name table then carries its words, so the model
        grades "evalena" beside "eva" a part of the double name, as it grades "eva lena" beside
        "eva" (Nordic seed 113: Eva-Lena Svantesson, "EvaLena" in her CRM record and "Eva" on her
        own mailbox and mobile, was two customers)."""
        if not name or " " in name:
            return ()
        return self._joined_double_names.get(name, ())


def _one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` (different) are one edit apart: a letter changed, put in or dropped, or two
    neighbours swapped (Damerau-Levenshtein, restricted)."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


# Faker's first-name tables (a pinned dependency; its sample generator's names): the Nordic,
# English and German ones, 3,347 names in match form (the Swedish one Isof's top 500)
_REAL_NAME_LOCALES = ("sv_SE", "no_NO", "da_DK", "fi_FI", "en_US", "en_GB", "de_DE")


# Faker's Latin-script first-name tables of other cultures: the EU's and the Baltic languages,
# Turkish and Azerbaijani, Indonesian, Vietnamese, Uzbek, Swahili, and Pakistan's and India's
# English tables (Arabic names in Latin letters: Yasir, Umair, Zaid, Saad), 7,892 names in match
# form (6,860 not in the table above). Only whether a name is one: a name in them is a name, not a
# typo (s42-names: 61 of tr_TR's names, 88 of es_ES's, 32 of en_PK's were read as typos of a group
# with the table above alone; at 1M, 6 of 7,874 first names lose the reading: Peeter, Vitoria,
# Stela, Hellena, Farah, Davis). They do not make another name's typo ambiguous (the one-edit
# index): with them there, 176 more of the 1M names lost it, "hons" (one edit from Vietnamese
# Hong) among them, typos of Nordic and English names nearly all.
_OTHER_NAME_LOCALES = (
    "pl_PL", "cs_CZ", "sk_SK", "hu_HU", "ro_RO", "hr_HR", "sl_SI", "lt_LT", "lv_LV", "et_EE",
    "es_ES", "pt_PT", "pt_BR", "fr_FR", "it_IT", "nl_NL", "tr_TR", "az_AZ", "id_ID", "vi_VN",
    "uz_UZ", "sw", "en_PK", "en_IN",
)  # fmt: skip


def _faker_first_names(locales: tuple[str, ...]) -> frozenset[str]:
    names: set[str] = set()
    for locale in locales:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            for name in getattr(provider, attr, None) or ():
                if folded := match_name(name):
                    names.add(folded)
    return frozenset(names)


def faker_first_name_tables() -> dict[str, list[str]]:
    """``real`` (``_REAL_NAME_LOCALES``) and ``other`` (``_OTHER_NAME_LOCALES``): Faker's first
    names in match form, sorted, as ``FIRST_NAMES`` stores them."""
    return {
        "real": sorted(_faker_first_names(_REAL_NAME_LOCALES)),
        "other": sorted(_faker_first_names(_OTHER_NAME_LOCALES)),
    }


# ``faker_first_name_tables``' answer, written by ``write_first_name_tables`` (a test compares the
# two): building it imports 31 of Faker's locale modules, ~0.15 CPU s in every process that reads
# a first name's keys (the night's identity step, on its one-core path); the file loads in ~3 ms.
FIRST_NAMES = Path(__file__).with_name("first_names.json")


@functools.cache
def _stored_first_names() -> dict[str, frozenset[str]]:
    return {table: frozenset(names) for table, names in json.loads(FIRST_NAMES.read_text(encoding="utf-8")).items()}


def write_first_name_tables(path: Path = FIRST_NAMES) -> None:
    """Store ``faker_first_name_tables`` where ``real_first_names`` and ``other_first_names`` read
    them (after a Faker upgrade or a change of the locales: ``python -c "from
    cdp_pipeline.lib.identity.name_variants import write_first_name_tables; write_first_name_tables()"``)."""
    path.write_text(json.dumps(faker_first_name_tables(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


def name_tables_hash(variants: NameVariants) -> str:
    """A fingerprint of what first names are graded with besides the code: ``variants``' groups
    (the packaged and the user's ``name_variants.yaml``, the nickname table) and ``FIRST_NAMES``."""
    payload = json.dumps({k: sorted(v) for k, v in sorted(variants.members.items())}, sort_keys=True)
    h = hashlib.sha256(payload.encode())
    h.update(FIRST_NAMES.read_bytes())
    return h.hexdigest()[:16]


def real_first_names() -> frozenset[str]:
    """First names in use (match form) beyond the variant groups: a name one edit from one of them
    is read as that name, not as a typo (``NameVariants.typo_keys``)."""
    return _stored_first_names()["real"]


def other_first_names() -> frozenset[str]:
    """First names of other cultures (match form, ``_OTHER_NAME_LOCALES``): such a name is never
    read as a typo of a variant group's name (``NameVariants.typo_keys``)."""
    return _stored_first_names()["other"]


def _english_groups() -> dict[str, set[str]]:
    """The ``nicknames`` package's table: each formal name and its nicknames, one group."""
    from nicknames import with_names_csv_path

    groups: dict[str, set[str]] = {}
    with with_names_csv_path() as path, open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["relationship"] != "has_nickname":
                continue  # translations (en-sp) are other names, not one person's short form
            formal, nick = match_name(row["name1"]), match_name(row["name2"])
            if formal and nick:
                groups.setdefault(ENGLISH_GROUP_PREFIX + formal, {formal}).add(nick)
    return groups


def _group_key(key: object, path: Path) -> tuple[str, str]:
    """(group id, the name the key stands for) of a YAML key: ``Gösta`` -> (gosta, gosta),
    ``en:Robert`` -> (en:robert, robert)."""
    text = str(key)
    prefix = ""
    if text.lower().startswith(ENGLISH_GROUP_PREFIX):
        prefix, text = ENGLISH_GROUP_PREFIX, text[len(ENGLISH_GROUP_PREFIX) :]
    name = match_name(text)
    if not name:
        raise ConfigError(f"{path}: group key {key!r} is not a name")
    return prefix + name, name


def _yaml_groups(path: Path) -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """``group id -> names`` (an empty list maps to an empty set: removal) and the
    ``not_variants`` pairs of one YAML file."""
    raw = read_mapping(path, "name variant groups")
    check_keys(raw, ("groups", "not_variants"), path)
    items = raw.get("groups") or {}
    if not isinstance(items, dict):
        raise ConfigError(f"{path}: 'groups' must map a group's key to a list of names")
    groups: dict[str, set[str]] = {}
    for key, names in items.items():
        gid, key_name = _group_key(key, path)
        if names is None or names == []:
            groups[gid] = set()
            continue
        if not isinstance(names, list):
            raise ConfigError(f"{path}: group {key!r} must be a list of names")
        folded = {match_name(n) for n in names} - {None}
        groups[gid] = folded | {key_name}
    pairs = []
    for pair in raw.get("not_variants") or ():
        folded_pair = [match_name(n) for n in pair] if isinstance(pair, list) else []
        if len(folded_pair) != 2 or None in folded_pair:
            raise ConfigError(f"{path}: not_variants entry {pair!r} must be a pair of names")
        pairs.append((folded_pair[0], folded_pair[1]))
    return groups, pairs


# a pet form of one syllable and a doubled consonant with its ending vowel: Bitte, Lotta, Sussi, Tommy
_PET_FORM = re.compile(r"([^aeiouy]*[aeiouy]([^aeiouy])\2)[aeiy]")


def _definite_pet_forms(groups: dict[str, set[str]]) -> frozenset[str]:
    """Add to each group of the YAML files (not the English table's) the ``-an`` form of each of
    its pet forms of one syllable and a doubled consonant with an ending vowel: Bittan beside
    Bitte (Birgitta's), Lottan beside Lotta and Lotte (Charlotte's), Sussan beside Sussi.

    A Swedish pet form is a root of one heavy syllable and an ending of one (Tomas Riad,
    "Smeknamnet är redan givet", Språktidningen; Sven > Svempa, Katarina > Kattis), and the
    ending varies on one root: -e, -a, -i, -y and the -a ending's definite form -an (Magga,
    Maggan: Daniel Erlandsson, "Alla smeknamn är likadana", Norrköpings Tidningar, quoting Riad).
    The YAML lists such pairs (Betty / Bettan, Vicky / Vickan, Tess / Tessan), not every one:
    session 44 found no list that names Bittan, the Nordic set's commonest split short form.
    Not added where the form is a name of its own (``real_first_names``, ``other_first_names``:
    Hassan beside Hasse, Berran) or already a name of a group (Mickan is Mikaela's, not
    Micke's). A user's ``not_variants`` pair takes a form out again, as any pair. Returns the forms
    added; they anchor no typo reading of another name (``NameVariants.derived``)."""
    taken = set().union(*groups.values()) if groups else set()
    names_of_their_own = real_first_names() | other_first_names() | taken
    added: set[str] = set()
    for gid, names in groups.items():
        if gid.startswith(ENGLISH_GROUP_PREFIX):
            continue
        derived = {m.group(1) + "an" for name in names if name != gid and (m := _PET_FORM.fullmatch(name))}
        names |= derived - names_of_their_own
        added |= derived - names_of_their_own
    return frozenset(added)


def _split_pair(groups: dict[str, set[str]], a: str, b: str) -> None:
    """Make ``a`` and ``b`` share no group: each leaves the groups of the other's name, and
    both leave a group of a third name that holds them both."""
    for gid, names in groups.items():
        if a in names and b in names:
            own = gid.removeprefix(ENGLISH_GROUP_PREFIX)
            names -= {b} if own == a else {a} if own == b else {a, b}


def _file_stamp(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _load(packaged: tuple[str, int, int], user: tuple[str, int, int] | None) -> NameVariants:
    groups = _english_groups()
    files = [Path(packaged[0])] + ([Path(user[0])] if user is not None and user[0] != packaged[0] else [])
    not_variants: list[tuple[str, str]] = []
    for path in files:
        file_groups, pairs = _yaml_groups(path)
        groups.update(file_groups)
        not_variants += pairs
    derived = _definite_pet_forms(groups)
    for a, b in not_variants:
        _split_pair(groups, a, b)
    return NameVariants.from_groups({gid: frozenset(names) for gid, names in groups.items()}, derived)


def load_name_variants(config_dir: Path | None = None) -> NameVariants:
    """The English nickname table, the packaged ``name_variants.yaml`` and, when there is one,
    ``config_dir/name_variants.yaml`` (the same folder as ``identity.yaml``: pass
    the settings' ``config_dir``). Cached until either YAML file changes."""
    packaged = _file_stamp(PACKAGED_NAME_VARIANTS_PATH)
    assert packaged is not None, f"missing {PACKAGED_NAME_VARIANTS_PATH}"
    user = _file_stamp(Path(config_dir) / "name_variants.yaml") if config_dir is not None else None
    if user is not None and user[0] == packaged[0]:
        user = None  # CDP_CONFIG_DIR is the packaged folder (the default)
    return _load(packaged, user)
