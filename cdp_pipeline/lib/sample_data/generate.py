"""Orchestration: population → identity records per source → linkability pass → files,
truth and manifest."""

import csv
import json
from collections import Counter
from datetime import date
from operator import itemgetter
from pathlib import Path

from cdp_pipeline.lib.common.gc_pause import cyclic_gc_paused

from . import crm, esp, pos, receipts, sms, web
from .hardcases import CASE_TYPES, CASES_HEADER, case_rows
from .linkability import make_linkable, truth_rows
from .output import Output, Sink, _write_rows
from .people import build_population

SOURCES = ("crm", "esp", "sms", "web", "pos")


def build_records(
    out: Output,
    *,
    customers: int,
    days: int,
    seed: int,
    start_date: date,
    write_receipts: bool = False,
) -> dict:
    """The population and every source's identity records (made linkable), before rendering.
    The population has identity hard cases when ``out.hard_cases``.

    write_receipts: write the store receipt files as soon as they are numbered and let their
    table go ("receipt_table" None): the largest group of records is then not held while the
    others are built. Linkage and the truth read a receipt record's id, person and card only.
    The linkability pass never changes a receipt (its loyalty card ties it to the CRM record
    whose group is kept, and receipts take no repair); if it ever dropped one, the files would
    be wrong: an error."""
    people = build_population(customers, seed, start_date, hard_cases=out.hard_cases)
    crm_records = crm.build(out, people, days, start_date)
    crm_by_person = crm.primary_crm(crm_records)
    esp_records = esp.build(out, people, days, start_date)
    orders = pos.build_orders(out, people, days, start_date)
    carded_receipts, receipt_table = receipts.build(out, people, crm_by_person, days, start_date)
    if write_receipts:
        receipts.write(out, receipt_table, days, start_date)
        receipt_table = None
    sms_records = sms.build(out, people)
    web_records, web_sessions = web.build(out, people, crm_by_person, orders, days, start_date)
    records = crm_records + esp_records + orders + carded_receipts + sms_records + web_records
    linkage = make_linkable(records)
    if write_receipts and any(rec.dropped for rec in carded_receipts):
        raise AssertionError("the linkability pass dropped a receipt already written to its file")
    return {
        "people": people,
        "records": records,
        "linkage": linkage,
        "crm": crm_records,
        "esp": esp_records,
        "orders": orders,
        "receipts": carded_receipts,
        "receipt_table": receipt_table,
        "sms": sms_records,
        "web": web_records,
        "web_sessions": web_sessions,
    }


def cases_path(truth_file: Path) -> Path:
    """The truth's companion naming each person's hard cases: truth.csv → truth_cases.csv."""
    return truth_file.with_name(truth_file.stem + "_cases.csv")


def _write_csv_file(path: Path, header: list[str], rows: list) -> None:
    with Sink(path, "utf-8") as buf:  # a megabyte at a time: the truth has millions of rows
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        _write_rows(buf, writer, rows, ",", "\n")  # writer.writerows(rows), joined where nothing needs quotes


def generate_sample(
    out_dir: Path,
    *,
    customers: int = 10_000,
    days: int = 30,
    seed: int = 42,
    truth_file: Path | None = None,
    start_date: date = date(2026, 10, 1),
    hard_cases: bool = False,
) -> dict:
    """Write a landing folder of realistic extracts for every source, plus the truth
    (which person every identity-bearing record belongs to) and a manifest of the
    deliberately broken rows and duplicate or header-only files.

    hard_cases: also turn a small share of people into identity hard cases (hardcases.py),
    labelled per person in the truth's companion ``<truth stem>_cases.csv``; without it no
    companion is written (and a stale one beside the truth is removed)."""
    if customers < 1 or days < 1:
        raise ValueError("customers and days must be at least 1")
    out_dir = Path(out_dir)
    truth_file = Path(truth_file) if truth_file else out_dir.parent / "sample_truth" / "truth.csv"
    # millions of small objects and no cycles: the collector's passes cost a tenth of the run
    with cyclic_gc_paused():
        # Everything the run builds is freed when _write_sample returns, before the collector
        # resumes: it never walks the millions of objects.
        return _write_sample(out_dir, truth_file, customers, days, seed, start_date, hard_cases)


