"""Why is this customer one person? The records and the links that joined them."""

from __future__ import annotations

import json

import duckdb


def explain_customer(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict:
    """The customer's records and every link between them, with its evidence.

    Deterministic links name the shared identifier; probabilistic links carry the match
    probability and per-comparison match weights; review links carry the reviewer's note.
    Links that were cut (cardinality rules, cannot-link) to or from the customer are listed too.
    Raises ``KeyError`` for an unknown ID (a merged/split/retired ID's history is given in the message).
    """
    records = con.execute(
        """
        SELECT m.source, m.source_record_id, m.customer_created_at, m.run_id
        FROM identity.customer_map m WHERE m.customer_id = ? ORDER BY m.source, m.source_record_id
    """,
        [customer_id],
    ).fetchall()
    history = _history(con, customer_id)
    if not records:
        raise KeyError(f"unknown customer_id {customer_id!r}" + (f"; history: {history}" if history else ""))
    details = {}
    cols = {
        r[0]
        for r in con.execute("""SELECT column_name FROM duckdb_columns()
              WHERE schema_name = 'staging' AND table_name = 'identity_records'""").fetchall()
    }
    wanted = [
        c
        for c in (
            "first_name",
            "last_name",
            "email",
            "phone",
            "street",
            "postcode",
            "city",
            "birth_date",
            "loyalty_card_id",
            "crm_customer_id",
            "web_user_id",
        )
        if c in cols
    ]
    if wanted:
        rows = con.execute(
            f"""
            SELECT s.source, s.source_record_id, {", ".join(f's."{c}"' for c in wanted)}
            FROM staging.identity_records s
            JOIN identity.customer_map m USING (source, source_record_id)
            WHERE m.customer_id = ?
        """,
            [customer_id],
        ).fetchall()
        for row in rows:
            details[(row[0], row[1])] = {c: (str(v) if v is not None else None) for c, v in zip(wanted, row[2:])}
    links = con.execute(
        """
        SELECT source_l, record_l, source_r, record_r, link_type, identifier_kind, identifier_value,
               match_probability, match_weight, match_weights::VARCHAR, note
        FROM identity.links WHERE customer_id = ?
        ORDER BY link_type DESC, match_probability DESC NULLS FIRST, source_l, record_l, source_r, record_r
    """,
        [customer_id],
    ).fetchall()
    cut = con.execute(
        """
        SELECT source_l, record_l, source_r, record_r, link_type, identifier_kind, match_probability, reason,
               CASE WHEN customer_id_l = ? THEN customer_id_r ELSE customer_id_l END AS other_customer
        FROM identity.rejected_links WHERE customer_id_l = ? OR customer_id_r = ?
        ORDER BY ALL
    """,
        [customer_id] * 3,
    ).fetchall()
    return {
        "customer_id": customer_id,
        "created_at": str(records[0][2]) if records[0][2] else None,
        "run_id": records[0][3],
        "records": [{"source": s, "source_record_id": r, **details.get((s, r), {})} for s, r, _, _ in records],
        "links": [
            {
                "a": {"source": sl, "source_record_id": rl},
                "b": {"source": sr, "source_record_id": rr},
                "link_type": lt,
                "identifier_kind": kind,
                "identifier_value": val,
                "match_probability": p,
                "match_weight": w,
                "match_weights": json.loads(mw) if mw else None,
                "note": note,
            }
            for sl, rl, sr, rr, lt, kind, val, p, w, mw, note in links
        ],
        "cut_links": [{**_cut_link(row[:8]), "other_customer_id": row[8]} for row in cut],
        "history": history,
    }


def _cut_link(row: tuple) -> dict:
    """A row of ``identity.rejected_links`` (source_l, record_l, source_r, record_r, link_type,
    identifier_kind, match_probability, reason) as an explanation's cut link."""
    sl, rl, sr, rr, lt, kind, p, reason = row
    return {
        "a": {"source": sl, "source_record_id": rl},
        "b": {"source": sr, "source_record_id": rr},
        "link_type": lt,
        "identifier_kind": kind,
        "match_probability": p,
        "reason": reason,
    }


def _history(con: duckdb.DuckDBPyConnection, customer_id: str) -> list[dict]:
    exists = con.execute("""SELECT count(*) FROM duckdb_tables()
                            WHERE schema_name = 'identity' AND table_name = 'id_history'""").fetchall()[0][0]
    if not exists:
        return []
    rows = con.execute(
        """SELECT run_id, customer_id, event, related_customer_id, "at" FROM identity.id_history
                          WHERE customer_id = ? OR related_customer_id = ? ORDER BY "at", run_id, event""",
        [customer_id, customer_id],
    ).fetchall()
    return [
        {"run_id": r, "customer_id": c, "event": e, "related_customer_id": rel, "at": str(at)}
        for r, c, e, rel, at in rows
    ]


def _rec(d: dict) -> str:
    return f"{d['source']}:{d['source_record_id']}"


# ``identity.links`` holds one row per piece of evidence (one per shared identifier, one for the
# probabilistic score, one for a review decision); a reader asks "why are these two records one
# person?", so explanations show each pair once with every reason under it.
# Evidence of a pair in the order a reader weighs it: a shared identifier, a reviewer's
# decision, then the model's score.
_ORDER = {"deterministic": 0, "review": 1, "probabilistic": 2}


def _record_key(rec: dict) -> tuple[str, str]:
    return rec["source"], rec["source_record_id"]


def _evidence(link: dict) -> dict:
    kind = link["link_type"]
    if kind == "deterministic":
        return {
            "link_type": kind,
            "identifier_kind": link["identifier_kind"],
            "identifier_value": link["identifier_value"],
        }
    if kind == "review":
        return {"link_type": kind, "note": link.get("note")}
    return {
        "link_type": kind,
        "match_probability": link["match_probability"],
        "match_weight": link["match_weight"],
        "match_weights": link.get("match_weights"),
    }


def group_links_by_pair(explanation: dict) -> dict:
    """The explanation with ``links`` replaced by ``pairs``: one entry per unordered record
    pair, ``{"a", "b", "evidence": [...]}``, pairs and evidence in a stable order."""
    pairs: dict[tuple, dict] = {}
    for link in explanation.get("links", []):
        a, b = sorted((link["a"], link["b"]), key=_record_key)
        entry = pairs.setdefault((_record_key(a), _record_key(b)), {"a": a, "b": b, "evidence": []})
        evidence = _evidence(link)
        if evidence not in entry["evidence"]:
            entry["evidence"].append(evidence)
    for entry in pairs.values():
        entry["evidence"].sort(key=lambda e: (_ORDER.get(e["link_type"], 9), str(e.get("identifier_kind"))))
    grouped = {k: v for k, v in explanation.items() if k != "links"}
    grouped["pairs"] = [pairs[k] for k in sorted(pairs)]
    return grouped


def _evidence_lines(e: dict) -> list[str]:
    if e["link_type"] == "deterministic":
        return [f"same {e['identifier_kind']}: {e['identifier_value']}"]
    if e["link_type"] == "review":
        return ["must-link by review" + (f": {e['note']}" if e.get("note") else "")]
    lines = [f"probabilistic: p={e['match_probability']:.4f}, weight={e['match_weight']:.2f}"]
    if e.get("match_weights"):
        lines.append("  " + ", ".join(f"{k} {v:+.2f}" for k, v in e["match_weights"].items()))
    return lines


def format_explanation(explanation: dict) -> str:
    """The explanation as terminal text (``cdp explain``): the records, then each linked pair once
    with all its evidence (``group_links_by_pair``)."""
    e = group_links_by_pair(explanation)
    lines = [f"Customer {e['customer_id']}  ({len(e['records'])} records; created {e['created_at']})", "", "Records:"]
    for r in e["records"]:
        attrs = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("source", "source_record_id") and v)
        lines.append(f"  {_rec(r):<40} {attrs}")
    pairs = e["pairs"]
    lines += ["", f"Linked pairs ({len(pairs)}):" if pairs else "Links: none (a single record)"]
    for pair in pairs:
        lines.append(f"  {_rec(pair['a'])} <-> {_rec(pair['b'])}")
        lines += [f"      {text}" for ev in pair["evidence"] for text in _evidence_lines(ev)]
    if e.get("cut_links"):
        lines += ["", "Links cut (kept apart):"]
        for c in e["cut_links"]:
            lines.append(
                f"  {_rec(c['a'])} <-> {_rec(c['b'])}  {c['link_type']}"
                f"{' ' + c['identifier_kind'] if c['identifier_kind'] else ''}"
                f" -> {c['reason']} (other customer {c['other_customer_id']})"
            )
    if e.get("history"):
        lines += ["", "History:"]
        for h in e["history"]:
            rel = f" ({h['related_customer_id']})" if h["related_customer_id"] else ""
            lines.append(f"  {h['at']}  {h['customer_id']} {h['event']}{rel}  run {h['run_id']}")
    return "\n".join(lines)


