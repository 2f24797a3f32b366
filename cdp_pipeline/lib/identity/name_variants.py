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

``first_name_relation`` grades two match-form first names (exact, variant, double name
part, initial, typo, different); ``FIRST_NAME_RELATION_MACRO`` is the same grading in
DuckDB SQL over the names and their group lists, which ``write_name_variant_table`` lets
SQL look up.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import duckdb
import jellyfish
import yaml

from cdp_pipeline.lib.standardise.names import match_name

PACKAGED_NAME_VARIANTS_PATH = Path(__file__).resolve().parents[2] / "config" / "name_variants.yaml"
ENGLISH_GROUP_PREFIX = "en:"

# The relation levels, strongest first (see first_name_relation).
RELATIONS = ("exact", "variant", "double_name_part", "initial", "typo", "different")

_TYPO_MIN_LENGTH = 4  # one edit in a shorter name is another name (ola/ole, bo/bu)
_TYPO_JARO_WINKLER = 0.92


@dataclass(frozen=True)
class NameVariants:
    """Groups of match-form first names that may be one person's (see the module docstring)."""

    members: Mapping[str, frozenset[str]]  # group id -> its names
    _groups_of: Mapping[str, frozenset[str]]  # name -> the ids of the groups it is in

    @classmethod
    def from_groups(cls, groups: Mapping[str, frozenset[str]]) -> "NameVariants":
        """From ``group id -> names`` (names already in match form); groups of fewer than two
        names say nothing and are dropped."""
        kept = {gid: frozenset(names) for gid, names in sorted(groups.items()) if len(set(names)) >= 2}
        index: dict[str, set[str]] = {}
        for gid, names in kept.items():
            for name in names:
                index.setdefault(name, set()).add(gid)
        return cls(MappingProxyType(kept), MappingProxyType({n: frozenset(g) for n, g in index.items()}))

    def __repr__(self) -> str:
        return f"NameVariants({len(self.members)} groups, {len(self._groups_of)} names)"

    def groups(self, name: str | None) -> frozenset[str]:
        """The ids of the groups a match-form name is in; none for a name in no group."""
        return self._groups_of.get(name, frozenset()) if name else frozenset()

    def are_variants(self, a: str | None, b: str | None) -> bool:
        """True when the two match-form names share a group (nickname, short form, spelling)."""
        return not self.groups(a).isdisjoint(self.groups(b))

    def rows(self) -> list[tuple[str, str]]:
        """``(name, group_id)`` rows, sorted."""
        return sorted((name, gid) for gid, names in self.members.items() for name in names)


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
        prefix, text = ENGLISH_GROUP_PREFIX, text[len(ENGLISH_GROUP_PREFIX):]
    name = match_name(text)
    if not name:
        raise ValueError(f"{path}: group key {key!r} is not a name")
    return prefix + name, name