def _write_sample(
    out_dir: Path, truth_file: Path, customers: int, days: int, seed: int, start_date: date, hard_cases: bool
) -> dict:
    out = Output(out_dir, seed, hard_cases=hard_cases)
    # The web events and SMS messages are kept as numbers until their day's file is written, the
    # receipts are written as soon as they are numbered, and every other built object is let go
    # as soon as nothing later reads it: the largest of them are not all held at once.
    built = build_records(
        out,
        customers=customers,
        days=days,
        seed=seed,
        start_date=start_date,
        write_receipts=True,
    )
    people, linkage = built.pop("people"), built["linkage"]
    records = built.pop("records")
    truth = truth_rows(records)
    cases = case_rows(people, records) if hard_cases else []
    population = len(people)
    # The web and receipt records are in no writer's hands (their files are written from the
    # sessions and the receipt table): let them go with the rest before the writers run.
    del people, records, built["web"], built["receipts"]

    truth_file.parent.mkdir(parents=True, exist_ok=True)
    _write_csv_file(truth_file, ["source", "source_record_id", "person_id"], truth)
    identity_records = len(truth)
    per_source = Counter(map(itemgetter(0), truth))
    identity_by_source = {s: per_source[s] for s in SOURCES}
    truth_people = len(set(map(itemgetter(2), truth)))
    del truth
    cases_file = cases_path(truth_file)
    if hard_cases:
        _write_csv_file(cases_file, CASES_HEADER, cases)
    else:
        # cdp evaluate reads a companion it finds beside the truth: an earlier sample's must not stay.
        cases_file.unlink(missing_ok=True)

    # Each writer draws from its own random stream and reads only what the builders made, so
    # their order is free: the SMS writer, whose message columns are the largest of the writers'
    # own, runs last, when the CRM, ESP, order and web records (the web sessions hold the
    # orders) are let go.
    crm.write(out, built.pop("crm"), days, start_date)
    esp.write(out, built.pop("esp"), days, start_date)
    pos.write_orders(out, built.pop("orders"), days, start_date)
    web.write(out, built.pop("web_sessions"), days, start_date)
    sms.write(out, built.pop("sms"), days, start_date)
    # the receipt files are written (build_records)

    persons_per_case = {case_type: 0 for case_type in CASE_TYPES}
    for _, case_type, _ in cases:
        persons_per_case[case_type] += 1

    manifest = {
        "seed": seed,
        "customers": customers,
        "days": days,
        "start_date": start_date.isoformat(),
        "broken_rows": sorted(out.broken_rows, key=lambda b: (b["file"], b["line_number"])),
        "duplicate_files": sorted(out.duplicate_files),
        "header_only_files": sorted(out.header_only_files),
        "duplicate_rows": sorted(out.duplicate_rows, key=lambda b: (b["file"], b["line_number"])),
        "identity_records": identity_by_source,
        "people": truth_people,
    }
    if hard_cases:
        manifest["hard_cases"] = persons_per_case
    manifest_file = truth_file.parent / "manifest.json"
    manifest_file.write_bytes((json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))

    summary = {
        "out_dir": str(out_dir),
        "truth_file": str(truth_file),
        "manifest_file": str(manifest_file),
        "files": len(out.files),
        "rows": {s: out.rows[s] for s in SOURCES},
        "identity_records": identity_records,
        "identity_records_by_source": identity_by_source,
        "people": truth_people,
        "population": population,
        "broken_rows": len(out.broken_rows),
        "duplicate_files": len(out.duplicate_files),
        "header_only_files": len(out.header_only_files),
        "linkability_repairs": linkage["repaired"],
        "records_dropped_unlinkable": linkage["dropped"],
    }
    if hard_cases:
        summary.update(
            cases_file=str(cases_file),
            hard_case_persons=len({person_id for person_id, _, _ in cases}),
            hard_cases=persons_per_case,
        )
    return summary
