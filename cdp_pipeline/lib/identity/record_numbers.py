"""Record numbers kept between nights: a record keeps its ``rid`` while its key stays.

Every reader of ``rid`` uses it for its order alone, which is the record keys' order (stitching's
star centres, a component's label and key, the splits' and IDs' tie-breaks, Splink's
``unique_id_l < unique_id_r``), except Splink's u sample, which hashes the ``unique_id``
(``splink_model._sampled_level_counts``). So the numbers may have gaps, as long as they keep key
order, and a night that trains numbers its records 1..n as before:

* a **fresh** numbering gives the n records, in key order, ``gap`` x 1..n: ``gap`` 1 on a night
  that trains the model (the numbers it has always sampled on), else ``fresh_gap(n)``, room for
  later nights' new keys between every two;
* a **kept** numbering (a night that scores with the kept model) gives each key of
  ``identity.record_numbers`` its kept number and each new key a number between those of its
  neighbours in key order (the kept keys tonight's and gone alike, so a gone key's number is never
  given again): the new keys of one gap from its lower end, ``gap`` apart or closer, leaving most
  of the gap to later nights (keys that grow, such as order numbers, land at the same end night
  after night). When a gap cannot hold its new keys, or the numbers would pass 2**53 (where a
  DOUBLE stops holding every integer), the night is numbered afresh.

Either way the order of the numbers is the keys' and so every table written is the same as a
fresh numbering's. ``identity.record_numbers`` is written in the identity tables' transaction
(``write_record_numbers``). The work that a kept number lets a night skip is in ``model_store``
(the kept scores read by number).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from cdp_pipeline.lib.common.warehouse import table_exists
from cdp_pipeline.lib.identity.storage import replace_table

RECORD_NUMBERS = "identity.record_numbers"
# one row: whether tonight's numbers are the kept ones (``kept``) and the spacing of a fresh numbering
NUMBERING = "temp._id_numbering"
NEW_NUMBERS = "temp._id_new_numbers"  # tonight's numbers of keys new to a kept numbering
GONE_NUMBERS = "temp._id_gone_numbers"  # the kept numbers of keys gone tonight

LARGEST_RID = 2**53
# a new key's step within a gap: at most an eighth of the gap per night's keys there
_PACK = 8


def fresh_gap(records: int) -> int:
    """The spacing of a fresh numbering that leaves room for new keys: 2**32, or less when n
    records so spaced would pass ``LARGEST_RID``."""
    return max(1, min(2**32, LARGEST_RID // (records + 2)))


def kept_numbers(con: duckdb.DuckDBPyConnection, source_table: str, gap: int) -> str | None:
    """``temp._id_record_numbers(row_key, rid)`` for the rows of ``source_table`` (a table: ``row_key``
    is its ``rowid``) from ``identity.record_numbers`` and new keys placed between: the name of that
    table, or None when the night must be numbered afresh (no kept numbers, a repeated key, a gap
    too small, numbers past ``LARGEST_RID``, or kept numbers out of key order)."""
    if not table_exists(con, "identity", "record_numbers"):
        return None
    # tonight's keys and the kept ones in one key order (one sort, as a fresh numbering's; a kept
    # key gone tonight has no row_key and still bounds its gap); the new keys' neighbours are then
    # found in numpy on the integers (a window of the kept number before and after each row cost
    # five times the sort at 1M records)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_number_match AS
        WITH j AS (SELECT t.rowid AS row_key, source, source_record_id, k.rid AS kept
                   FROM {source_table} t FULL JOIN {RECORD_NUMBERS} k USING (source, source_record_id))
        SELECT row_key, kept, row_number() OVER w AS position,
               source IS NOT DISTINCT FROM lag(source) OVER w
               AND source_record_id IS NOT DISTINCT FROM lag(source_record_id) OVER w AS repeated
        FROM j
        WINDOW w AS (ORDER BY source, source_record_id)
    """)
    if con.execute("SELECT count(*) FILTER (WHERE repeated) FROM temp._id_number_match").fetchall()[0][0]:
        return None
    kept = con.execute(
        "SELECT position, kept FROM temp._id_number_match WHERE kept IS NOT NULL ORDER BY position"
    ).fetchnumpy()
    new = con.execute(
        "SELECT position, row_key FROM temp._id_number_match WHERE kept IS NULL ORDER BY position"
    ).fetchnumpy()
    placed = _place(
        np.asarray(kept["position"], np.int64),
        np.asarray(kept["kept"], np.int64),
        np.asarray(new["position"], np.int64),
        gap,
    )
    if placed is None:
        return None
    con.register("_id_new_numbers_arrow", pa.table({"row_key": np.asarray(new["row_key"], np.int64), "rid": placed}))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {NEW_NUMBERS.split('.')[-1]} AS SELECT * FROM _id_new_numbers_arrow")
    finally:
        con.unregister("_id_new_numbers_arrow")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {GONE_NUMBERS.split(".")[-1]} AS
                    SELECT kept AS rid FROM temp._id_number_match WHERE row_key IS NULL""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_record_numbers AS
        SELECT row_key, kept AS rid FROM temp._id_number_match WHERE row_key IS NOT NULL AND kept IS NOT NULL
        UNION ALL SELECT row_key, rid FROM {NEW_NUMBERS}
    """)
    con.execute("DROP TABLE temp._id_number_match")
    return "temp._id_record_numbers"


def _place(kept_at: np.ndarray, kept: np.ndarray, new_at: np.ndarray, gap: int) -> np.ndarray | None:
    """Numbers for the new keys at positions ``new_at`` (sorted) among the kept keys at ``kept_at``
    (sorted) numbered ``kept``: between the kept numbers before and after each (0 before the
    first; none after the last), the new keys of one gap from its lower end, ``gap`` apart or,
    in a gap too narrow for that, closer (at most an eighth of the gap for them, when it holds);
    None when a gap cannot hold its keys, a number would pass ``LARGEST_RID``, or the kept
    numbers do not rise with the keys."""
    if len(kept) > 1 and not np.all(kept[1:] > kept[:-1]):
        return None
    if len(new_at) == 0:
        return np.zeros(0, np.int64)
    gap_of = np.searchsorted(kept_at, new_at)  # the kept key after each new key (len(kept): none)
    lo = np.where(gap_of > 0, kept[np.maximum(gap_of - 1, 0)] if len(kept) else 0, 0)
    bounded = gap_of < len(kept)
    hi = np.where(bounded, kept[np.minimum(gap_of, max(len(kept) - 1, 0))] if len(kept) else 0, 0)
    # each new key's place among the new keys of its gap (1..n) and their number n
    first = np.searchsorted(gap_of, gap_of, side="left")
    i = np.arange(len(new_at)) - first + 1
    n = np.searchsorted(gap_of, gap_of, side="right") - first
    width = hi - lo
    packed = width // (_PACK * (n + 1))
    step = np.where(~bounded, gap, np.where(packed >= 1, np.minimum(packed, gap), width // (n + 1)))
    if np.any(step < 1):
        return None
    # at most 2**53 + 2**20 x 2**32 before the check: no int64 overflow
    placed = lo + i * step
    return None if np.any(placed > LARGEST_RID) else placed


def note_numbering(con: duckdb.DuckDBPyConnection, *, kept: bool) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {NUMBERING.split('.')[-1]} AS SELECT $kept AS kept", {"kept": kept})


def numbers_kept(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether tonight's records carry their kept numbers (``kept_numbers``), so tables kept by
    ``rid`` from the last night that wrote ``identity.record_numbers`` hold tonight's numbers."""
    try:
        return bool(con.execute(f"SELECT kept FROM {NUMBERING}").fetchall()[0][0])
    except duckdb.CatalogException:
        return False


def write_record_numbers(con: duckdb.DuckDBPyConnection, records: str) -> None:
    """Keep tonight's numbers of ``records`` (``rid, source, source_record_id``) for the next night
    (inside the identity transaction): on a kept numbering the gone keys' rows deleted and the new
    keys' inserted, else the table made anew."""
    if numbers_kept(con) and table_exists(con, "identity", "record_numbers"):
        con.execute(f"DELETE FROM {RECORD_NUMBERS} WHERE rid IN (SELECT rid FROM {GONE_NUMBERS})")
        con.execute(f"""INSERT INTO {RECORD_NUMBERS}
                        SELECT source, source_record_id, rid FROM {records}
                        WHERE rid IN (SELECT rid FROM {NEW_NUMBERS}) ORDER BY rid""")
        return
    replace_table(con, RECORD_NUMBERS, f"SELECT source, source_record_id, rid FROM {records}", "rid")
