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

import datetime as dt
from collections import Counter, defaultdict

import duckdb
import pyarrow as pa

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
    return (
        " UNION ALL ".join(parts)
        if parts
        else "SELECT NULL::BIGINT AS component, NULL AS rule, NULL::BIGINT AS distinct_values, NULL::BIGINT AS max_distinct WHERE false"
    )


def _one_typo_apart(a: str, b: str) -> bool:
    """At most one substitution, insertion, deletion or swap of neighbours (Damerau-Levenshtein ≤ 1)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _day_month_swapped(a: str, b: str) -> bool:
    """ISO dates (YYYY-MM-DD) with day and month exchanged."""
    return len(a) == len(b) == 10 and a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]


def _one_day_or_month_apart(a: str, b: str) -> bool:
    """ISO dates (YYYY-MM-DD) one day apart, or one month apart on the same day: the day or the
    month mistyped by one across a digit (09 / 10, 19 / 20), which is two characters, not one
    typo. Twins share their date; a parent and a child are decades apart."""
    if len(a) != 10 or len(b) != 10:
        return False
    try:
        x, y = dt.date.fromisoformat(a), dt.date.fromisoformat(b)
    except ValueError:
        return False
    months = abs((x.year * 12 + x.month) - (y.year * 12 + y.month))
    return abs((x - y).days) == 1 or (x.day == y.day and months == 1)


def same_value_give_or_take_a_typo(a: str, b: str) -> bool:
    return _one_typo_apart(a, b) or _day_month_swapped(a, b) or _one_day_or_month_apart(a, b)


def _two_typos_apart(a: str, b: str) -> bool:
    """ISO dates (YYYY-MM-DD) of one length whose digits differ in at most two places, a swap of two
    neighbouring digits counting as one (1904-12-26 / 1905-10-26, 1919-08-10 / 1991-04-10). A CRM's
    duplicate records carry dates mistyped twice (FEBRL's generator types up to four slips into a
    field); two random dates of a century are so close about once in 67, a parent's and a child's
    22 to 34 years apart about once in 140 (the same day and month, or the year's last digit and
    all of day and month but one digit), against about once in 1,000 and 3,300 for one typo."""
    if len(a) != 10 or len(b) != 10 or a[4] != "-" or b[4] != "-":
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    if len(diff) <= 2:
        return True
    # one swap of neighbours and one substitution: three places, two of them a swapped pair
    if len(diff) != 3:
        return False
    return any(
        diff[k + 1] == diff[k] + 1 and a[diff[k]] == b[diff[k + 1]] and a[diff[k + 1]] == b[diff[k]] for k in (0, 1)
    )


def close_dates(a: str, b: str) -> bool:
    """Two written dates that may be one person's, one of them mistyped once or twice (or with day and
    month swapped, one day or one month apart): not the clearly different dates of two people."""
    return same_value_give_or_take_a_typo(a, b) or _two_typos_apart(a, b)


def value_clusters(clusters: list[frozenset], tolerance: str, joined: tuple = ()) -> list[frozenset]:
    """Merge sets of values that count as one value: sets sharing a value; under a tolerance,
    sets holding two values the model matched directly (``joined``: pairs of values on the two
    ends of a probabilistic link); under ``typo``, sets holding values one typo apart."""
    out: list[set] = []
    for cluster in clusters:
        merged = set(cluster)
        keep = []
        for other in out:
            if other & merged or _related(other, merged, tolerance, joined):
                merged |= other
            else:
                keep.append(other)
        out = keep + [merged]
    if len(out) != len(clusters):  # a merge can relate two earlier sets: settle
        return value_clusters([frozenset(c) for c in out], tolerance, joined)
    return [frozenset(c) for c in out]


def _related(a: set, b: set, tolerance: str, joined: tuple) -> bool:
    if tolerance == "exact":
        return False
    if any((x in a and y in b) or (x in b and y in a) for x, y in joined):
        return True
    return tolerance == "typo" and any(same_value_give_or_take_a_typo(x, y) for x in a for y in b)


def distinct_values(values, tolerance: str, joined: tuple = ()) -> int:
    """How many different values a customer holds under a rule's tolerance (see ``value_clusters``)."""
    return len(value_clusters([frozenset([v]) for v in values if v is not None], tolerance, joined))


