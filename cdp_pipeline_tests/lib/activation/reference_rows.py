"""The export rules in plain Python: what the night's SQL must give, row for row.

The night gates candidates, builds each destination's rows and checks the files written in
DuckDB (``consent_gate.gate_candidates``, ``exporter.stage_export_rows``,
``consent_gate.unconsented_file_values``, ``lib/activation/sql/``); the rules are written once
there. This is their statement as a test oracle: ``test_export_sql.py`` and
``test_consent_check.py`` hold the SQL to it on generated values and odd files,
``test_exporter.py`` and ``test_hashing.py`` hold it to known answers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cdp_pipeline.lib.activation import hashing
from cdp_pipeline.lib.activation.consent_gate import IDENTIFIER_COLUMNS
from cdp_pipeline.lib.activation.destinations import Destination
from cdp_pipeline.lib.activation.exporter import SAFE_EMAIL
from cdp_pipeline.lib.activation.identifiers import normalise_email, normalise_identifier


def apply_consent(
    candidates: Iterable[Mapping[str, object]], destination: Destination, blocked: Mapping[str, set[str]] | None = None
) -> tuple[list[dict], int]:
    """Candidates the destination may receive, with unconsented identifiers removed; and the
    number of customers dropped. ``blocked``: channel (email, sms) -> identifiers the consent
    ledger blocks."""
    blocked = blocked or {}
    kept: list[dict] = []
    dropped = 0
    for c in candidates:
        # compared with the ledger in the form they are exported in (identifiers.py)
        email, phone = normalise_email(c.get("email")), normalise_identifier(c.get("phone"))
        ok = {
            "email": c.get("email_contactable") is True and email not in blocked.get("email", set()),
            "sms": c.get("sms_contactable") is True and phone not in blocked.get("sms", set()),
        }
        if not all(ok.get(channel, False) for channel in destination.required_consent):
            dropped += 1
            continue
        row = dict(c)
        if not ok["email"]:
            row["email"] = None
        if not ok["sms"]:
            row["phone"] = None
        kept.append(row)
    return kept, dropped


@dataclass(frozen=True)
class ExportRow:
    customer_id: str
    key: str
    values: dict
    sent_email: bool = False
    sent_phone: bool = False


@dataclass
class BuildResult:
    rows: list[ExportRow]
    skipped_no_identifier: int = 0
    duplicate_keys: int = 0


def _tags(segments: Iterable[str], destination: Destination) -> str:
    wanted = [s for s in destination.segments if s in set(segments or ())]
    return ",".join(wanted)


def build_rows(destination: Destination, customers: Iterable[Mapping[str, object]]) -> BuildResult:
    """Rows for ``destination`` from consent-gated customers (``apply_consent``).

    Each customer mapping has ``customer_id, email, phone, first_name, loyalty_card_ids``
    and ``segments`` (the destination's segments the customer is in).
    """
    rows: list[ExportRow] = []
    skipped = 0
    kind = destination.kind
    for c in customers:
        cid = str(c["customer_id"])
        email = hashing.normalise_email(c.get("email"))
        phone = normalise_identifier(c.get("phone"))
        segs = list(c.get("segments") or ())
        if kind == "esp":
            if not email or not SAFE_EMAIL.match(email):
                skipped += 1
                continue
            rows.append(
                ExportRow(
                    cid,
                    email,
                    {"email": email, "first_name": c.get("first_name"), "tags": _tags(segs, destination)},
                    sent_email=True,
                )
            )
        elif kind == "sms":
            if not hashing.is_e164(phone):
                skipped += 1
                continue
            rows.append(ExportRow(cid, phone, {"phone": phone, "tags": _tags(segs, destination)}, sent_phone=True))
        elif kind in ("meta_audience", "google_customer_match"):
            e_hash = hashing.hashed_email(email)
            p_hash = hashing.meta_hashed_phone(phone) if kind == "meta_audience" else hashing.google_hashed_phone(phone)
            if not e_hash and not p_hash:
                skipped += 1
                continue
            cols = ("email", "phone") if kind == "meta_audience" else ("Email", "Phone")
            rows.append(
                ExportRow(
                    cid,
                    f"{e_hash or ''}|{p_hash or ''}",
                    {cols[0]: e_hash or "", cols[1]: p_hash or ""},
                    sent_email=bool(e_hash),
                    sent_phone=bool(p_hash),
                )
            )
        elif kind == "pos":
            cards = sorted(
                {
                    card
                    for x in (c.get("loyalty_card_ids") or ())
                    if x
                    for card in [normalise_identifier(str(x))]
                    if card
                }
            )
            if not cards:
                skipped += 1
                continue
            flags = {s: int(s in segs) for s in destination.segments}
            for card in cards:
                rows.append(ExportRow(cid, card, {"loyalty_card_id": card, **flags}))
        else:  # pragma: no cover - destinations.py refuses unknown kinds
            raise ValueError(f"unknown destination kind {kind!r}")
    # One row per key: two customers sharing an identifier would be one contact downstream.
    by_key: dict[str, ExportRow] = {}
    for r in sorted(rows, key=lambda r: (r.key, r.customer_id)):
        by_key.setdefault(r.key, r)
    return BuildResult(
        rows=[by_key[k] for k in sorted(by_key)], skipped_no_identifier=skipped, duplicate_keys=len(rows) - len(by_key)
    )


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """An export file's rows as a destination reads them (``csv.DictReader``)."""
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def unconsented_file_rows(
    rows: Iterable[Mapping[str, str]],
    destination: Destination,
    allowed: Mapping[str, set[str]],
    *,
    strip_prefix: str = "'",
) -> list[str]:
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
            if value not in allowed.get(kind, set()) and value.removeprefix(strip_prefix) not in allowed.get(
                kind, set()
            ):
                problems.append(f"line {i}: {column} is not a consented identifier of a current customer")
        if not seen_any:
            problems.append(f"line {i}: no identifier")
    return problems
