"""Which records a night must re-cluster: the graph kept between nights, and what changed in it.

Every night builds the whole edge list (stitching is set-based SQL; the model's scores of
unchanged pairs are kept, ``model_store``). Clustering, splitting and ID assignment then
only need to run over the records whose cluster could have changed:

* D: records that are new or whose identity columns changed (hash), and the ends of every
  edge that appeared or disappeared (a shared identifier's star re-centred, an identifier
  newly over-shared, a new match, a review decision) — compared with last night's edges;
* A: every record of last night's pre-split component of a D record or of a removed
  record, plus D.

A component of last night's graph that holds no D record has the same records and edges
tonight, so it is a component of tonight's graph: its clusters, splits and IDs are what
they were. A is therefore closed (no edge leaves it; checked) and clustering A alone gives
what clustering everything would. The state (``identity.graph_records``: record hash and
pre-split component; ``identity.graph_edges``: every edge and cannot-link, a cannot-link with
its reason in ``note``) is written with the identity tables, in their transaction.

A night whose inputs are all as they were (``unchanged_night``: every record's hash, the rules
and code, the review decisions and name variants, and the model not due for retraining) would
find no D record, hence cluster nothing and leave every table as it is: it skips the edges and
the scoring altogether (``resolve.py``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import duckdb

from cdp_pipeline.lib.common.warehouse import row_hash_sql, table_exists
from cdp_pipeline.lib.identity.config import IdentityConfig
from cdp_pipeline.lib.identity.records import RECORDS
from cdp_pipeline.lib.identity.storage import column_definitions, replace_table

GRAPH_RECORDS = "identity.graph_records"
GRAPH_EDGES = "identity.graph_edges"
GRAPH_META = "identity.graph_meta"
GRAPH_TABLES = ("graph_records", "graph_edges", "graph_meta")

_GRAPH_EDGE_COLUMNS = (
    "source_l",
    "record_l",
    "source_r",
    "record_r",
    "link_type",
    "identifier_kind",
    "identifier_value",
    "match_probability",
    "note",
)

_GRAPH_RECORD_TYPES = [(c, "VARCHAR") for c in ("source", "source_record_id", "record_hash", "component_key")]
_GRAPH_EDGE_TYPES = [(c, "DOUBLE" if c == "match_probability" else "VARCHAR") for c in _GRAPH_EDGE_COLUMNS]

RECORD_HASH = "temp._id_record_hash"
EDGE_KEYS = "temp._id_edge_keys"
AFFECTED = "temp._id_affected"
TOUCHED = "temp._id_touched_customers"

# Above this share of records re-clustering everything is as cheap and simpler.
MAX_AFFECTED_SHARE = 0.5


def graph_config_hash(config: IdentityConfig) -> str:
    """The rules, the name tables and the code the kept graph was built with (any change re-clusters
    everything)."""
    from cdp_pipeline.lib.common.code_version import source_hash
    from cdp_pipeline.lib.identity.name_variants import load_name_variants, name_tables_hash

    rules = asdict(config)
    rules["name_tables"] = config.name_tables or name_tables_hash(load_name_variants())
    payload = json.dumps({"config": rules, "source": source_hash("lib/identity")}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def inputs_hash(review_rows: list, name_variants) -> str:
    """What identity reads besides the records, the rules and the model: the review decisions
    (as read from the file) and the name-variant groups."""
    payload = json.dumps(
        {"review": review_rows, "name_variants": {k: sorted(v) for k, v in sorted(name_variants.members.items())}},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def graph_built_from(con: duckdb.DuckDBPyConnection, config: IdentityConfig, night_inputs: str) -> bool:
    """True when the kept graph was built by these rules and code from these review decisions and
    name variants (``night_inputs``: ``inputs_hash``)."""
    if not all(table_exists(con, "identity", t) for t in (*GRAPH_TABLES, "customer_map")):
        return False
    cols = {r[0] for r in con.execute(f"DESCRIBE {GRAPH_META}").fetchall()}
    if "inputs_hash" not in cols:
        return False
    meta = con.execute(f"SELECT config_hash, inputs_hash FROM {GRAPH_META}").fetchall()
    return meta == [(graph_config_hash(config), night_inputs)]


def unchanged_night(con: duckdb.DuckDBPyConnection, config: IdentityConfig, night_inputs: str) -> bool:
    """True when tonight's records (``temp._id_record_hash``), rules, code and ``night_inputs``
    (``inputs_hash``) are those the kept graph was built from: no edge can have changed, so no
    record is affected. The caller checks the model (not due for retraining, kept scores)."""
    if not graph_built_from(con, config, night_inputs):
        return False
    # keys are unique on both sides: equal counts and nothing tonight without its kept twin
    # means the same records with the same hashes; the counts first (a night with new or removed
    # records compares no hash here: affected_records does)
    tonight, kept = con.execute(
        f"SELECT (SELECT count(*) FROM {RECORD_HASH}), (SELECT count(*) FROM {GRAPH_RECORDS})"
    ).fetchall()[0]
    if tonight != kept:
        return False
    missing = con.execute(f"""SELECT count(*) FROM {RECORD_HASH}
                              ANTI JOIN {GRAPH_RECORDS} USING (source, source_record_id, record_hash)""").fetchall()[0][
        0
    ]
    return missing == 0


def source_unchanged(
    con: duckdb.DuckDBPyConnection, config: IdentityConfig, night_inputs: str, source_table: str
) -> int | None:
    """``unchanged_night`` read straight from ``source_table``, before its records are numbered
    (``build_records`` copies and sorts every record: most of what a night with nothing new for
    identity spent): the number of records when the source holds exactly the record keys and
    hashes of ``identity.graph_records`` and the rules, code and ``night_inputs`` are the kept
    graph's; else None. The kept keys are unique, so nothing tonight without its kept twin,
    nothing kept without tonight's twin and equal counts mean the same records, each once (a
    source repeating a key gives None: the caller decides on the numbered records). The counts
    come first: a night with new or removed records hashes nothing here."""
    if not graph_built_from(con, config, night_inputs):
        return None
    tonight, kept = con.execute(
        f"SELECT (SELECT count(*) FROM {source_table}), (SELECT count(*) FROM {GRAPH_RECORDS})"
    ).fetchall()[0]
    if tonight != kept:
        return None
    # the columns record_hashes hashes: the numbered records are the source's columns after rid
    unread = UNREAD_COLUMNS - {r.column for r in config.cardinality_rules}
    cols = [f'"{r[0]}"' for r in con.execute(f"DESCRIBE {source_table}").fetchall() if r[0] not in unread]
    missing, gone = con.execute(f"""
        WITH tonight AS MATERIALIZED (
            SELECT source, source_record_id, {row_hash_sql(cols)} AS record_hash FROM {source_table})
        SELECT (SELECT count(*) FROM tonight ANTI JOIN {GRAPH_RECORDS} USING (source, source_record_id, record_hash)),
               (SELECT count(*) FROM {GRAPH_RECORDS} ANTI JOIN tonight USING (source, source_record_id, record_hash))
    """).fetchall()[0]
    return tonight if missing == 0 and gone == 0 else None


# Columns of a record identity never reads (golden does): when a record's other columns are as
# they were, its edges, scores, splits and ID are too. A web visitor's or a subscriber's
# ``record_time`` moves with each visit or send; hashing it made about 2,700 of a quiet night's
# 3,200 "changed" records at 100,000 customers, each pulling its whole component into the
# re-clustering. (``record_time`` picks the kept row among repeats of one key: the row's other
# columns are hashed.) A cardinality rule naming one of them reads it, so hashes it.
UNREAD_COLUMNS = frozenset({"record_time", "country", "dq_flags"})


def record_hashes(con: duckdb.DuckDBPyConnection, config: IdentityConfig) -> None:
    """``temp._id_record_hash(rid, source, source_record_id, record_hash)``: a hash of every
    column identity reads of a record (what stitching, the guards, the model and the rules see):
    all but ``UNREAD_COLUMNS`` that no cardinality rule names."""
    unread = UNREAD_COLUMNS - {r.column for r in config.cardinality_rules}
    cols = [f'"{r[0]}"' for r in con.execute(f"DESCRIBE {RECORDS}").fetchall() if r[0] != "rid" and r[0] not in unread]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {RECORD_HASH.split(".")[-1]} AS
                    SELECT rid, source, source_record_id, {row_hash_sql(cols)} AS record_hash
                    FROM {RECORDS}""")


