"""The consent gate every export goes through, and the independent verification of its output.

Gate (before any row is built): a customer is dropped unless every channel the destination
requires is contactable (``email_contactable`` / ``sms_contactable`` from golden.customers;
NULL counts as no). Then, per identifier, an email is kept only when ``email_contactable``
and a phone only when ``sms_contactable`` — so an ad audience never carries the phone hash
of someone who texted STOP. Erased customers are gone from golden.customers and so are never
candidates.

The night applies the gate in DuckDB (``gate_candidates``, ``create_gated_candidates.sql``);
``apply_consent`` is the same rule over Python mappings, and tests hold the two to each other.

Verification (the asset check): ``unconsented_file_rows`` looks at the rows actually in an
export file and accepts an identifier only if it is in the set golden.customers allows for
that column, a set the check computes with its own SQL (DuckDB's ``sha256``), not with the
gate or the exporter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from cdp_pipeline.lib.activation.destinations import Destination
from cdp_pipeline.lib.sql_files import run_sql

SQL_DIR = Path(__file__).resolve().parents[2] / "defs" / "activation" / "sql"

# kind -> {file column: identifier kind of the allowed-identifier sets}
IDENTIFIER_COLUMNS: dict[str, dict[str, str]] = {
    "esp": {"email": "email"},
    "sms": {"phone": "phone"},
    "meta_audience": {"email": "email_sha256", "phone": "meta_phone_sha256"},
    "google_customer_match": {"Email": "email_sha256", "Phone": "google_phone_sha256"},
    "pos": {"loyalty_card_id": "loyalty_card_id"},
}


def has_required_consent(customer: Mapping[str, object], required: Iterable[str]) -> bool:
    return all(customer.get(f"{channel}_contactable") is True for channel in required)


def apply_consent(candidates: Iterable[Mapping[str, object]], destination: Destination
                  ) -> tuple[list[dict], int]:
    """Candidates the destination may receive, with unconsented identifiers removed; and the
    number of customers dropped."""
    kept: list[dict] = []
    dropped = 0
    for c in candidates:
        if not has_required_consent(c, destination.required_consent):
            dropped += 1
            continue
        row = dict(c)
        if row.get("email_contactable") is not True:
            row["email"] = None
        if row.get("sms_contactable") is not True:
            row["phone"] = None
        kept.append(row)
    return kept, dropped


def gate_candidates(con: duckdb.DuckDBPyConnection, destination: Destination) -> int:
    """``apply_consent`` in SQL: temp table ``gated_candidates`` from ``export_candidates``; returns
    the number of customers dropped."""
    required = set(destination.required_consent)
    run_sql(con, SQL_DIR, "create_gated_candidates", {
        "need_email": "email" in required, "need_sms": "sms" in required,
        # A channel golden has no *_contactable column for can never be satisfied (as in has_required_consent).
        "need_unknown_channel": bool(required - {"email", "sms"})})
    return con.execute("SELECT (SELECT count(*) FROM export_candidates) - "
                       "(SELECT count(*) FROM gated_candidates)").fetchall()[0][0]


def unconsented_file_rows(rows: Iterable[Mapping[str, str]], destination: Destination,
                          allowed: Mapping[str, set[str]], *, strip_prefix: str = "'") -> list[str]:
    """Problems with rows of an export file: identifiers golden.customers does not allow.

    ``allowed`` maps identifier kind (see ``IDENTIFIER_COLUMNS``) to the values consented,
    present customers may be sent. A row with no identifier at all is a problem too.
    """
    columns = IDENTIFIER_COLUMNS[destination.kind]
    problems: list[str] = []
    for i, row in enumerate(rows, start=2):
        seen_any = False
        for column, kind in columns.items():
            value = (row.get(column) or "").strip()
            if not value:
                continue
            seen_any = True
            if value not in allowed.get(kind, set()) and value.removeprefix(strip_prefix) not in allowed.get(kind, set()):
                problems.append(f"line {i}: {column} is not a consented identifier of a current customer")
        if not seen_any:
            problems.append(f"line {i}: no identifier")
    return problems
