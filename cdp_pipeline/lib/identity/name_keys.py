"""What the model and stitching know about a first name beyond its spelling.

Per distinct first name (match form, ``match_name``):

- ``keys``: the name-variant groups it belongs to (``name_variants``): two names that share a
  key may be one person's name (Kristina / Stina / Kicki, Mohammed / Muhammad).
- ``parts``: its words, and its initials (``#po``) when it has two or more words (``per olof``)
  or is written as initials (``p o``, ``po``): a double name and one of its parts (Anna-Karin /
  Anna, Per-Olof / P-O) share a part. A short word that is a known name is not read as
  initials (Bo is not Bengt-Olof), and a variant of one part does not count (Anna-Karin and
  Annika, Karl-Johan and Kalle may be two people of one household).
- ``short``: one word, or initials only (``p o``). A double name is linked to a part only
  when the other side is short: Anna-Karin and Anna-Maria share "anna" but are two names.

Computed in Python once per distinct name (thousands, not millions) and joined back.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from cdp_pipeline.lib.identity.name_variants import NameVariants

FIRST_NAMES = "temp._id_first_names"


def name_keys(name: str, variants: NameVariants) -> tuple[list[str], list[str], bool]:
    """(keys, parts, short) of one match-form first name."""
    words = name.split()
    keys = sorted(variants.groups(name))
    parts = set(words)
    initials_only = all(len(w) == 1 for w in words)
    if len(words) > 1:
        parts.add("#" + "".join(w[0] for w in words))
    elif len(name) <= 3 and not keys:
        parts.add("#" + name)  # "po": initials written together, unless it is a name (Bo)
    short = len(words) == 1 or initials_only
    return keys, sorted(parts), short


def write_first_name_table(con: duckdb.DuckDBPyConnection, names_sql: str, variants: NameVariants) -> int:
    """``temp._id_first_names(name, keys, parts, short)`` for every name ``names_sql`` lists."""
    names = sorted({r[0] for r in con.execute(names_sql).fetchall() if r[0]})
    rows = [name_keys(n, variants) for n in names]
    table = pa.table({
        "name": pa.array(names, pa.string()),
        "keys": pa.array([r[0] for r in rows], pa.list_(pa.string())),
        "parts": pa.array([r[1] for r in rows], pa.list_(pa.string())),
        "short": pa.array([r[2] for r in rows], pa.bool_()),
    })
    con.register("_id_first_names_arrow", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {FIRST_NAMES.split('.')[-1]} AS "
                    "SELECT * FROM _id_first_names_arrow ORDER BY name")
    finally:
        con.unregister("_id_first_names_arrow")
    return len(names)
