"""Cardinality rules and cannot-link decisions: split offending clusters at their weakest links.

A customer holding three birth dates or five CRM ids is almost surely several people
joined by a bad link. Only clusters that break a rule (or hold both records of a
cannot-link pair) are rebuilt: their edges are added back strongest first — review
must-links, then deterministic edges, then probabilistic edges by falling match
probability — and an edge is left out when adding it would break a rule or join a
cannot-link pair. The result keeps every strong link it can and cuts the weakest
ones, which is the same as removing the lowest-probability edges until the rules
hold. The rebuild loops in Python, but only over the (few) offending clusters.
"""

from __future__ import annotations

from collections import defaultdict

import duckdb

from cdp_pipeline.lib.identity.config import CardinalityRule
from cdp_pipeline.lib.identity.records import RECORDS


def _quoted(col: str) -> str:
    if not col.replace("_", "").isalnum():
        raise ValueError(f"cardinality rule column must be a plain column name: {col!r}")
    return f'"{col}"'


def violating_components_sql(components: str, rules: tuple[CardinalityRule, ...], records: str = RECORDS) -> str:
    """SQL listing ``component, rule, distinct_values, max_distinct`` for every broken rule."""
    parts = [
        f"""SELECT c.component, '{r.name}' AS rule, count(DISTINCT rec.{_quoted(r.column)}) AS distinct_values,
                   {int(r.max_distinct)} AS max_distinct
            FROM {components} c JOIN {records} rec USING (rid)
            GROUP BY c.component HAVING count(DISTINCT rec.{_quoted(r.column)}) > {int(r.max_distinct)}"""
        for r in rules
    ]
    return " UNION ALL ".join(parts) if parts else \
        "SELECT NULL::BIGINT AS component, NULL AS rule, NULL::BIGINT AS distinct_values, NULL::BIGINT AS max_distinct WHERE false"


class _Groups:
    """Union-find that also tracks, per group, each rule's value set and cannot-link partners."""

    def __init__(self, values: dict[int, tuple], rules: tuple[CardinalityRule, ...], partners: dict[int, set[int]]):
        self.parent = {rid: rid for rid in values}
        self.members = {rid: {rid} for rid in values}
        self.values = {rid: [({v} if v is not None else set()) for v in vals] for rid, vals in values.items()}
        self.partners = {rid: set(partners.get(rid, ())) for rid in values}
        self.limits = [r.max_distinct for r in rules]
        self.names = [r.name for r in rules]

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def conflict(self, a: int, b: int) -> str | None:
        if self.partners[a] & self.members[b] or self.partners[b] & self.members[a]:
            return "cannot_link"
        for i, limit in enumerate(self.limits):
            va, vb = self.values[a][i], self.values[b][i]
            if len(va) + len(vb) > limit and len(va | vb) > limit:
                return f"cardinality:{self.names[i]}"
        return None

    def union(self, a: int, b: int) -> None:
        if len(self.members[a]) < len(self.members[b]):
            a, b = b, a
        self.parent[b] = a
        self.members[a] |= self.members.pop(b)
        self.partners[a] |= self.partners.pop(b)
        for i, vb in enumerate(self.values.pop(b)):
            self.values[a][i] |= vb


def split_components(con: duckdb.DuckDBPyConnection, components: str, edges: str, cannot_links: str,
                     rules: tuple[CardinalityRule, ...], out_components: str, out_cut: str) -> dict:
    """Rebuild offending components; write ``out_components(rid, component)`` and ``out_cut``.

    ``edges``: ``rid_l, rid_r, strength, match_weight`` (strength 3 review, 2 deterministic,
    else match probability). ``cannot_links``: ``rid_l, rid_r``.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_bad_components AS
        SELECT DISTINCT component FROM ({violating_components_sql(components, rules)})
        UNION
        SELECT a.component FROM {cannot_links} p
        JOIN {components} a ON a.rid = p.rid_l JOIN {components} b ON b.rid = p.rid_r
        WHERE a.component = b.component
    """)
    cols = ", ".join(f"rec.{_quoted(r.column)}::VARCHAR" for r in rules) or "NULL"
    nodes = con.execute(f"""
        SELECT c.component, c.rid, {cols} FROM {components} c JOIN {RECORDS} rec USING (rid)
        WHERE c.component IN (SELECT component FROM temp._id_bad_components) ORDER BY c.rid
    """).fetchall()
    edge_rows = con.execute(f"""
        SELECT e.rid_l, e.rid_r, max(e.strength) AS strength, max(coalesce(e.match_weight, 0)) AS w
        FROM {edges} e JOIN {components} c ON c.rid = e.rid_l
        WHERE c.component IN (SELECT component FROM temp._id_bad_components) AND e.rid_l <> e.rid_r
        GROUP BY e.rid_l, e.rid_r
        ORDER BY strength DESC, w DESC, e.rid_l, e.rid_r
    """).fetchall()
    cannot = con.execute(f"SELECT rid_l, rid_r FROM {cannot_links}").fetchall()

    values = {row[1]: tuple(row[2:2 + len(rules)]) for row in nodes}
    partners: dict[int, set[int]] = defaultdict(set)
    for a, b in cannot:
        if a in values and b in values:
            partners[a].add(b)
            partners[b].add(a)
    groups = _Groups(values, rules, partners)
    cut, conflicts = [], 0
    for a, b, strength, _w in edge_rows:
        ra, rb = groups.find(a), groups.find(b)
        if ra == rb:
            continue
        reason = groups.conflict(ra, rb)
        if reason is None or (strength >= 3 and reason != "cannot_link"):
            groups.union(ra, rb)   # a human must-link overrides cardinality rules, not a cannot-link
        else:
            conflicts += strength >= 3
            cut.append((a, b, reason))
    new_component = {}
    for rid in values:
        root = groups.find(rid)
        new_component[rid] = min(groups.members[root])
    name_c = out_components.split(".")[-1]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _id_split_nodes (rid BIGINT, component BIGINT)")
    if new_component:
        con.executemany("INSERT INTO temp._id_split_nodes VALUES (?, ?)", sorted(new_component.items()))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {name_c} AS
        SELECT c.rid, coalesce(s.component, c.component) AS component
        FROM {components} c LEFT JOIN temp._id_split_nodes s USING (rid) ORDER BY c.rid
    """)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out_cut.split('.')[-1]} (rid_l BIGINT, rid_r BIGINT, reason VARCHAR)")
    # an edge counts as cut only if its ends really ended up apart
    final_cut = [(a, b, r) for a, b, r in cut if groups.find(a) != groups.find(b)]
    if final_cut:
        con.executemany(f"INSERT INTO {out_cut} VALUES (?, ?, ?)", final_cut)
    bad = con.execute("SELECT count(*) FROM temp._id_bad_components").fetchall()[0][0]
    return {"clusters_split": bad, "links_cut": len(final_cut), "must_link_conflicts": conflicts}
