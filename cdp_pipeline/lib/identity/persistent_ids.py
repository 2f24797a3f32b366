"""Persistent, opaque customer IDs that survive reruns, merges and splits.

A new customer's ID is ``C-`` + 12 hex characters of SHA-256 of its smallest
(source, source_record_id) — derived, not random, so the same input always gives
the same IDs. On later runs a cluster inherits the ID of the previous customer it
shares most records with:

* each previous ID goes to the new cluster holding most of its records (a split
  gives the old ID to the larger part; the other parts get new IDs, event ``split``);
* a cluster that receives several previous IDs keeps the one it shares most records
  with, then the oldest; the others are ``merged`` into it;
* a previous ID none of whose records remain is ``retired``;
* an ID merged away on an earlier night comes back to a new cluster holding the record it was
  derived from (a merge undone by a split); when that record is in a cluster that keeps another
  ID, the old ID is ``merged`` into that one. Either way the old ID leads to its records.

The previous state is the ``identity.customer_map`` already in the build database.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.common.warehouse import table_exists  # noqa: F401 - re-exported
from cdp_pipeline.lib.identity.records import RECORDS

EVENTS = "temp._id_events"
_SEP = "\x1f"


def _previous_map(con: duckdb.DuckDBPyConnection, scope: str | None = None) -> None:
    """``temp._id_prev``: last run's map — only the customers listed in ``scope`` (a table of
    ``customer_id``) when just part of the records is re-clustered (``affected.py``)."""
    if table_exists(con, "identity", "customer_map"):
        cols = {
            r[0]
            for r in con.execute("""SELECT column_name FROM duckdb_columns()
                   WHERE schema_name = 'identity' AND table_name = 'customer_map'""").fetchall()
        }
        created = "customer_created_at" if "customer_created_at" in cols else "NULL::TIMESTAMP"
        where = f"SEMI JOIN {scope} USING (customer_id)" if scope else ""
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_prev AS
                        SELECT source, source_record_id, customer_id, {created} AS created_at
                        FROM identity.customer_map {where}""")
    else:
        con.execute("""CREATE OR REPLACE TEMP TABLE _id_prev (source VARCHAR, source_record_id VARCHAR,
                       customer_id VARCHAR, created_at TIMESTAMP)""")
    used = ["SELECT customer_id FROM temp._id_prev"]
    if table_exists(con, "identity", "customer_map"):
        used.append("SELECT customer_id FROM identity.customer_map")
    if table_exists(con, "identity", "id_history"):
        used.append("SELECT customer_id FROM identity.id_history")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _id_used_ids AS SELECT DISTINCT customer_id FROM ("
        + " UNION ALL ".join(used)
        + ") WHERE customer_id IS NOT NULL"
    )
    # IDs merged into another customer on an earlier night and not current: a new cluster holding
    # the record one was derived from gets it back (a merge undone by a split). Otherwise the old
    # ID would go on naming the customer it was merged into, which no longer holds its records.
    if table_exists(con, "identity", "id_history"):
        con.execute("""CREATE OR REPLACE TEMP TABLE _id_revivable AS
                       SELECT customer_id, related_customer_id AS related FROM (
                           SELECT customer_id, event, related_customer_id FROM identity.id_history
                           QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY "at" DESC, run_id DESC) = 1
                       ) WHERE event = 'merged'
                         AND customer_id NOT IN (SELECT customer_id FROM temp._id_prev)""")
        if table_exists(con, "identity", "customer_map"):
            con.execute("""DELETE FROM temp._id_revivable
                           WHERE customer_id IN (SELECT customer_id FROM identity.customer_map)""")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _id_revivable (customer_id VARCHAR, related VARCHAR)")


