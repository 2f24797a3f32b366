"""What the model and stitching know about a first name beyond its spelling.

Per distinct first name (match form, ``match_name``), the columns that let plain array
comparisons (in any SQL dialect Splink runs on) grade two names as
``name_variants.FIRST_NAME_RELATION_MACRO`` defines it:

- ``keys``: the name-variant groups it belongs to (``name_variants``): two names that share
  a key may be one person's name (Kristina / Stina / Kicki, Mohammed / Muhammad); ``has_keys``:
  it is in some group (a cheap test before the array one);
- ``part_keys``, ``has_part_keys``: a double name's, the groups of its words (Lars-Åke: Lars's,
  so Lasse, Lars's short form, is a variant of a part of it); a single name's, its ``keys``;
- ``words``: its words. A double name and some of its words are one name (Anna-Karin / Anna,
  Karin Anna / Anna-Karin): one word list holds the other;
- ``initials``, ``abbreviated``, ``full_words``: a name written with initials (P-O, "anna k",
  or "po" when that is not itself a name: Bo is not Bengt-Olof) is ``abbreviated``; it is the
  double name whose words have the same ``initials`` and whose words hold its ``full_words``;
- ``single``: one word (Jaro-Winkler is trusted between single names only: Anna-Karin and
  Anna-Maria share their start). A known double name written together ("evalena", "annakarin":
  ``NameVariants.joined_parts``) has the double name's words and is no single name;
- ``typo_keys``, ``has_typo_keys``: a single name in no group, the groups it is an unambiguous
  typo of a member of (``NameVariants.typo_keys``: "hons", one edit from Hans and from no other
  name, is a typo of Hans's group, so the model's "typo" grade holds beside Hasse too);
- ``real``: a single name that is a known first name (in a group, or in ``real_first_names`` /
  ``other_first_names``): two such names graded a typo (Ali / Alin, Yasin / Yasir, Tomas /
  Domas) are two names to the household cannot-link and the two-names-one-household level,
  which read a pair at one surname and address (``splink_model.TWO_REAL_NAMES``).

Computed in Python once per distinct name (thousands, not millions) and joined back.
"""

from __future__ import annotations

from typing import NamedTuple

import duckdb
import pyarrow as pa

from cdp_pipeline.lib.identity.name_variants import NameVariants, other_first_names, real_first_names

FIRST_NAMES = "temp._id_first_names"
# Splink compares these per record (``<column>_l`` / ``<column>_r``): the name table's columns
# under the input's names
MODEL_COLUMNS = {
    "keys": "first_name_keys",
    "has_keys": "first_name_has_keys",
    "part_keys": "first_name_part_keys",
    "has_part_keys": "first_name_has_part_keys",
    "words": "first_name_words",
    "initials": "first_name_initials",
    "abbreviated": "first_name_abbreviated",
    "full_words": "first_name_full_words",
    "single": "first_name_single",
    "typo_keys": "first_name_typo_keys",
    "has_typo_keys": "first_name_has_typo_keys",
    "real": "first_name_real",
}


class NameKeys(NamedTuple):
    keys: list[str]
    has_keys: bool
    part_keys: list[str]
    has_part_keys: bool
    words: list[str]
    initials: list[str]
    abbreviated: bool
    full_words: list[str]
    single: bool
    typo_keys: list[str]
    has_typo_keys: bool
    real: bool


def name_keys(name: str, variants: NameVariants) -> NameKeys:
    """The comparison columns of one match-form first name."""
    keys = sorted(variants.groups(name))
    # a double name written together ("evalena") is graded by its words, as "eva lena" is
    words = list(variants.joined_parts(name)) or name.split()
    part_keys = keys if len(words) == 1 else sorted(set().union(*(variants.groups(w) for w in words if len(w) > 1)))
    initials = [w[0] for w in words]
    abbreviated = any(len(w) == 1 for w in words)
    if len(words) == 1 and 2 <= len(name) <= 3 and not keys:
        # "po": initials written together (P.O.), unless it is a name (Bo, Al)
        initials, abbreviated = list(name), True
    full_words = (
        sorted({w for w in words if len(w) > 1})
        if abbreviated and len(words) > 1
        else ([] if abbreviated else sorted(set(words)))
    )
    typo_keys = [] if keys or len(words) > 1 else sorted(variants.typo_keys(name))
    return NameKeys(
        keys,
        bool(keys),
        part_keys,
        bool(part_keys),
        sorted(set(words)),
        initials,
        abbreviated,
        full_words,
        len(words) == 1,
        typo_keys,
        bool(typo_keys),
        len(words) == 1 and (bool(keys) or name in real_first_names() or name in other_first_names()),
    )


