"""`cdp explain` per record pair: all the evidence that joined two records, in one entry.

``identity.links`` holds one row per piece of evidence (one per shared identifier, one for
the probabilistic score, one for a review decision), so two records sharing an e-mail and a
loyalty card that also scored high appear three times there. A reader asks "why are these
two records one person?", so the command shows each pair once with every reason under it.

This works on the dictionary ``lib.identity.explain_customer`` returns (its ``links`` become
``pairs``), which keeps the identity package free to change how it finds the links.
"""

from __future__ import annotations

# Evidence of a pair in the order a reader weighs it: a shared identifier, a reviewer's
# decision, then the model's score.
_ORDER = {"deterministic": 0, "review": 1, "probabilistic": 2}


def _record_key(rec: dict) -> tuple[str, str]:
    return rec["source"], rec["source_record_id"]


def _evidence(link: dict) -> dict:
    kind = link["link_type"]
    if kind == "deterministic":
        return {"link_type": kind, "identifier_kind": link["identifier_kind"],
                "identifier_value": link["identifier_value"]}
    if kind == "review":
        return {"link_type": kind, "note": link.get("note")}
    return {"link_type": kind, "match_probability": link["match_probability"],
            "match_weight": link["match_weight"], "match_weights": link.get("match_weights")}


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


def _rec(d: dict) -> str:
    return f"{d['source']}:{d['source_record_id']}"


def _evidence_lines(e: dict) -> list[str]:
    if e["link_type"] == "deterministic":
        return [f"same {e['identifier_kind']}: {e['identifier_value']}"]
    if e["link_type"] == "review":
        return ["must-link by review" + (f": {e['note']}" if e.get("note") else "")]
    lines = [f"probabilistic: p={e['match_probability']:.4f}, weight={e['match_weight']:.2f}"]
    if e.get("match_weights"):
        lines.append("  " + ", ".join(f"{k} {v:+.2f}" for k, v in e["match_weights"].items()))
    return lines


def format_pairs_explanation(grouped: dict) -> str:
    """Terminal text of a grouped explanation: records, then each linked pair once with its evidence."""
    e = grouped
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
            lines.append(f"  {_rec(c['a'])} <-> {_rec(c['b'])}  {c['link_type']}"
                         f"{' ' + c['identifier_kind'] if c['identifier_kind'] else ''}"
                         f" -> {c['reason']} (other customer {c['other_customer_id']})")
    if e.get("history"):
        lines += ["", "History:"]
        for h in e["history"]:
            rel = f" ({h['related_customer_id']})" if h["related_customer_id"] else ""
            lines.append(f"  {h['at']}  {h['customer_id']} {h['event']}{rel}  run {h['run_id']}")
    return "\n".join(lines)