def _record_ref(text: str) -> tuple[str, str]:
    source, sep, record_id = text.partition(":")
    if not sep or not source or not record_id:
        raise ValueError(f"a record is source:record_id (crm:101821), not {text!r}")
    return source, record_id


def explain_records(con: duckdb.DuckDBPyConnection, a: str, b: str) -> dict:
    """Why two records (``source:record_id``) are one customer or two.

    One customer: the chain of links that joins them, fewest links first (of equally short chains,
    the one through the records first in (source, record id) order), each link with all its
    evidence (``group_links_by_pair``). Two customers: the links that were cut between their
    records (``identity.rejected_links``: a cardinality rule, a cannot-link, a contested record),
    the one between these two records first, and the model's score of the pair when it was scored
    (``identity.scored_pairs``, pairs at or above the prediction floor). Raises ``KeyError`` for a
    record the customer map does not hold."""
    refs = [_record_ref(a), _record_ref(b)]
    customers = []
    for source, record_id in refs:
        row = con.execute(
            "SELECT customer_id FROM identity.customer_map WHERE source = ? AND source_record_id = ?",
            [source, record_id],
        ).fetchall()
        if not row:
            raise KeyError(f"no record {source}:{record_id} in identity.customer_map")
        customers.append(row[0][0])
    ra, rb = ({"source": s, "source_record_id": r} for s, r in refs)
    out = {"a": ra, "b": rb, "customer_id_a": customers[0], "customer_id_b": customers[1]}
    if customers[0] == customers[1]:
        out["same_customer"] = True
        out["chain"] = _chain(explain_customer(con, customers[0]), _record_key(ra), _record_key(rb))
        return out
    out["same_customer"] = False
    cut = con.execute(
        """
        SELECT source_l, record_l, source_r, record_r, link_type, identifier_kind, match_probability, reason
        FROM identity.rejected_links
        WHERE (customer_id_l = $a AND customer_id_r = $b) OR (customer_id_l = $b AND customer_id_r = $a)
        ORDER BY ALL
    """,
        {"a": customers[0], "b": customers[1]},
    ).fetchall()
    pair = {_record_key(ra), _record_key(rb)}
    links = [_cut_link(row) for row in cut]
    # the cut between these two records first, then the others between the two customers
    out["cut_links"] = sorted(links, key=lambda c: {_record_key(c["a"]), _record_key(c["b"])} != pair)
    out["model_score"] = _pair_score(con, refs)
    return out