class _Groups:
    """Union-find that also tracks, per group, each rule's value clusters and cannot-link partners
    (each with the cannot-link's reason)."""

    def __init__(
        self,
        values: dict[int, tuple],
        rules: tuple[CardinalityRule, ...],
        partners: dict[int, dict[int, str]],
        mailbox: dict[int, str] | None = None,
        contacts: set[int] | None = None,
    ):
        self.parent = {rid: rid for rid in values}
        self.members = {rid: {rid} for rid in values}
        mailbox = mailbox or {}
        self.mailboxes = {rid: ({mailbox[rid]} if mailbox.get(rid) else set()) for rid in values}
        # per group, whether a record of it carries a usable e-mail or phone (see ``close_counts``)
        contacts = contacts or set()
        self.contact = {rid: rid in contacts for rid in values}
        self.values = {rid: [([frozenset([v])] if v is not None else []) for v in vals] for rid, vals in values.items()}
        # per rule, how many records of the group carry each value (see ``lone_value``)
        self.counts = {rid: [Counter([v] if v is not None else []) for v in vals] for rid, vals in values.items()}
        self.partners = {rid: dict(partners.get(rid, {})) for rid in values}
        self.limits = [r.max_distinct for r in rules]
        self.tolerances = [r.tolerance for r in rules]
        self.names = [r.name for r in rules]

    def lone_value(self, a: int, b: int, i: int, value_a: str, value_b: str) -> bool:
        """Whether one of groups ``a`` and ``b`` holds rule ``i``'s value on the edge (``value_a``,
        ``value_b``) on a single record, counting the values one typo from it: a value that may
        be one record's slip (a birth date mistyped or replaced), which the model's direct match
        may read as the other side's. Under ``typo`` (a value of the person: one birth date,
        however written), a side with two records or more giving that value has said it again:
        two values, whatever one match says, unless the two are close (``close_dates``: one date
        mistyped twice, 1927-10-22 / 1927-12-02, is not two people's). Under ``linked`` every
        record may carry its own value (a CRM's duplicate records each have their own id): always
        True."""
        if self.tolerances[i] != "typo":
            return True
        return (self.close_counts(a, b) and close_dates(value_a, value_b)) or any(
            self._said(g, i, value) <= 1 for g, value in ((a, value_a), (b, value_b))
        )

    def close_counts(self, a: int, b: int) -> bool:
        """Whether close values (``close_dates``) may count as one between groups ``a`` and ``b``:
        not where both carry an e-mail or a phone. Contacts on both sides say who is who (one
        shared: a stitch; two people's: two namesakes born three years apart, 1996-11-28 and
        1999-11-25, on mailboxes one typo apart and two phones, in the 1M sample, were joined by
        the model's match of one's undated newsletter record to the other); a CRM extract without
        them (FEBRL-class data) has only its dates to go by."""
        return not (self.contact[a] and self.contact[b])

    def _said(self, g: int, i: int, value: str) -> int:
        """On how many records group ``g`` gives rule ``i``'s ``value``, give or take a typo."""
        return sum(n for v, n in self.counts[g][i].items() if same_value_give_or_take_a_typo(v, value))

    def close_lone_values(self, a: int, b: int, i: int) -> tuple:
        """Pairs of rule ``i``'s values, one of group ``a`` and one of group ``b``, that are close
        (``close_dates``) where one of the two is given on a single record of its group: one
        record's date mistyped twice, which the other side gives on its own records. Joined through
        records without a date (a duplicate without a birth date matched to both), such a date is
        the person's, not a second person's: two people's dates are seldom that close, and a side
        that gives its date on two records has said it again. Only under ``typo``."""
        if self.tolerances[i] != "typo" or not self.close_counts(a, b):
            return ()
        values_a = [v for cluster in self.values[a][i] for v in cluster]
        values_b = [v for cluster in self.values[b][i] for v in cluster]
        return tuple(
            (x, y)
            for x in values_a
            for y in values_b
            if x != y
            and not same_value_give_or_take_a_typo(x, y)
            and close_dates(x, y)
            and (self._said(a, i, x) <= 1 or self._said(b, i, y) <= 1)
        )

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def conflict(self, a: int, b: int, joined: tuple = (), close: bool = False) -> tuple[str | None, list]:
        """(why groups ``a`` and ``b`` may not be joined or None, their merged value clusters).

        ``joined[i]``: pairs of rule i's values that count as one: the values on the two ends of
        the edge when it is a model match between records that both carry one (the model has
        weighed their difference, so a tolerant rule counts them as one: a birth date replaced by
        another still links on everything else; a record without one is never such a bridge).
        ``close``: the edge is a model match that may also make one value of close values one side
        gives on a single record (``close_lone_values``; looked for only where the values are not
        one value already, which is nearly every edge)."""
        for x, y in ((a, b), (b, a)):
            hit = self.partners[x].keys() & self.members[y]
            if hit:
                return min(self.partners[x][rid] for rid in hit), []
        merged = []
        for i, limit in enumerate(self.limits):
            pairs = joined[i] if i < len(joined) else ()
            clusters = value_clusters(self.values[a][i] + self.values[b][i], self.tolerances[i], pairs)
            if close and len(clusters) > 1:
                extra = self.close_lone_values(a, b, i)
                if extra:
                    clusters = value_clusters(
                        self.values[a][i] + self.values[b][i], self.tolerances[i], tuple(pairs) + extra
                    )
            if len(clusters) > limit:
                return f"cardinality:{self.names[i]}", []
            merged.append(clusters)
        return None, merged

    def union(self, a: int, b: int, merged: list | None = None) -> None:
        if len(self.members[a]) < len(self.members[b]):
            a, b = b, a
        self.parent[b] = a
        self.members[a] |= self.members.pop(b)
        self.mailboxes[a] |= self.mailboxes.pop(b)
        self.contact[a] = self.contact.pop(b) or self.contact[a]
        self.counts[a] = [x + y for x, y in zip(self.counts[a], self.counts.pop(b))]
        for rid, reason in self.partners.pop(b).items():
            self.partners[a][rid] = min(reason, self.partners[a].get(rid, reason))
        vb = self.values.pop(b)
        self.values[a] = (
            merged
            if merged
            else [value_clusters(self.values[a][i] + vb[i], self.tolerances[i]) for i in range(len(vb))]
        )


