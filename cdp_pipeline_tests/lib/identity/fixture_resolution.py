"""Fixture records resolved among the synthetic background population and the hard cases, as the
identity fixtures' tests read them (test_parent_child_twins_risks.py, test_near_real_names.py)."""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.identity import resolve_identities
from cdp_pipeline_tests.lib.identity import test_hard_cases
from cdp_pipeline_tests.lib.identity.synthetic import build_people, write_records


def resolve_cases(
    con: duckdb.DuckDBPyConnection, cases: list[dict], config
) -> tuple[dict[str, tuple[int, set[str]]], dict[tuple[str, str], set[str]]]:
    """Resolve ``cases`` beside ``build_people(300, seed 7)`` and the hard cases with the real
    ``resolve_identities``. Per case person: how many customers hold its records, and the persons
    (of every record) in them; per case record (source, record id): the persons in its customer."""
    records = build_people(n_people=300, seed=7) + test_hard_cases.hard_case_records() + cases
    write_records(con, records)
    resolve_identities(con, run_id="r1", config=config)
    customer = {
        (s, k): c
        for s, k, c in con.execute("SELECT source, source_record_id, customer_id FROM identity.customer_map").fetchall()
    }
    persons_in: dict[str, set[str]] = {}
    for r in records:
        persons_in.setdefault(customer[(r["source"], r["source_record_id"])], set()).add(r["_person"])
    customers_of: dict[str, set[str]] = {}
    for r in cases:
        customers_of.setdefault(r["_person"], set()).add(customer[(r["source"], r["source_record_id"])])
    per_person = {p: (len(cs), set().union(*(persons_in[c] for c in cs))) for p, cs in customers_of.items()}
    per_record = {
        (r["source"], r["source_record_id"]): persons_in[customer[(r["source"], r["source_record_id"])]] for r in cases
    }
    return per_person, per_record