def _chain(explanation: dict, start: tuple[str, str], end: tuple[str, str]) -> list[dict]:
    """The shortest chain of linked pairs from ``start`` to ``end`` within one customer (breadth
    first, neighbours in record order: the same tables give the same chain)."""
    pairs = group_links_by_pair(explanation)["pairs"]
    neighbours: dict[tuple, list[tuple]] = {}
    by_pair = {}
    for p in pairs:
        ka, kb = _record_key(p["a"]), _record_key(p["b"])
        neighbours.setdefault(ka, []).append(kb)
        neighbours.setdefault(kb, []).append(ka)
        by_pair[frozenset((ka, kb))] = p
    came_from: dict[tuple, tuple | None] = {start: None}
    queue = [start]
    for node in queue:
        if node == end:
            break
        for nxt in sorted(neighbours.get(node, ())):
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    if end not in came_from:
        return []  # one customer without a chain: not made by identity's clustering
    steps, node = [], end
    while came_from[node] is not None:
        prev = came_from[node]
        steps.append(
            {
                "a": {"source": prev[0], "source_record_id": prev[1]},
                "b": {"source": node[0], "source_record_id": node[1]},
                "evidence": by_pair[frozenset((prev, node))]["evidence"],
            }
        )
        node = prev
    return steps[::-1]


