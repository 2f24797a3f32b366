"""Each destination's file as the tool it is uploaded to reads it: the header its importer maps, UTF-8
without a byte order mark, commas, LF line ends, segment tags in one comma-separated cell, identifiers in
the form the tool documents (docs/segments_and_activation.md, "What each destination expects";
benchmarks/results/2026-12-07-s42-destinations.md cites the tools' pages). The files are written by the
night's path (rows built in DuckDB, files staged, checked for consent and moved into place) and read back.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date

import pytest

from cdp_pipeline.lib.activation import exporter
from cdp_pipeline.lib.activation.store import export_destination, replace_export_members
from cdp_pipeline.lib.common.sql_files import run_sql
from cdp_pipeline_tests.lib.activation.test_export_sql import _both_ways, _database, _destination

# The header line each tool documents for what we send (segments of the test destination: c, a).
DOCUMENTED_HEADER = {
    # Mailchimp's import matches these labels to its fields (its audience export writes them so);
    # Klaviyo's list import wants the first column labelled "Email" or "Email Address".
    "esp": ["Email Address", "First Name", "Tags"],
    "sms": ["phone", "tags"],
    # Meta customer list identifiers: email, phone (lower case).
    "meta_audience": ["email", "phone"],
    # Google Customer Match: "Email", "Phone", exactly, in English.
    "google_customer_match": ["Email", "Phone"],
    "pos": ["loyalty_card_id", "c", "a"],
}

ANNA = {
    "email": " Asa.Lind@Example.SE",
    "phone": "+46701234567",
    "first_name": "Åsa",
    "loyalty_card_ids": ["7350000010757"],
    "email_contactable": True,
    "sms_contactable": True,
    "segments": ["a", "c"],
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# The row each tool should read for ANNA: Meta hashes the phone's digits with the country code and no
# '+', Google the E.164 form with it; both the trimmed lower-case address.
EXPECTED_ROW = {
    "esp": ["asa.lind@example.se", "Åsa", "c,a"],
    "sms": ["+46701234567", "c,a"],
    "meta_audience": [_sha("asa.lind@example.se"), _sha("46701234567")],
    "google_customer_match": [_sha("asa.lind@example.se"), _sha("+46701234567")],
    "pos": ["7350000010757", "1", "1"],
}


@pytest.mark.parametrize("kind", sorted(DOCUMENTED_HEADER))
def test_each_destination_file_has_the_header_and_encoding_its_tool_documents(tmp_path, kind):
    con = _database([ANNA])
    run_sql(con, exporter.SQL_DIR, "create_activation_export_log")
    dest = _destination(kind)
    day = date(2025, 6, 1)
    replace_export_members(con, dest, day)
    done = export_destination(con, dest, day, tmp_path / "exports", tmp_path / "staging")
    assert done.problems == []  # the consent check reads the file by the same header
    folder = tmp_path / "exports" / dest.name / day.isoformat()
    for name in ("full.csv", "delta_added.csv", "delta_removed.csv"):
        data = (folder / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf"), name  # no BOM: it would be part of the first header
        assert b"\r" not in data and data.endswith(b"\n"), name
        text = data.decode("utf-8")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert rows[0] == DOCUMENTED_HEADER[kind], name
        assert rows[1:] == ([] if name == "delta_removed.csv" else [EXPECTED_ROW[kind]]), name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["columns"] == DOCUMENTED_HEADER[kind]
    if kind in ("esp", "sms"):
        # several segments are one cell of comma-separated tags (Mailchimp splits a Tags cell on commas)
        assert b',"c,a"\n' in (folder / "full.csv").read_bytes()


def test_a_removed_esp_row_is_written_under_the_same_header(tmp_path):
    # delta_removed.csv is uploaded to the same importer (to remove tags or archive), so it has the header too
    con = _database([ANNA])
    run_sql(con, exporter.SQL_DIR, "create_activation_export_log")
    dest = _destination("esp")
    first, second = date(2025, 6, 1), date(2025, 6, 2)
    replace_export_members(con, dest, first)
    assert export_destination(con, dest, first, tmp_path / "exports", tmp_path / "staging").problems == []
    con.execute("DELETE FROM segments.membership")
    replace_export_members(con, dest, second)
    assert export_destination(con, dest, second, tmp_path / "exports", tmp_path / "staging").problems == []
    removed = (tmp_path / "exports" / dest.name / second.isoformat() / "delta_removed.csv").read_text()
    assert removed == 'Email Address,First Name,Tags\nasa.lind@example.se,Åsa,"c,a"\n'


@pytest.mark.parametrize("kind", ["meta_audience", "google_customer_match"])
def test_an_ad_platform_removal_never_names_a_hash_still_sent(tmp_path, kind):
    # The platforms remove the people a removal file matches. A customer whose phone changed is a gone
    # pair of hashes and a new one: the gone pair must not be sent for removal, or the platform drops a
    # customer still in the audience. Only a row none of whose hashes is still sent is a removal.
    email_col, phone_col = _destination(kind).columns
    x, y, z, w = (_sha(f"{n}@example.se") for n in "xyzw")
    p1, p2, p3 = (_sha(f"+4670000000{n}") for n in "123")

    def rows(*pairs):
        return {f"{e}|{p}": {email_col: e, phone_col: p} for e, p in pairs}

    previous = rows((x, p1), (y, p2), (z, ""))
    current = rows((x, p3), (w, p2))  # x's phone changed; p2 moved from y to w; z left
    written = _both_ways(tmp_path, _destination(kind), current, previous)  # the SQL's files are the Python's
    removed = (written.directory / "delta_removed.csv").read_text()
    assert removed == f"{email_col},{phone_col}\n{z},\n"
    assert written.manifest["delta"] == {"added": 2, "updated": 0, "removed": 1}


def _export_in_parts(tmp_path, monkeypatch):
    """The night's newsletter export of four people with the esp import limit at 90 bytes: (con, dest,
    day, folder)."""
    monkeypatch.setitem(exporter.IMPORT_FILE_LIMITS, "esp", 90)
    people = [
        {**ANNA, "email": f"{n}@example.se", "first_name": name, "segments": segs}
        for n, name, segs in [
            ("a1", "Åsa", ["a", "c"]),
            ("b2", "Lind, Bo", ["a"]),
            ("c3", 'Sa "Li"', ["c"]),
            ("d4", "Eva", ["a"]),
        ]
    ]
    con = _database(people)
    run_sql(con, exporter.SQL_DIR, "create_activation_export_log")
    dest = _destination("esp")
    day = date(2025, 6, 1)
    replace_export_members(con, dest, day)
    assert export_destination(con, dest, day, tmp_path / "exports", tmp_path / "staging").problems == []
    return con, dest, day, tmp_path / "exports" / dest.name / day.isoformat()


def test_an_erasure_removes_the_person_from_the_parts_too(tmp_path, monkeypatch):
    # The parts are export files like the whole one: an erased person leaves them, and the manifest and
    # the export log follow, so the consent check (checksums) still passes.
    from cdp_pipeline.lib.activation.consent_gate import export_file_problems
    from cdp_pipeline.lib.audit.export_files import remove_from_exports
    from cdp_pipeline.lib.audit.scan import IdentifierSet

    con, dest, day, folder = _export_in_parts(tmp_path, monkeypatch)
    rewritten, delivered = remove_from_exports(con, tmp_path / "exports", IdentifierSet.of(["b2@example.se"]))
    assert delivered == [] and sorted(rewritten) == [
        f"{dest.name}/{day.isoformat()}/{n}.csv" for n in ("delta_added", "delta_added_part01", "full", "full_part01")
    ]
    part1 = (folder / "full_part01.csv").read_bytes()
    assert part1.decode() == 'Email Address,First Name,Tags\na1@example.se,Åsa,"c,a"\n'
    assert json.loads((folder / "manifest.json").read_text())["files"]["full_part01"]["rows"] == 1
    files = (
        con.execute(
            "SELECT destination, kind, run_date, file_kind, path, sha256, segments, required_consent "
            "FROM activation.export_log"
        )
        .fetchdf()
        .to_dict("records")
    )
    assert export_file_problems(con, files) == []


def test_an_esp_file_over_the_import_limit_is_also_written_as_parts_within_it(tmp_path, monkeypatch):
    # Klaviyo's list import takes CSV files of at most 50 MB and asks for larger ones in several files.
    # With the limit at 90 bytes the night's newsletter file (header 30 bytes, rows 20-28 bytes) is
    # 130 bytes: beside full.csv come parts of header + whole rows, each at most 90 bytes, whose rows
    # are full.csv's in order, logged and checked as the whole file is. Quoted cells (a comma, quotes)
    # stay whole.
    con, dest, day, folder = _export_in_parts(tmp_path, monkeypatch)
    full = (folder / "full.csv").read_bytes()
    assert full.decode() == (
        "Email Address,First Name,Tags\n"
        'a1@example.se,Åsa,"c,a"\n'
        'b2@example.se,"Lind, Bo",a\n'
        'c3@example.se,"Sa ""Li""",c\n'
        "d4@example.se,Eva,a\n"
    )
    assert sorted(p.name for p in folder.glob("*_part*.csv")) == [
        "delta_added_part01.csv",
        "delta_added_part02.csv",
        "full_part01.csv",
        "full_part02.csv",
    ]
    part1, part2 = (folder / "full_part01.csv").read_bytes(), (folder / "full_part02.csv").read_bytes()
    assert part1.decode() == 'Email Address,First Name,Tags\na1@example.se,Åsa,"c,a"\nb2@example.se,"Lind, Bo",a\n'
    assert part2.decode() == 'Email Address,First Name,Tags\nc3@example.se,"Sa ""Li""",c\nd4@example.se,Eva,a\n'
    assert part1 == (folder / "delta_added_part01.csv").read_bytes()  # a first export: delta_added is full
    assert (len(full), len(part1), len(part2)) == (130, 82, 78)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"]["full_part01"] == {"file": "full_part01.csv", "rows": 2, "sha256": _sha(part1.decode())}
    assert manifest["files"]["full_part02"]["rows"] == 2
    assert "delta_removed_part01" not in manifest["files"]  # header only: fits
    logged = con.execute(
        "SELECT file_kind, rows FROM activation.export_log WHERE file_kind LIKE '%part%' ORDER BY file_kind"
    ).fetchall()
    assert logged == [("delta_added_part01", 2), ("delta_added_part02", 2), ("full_part01", 2), ("full_part02", 2)]