def _split_count(nodes, new_component: dict[int, int]) -> int:
    """Candidate components that really ended in two or more customers."""
    parts: dict[int, set[int]] = defaultdict(set)
    for component, rid, *_ in nodes:
        parts[component].add(new_component[rid])
    return sum(1 for p in parts.values() if len(p) > 1)


def mailboxes_of_their_own(a: set, b: set) -> bool:
    """Two groups of records that each carry a mailbox and have none in common (``two_mailboxes``
    between every mailbox of one and every mailbox of the other)."""
    return bool(a) and bool(b) and all(two_mailboxes(x, y) for x in a for y in b)


def two_mailboxes(a: str | None, b: str | None) -> bool:
    """Two e-mail addresses that are two mailboxes: both present, neither equal nor one typo apart;
    addresses equal once ``.``, ``_`` and ``-`` are dropped (``johanna.lundgren@`` /
    ``johannalundgren@``) are two, as the model's e-mail comparison reads them."""
    if a is None or b is None or a == b:
        return False
    bare = str.maketrans("", "", "._-")
    return not _one_typo_apart(a, b) or a.translate(bare) == b.translate(bare)


def _rebuild(edge_rows, values, rules, partners, mailbox, contact) -> tuple[_Groups, list, int]:
    """The greedy pass: ``edge_rows`` (strongest first) added back one by one, an edge left out
    (in the returned cut list, with its reason) when it would break a rule or join a cannot-link
    pair."""
    groups = _Groups(values, rules, partners, mailbox, contact)
    cut, conflicts = [], 0
    for a, b, strength, _w in edge_rows:
        ra, rb = groups.find(a), groups.find(b)
        if ra == rb:
            continue
        # a probabilistic edge (strength = its probability, below 2) between two records that both
        # carry a ruled value: the model compared those records knowing the values differ (unless
        # the two sides, each with what stronger edges already joined to it, carry mailboxes of
        # their own: see ``mailboxes``), and one side gives its value (give or take a typo) on a
        # single record, or the two values are close: a side whose records give it twice has said
        # it again, so one match of two records does not make a clearly different value the other
        # side's (``_Groups.lone_value``). A probabilistic edge also makes one value of two close
        # ones of which one side gives one on a single record, whichever records the edge joins
        # (``_Groups.close_lone_values``): a duplicate without a birth date matched to the records
        # of one date and to a record of that date mistyped twice is no bridge between two people
        weighed = strength < 2 and not mailboxes_of_their_own(groups.mailboxes[ra], groups.mailboxes[rb])
        joined = tuple(
            (
                ((values[a][i], values[b][i]),)
                if values[a][i] is not None
                and values[b][i] is not None
                and groups.lone_value(ra, rb, i, values[a][i], values[b][i])
                else ()
            )
            if weighed
            else ()
            for i in range(len(rules))
        )
        reason, merged = groups.conflict(ra, rb, joined, close=weighed)
        if reason is None or (strength >= 3 and reason != "cannot_link"):
            # a reviewer's must-link overrides the rules (cardinality, and the cannot-links the
            # run infers: cannot_link:<why>), not a reviewer's cannot-link
            groups.union(ra, rb, merged)
        else:
            conflicts += strength >= 3
            cut.append((a, b, reason))
    return groups, cut, conflicts