def assign_customer_ids(con: duckdb.DuckDBPyConnection, components: str, run_at, scope: str | None = None) -> dict:
    """Write ``temp._id_assignment(component, customer_id, created_at)`` and ``temp._id_events``.

    ``scope``: the previous customers whose records ``components`` re-clusters (all when None)."""
    _previous_map(con, scope)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_cur AS
        SELECT c.rid, c.component, r.source, r.source_record_id,
               count(*) OVER (PARTITION BY c.component) AS size
        FROM {components} c JOIN {RECORDS} r USING (rid)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_overlap AS
        SELECT c.component, any_value(c.size) AS size, p.customer_id,
               min(p.created_at) AS created_at, count(*) AS n
        FROM temp._id_cur c JOIN temp._id_prev p USING (source, source_record_id)
        GROUP BY c.component, p.customer_id
    """)
    # each previous ID goes to the new cluster holding most of its records
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_heir AS
        SELECT * FROM temp._id_overlap
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, size DESC, component) = 1
    """)
    # a cluster offered several IDs keeps the one it shares most with, then the oldest
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_kept AS
        SELECT component, customer_id, created_at FROM temp._id_heir
        QUALIFY row_number() OVER (PARTITION BY component
                                   ORDER BY n DESC, created_at ASC NULLS LAST, customer_id) = 1
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_new AS
        SELECT component, min(source || '{_SEP}' || source_record_id) AS seed_key
        FROM temp._id_cur WHERE component NOT IN (SELECT component FROM temp._id_kept)
        GROUP BY component
    """)
    # where tonight's clusters put the founding record (the unsalted seed key) of each merged-away ID
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_founders AS
        SELECT k.component, k.key AS founder_key, v.customer_id, v.related
        FROM (SELECT component, source || '{_SEP}' || source_record_id AS key FROM temp._id_cur
              WHERE EXISTS (SELECT 1 FROM temp._id_revivable)) k
        JOIN temp._id_revivable v ON v.customer_id = 'C-' || left(sha256(k.key), 12)
    """)
    _derive_new_ids(con)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _id_assignment AS
        SELECT component, customer_id, coalesce(created_at, $at::TIMESTAMP) AS created_at FROM temp._id_kept
        UNION ALL
        SELECT component, customer_id, $at::TIMESTAMP FROM temp._id_new_ids
        ORDER BY component
    """,
        {"at": run_at},
    )
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_events AS
        -- a brand-new cluster, or a part split off a previous customer
        SELECT n.customer_id,
               CASE WHEN o.customer_id IS NULL THEN 'created' ELSE 'split' END AS event,
               o.customer_id AS related_customer_id
        FROM temp._id_new_ids n
        LEFT JOIN (SELECT * FROM temp._id_overlap
                   QUALIFY row_number() OVER (PARTITION BY component ORDER BY n DESC, customer_id) = 1) o
            USING (component)
        UNION ALL
        -- previous IDs absorbed by a cluster that kept another ID
        SELECT h.customer_id, 'merged', k.customer_id
        FROM temp._id_heir h JOIN temp._id_kept k USING (component)
        WHERE h.customer_id <> k.customer_id
        UNION ALL
        -- a merged-away ID whose founding record is now in another customer than the one it was
        -- last merged into (a split, or another revived ID): it is merged into that customer
        SELECT f.customer_id, 'merged', a.customer_id
        FROM temp._id_founders f JOIN temp._id_assignment a USING (component)
        WHERE f.customer_id <> a.customer_id AND a.customer_id IS DISTINCT FROM f.related
        UNION ALL
        SELECT p.customer_id, 'retired', NULL
        FROM (SELECT DISTINCT customer_id FROM temp._id_prev) p
        WHERE p.customer_id NOT IN (SELECT customer_id FROM temp._id_overlap)
        ORDER BY 1, 2
    """)
    stats = con.execute("""
        SELECT count(*) AS records_before,
               count(*) FILTER (WHERE c.rid IS NOT NULL) AS records_still_present,
               count(*) FILTER (WHERE c.rid IS NOT NULL AND a.customer_id <> p.customer_id) AS records_changed_id
        FROM temp._id_prev p
        LEFT JOIN temp._id_cur c USING (source, source_record_id)
        LEFT JOIN temp._id_assignment a ON a.component = c.component
    """).fetchall()[0]
    events = dict(con.execute("SELECT event, count(*) FROM temp._id_events GROUP BY 1").fetchall())
    before, present, changed = stats
    return {
        "previous_records": before,
        "records_still_present": present,
        "records_changed_id": changed,
        "id_change_share": (changed / present) if present else 0.0,
        "events": {e: events.get(e, 0) for e in ("created", "merged", "split", "retired")},
    }


def _derive_new_ids(con: duckdb.DuckDBPyConnection, max_salts: int = 50) -> None:
    """``C-`` + 12 hex of sha256(seed key); on a clash with any ID ever used, re-derive with a salt."""
    # A merged-away ID whose founding record (``_id_founders``) is in a new cluster: that cluster
    # takes it back (the smallest founding record when it holds several).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_new_ids AS
        SELECT n.component, n.seed_key,
               coalesce(f.customer_id, 'C-' || left(sha256(n.seed_key), 12)) AS customer_id,
               0 AS salt, f.customer_id IS NOT NULL AS revived
        FROM temp._id_new n
        LEFT JOIN (SELECT component, arg_min(customer_id, founder_key) AS customer_id
                   FROM temp._id_founders WHERE component IN (SELECT component FROM temp._id_new)
                   GROUP BY component) f USING (component)
    """)
    for salt in range(1, max_salts + 1):
        # clashes with a previous/kept ID, or with a new ID whose seed key sorts first
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _id_clash AS
            SELECT component FROM (
                SELECT n.component, n.customer_id, n.revived,
                       row_number() OVER (PARTITION BY n.customer_id ORDER BY n.revived DESC, n.seed_key) AS k
                FROM temp._id_new_ids n
            ) x
            WHERE k > 1
               OR (customer_id IN (SELECT customer_id FROM temp._id_used_ids) AND NOT revived)
               OR customer_id IN (SELECT customer_id FROM temp._id_kept)
        """)
        if not con.execute("SELECT count(*) FROM temp._id_clash").fetchall()[0][0]:
            return
        con.execute(
            """
            UPDATE temp._id_new_ids SET salt = $salt, revived = false,
                   customer_id = 'C-' || left(sha256(seed_key || '#' || $salt::VARCHAR), 12)
            WHERE component IN (SELECT component FROM temp._id_clash)
        """,
            {"salt": salt},
        )
    raise RuntimeError("could not derive unique customer IDs")
