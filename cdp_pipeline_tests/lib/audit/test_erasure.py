"""Erasure reaches every table and every undelivered export, and leaves only hashes behind."""

import csv
import json
import re

import duckdb
import pytest

from cdp_pipeline.lib.activation.csv_safe import file_sha256
from cdp_pipeline.lib.activation.hashing import hashed_email
from cdp_pipeline.lib.audit import (
    ErasedIdentifiersRemain,
    assert_no_erased_identifiers,
    queue_erasure,
    run_pending_erasures,
    scan_export_dir,
    scan_for_identifiers,
)
from cdp_pipeline.lib.audit.scan import text_columns
from cdp_pipeline.lib.audit.verify import scan_erased

from .fixture_warehouse import ANNA, BO, build, identifiers_of


@pytest.fixture
def wh(cdp_env):
    con = duckdb.connect(str(cdp_env.build_db))
    build(con, cdp_env.export_dir)
    yield cdp_env, con
    con.close()


def _anna_everything():
    return identifiers_of(ANNA) + [ANNA["raw_email"].strip(), ANNA["sms_phone"], "46701234567"]


def _tables_holding(con, ids):
    return {(s, t) for s, t, _, _ in scan_for_identifiers(con, ids)}


@pytest.mark.parametrize(
    "identifier, kind",
    [
        (" ANNA.S@posten.SE ", None),  # email in any case, with spaces
        ("070 123 45 67", None),  # phone in another format
        ("0046701234567", "phone"),
        ("C-aaaaaaaaaaaa", None),  # customer id
        ("LC-000111", None),  # loyalty card
        ("1001", "crm_id"),  # CRM id (a short id)
    ],
)
def test_erasure_removes_the_person_from_every_table(wh, identifier, kind):
    settings, con = wh
    bo_tables = _tables_holding(con, identifiers_of(BO))
    before = {k: con.execute(f'SELECT count(*) FROM "{k[0]}"."{k[1]}"').fetchone()[0] for k in text_columns(con)}
    assert _tables_holding(con, _anna_everything())  # she is there to begin with

    queue_erasure(identifier, settings.inbox_dir, kind=kind)
    (result,) = run_pending_erasures(con, settings)

    assert scan_for_identifiers(con, _anna_everything()) == []
    assert con.execute("SELECT count(*) FROM raw.crm_customers WHERE customer_id = '1001'").fetchone()[0] == 0
    # Bo is intact everywhere he was, including the order whose total reads "1001"
    assert _tables_holding(con, identifiers_of(BO)) == bo_tables
    assert con.execute("SELECT name, total FROM raw.pos_orders").fetchall() == [("#5002", "1001")]
    assert con.execute("SELECT order_id FROM staging.orders").fetchall() == [("order:#5002",)]
    # tables without personal data keep their rows; the counts in the log are what was removed
    assert con.execute("SELECT count(*) FROM segments.sizes").fetchone()[0] == 1
    # her quarantined line is redacted, not deleted: the ledger still counts it
    assert con.execute("SELECT line_number, raw_record FROM audit.quarantine").fetchall() == [
        (9, "[redacted: carries an erased person's identifier]")
    ]
    assert result.tables_affected["audit.quarantine"] == 1
    for key, n in result.tables_affected.items():
        if key == "audit.quarantine":
            continue
        s, t = key.split(".")
        assert before[(s, t)] - con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] == n
    assert result.tables_affected["raw.pos_orders"] == 2  # the order's second line item went with it
    assert result.customers_erased == 1
    assert scan_erased(con, settings.export_dir, settings).clean
    # a rerun finds nothing pending
    assert run_pending_erasures(con, settings) == []


def test_erasure_removes_the_persons_numbers_from_the_phone_lookup(wh):
    """staging.phone_lookup (kept between nights) holds every phone text staging read: the
    person's readable numbers, in each form written, and an unreadable one of hers go; Bo's stay."""
    settings, con = wh

    def lookup():
        return set(con.execute("SELECT phone_text, country, phone FROM staging.phone_lookup").fetchall())

    before = lookup()
    anna = {
        ("0701234567", None, ANNA["phone"]),  # her CRM number (in no country: the default)
        ("+46701234567", None, ANNA["phone"]),  # the number SMS was sent to (0046…: read as +46…)
        ("07012", None, None),  # unreadable, and hers alone
    }
    assert anna <= before
    bo = before - anna
    assert ("+46702222333", None, BO["phone"]) in bo

    queue_erasure(ANNA["email"], settings.inbox_dir)
    (result,) = run_pending_erasures(con, settings)

    assert lookup() == bo
    assert result.tables_affected["staging.phone_lookup"] == len(anna)


