"""Connected components of the link graph, in DuckDB SQL.

Min-label propagation with pointer jumping: every record starts as its own label,
takes the smallest label among itself and its neighbours, then the label of its
label. Converges in a few rounds on the shallow stars stitching produces and the
short chains Splink produces, with set-based SQL only (no per-row Python).
"""

from __future__ import annotations

import duckdb


def connected_components(
    con: duckdb.DuckDBPyConnection, nodes_sql: str, edges_sql: str, out_table: str, max_rounds: int = 200
) -> int:
    """Write ``out_table(rid, component)``; ``component`` is the smallest rid in the component.

    ``nodes_sql`` yields ``rid``; ``edges_sql`` yields ``rid_l, rid_r`` (either direction).
    Returns the number of rounds used.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cc_edges AS
        SELECT DISTINCT a, b FROM (
            SELECT rid_l AS a, rid_r AS b FROM ({edges_sql}) WHERE rid_l <> rid_r
            UNION ALL SELECT rid_r, rid_l FROM ({edges_sql}) WHERE rid_l <> rid_r
        )
    """)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _cc_labels AS SELECT DISTINCT rid, rid AS label FROM ({nodes_sql})")
    rounds = 0
    for rounds in range(1, max_rounds + 1):  # noqa: B007 - read after the loop: how many rounds it took
        # each round's labels carry the round before's (``was``): what changed is counted
        # without joining the two, and the new table takes the old one's name
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _cc_next AS
            WITH hop AS (
                SELECT l.rid, l.label AS was, least(l.label, coalesce(min(n.label), l.label)) AS label
                FROM _cc_labels l
                LEFT JOIN _cc_edges e ON e.a = l.rid
                LEFT JOIN _cc_labels n ON n.rid = e.b
                GROUP BY l.rid, l.label
            )
            -- pointer jumping: adopt the label of my label
            SELECT h.rid, least(h.label, j.label) AS label, h.was
            FROM hop h JOIN hop j ON j.rid = h.label
        """)
        changed = con.execute("SELECT count(*) FROM _cc_next WHERE label <> was").fetchall()[0][0]
        con.execute("DROP TABLE _cc_labels")
        con.execute("ALTER TABLE _cc_next RENAME TO _cc_labels")
        if changed == 0:
            break
    else:
        raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out_table.split('.')[-1]} AS "
        "SELECT rid, label AS component FROM _cc_labels ORDER BY rid"
    )
    for t in ("_cc_edges", "_cc_labels", "_cc_next"):
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    return rounds