def _yaml_groups(path: Path) -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """``group id -> names`` (an empty list maps to an empty set: removal) and the
    ``not_variants`` pairs of one YAML file."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = raw.get("groups") or {}
    if not isinstance(items, dict):
        raise ValueError(f"{path}: 'groups' must map a group's key to a list of names")
    groups: dict[str, set[str]] = {}
    for key, names in items.items():
        gid, key_name = _group_key(key, path)
        if names is None or names == []:
            groups[gid] = set()
            continue
        if not isinstance(names, list):
            raise ValueError(f"{path}: group {key!r} must be a list of names")
        folded = {match_name(n) for n in names} - {None}
        groups[gid] = folded | {key_name}
    pairs = []
    for pair in raw.get("not_variants") or ():
        folded_pair = [match_name(n) for n in pair] if isinstance(pair, list) else []
        if len(folded_pair) != 2 or None in folded_pair:
            raise ValueError(f"{path}: not_variants entry {pair!r} must be a pair of names")
        pairs.append((folded_pair[0], folded_pair[1]))
    return groups, pairs


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
    for a, b in not_variants:
        _split_pair(groups, a, b)
    return NameVariants.from_groups({gid: frozenset(names) for gid, names in groups.items()})


def load_name_variants(config_dir: Path | None = None) -> NameVariants:
    """The English nickname table, the packaged ``name_variants.yaml`` and, when there is one,
    ``config_dir/name_variants.yaml`` (the same folder as ``identity.yaml``: pass
    ``get_settings().config_dir``). Cached until either YAML file changes."""
    packaged = _file_stamp(PACKAGED_NAME_VARIANTS_PATH)
    assert packaged is not None, f"missing {PACKAGED_NAME_VARIANTS_PATH}"
    user = _file_stamp(Path(config_dir) / "name_variants.yaml") if config_dir is not None else None
    if user is not None and user[0] == packaged[0]:
        user = None  # CDP_CONFIG_DIR is the packaged folder (the default)
    return _load(packaged, user)


# --- how two first names relate -------------------------------------------------------

def _joined_initials(parts: list[str]) -> str:
    return "".join(p[0] for p in parts)


def _is_double_name_part(long: str, short: str, variants: NameVariants) -> bool:
    """``long`` has two or more parts and ``short`` is some of them, its initials, or the
    same parts with some written as initials."""
    lp, sp = long.split(" "), short.split(" ")
    if len(lp) < 2 or len(sp) > len(lp):
        return False
    if set(sp) <= set(lp):  # anna karin / anna, anna karin / karin, karin anna / anna karin
        return True
    if len(sp) == 1 and len(short) == len(lp) and short == _joined_initials(lp) and not variants.groups(short):
        return True  # per olof / po (P.O.); but bo is a name, not Bengt-Olof's initials
    return len(sp) == len(lp) and all(  # per olof / p o (P-O), anna karin / anna k
        x == y or (len(y) == 1 and x.startswith(y)) or (len(x) == 1 and y.startswith(x))
        for x, y in zip(lp, sp))


def _is_feminine_form(a: str, b: str) -> bool:
    """Erik/Erika, Johan/Johanna, Mario/Maria, Kristian/Kristina, Andreas/Andrea: the names
    differ only in their last two letters or fewer and exactly one of them ends in "a"."""
    keep = max(len(a), len(b)) - 2
    return keep >= 2 and a[:keep] == b[:keep] and a.endswith("a") != b.endswith("a")


def first_name_relation(a: str | None, b: str | None, variants: NameVariants) -> str | None:
    """How two match-form first names relate, strongest level first (None when one is missing):

    - ``exact``: the same name.
    - ``variant``: they share a group of ``variants``: a nickname, short form, spelling or
      transliteration of one name (tessan/therese, lasse/lars, mohammed/muhammad, bill/william).
    - ``double_name_part``: one is a double name (two or more parts: "anna karin", from
      Anna-Karin) and the other is some of its parts ("anna", "karin"), its initials written
      together ("po" from P.O., unless that is itself a name in a group: Bo is not
      Bengt-Olof's initials) or part by part ("p o" from P-O, "anna k"). A *variant* of a part
      does not count ("anna karin"/"annika", "karl johan"/"kalle" are ``different``): that is
      two steps from what was written, and each step also fits another person of the house.
    - ``initial``: one is a single letter, the other's first ("a"/"anders").
    - ``typo``: one edit apart (Damerau-Levenshtein <= 1) with both names of four letters or
      more, or Jaro-Winkler >= 0.92 between two single names (not between double names:
      "anna maria"/"anna karin" score high on their shared first part alone); except a name and its feminine form (erik/erika,
      johan/johanna, mario/maria: they differ only in their last two letters and just one
      ends in "a"), which are two people, ``different``. Spellings that look like such a pair
      but are one name (sara/sarah, karolina/caroline) are listed as variants instead.
    - ``different``: none of the above; evidence of two people.

    Same answer as ``FIRST_NAME_RELATION_MACRO`` in SQL.
    """
    if not a or not b:
        return None
    if a == b:
        return "exact"
    if variants.are_variants(a, b):
        return "variant"
    if _is_double_name_part(a, b, variants) or _is_double_name_part(b, a, variants):
        return "double_name_part"
    if (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b)):
        return "initial"
    if not _is_feminine_form(a, b) and (
            (min(len(a), len(b)) >= _TYPO_MIN_LENGTH and jellyfish.damerau_levenshtein_distance(a, b) <= 1)
            or (" " not in a and " " not in b
                and jellyfish.jaro_winkler_similarity(a, b) >= _TYPO_JARO_WINKLER)):
        return "typo"
    return "different"


# --- the same in SQL ---------------------------------------------------------------------

# first_name_relation(a, b, groups_a, groups_b) for match-form names a, b and the VARCHAR[]
# of their group ids (NULL or [] for a name in no group), e.g. from
#   SELECT name, list(group_id ORDER BY group_id) AS groups FROM <name variant table> GROUP BY name
# The helper macros each take one direction of the double-name test (long, short).
FIRST_NAME_RELATION_MACRO = f"""
CREATE OR REPLACE TEMP MACRO _fnr_double_part(long, short, groups_short) AS (
    -- CASE, not AND, so that the list work runs only for double names (most are single)
    CASE WHEN NOT contains(long, ' ') THEN false ELSE
    len(string_split(long, ' ')) >= 2
    AND len(string_split(short, ' ')) <= len(string_split(long, ' '))
    AND (
        list_has_all(string_split(long, ' '), string_split(short, ' '))
        OR (NOT contains(short, ' ')
            AND length(short) = len(string_split(long, ' '))
            AND short = array_to_string(list_transform(string_split(long, ' '), lambda p: left(p, 1)), '')
            AND len(coalesce(groups_short, [])) = 0)
        OR (len(string_split(short, ' ')) = len(string_split(long, ' '))
            AND list_bool_and(list_transform(string_split(long, ' '), lambda x, i:
                    x = string_split(short, ' ')[i]
                    OR (length(string_split(short, ' ')[i]) = 1 AND starts_with(x, string_split(short, ' ')[i]))
                    OR (length(x) = 1 AND starts_with(string_split(short, ' ')[i], x)))))
    )
    END
);
CREATE OR REPLACE TEMP MACRO _fnr_feminine_form(a, b) AS (
    greatest(length(a), length(b)) - 2 >= 2
    AND left(a, greatest(length(a), length(b)) - 2) = left(b, greatest(length(a), length(b)) - 2)
    AND ends_with(a, 'a') <> ends_with(b, 'a')
);
CREATE OR REPLACE TEMP MACRO first_name_relation(a, b, groups_a, groups_b) AS (
    CASE
        WHEN a IS NULL OR b IS NULL OR a = '' OR b = '' THEN NULL
        WHEN a = b THEN 'exact'
        WHEN list_has_any(coalesce(groups_a, []), coalesce(groups_b, [])) THEN 'variant'
        WHEN _fnr_double_part(a, b, groups_b) OR _fnr_double_part(b, a, groups_a) THEN 'double_name_part'
        WHEN (length(a) = 1 AND starts_with(b, a)) OR (length(b) = 1 AND starts_with(a, b)) THEN 'initial'
        WHEN NOT _fnr_feminine_form(a, b)
             AND ((least(length(a), length(b)) >= {_TYPO_MIN_LENGTH} AND damerau_levenshtein(a, b) <= 1)
                  OR (NOT contains(a, ' ') AND NOT contains(b, ' ')
                      AND jaro_winkler_similarity(a, b) >= {_TYPO_JARO_WINKLER})) THEN 'typo'
        ELSE 'different'
    END
);
"""


def create_first_name_relation_macro(con: duckdb.DuckDBPyConnection) -> None:
    """Define the temp macro ``first_name_relation(a, b, groups_a, groups_b)`` on ``con``."""
    con.execute(FIRST_NAME_RELATION_MACRO)


def write_name_variant_table(con: duckdb.DuckDBPyConnection, table: str, variants: NameVariants) -> int:
    """(Re)create ``table(name VARCHAR, group_id VARCHAR)``, one row per name and group it is
    in, sorted; returns the row count."""
    rows = variants.rows()
    con.execute(f"CREATE OR REPLACE TABLE {table} (name VARCHAR NOT NULL, group_id VARCHAR NOT NULL)")
    con.execute(f"""
        INSERT INTO {table}
        SELECT name, group_id FROM (SELECT unnest($names) AS name, unnest($groups) AS group_id)
        ORDER BY name, group_id
    """, {"names": [r[0] for r in rows], "groups": [r[1] for r in rows]})
    return len(rows)