def test_audit_log_and_suppression_hold_no_plain_identifiers(wh):
    settings, con = wh
    queue_erasure(ANNA["email"], settings.inbox_dir, reference="ticket-7")
    run_pending_erasures(con, settings)
    log = con.execute("SELECT * FROM audit.erasure_log").fetchall()
    assert len(log) == 1
    text = json.dumps(
        [list(r) for r in log] + con.execute("SELECT * FROM audit.suppression").fetchall(), default=str
    ).lower()
    for ident in _anna_everything() + ["anna"]:  # (a short id like 1001 could occur inside a hex hash)
        assert ident.lower() not in text
    (
        request_id,
        identifier_hash,
        kinds,
        _,
        _,
        customers,
        rows,
        tables,
        suppressed,
        rewritten,
        delivered,
        build_rewritten_at,
    ) = log[0]
    assert re.fullmatch(r"[0-9a-f]{64}", identifier_hash) and kinds == ["email"]
    assert rows == sum(json.loads(tables).values()) > 0 and customers == 1
    assert suppressed >= 5 and rewritten == 6 and delivered == 0
    assert build_rewritten_at is None  # lib only: the erasure asset rewrites the build file and sets it
    # hashes are not the unsalted SHA-256 an ad platform (or anyone) could compute
    hashes = {r[0] for r in con.execute("SELECT identifier_hash FROM audit.suppression").fetchall()}
    assert hashed_email(ANNA["email"]) not in hashes and identifier_hash in hashes


def test_export_files_are_rewritten_without_the_person(wh):
    settings, con = wh
    queue_erasure(ANNA["email"], settings.inbox_dir)
    (result,) = run_pending_erasures(con, settings)
    assert sorted(result.export_files_rewritten) == [
        "meta/2026-10-01/delta_added.csv",
        "meta/2026-10-01/full.csv",
        "newsletter/2026-10-01/delta_added.csv",
        "newsletter/2026-10-01/full.csv",
        "stores/2026-10-01/delta_added.csv",
        "stores/2026-10-01/full.csv",
    ]
    assert scan_export_dir(settings.export_dir, _anna_everything()) == []
    full = settings.export_dir / "newsletter" / "2026-10-01" / "full.csv"
    with open(full, newline="") as f:
        assert [r["Email Address"] for r in csv.DictReader(f)] == [BO["email"]]
    manifest = json.loads((full.parent / "manifest.json").read_text())
    assert manifest["rows"] == 1 and manifest["files"]["full"]["sha256"] == file_sha256(full)
    assert manifest["delta"]["added"] == 1
    # the export log agrees with every file on disk (the consent check compares checksums)
    for path, sha in con.execute("SELECT path, sha256 FROM activation.export_log").fetchall():
        assert file_sha256(path) == sha, path
    assert oct(full.stat().st_mode & 0o777) == "0o600"


def test_delivered_exports_are_left_as_delivered(wh):
    settings, con = wh
    delivered = settings.export_dir / "meta" / "2026-10-01"
    (delivered / "DELIVERED").write_text("uploaded\n")
    before = (delivered / "full.csv").read_bytes()
    queue_erasure(ANNA["email"], settings.inbox_dir)
    (result,) = run_pending_erasures(con, settings)
    assert (delivered / "full.csv").read_bytes() == before
    assert "meta/2026-10-01/full.csv" in result.export_files_delivered
    assert not any(f.startswith("meta/") for f in result.export_files_rewritten)
    assert scan_erased(con, settings.export_dir, settings).clean