def _pair_score(con: duckdb.DuckDBPyConnection, refs: list[tuple[str, str]]) -> dict | None:
    """The model's stored score of the pair (either order), when it scored it at or above the floor."""
    exists = con.execute("""SELECT count(*) FROM duckdb_tables()
                            WHERE schema_name = 'identity' AND table_name = 'scored_pairs'""").fetchall()[0][0]
    if not exists:
        return None
    (sa, ra), (sb, rb) = refs
    row = con.execute(
        """SELECT match_probability, match_weight, match_weights FROM identity.scored_pairs
           WHERE (source_l, record_l, source_r, record_r) IN ((?, ?, ?, ?), (?, ?, ?, ?))""",
        [sa, ra, sb, rb, sb, rb, sa, ra],
    ).fetchall()
    if not row:
        return None
    p, w, mw = row[0]
    return {"match_probability": p, "match_weight": w, "match_weights": json.loads(mw) if mw else None}


def format_record_explanation(e: dict) -> str:
    """``explain_records`` as terminal text (``cdp explain --records A B``)."""
    a, b = _rec(e["a"]), _rec(e["b"])
    if e["same_customer"]:
        chain = e["chain"]
        lines = [f"{a} and {b}: one customer, {e['customer_id_a']}, joined by {len(chain)} link(s):"]
        for step in chain:
            lines.append(f"  {_rec(step['a'])} <-> {_rec(step['b'])}")
            lines += [f"      {text}" for ev in step["evidence"] for text in _evidence_lines(ev)]
        return "\n".join(lines)
    lines = [f"{a} and {b}: two customers, {e['customer_id_a']} and {e['customer_id_b']}."]
    if e["cut_links"]:
        lines.append("Links cut between them (kept apart):")
        for c in e["cut_links"]:
            p = f" p={c['match_probability']:.4f}" if c["match_probability"] is not None else ""
            lines.append(
                f"  {_rec(c['a'])} <-> {_rec(c['b'])}  {c['link_type']}"
                f"{' ' + c['identifier_kind'] if c['identifier_kind'] else ''}{p} -> {c['reason']}"
            )
    else:
        lines.append(
            "No link between their records was cut: none was found (no shared identifier the guards let link, no pair the model scored at or above its threshold)."
        )
    s = e.get("model_score")
    if s:
        lines.append(
            f"The model's score of {a} <-> {b}: p={s['match_probability']:.4f}, weight={s['match_weight']:.2f}"
        )
        if s.get("match_weights"):
            lines.append("  " + ", ".join(f"{k} {v:+.2f}" for k, v in s["match_weights"].items()))
    else:
        lines.append(
            f"The model did not score {a} <-> {b} at or above its prediction floor (or no blocking rule brought the pair up)."
        )
    return "\n".join(lines)