def keyed_edges(con: duckdb.DuckDBPyConnection, all_edges: str, cannot: str) -> None:
    """Tonight's edges and cannot-links by record key (rids are renumbered every night); a
    cannot-link keeps its reason (``cannot``: ``rid_l, rid_r, reason``) in ``note``, where the
    next night finds its household cannot-links (``resolve.py``)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {EDGE_KEYS.split(".")[-1]} AS
        SELECT e.rid_l, e.rid_r, l.source AS source_l, l.source_record_id AS record_l,
               r.source AS source_r, r.source_record_id AS record_r, e.link_type, e.identifier_kind,
               e.identifier_value, e.match_probability, e.note
        FROM (SELECT rid_l, rid_r, link_type, identifier_kind, identifier_value, match_probability, note
              FROM {all_edges}
              UNION ALL
              SELECT rid_l, rid_r, 'cannot_link', NULL, NULL, NULL, reason FROM {cannot}) e
        JOIN {RECORDS} l ON l.rid = e.rid_l JOIN {RECORDS} r ON r.rid = e.rid_r
    """)


def affected_records(con: duckdb.DuckDBPyConnection, config: IdentityConfig) -> dict | None:
    """Write ``temp._id_affected(rid)`` and ``temp._id_touched_customers(customer_id)`` (last
    night's customers with a record in A or a removed record); return counts. None when
    everything must be clustered: no kept graph, other rules or code, or most records touched."""
    if not all(table_exists(con, "identity", t) for t in (*GRAPH_TABLES, "customer_map")):
        return None
    meta = con.execute(f"SELECT config_hash FROM {GRAPH_META}").fetchall()
    if meta != [(graph_config_hash(config),)]:
        return None
    # Edges that appeared or vanished: per edge hash, tonight's count minus last night's (a
    # multiset difference, like EXCEPT ALL both ways, but over one 128-bit value per edge
    # instead of nine text columns: a tenth of the time). Each side's hashes are computed once
    # (MATERIALIZED: read twice) beside the ends' keys alone. Records new, changed or removed:
    # one full join of tonight's hashes and the kept ones (keys are unique on both sides)
    # rather than an anti join each way.
    edge_hash = row_hash_sql(list(_GRAPH_EDGE_COLUMNS), as_text=False)
    ends = "source_l, record_l, source_r, record_r"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_d_keys AS
        WITH tonight AS MATERIALIZED (SELECT {ends}, {edge_hash} AS h FROM {EDGE_KEYS}),
             kept AS MATERIALIZED (SELECT {ends}, {edge_hash} AS h FROM {GRAPH_EDGES}),
             changed AS (SELECT h FROM (SELECT h, 1 AS n FROM tonight UNION ALL SELECT h, -1 FROM kept)
                         GROUP BY h HAVING sum(n) <> 0)
        SELECT source, source_record_id
        FROM {RECORD_HASH} t FULL JOIN {GRAPH_RECORDS} k USING (source, source_record_id)
        WHERE t.record_hash IS DISTINCT FROM k.record_hash
        UNION
        SELECT unnest([source_l, source_r]), unnest([record_l, record_r]) FROM (
            SELECT source_l, record_l, source_r, record_r FROM tonight SEMI JOIN changed USING (h)
            UNION ALL
            SELECT source_l, record_l, source_r, record_r FROM kept SEMI JOIN changed USING (h))
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_affected_keys AS
        SELECT source, source_record_id FROM temp._id_d_keys
        UNION
        SELECT g.source, g.source_record_id FROM {GRAPH_RECORDS} g
        WHERE g.component_key IN (SELECT g2.component_key FROM {GRAPH_RECORDS} g2
                                  SEMI JOIN temp._id_d_keys d USING (source, source_record_id))
    """)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {AFFECTED.split(".")[-1]} AS
                    SELECT h.rid FROM {RECORD_HASH} h SEMI JOIN temp._id_affected_keys USING (source, source_record_id)
                    ORDER BY h.rid""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {TOUCHED.split(".")[-1]} AS
                    SELECT DISTINCT customer_id FROM identity.customer_map
                    SEMI JOIN temp._id_affected_keys USING (source, source_record_id)""")
    affected, records, leaving = con.execute(f"""
        SELECT (SELECT count(*) FROM {AFFECTED}), (SELECT count(*) FROM {RECORDS}),
               (SELECT count(*) FROM {EDGE_KEYS} e
                WHERE e.link_type <> 'cannot_link'
                  AND (e.rid_l IN (SELECT rid FROM {AFFECTED})) <> (e.rid_r IN (SELECT rid FROM {AFFECTED})))
    """).fetchall()[0]
    if leaving:
        # cannot happen if the reasoning above holds; never risk a wrong cluster on it
        return None
    if records and affected > MAX_AFFECTED_SHARE * records:
        return None
    return {
        "affected_records": affected,
        "records": records,
        "touched_customers": con.execute(f"SELECT count(*) FROM {TOUCHED}").fetchall()[0][0],
    }