def test_blocking_scan_fails_when_an_identifier_remains(wh):
    settings, con = wh
    queue_erasure(ANNA["email"], settings.inbox_dir)
    run_pending_erasures(con, settings)
    assert_no_erased_identifiers(con, settings.export_dir, settings)  # clean: no exception

    # the email the request named, back inside a JSON column
    con.execute(
        "INSERT INTO identity.links VALUES ('C-x', 'a', 'b', 'email', 'x', ?)",
        [json.dumps({"note": f"was {ANNA['email'].upper()}"})],
    )
    with pytest.raises(ErasedIdentifiersRemain, match=r"identity\.links\.match_weights"):
        assert_no_erased_identifiers(con, settings.export_dir, settings)
    con.execute("DELETE FROM identity.links WHERE customer_id = 'C-x'")

    # a phone nobody named in a request, found only through the suppression list's hashes
    con.execute("CREATE TABLE staging.notes (phone VARCHAR)")
    con.execute("INSERT INTO staging.notes VALUES (?)", [ANNA["phone"]])
    result = scan_erased(con, settings.export_dir, settings)
    assert not result.clean and result.suppressed_in_tables == [("staging", "notes", "phone", 1)]
    assert ANNA["phone"] not in result.summary()
    con.execute("DROP TABLE staging.notes")

    # outside id columns only values shaped like an email, a phone or a hash are hashed: in a
    # list, in capitals with spaces, an ad-platform hash in capitals; names and cities are not
    con.execute("CREATE TABLE staging.notes (phones VARCHAR[], contact VARCHAR, sent VARCHAR, city VARCHAR)")
    con.execute(
        "INSERT INTO staging.notes VALUES (?, ?, ?, 'Lund')",
        [["Lund", ANNA["phone"]], f"  {ANNA['email'].upper()} ", hashed_email(ANNA["email"]).upper()],
    )
    assert sorted(scan_erased(con, settings.export_dir, settings).suppressed_in_tables) == [
        ("staging", "notes", "contact", 1),
        ("staging", "notes", "phones", 1),
        ("staging", "notes", "sent", 1),
    ]
    con.execute("DROP TABLE staging.notes")

    # and the export folder
    stray = settings.export_dir / "newsletter" / "2026-10-02" / "full.csv"
    stray.parent.mkdir(parents=True)
    stray.write_text(f"email,first_name,tags\n{ANNA['email']},Anna,all\n")
    with pytest.raises(ErasedIdentifiersRemain, match="exports/newsletter/2026-10-02/full.csv"):
        assert_no_erased_identifiers(con, settings.export_dir, settings)


def test_short_ids_only_match_id_columns_of_export_files(tmp_path):
    from cdp_pipeline.lib.audit.export_files import remove_from_exports
    from cdp_pipeline.lib.audit.scan import IdentifierSet

    folder = tmp_path / "stores" / "2026-10-01"
    folder.mkdir(parents=True)
    (folder / "full.csv").write_text("loyalty_card_id,all\n1,0\n7,1\n")
    rewritten, _ = remove_from_exports(None, tmp_path, IdentifierSet.of(["1"]))
    assert rewritten == ["stores/2026-10-01/full.csv"]
    assert (folder / "full.csv").read_text() == "loyalty_card_id,all\n7,1\n"  # Bo's flag "1" stays


def test_a_leftover_of_an_interrupted_write_holding_the_person_is_deleted(wh):
    """A write killed half-way leaves ``.<file>.<pid>.tmp`` beside the file; the rewrite skipped
    dot-files, so the byte scan found the person there and failed every night after."""
    settings, con = wh
    folder = settings.export_dir / "newsletter" / "2026-10-01"
    leftover = folder / ".full.csv.4242.tmp"
    leftover.write_text(f"email,first_name,tags\n{BO['email']},Bo,a\n{ANNA['email']},Anna,a\n")
    unrelated = folder / ".delta_added.csv.4242.tmp"
    unrelated.write_text(f"email,first_name,tags\n{BO['email']},Bo,a\n")
    queue_erasure(ANNA["email"], settings.inbox_dir)
    (result,) = run_pending_erasures(con, settings)
    assert not leftover.exists() and unrelated.exists()
    assert "newsletter/2026-10-01/.full.csv.4242.tmp" in result.export_files_rewritten
    assert scan_erased(con, settings.export_dir, settings).clean