def _name_table(names: list[str], variants: NameVariants) -> pa.Table:
    rows = [name_keys(n, variants) for n in names]
    strings = pa.list_(pa.string())
    table = pa.table(
        {
            "name": pa.array(names, pa.string()),
            **{
                field: pa.array(
                    [getattr(r, field) for r in rows],
                    pa.bool_()
                    if field in ("has_keys", "has_part_keys", "abbreviated", "single", "has_typo_keys", "real")
                    else strings,
                )
                for field in NameKeys._fields
            },
        }
    )
    return table


def write_first_name_table(con: duckdb.DuckDBPyConnection, names_sql: str, variants: NameVariants) -> int:
    """``temp._id_first_names(name, keys, has_keys, words, initials, abbreviated, full_words,
    single)`` for every name ``names_sql`` lists."""
    names = sorted({r[0] for r in con.execute(names_sql).fetchall() if r[0]})
    con.register("_id_first_names_arrow", _name_table(names, variants))
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {FIRST_NAMES.split('.')[-1]} AS "
            "SELECT * FROM _id_first_names_arrow ORDER BY name"
        )
    finally:
        con.unregister("_id_first_names_arrow")
    return len(names)


def add_first_names(con: duckdb.DuckDBPyConnection, names_sql: str, variants: NameVariants) -> int:
    """Add to ``temp._id_first_names`` the names ``names_sql`` lists that it does not hold yet
    (names no record carries as its first name: those an e-mail's local part spells). The rows
    are appended: a table read by joins on the name, in no stored order."""
    names = sorted({r[0] for r in con.execute(names_sql).fetchall() if r[0]})
    have = (
        {
            r[0]
            for r in con.execute(
                f"SELECT name FROM {FIRST_NAMES} WHERE name IN (SELECT unnest($n))", {"n": names}
            ).fetchall()
        }
        if names
        else set()
    )
    names = [n for n in names if n not in have]
    if not names:
        return 0
    con.register("_id_first_names_arrow", _name_table(names, variants))
    try:
        con.execute(f"INSERT INTO {FIRST_NAMES} SELECT * FROM _id_first_names_arrow")
    finally:
        con.unregister("_id_first_names_arrow")
    return len(names)


NAME_ROLES = "temp._id_name_roles"


def build_name_roles(con: duckdb.DuckDBPyConnection) -> int:
    """``temp._id_name_roles(name, given)``: every word the records carry both as a first and as
    a last name, and whether they carry it more often as a first name (``given``). A record whose
    last name is a given name ("kristina") and whose first name is not ("eriksson") has its name
    written surname first. Which of two records sharing a word across the name fields was swapped
    is read from this, not from the pair: "Jansson Pia" beside "Fredrik Jansson" (twins on the
    family inbox) and "Bengtsson Kristina" beside "Kristina Andersson" (a married name written
    surname first) look alike as strings, but the records carry "jansson" mostly as a surname and
    "kristina" mostly as a first name. Counted over every record, so a word's role is the data's,
    not one household's; a word the records carry as often in both fields is no given name."""
    from cdp_pipeline.lib.identity.records import RECORDS

    def words(col: str) -> str:
        return f"""SELECT w, count(*) AS n FROM (
            SELECT CASE WHEN coalesce(name_is_junk, false) THEN NULL ELSE nullif(trim({col}), '') END AS w
            FROM {RECORDS}) WHERE w IS NOT NULL GROUP BY w"""

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {NAME_ROLES.split(".")[-1]} AS
        SELECT w AS name, f.n > l.n AS given
        FROM ({words("last_name_match")}) l JOIN ({words("first_name_match")}) f USING (w)
        ORDER BY name
    """)
    return con.execute(f"SELECT count(*) FROM {NAME_ROLES}").fetchall()[0][0]