def contested_records(edge_rows, values, rules, partners, groups: _Groups, cut: list) -> set[int]:
    """Records the greedy pass attached to one person although they are as much at home with
    another whom a rule keeps apart from the first, and which carry no evidence for either.

    Such a record has no stitch (no identifier it shares with any record: its only links are the
    model's), no value of a rule that allows one value (a birth date) and no cannot-link of its
    own; its model links reach its own customer and, through a link the pass cut for a cannot-link
    between the two customers (not something of the record's), another. The pass takes
    links by falling probability, so it goes with whichever of the two the model scores higher,
    which on such a record says which of the two people carries fewer fields to weigh against it,
    not which one it is: a same-name child's CRM record without e-mail or birth date on a landline
    of its own scores 0.99987 against the parent's order (no phone on it to disagree) and 0.9939
    against the parent's CRM record and the child's own order alike (its landline against their
    mobiles; Nordic set, seed 53). It stays with its customer only when it is clearly closer to
    it: every one of its links into its customer weighs more than every cut link into the other.
    Otherwise it is a customer of its own: a link to neither is the answer that merges nobody."""
    limited = [i for i, rule in enumerate(rules) if rule.max_distinct == 1]
    stitched = {rid for a, b, strength, _w in edge_rows if strength >= 2 for rid in (a, b)}
    cut_reasons = {(a, b): reason for a, b, reason in cut}
    weights: dict[int, list[tuple[int, float, bool]]] = defaultdict(list)
    for a, b, strength, w in edge_rows:
        if strength < 2:
            # cut for a cannot-link (a reviewer's, or contacts saying two people: household, two
            # accounts), not for the birth-date rule alone: without contacts two dates are often
            # one person's, one of them replaced (FEBRL-class data), and the pieces the rule keeps
            # apart are one person's as often as two
            was_cut = cut_reasons.get((a, b), "").startswith("cannot_link")
            weights[a].append((b, w, was_cut))
            weights[b].append((a, w, was_cut))
    out = set()
    for rid, links in weights.items():
        if rid in stitched or partners.get(rid) or any(values[rid][i] is not None for i in limited):
            continue
        home = groups.find(rid)
        inside = [w for other, w, _ in links if groups.find(other) == home]
        away: dict[int, list[float]] = defaultdict(list)
        for other, w, _ in links:
            if groups.find(other) != home:
                away[groups.find(other)].append(w)
        reached = {groups.find(other) for other, _, was_cut in links if was_cut and groups.find(other) != home}
        if inside and any(min(inside) <= max(away[g]) for g in reached):
            out.add(rid)
    return out