def sync_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: str, scope: str, compare: list[str], order: str
) -> tuple[int, int]:
    """Bring the rows of ``table`` within ``scope`` (a condition on its rows) to ``rows`` (a query of
    the same columns), touching only the rows that differ: a row (as a multiset, by a 128-bit hash
    of its ``compare`` columns) in both is kept as it is, with its other columns (the run that
    last wrote it). Most rows of an affected component are what they were; deleting and
    inserting them all made a quiet night's identity commit rewrite every one. Returns (rows
    deleted, rows inserted)."""
    h = row_hash_sql([f'"{c}"' for c in compare], as_text=False)
    # the hash computed once, in a subquery, and the window partitioned on its column: with the
    # expression in both places DuckDB hashed every row twice (about half of each statement)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_sync_new AS
                    SELECT *, row_number() OVER (PARTITION BY _sync_h) AS _sync_k
                    FROM (SELECT *, {h} AS _sync_h FROM ({rows}))""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_sync_old AS
                    SELECT *, row_number() OVER (PARTITION BY _sync_h) AS _sync_k
                    FROM (SELECT rowid AS _sync_rowid, {h} AS _sync_h FROM {table} WHERE {scope})""")
    deleted = con.execute(f"""DELETE FROM {table} WHERE rowid IN (SELECT _sync_rowid FROM temp._id_sync_old
                                                                  ANTI JOIN temp._id_sync_new USING (_sync_h, _sync_k))""").fetchall()[
        0
    ][0]
    inserted = con.execute(f"""INSERT INTO {table} BY NAME
                               SELECT * EXCLUDE (_sync_h, _sync_k) FROM temp._id_sync_new
                               ANTI JOIN temp._id_sync_old USING (_sync_h, _sync_k) ORDER BY {order}""").fetchall()[0][
        0
    ]
    con.execute("DROP TABLE temp._id_sync_new")
    con.execute("DROP TABLE temp._id_sync_old")
    return deleted, inserted


def write_graph_state(
    con: duckdb.DuckDBPyConnection, config: IdentityConfig, components: str, restricted: bool, night_inputs: str
) -> None:
    """Keep tonight's record hashes, pre-split components and edges for tomorrow (inside the
    identity transaction), and what they were built from (``night_inputs``: ``inputs_hash``).
    ``restricted``: only A changed; the rest is kept as it is."""
    for ddl in (
        f"CREATE TABLE IF NOT EXISTS {GRAPH_RECORDS} ({column_definitions(GRAPH_RECORDS, _GRAPH_RECORD_TYPES)})",
        f"CREATE TABLE IF NOT EXISTS {GRAPH_EDGES} ({column_definitions(GRAPH_EDGES, _GRAPH_EDGE_TYPES)})",
        f"CREATE TABLE IF NOT EXISTS {GRAPH_META} (config_hash VARCHAR, inputs_hash VARCHAR)",
        # a graph kept before unchanged nights were recognised
        f"ALTER TABLE {GRAPH_META} ADD COLUMN IF NOT EXISTS inputs_hash VARCHAR",
    ):
        con.execute(ddl)
    # a component's key is its least record key, source || chr(31) || source_record_id: that of
    # its least rid (rids are numbered in record-key order, records.py, and chr(31) sorts below
    # any character of a source's name), which is the component's number itself
    # (connected_components): read at that rid, rather than found by a grouping (at 1M records
    # 0.15 of the statement's CPU s) or a window over the concatenated keys of every record
    records = f"""SELECT h.source, h.source_record_id, h.record_hash,
                         f.source || chr(31) || f.source_record_id AS component_key, h.rid
                  FROM {RECORD_HASH} h JOIN {components} c USING (rid)
                  JOIN {RECORD_HASH} f ON f.rid = c.component"""
    edges = f"""SELECT source_l, record_l, source_r, record_r, link_type, identifier_kind, identifier_value,
                       match_probability, note FROM {EDGE_KEYS} e"""
    if restricted:
        # only A changed: its records' rows, and every edge or cannot-link with an end in A (an edge
        # has both ends in A or neither; a cannot-link, two members of one household, may join two
        # components); of those, only the rows that differ from last night's are written
        keys = "(SELECT source, source_record_id FROM temp._id_affected_keys)"
        sync_rows(
            con,
            GRAPH_RECORDS,
            f"SELECT * EXCLUDE (rid) FROM ({records}) WHERE (source, source_record_id) IN {keys}",
            f"(source, source_record_id) IN {keys}",
            ["source", "source_record_id", "record_hash", "component_key"],
            "ALL",
        )
        sync_rows(
            con,
            GRAPH_EDGES,
            f"{edges} WHERE e.rid_l IN (SELECT rid FROM {AFFECTED}) OR e.rid_r IN (SELECT rid FROM {AFFECTED})",
            f"(source_l, record_l) IN {keys} OR (source_r, record_r) IN {keys}",
            [c for c in _GRAPH_EDGE_COLUMNS],
            "ALL",
        )
    else:
        # made anew (ZSTD_COLUMNS, storage.py) rather than emptied, and neither table sorted:
        # nothing reads them in their stored order (the next night joins the records on their
        # key and the edges by hash, or joins its cannot-links; a quiet night's sync_rows
        # matches rows by hash). Sorting cost the edges, 1.2M rows on the record pair then every
        # column, 0.35-0.4 of the statement's 1.1 CPU s at 1M records, and the records, 1M rows
        # on the rid, about 0.2 of 1.0 (the closing checkpoint alike either way)
        replace_table(con, GRAPH_RECORDS, f"SELECT * EXCLUDE (rid) FROM ({records})", None)
        replace_table(con, GRAPH_EDGES, edges, None)
    con.execute(f"DELETE FROM {GRAPH_META}")
    con.execute(
        f"INSERT INTO {GRAPH_META} (config_hash, inputs_hash) VALUES (?, ?)", [graph_config_hash(config), night_inputs]
    )
