"""Human review decisions: must-link and cannot-link pairs, honoured on every run.

The file lives in the inbox (``identity_review.csv``) so a reviewer's decision
survives reruns: a must-link joins two records whatever the model says; a
cannot-link keeps them apart even when identifiers connect them (the path
between them is cut at its weakest links).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp_pipeline.lib.identity.records import RECORDS

REVIEW_FILE_NAME = "identity_review.csv"
REVIEW_COLUMNS = ("decision", "source_a", "record_a", "source_b", "record_b", "note")
DECISIONS = ("must_link", "cannot_link")
REVIEW_PAIRS = "temp._id_review_pairs"


@dataclass
class ReviewLoad:
    path: Path | None
    must_link: int = 0
    cannot_link: int = 0
    unmatched: int = 0  # pairs naming a record not in this run's input
    invalid: list[str] = field(default_factory=list)


def read_review_file(path: Path | None) -> tuple[list[tuple[str, str, str, str, str, str]], list[str]]:
    """Rows of a review CSV as (decision, source_a, record_a, source_b, record_b, note); problems listed."""
    if path is None or not Path(path).exists():
        return [], []
    rows, problems = [], []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        headers = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
        missing = [c for c in REVIEW_COLUMNS[:5] if c not in headers]
        if missing:
            return [], [f"{path}: missing columns {missing}"]
        for n, row in enumerate(reader, start=2):
            get = lambda c: (row.get(headers.get(c, ""), "") or "").strip()  # noqa: E731
            decision = get("decision").lower().replace("-", "_")
            if decision not in DECISIONS:
                problems.append(f"line {n}: decision {decision!r} is not must_link or cannot_link")
                continue
            vals = (get("source_a"), get("record_a"), get("source_b"), get("record_b"))
            if not all(vals):
                problems.append(f"line {n}: source/record missing")
                continue
            rows.append((decision, *vals, get("note")))
    return rows, problems


def load_review_pairs(con: duckdb.DuckDBPyConnection, path: Path | None) -> ReviewLoad:
    """Write ``temp._id_review_pairs(decision, rid_l, rid_r, note)`` for pairs found in the input."""
    rows, problems = read_review_file(path)
    con.execute("""CREATE OR REPLACE TEMP TABLE _id_review_raw (line INTEGER, decision VARCHAR, source_a VARCHAR,
                   record_a VARCHAR, source_b VARCHAR, record_b VARCHAR, note VARCHAR)""")
    if rows:
        con.executemany(
            "INSERT INTO temp._id_review_raw VALUES (?, ?, ?, ?, ?, ?, ?)", [(i, *r) for i, r in enumerate(rows)]
        )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_review_pairs AS
        SELECT decision, least(a.rid, b.rid) AS rid_l, greatest(a.rid, b.rid) AS rid_r,
               any_value(note ORDER BY line DESC) AS note
        FROM temp._id_review_raw v
        JOIN {RECORDS} a ON a.source = v.source_a AND a.source_record_id = v.record_a
        JOIN {RECORDS} b ON b.source = v.source_b AND b.source_record_id = v.record_b
        WHERE a.rid <> b.rid
        GROUP BY ALL
        ORDER BY rid_l, rid_r, decision
    """)
    counts = dict(con.execute(f"SELECT decision, count(*) FROM {REVIEW_PAIRS} GROUP BY 1").fetchall())
    matched = sum(counts.values())
    return ReviewLoad(
        path=Path(path) if path else None,
        must_link=counts.get("must_link", 0),
        cannot_link=counts.get("cannot_link", 0),
        unmatched=max(0, len(rows) - matched),
        invalid=problems,
    )