def split_components(
    con: duckdb.DuckDBPyConnection,
    components: str,
    edges: str,
    cannot_links: str,
    rules: tuple[CardinalityRule, ...],
    out_components: str,
    out_cut: str,
    mailboxes: str | None = None,
    contacts: str | None = None,
) -> dict:
    """Rebuild offending components; write ``out_components(rid, component)`` and ``out_cut``.

    ``edges``: ``rid_l, rid_r, strength, match_weight`` (strength 3 review, 2 to 3 deterministic,
    else match probability). ``cannot_links``: ``rid_l, rid_r`` and optionally ``reason`` (what
    ``out_cut`` says of an edge cut for it: ``cannot_link`` a reviewer's, ``cannot_link:<why>`` a
    rule's; ``cannot_link`` when absent).

    ``mailboxes`` (a query of ``rid, email``: each record's usable e-mail): a model match between
    two records with two mailboxes of their own (``two_mailboxes``) does not make their two values
    of a rule one. Name, surname and address outweigh two birth dates and two e-mails in the
    model (a same-name parent and child at one address: 0.991 in the Nordic set, seed 37), which
    adds them up as if independent; two dates and two mailboxes together are two people. The
    mailboxes are read on the two sides as the stronger edges have built them so far, not on the
    two records alone: a child's CRM record with a birth date but no e-mail, matched directly to
    the same-named parent's (0.996 with birth date -7 in the Nordic set, seed 61), carries no
    mailbox, but its model match to the child's own orders (stronger: no date to weigh against)
    has already joined it to the child's mailbox by then.

    ``contacts`` (a query of ``rid``: the records carrying a usable e-mail or phone): two sides that
    both carry one never count close dates as one (``_Groups.close_counts``).
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
    columns = [d[0] for d in con.execute(f"SELECT * FROM {cannot_links} LIMIT 0").description]
    why = "reason" if "reason" in columns else "'cannot_link'"
    cannot = con.execute(f"SELECT rid_l, rid_r, {why} FROM {cannot_links}").fetchall()

    values = {row[1]: tuple(row[2 : 2 + len(rules)]) for row in nodes}
    partners: dict[int, dict[int, str]] = defaultdict(dict)
    for a, b, reason in cannot:
        if a in values and b in values:
            partners[a][b] = partners[b][a] = min(reason, partners[a].get(b, reason))
    mailbox = {}
    if mailboxes is not None and values:
        mailbox = dict(
            con.execute(f"""SELECT m.rid, m.email FROM ({mailboxes}) m JOIN {components} c USING (rid)
                            WHERE c.component IN (SELECT component FROM temp._id_bad_components)""").fetchall()
        )
    contact = set()
    if contacts is not None and values:
        contact = {
            rid
            for (rid,) in con.execute(f"""SELECT DISTINCT k.rid FROM ({contacts}) k JOIN {components} c USING (rid)
                            WHERE c.component IN (SELECT component FROM temp._id_bad_components)""").fetchall()
        }
    groups, cut, conflicts = _rebuild(edge_rows, values, rules, partners, mailbox, contact)
    # a record the greedy pass left with one person while its cut links reach another: attached to
    # neither unless it is clearly closer to one (``contested_records``); the pass is run again
    # without its links, which go to ``out_cut`` as ``ambiguous``
    contested = contested_records(edge_rows, values, rules, partners, groups, cut)
    if contested:
        kept = [e for e in edge_rows if e[0] not in contested and e[1] not in contested]
        groups, cut, conflicts = _rebuild(kept, values, rules, partners, mailbox, contact)
        cut += [(a, b, "ambiguous") for a, b, *_ in edge_rows if a in contested or b in contested]
    new_component = {}
    for rid in values:
        root = groups.find(rid)
        new_component[rid] = min(groups.members[root])
    name_c = out_components.split(".")[-1]
    # handed to DuckDB as one Arrow table: an INSERT per row (executemany) cost about 0.3 CPU s
    # of Python at 1M records (the tens of thousands of records in offending components)
    split_nodes = sorted(new_component.items())
    con.register(
        "_id_split_nodes_arrow",
        pa.table(
            {
                "rid": pa.array([rid for rid, _ in split_nodes], pa.int64()),
                "component": pa.array([component for _, component in split_nodes], pa.int64()),
            }
        ),
    )
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {name_c} AS
            SELECT c.rid, coalesce(s.component, c.component) AS component
            FROM {components} c LEFT JOIN _id_split_nodes_arrow s USING (rid) ORDER BY c.rid
        """)
    finally:
        con.unregister("_id_split_nodes_arrow")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out_cut.split('.')[-1]} (rid_l BIGINT, rid_r BIGINT, reason VARCHAR)")
    # an edge counts as cut only if its ends really ended up apart
    final_cut = [(a, b, r) for a, b, r in cut if groups.find(a) != groups.find(b)]
    if final_cut:
        con.executemany(f"INSERT INTO {out_cut} VALUES (?, ?, ?)", final_cut)
    # a candidate has too many distinct values; with typo tolerance it may hold one value
    # written several ways and stay whole, so count the components that really split
    return {
        "clusters_split": _split_count(nodes, new_component),
        "links_cut": len(final_cut),
        "must_link_conflicts": conflicts,
        "attached_to_neither": len(contested),
    }


def joined_values(con: duckdb.DuckDBPyConnection, column: str, customer_ids: list[str]) -> dict[str, list[tuple]]:
    """Per customer, the pairs of ``column`` values on the two ends of its probabilistic links (what
    a tolerant rule counts as one), read from the written ``identity.links``."""
    from cdp_pipeline.lib.common.warehouse import table_exists

    if not customer_ids or not table_exists(con, "identity", "links"):
        return {}
    col = _quoted(column)
    rows = con.execute(
        f"""
        SELECT k.customer_id, l.{col}::VARCHAR, r.{col}::VARCHAR
        FROM identity.links k
        JOIN staging.identity_records l ON l.source = k.source_l AND l.source_record_id = k.record_l
        JOIN staging.identity_records r ON r.source = k.source_r AND r.source_record_id = k.record_r
        WHERE k.link_type = 'probabilistic' AND k.customer_id IN (SELECT unnest($ids::VARCHAR[]))
          AND l.{col} IS NOT NULL AND r.{col} IS NOT NULL
    """,
        {"ids": customer_ids},
    ).fetchall()
    out: dict[str, list[tuple]] = defaultdict(list)
    for customer_id, a, b in rows:
        out[customer_id].append((a, b))
    return out
