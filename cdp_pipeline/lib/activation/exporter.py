"""Audience rows per destination kind, and the files of one export: full, delta, manifest.

Each run writes ``<export_dir>/<destination>/<run date>/``:

- ``full.csv``: everyone the destination should have now;
- ``delta_added.csv``: rows new since the destination's previous export, plus rows whose
  values changed (an upsert file; the manifest counts added and updated apart);
- ``delta_removed.csv``: rows of the previous export that are gone, as they were sent, so
  the destination can delete them (consent revoked, left the segment, erased);
- ``manifest.json``: rows, file checksums, segments, consent rule, previous export date.

A row is identified by what the destination matches on (its ``key``): the email for
``esp``, the phone for ``sms``, the pair of hashes for ad platforms, the card for ``pos``.
Files are 0600 and written atomically; the manifest is written last.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from cdp_pipeline.lib.activation import hashing
from cdp_pipeline.lib.activation.csv_safe import write_csv, write_private_file
from cdp_pipeline.lib.activation.destinations import Destination

# An address an ESP can take as it is: starts with a letter or digit (so it can never be a
# spreadsheet formula), one '@', no spaces or quotes.
SAFE_EMAIL = re.compile(r"^[a-z0-9][a-z0-9._%+\-']*@[a-z0-9][a-z0-9.\-]*\.[a-z]{2,}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")

# Columns written without neutralisation because the exporter validated them (see csv_safe).
RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    "esp": ("email",),
    "sms": ("phone",),
    "meta_audience": ("email", "phone"),
    "google_customer_match": ("Email", "Phone"),
    "pos": (),
}


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
    """Rows for ``destination`` from consent-gated customers (see ``consent_gate.apply_consent``).

    Each customer mapping has ``customer_id, email, phone, first_name, loyalty_card_ids``
    and ``segments`` (the destination's segments the customer is in).
    """
    rows: list[ExportRow] = []
    skipped = 0
    kind = destination.kind
    for c in customers:
        cid = str(c["customer_id"])
        email = hashing.normalise_email(c.get("email"))
        phone = c.get("phone")
        segs = list(c.get("segments") or ())
        if kind == "esp":
            if not email or not SAFE_EMAIL.match(email):
                skipped += 1
                continue
            rows.append(ExportRow(cid, email, {"email": email, "first_name": c.get("first_name"),
                                               "tags": _tags(segs, destination)}, sent_email=True))
        elif kind == "sms":
            if not hashing.is_e164(phone):
                skipped += 1
                continue
            rows.append(ExportRow(cid, phone, {"phone": phone, "tags": _tags(segs, destination)},
                                  sent_phone=True))
        elif kind in ("meta_audience", "google_customer_match"):
            e_hash = hashing.hashed_email(email)
            p_hash = (hashing.meta_hashed_phone(phone) if kind == "meta_audience"
                      else hashing.google_hashed_phone(phone))
            if not e_hash and not p_hash:
                skipped += 1
                continue
            cols = ("email", "phone") if kind == "meta_audience" else ("Email", "Phone")
            rows.append(ExportRow(cid, f"{e_hash or ''}|{p_hash or ''}",
                                  {cols[0]: e_hash or "", cols[1]: p_hash or ""},
                                  sent_email=bool(e_hash), sent_phone=bool(p_hash)))
        elif kind == "pos":
            cards = sorted({str(x).strip() for x in (c.get("loyalty_card_ids") or ()) if x and str(x).strip()})
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
    return BuildResult(rows=[by_key[k] for k in sorted(by_key)], skipped_no_identifier=skipped,
                       duplicate_keys=len(rows) - len(by_key))


@dataclass
class Delta:
    added: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)


def diff_rows(previous: Mapping[str, dict], current: Mapping[str, dict]) -> Delta:
    """Rows (by key) added, changed and removed between two exports; each list sorted by key."""
    d = Delta()
    for key in sorted(current):
        if key not in previous:
            d.added.append(current[key])
        elif previous[key] != current[key]:
            d.updated.append(current[key])
    d.removed = [previous[k] for k in sorted(previous) if k not in current]
    return d


@dataclass
class ExportFiles:
    directory: Path
    files: dict[str, dict]  # file kind -> {path, rows, sha256}
    manifest: dict
    manifest_path: Path
    manifest_sha256: str


def export_directory(export_dir: Path, destination: str, run_date: date) -> Path:
    return Path(export_dir) / destination / run_date.isoformat()


def write_export(export_dir: Path, destination: Destination, run_date: date,
                 current: Mapping[str, dict], previous: Mapping[str, dict] | None,
                 previous_run_date: date | None, *, extra: Mapping[str, object] | None = None) -> ExportFiles:
    """Write full, delta and manifest files for one destination and run date (overwrites a rerun)."""
    out = export_directory(export_dir, destination.name, run_date)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    columns = destination.columns
    raw = RAW_COLUMNS[destination.kind]
    delta = diff_rows(previous or {}, current)
    files: dict[str, dict] = {}
    for kind, rows in (("full", [current[k] for k in sorted(current)]),
                       ("delta_added", delta.added + delta.updated),
                       ("delta_removed", delta.removed)):
        path = out / f"{kind}.csv"
        digest = write_csv(path, columns, rows, raw_columns=raw)
        files[kind] = {"file": path.name, "rows": len(rows), "sha256": digest}
    manifest = {
        "destination": destination.name,
        "kind": destination.kind,
        "run_date": run_date.isoformat(),
        "previous_run_date": previous_run_date.isoformat() if previous_run_date else None,
        "segments": list(destination.segments),
        "required_consent": list(destination.required_consent),
        "consent_rule": destination.consent_rule,
        "columns": list(columns),
        "rows": len(current),
        "delta": {"added": len(delta.added), "updated": len(delta.updated), "removed": len(delta.removed)},
        **dict(extra or {}),
        "files": files,
        "written_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    manifest_path = out / "manifest.json"
    manifest_sha = write_private_file(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
    return ExportFiles(out, files, manifest, manifest_path, manifest_sha)
