"""Connected components of the link graph (``graph.py``): each record's component is the least
rid among the records it is linked to, directly or through others."""

from __future__ import annotations

import pytest

from cdp_pipeline.lib.identity.graph import connected_components


def _components(con, nodes: list[int], edges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    con.execute("CREATE OR REPLACE TABLE nodes (rid BIGINT)")
    con.execute("CREATE OR REPLACE TABLE edges (rid_l BIGINT, rid_r BIGINT)")
    if nodes:
        con.executemany("INSERT INTO nodes VALUES (?)", [(n,) for n in nodes])
    if edges:
        con.executemany("INSERT INTO edges VALUES (?, ?)", edges)
    connected_components(con, "SELECT rid FROM nodes", "SELECT rid_l, rid_r FROM edges", "temp.out")
    # read in the table's own order: it is written sorted by rid
    return con.execute("SELECT rid, component FROM temp.out").fetchall()


@pytest.mark.parametrize("step", [1, 1_000_000_007], ids=["dense rids", "sparse rids"])
def test_each_record_takes_the_least_rid_of_its_component(con, step):
    r = [step * k for k in range(1, 13)]
    edges = [
        # a chain given from its far end, in both directions and repeated: 12 - 11 - ... - 7
        *[(r[k], r[k - 1]) for k in range(11, 6, -1)],
        (r[7], r[8]),
        (r[9], r[10]),
        # a star on r[4] and a loop of one record
        (r[4], r[2]),
        (r[4], r[5]),
        (r[3], r[3]),
    ]
    assert _components(con, [r[k] for k in (11, 0, 5, 3, 2, 1, 4, 6, 7, 8, 9, 10, 3)], edges) == [
        (r[0], r[0]),
        (r[1], r[1]),
        (r[2], r[2]),
        (r[3], r[3]),
        (r[4], r[2]),
        (r[5], r[2]),
        (r[6], r[6]),
        *[(r[k], r[6]) for k in range(7, 12)],
    ]


def test_an_edge_to_a_record_outside_the_nodes_joins_nothing(con):
    # 1 and 3 both link to 99, which is not among the nodes (an edge leaving the affected records)
    assert _components(con, [3, 1, 2], [(1, 99), (99, 3), (2, 3)]) == [(1, 1), (2, 2), (3, 2)]


def test_a_long_chain_numbered_against_its_order_is_one_component(con):
    # each record links to the next larger one, the least at the far end: many hooking rounds
    nodes = list(range(1, 2001))
    edges = [(n, n + 1) for n in range(2000, 1, -2)] + [(n, n + 1) for n in range(1999, 0, -2)]
    assert _components(con, nodes, edges) == [(n, 1) for n in nodes]


def test_no_nodes_no_rows(con):
    assert _components(con, [], [(1, 2)]) == []
