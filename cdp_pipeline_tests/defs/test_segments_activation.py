"""Segments and activation assets on a temporary build database: two runs, deltas, history, consent."""

import csv
import dataclasses
import hashlib
import json
from datetime import date, datetime

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.activation import assets as activation_assets
from cdp_pipeline.defs.activation.checks import exported_rows_have_consent
from cdp_pipeline.defs.resources import settings_resource
from cdp_pipeline.defs.segments import assets as segment_assets
from cdp_pipeline.defs.segments.checks import build_segment_definition_checks, history_agrees_with_membership
from cdp_pipeline.lib.activation import consent_gate
from cdp_pipeline.lib.activation.consent_check import consent_violations
from cdp_pipeline.lib.activation.destinations import load_destinations
from cdp_pipeline.lib.segments import store
from cdp_pipeline.lib.segments.definitions import load_segment_definitions
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.segments.golden_fixture import sample_customers, write_golden

ASSETS = [
    segment_assets.segment_evaluation,
    segment_assets.segment_history,
    segment_assets.segment_sizes,
    activation_assets.export_members,
    activation_assets.export_log,
]
CONSENT_CHECK = dg.AssetCheckKey(dg.AssetKey(["activation", "export_log"]), "exported_rows_have_consent")
STAGED_CHECK = dg.AssetCheckKey(dg.AssetKey(["activation", "export_log"]), activation_assets.STAGED_EXPORTS_CHECK)


@pytest.fixture
def db(cdp_env):
    return DuckDBResource(database=str(cdp_env.build_db))


def _golden(db, rows):
    with db.get_connection() as con:
        write_golden(con, rows)


def _run(db, checks=None, raise_on_error=True):
    checks = (
        checks
        if checks is not None
        else [
            build_segment_definition_checks([d.name for d in load_segment_definitions(get_settings().config_dir)]),
            history_agrees_with_membership,
            exported_rows_have_consent,
        ]
    )
    return dg.materialize(
        [*ASSETS, *checks],
        resources={"duckdb": db, "settings": settings_resource(get_settings())},
        raise_on_error=raise_on_error,
    )


def _consent_violations(con) -> list[str]:
    return consent_violations(con, load_destinations(get_settings().config_dir), "Europe/Stockholm")


def _checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def _check_examples(result, key: dg.AssetCheckKey) -> str:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == key.name]
    return evaluation.metadata["examples"].value


def _rows(db, sql, params=None):
    with db.get_connection() as con:
        return con.execute(sql, params or {}).fetchall()


def _csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _second_day():
    rows = {r["customer_id"]: r for r in sample_customers(date(2025, 6, 2))}
    rows["c2"]["email_contactable"] = False  # unsubscribed: must leave the newsletter
    rows["c3"]["email_contactable"] = True  # subscribed: joins it
    rows["c5"].update(
        has_abandoned_cart=False, orders_count=1, total_spend=50, rfm_segment="new", last_order_at=datetime(2025, 6, 2)
    )
    return list(rows.values())


def test_segments_follow_the_settings_resource_they_are_handed_not_the_environment(cdp_env, db, tmp_path):
    """The asset is handed its settings by the definitions (the `settings` resource): a config
    folder given only to the resource decides which segments are built."""
    config = tmp_path / "handed_config"
    config.mkdir()
    (config / "segments.yaml").write_text(
        "segments:\n  - name: only_one\n    description: test\n    predicate: total_spend > 0\n"
    )
    _golden(db, sample_customers(date(2026, 3, 1)))
    handed = dataclasses.replace(get_settings(), config_dir=config)
    assert get_settings().config_dir != config
    result = dg.materialize(
        [segment_assets.segment_evaluation], resources={"duckdb": db, "settings": settings_resource(handed)}
    )
    assert result.success
    with db.get_connection() as con:
        assert [row[0] for row in store.stored_definitions(con)] == ["only_one"]


def test_two_runs_build_segments_history_exports_and_deltas(cdp_env, db):
    _golden(db, sample_customers(date(2025, 6, 1)))
    first = _run(db)
    assert all(_checks(first).values()), _checks(first)
    assert _rows(db, "SELECT count(*) FROM segments.definitions WHERE status <> 'ok'") == [(0,)]
    assert _rows(db, "SELECT customer_id FROM segments.membership WHERE segment = 'champions' ORDER BY 1") == [
        ("c1",),
        ("c3",),
    ]

    day1 = cdp_env.export_dir / "newsletter" / "2025-06-01"
    full = _csv(day1 / "full.csv")
    assert [r["Email Address"] for r in full] == ["anna.berg@example.se", "bo@example.se", "eva@example.se"]
    assert full[1]["First Name"].startswith("'=")  # formula neutralised
    assert _csv(day1 / "delta_added.csv") == full and _csv(day1 / "delta_removed.csv") == []
    sms = _csv(cdp_env.export_dir / "sms_offers" / "2025-06-01" / "full.csv")
    assert [r["phone"] for r in sms] == ["+46701234567", "+46705550000"]  # usable E.164, not neutralised
    meta = _csv(cdp_env.export_dir / "meta_top_spenders" / "2025-06-01" / "full.csv")
    assert meta == [
        {
            "email": hashlib.sha256(b"anna.berg@example.se").hexdigest(),
            "phone": hashlib.sha256(b"46701234567").hexdigest(),
        }
    ]
    google = _csv(cdp_env.export_dir / "google_winback" / "2025-06-01" / "full.csv")
    assert google == [{"Email": hashlib.sha256(b"dan@example.se").hexdigest(), "Phone": ""}]
    pos = _csv(cdp_env.export_dir / "pos_loyalty_flags" / "2025-06-01" / "full.csv")
    assert [r["loyalty_card_id"] for r in pos] == ["LC-0001", "LC-0002", "LC-0003", "LC-0006"]
    assert pos[0] == {
        "loyalty_card_id": "LC-0001",
        "champions": "1",
        "loyal": "0",
        "top_spenders_10pct": "1",
        "at_risk": "0",
    }
    manifest = json.loads((day1 / "manifest.json").read_text())
    assert manifest["rows"] == 3 and manifest["previous_run_date"] is None
    assert manifest["segments"][0] == "champions" and manifest["required_consent"] == ["email"]
    assert (cdp_env.reports_dir / "segments" / "segment_sizes.svg").exists()

    _golden(db, _second_day())
    second = _run(db)
    assert all(_checks(second).values()), _checks(second)
    day2 = cdp_env.export_dir / "newsletter" / "2025-06-02"
    assert [r["Email Address"] for r in _csv(day2 / "full.csv")] == [
        "anna.berg@example.se",
        "cia@example.se",
        "eva@example.se",
    ]
    added = {r["Email Address"]: r["Tags"] for r in _csv(day2 / "delta_added.csv")}
    assert added == {"cia@example.se": "champions", "eva@example.se": "new_customers"}  # new + changed tags
    assert [r["Email Address"] for r in _csv(day2 / "delta_removed.csv")] == ["bo@example.se"]
    m2 = json.loads((day2 / "manifest.json").read_text())
    assert m2["delta"] == {"added": 1, "updated": 1, "removed": 1} and m2["previous_run_date"] == "2025-06-01"

    history = _rows(
        db,
        "SELECT segment, customer_id, entered_at, exited_at FROM segments.history "
        "WHERE customer_id = 'c5' ORDER BY segment",
    )
    assert history == [
        ("cart_abandoners", "c5", date(2025, 6, 1), date(2025, 6, 2)),
        ("email_engaged_non_buyers", "c5", date(2025, 6, 1), date(2025, 6, 2)),
        ("new_customers", "c5", date(2025, 6, 2), None),
    ]
    assert _rows(db, "SELECT since FROM segments.membership WHERE segment='champions' AND customer_id='c1'") == [
        (date(2025, 6, 1),)
    ]
    sizes = dict(_rows(db, "SELECT run_date, members FROM segments.sizes WHERE segment = 'new_customers'"))
    assert sizes == {date(2025, 6, 1): 0, date(2025, 6, 2): 1}

    # A rerun of the same date gives the same tables and files.
    snapshot = [_rows(db, f"SELECT * FROM {t} ORDER BY ALL") for t in ("segments.history", "segments.membership")]
    log_before = _rows(
        db,
        "SELECT destination, run_date, file_kind, rows, sha256 FROM activation.export_log "
        "WHERE file_kind <> 'manifest' ORDER BY ALL",
    )
    _run(db)
    assert [
        _rows(db, f"SELECT * FROM {t} ORDER BY ALL") for t in ("segments.history", "segments.membership")
    ] == snapshot
    assert (
        _rows(
            db,
            "SELECT destination, run_date, file_kind, rows, sha256 FROM activation.export_log "
            "WHERE file_kind <> 'manifest' ORDER BY ALL",
        )
        == log_before
    )
    with db.get_connection() as con:
        comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE schema_name='segments' AND table_name='membership'"
        ).fetchone()[0]
    assert comment


def _no_gate(con, destination, checked=False):
    """A consent gate with a bug: it lets everyone through."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE gated_candidates AS SELECT * EXCLUDE (email_contactable, "
        "sms_contactable) FROM export_candidates"
    )
    return 0


def _files(folder) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_consent_check_fails_when_the_gate_is_bypassed(cdp_env, db, monkeypatch):
    _golden(db, sample_customers())
    monkeypatch.setattr(consent_gate, "gate_candidates", _no_gate)
    result = _run(db, checks=[exported_rows_have_consent], raise_on_error=False)
    assert _checks(result)[STAGED_CHECK.name] is False and not result.success
    # the bypass really leaked (into the staged files and the table), the check on the staged files caught
    # it, and no file of the night reached the destination's folder
    assert "newsletter 2025-06-01 full: line" in _check_examples(result, STAGED_CHECK)
    assert _rows(
        db, "SELECT count(*) FROM activation.export_members WHERE customer_id = 'c3' AND destination = 'newsletter'"
    ) == [(1,)]
    # the destinations that need no email consent passed and were delivered; no staging is left behind
    assert sorted(p.name for p in cdp_env.export_dir.iterdir()) == ["pos_loyalty_flags", "sms_offers"]


def _export_text(cdp_env) -> str:
    return " ".join(p.read_text(encoding="utf-8") for p in sorted(cdp_env.export_dir.rglob("*.csv")))


def test_an_identifier_blocked_in_the_ledger_is_in_no_export_and_a_bypass_fails_the_check(cdp_env, db, monkeypatch):
    # golden says Anna (c1) may be contacted by email and SMS, but her address was unsubscribed and her
    # number texted STOP on records identity resolution put on other customers: the ledger blocks both
    with db.get_connection() as con:
        write_golden(con, sample_customers(), blocked=[("email", "anna.berg@example.se"), ("sms", "+46701234567")])
    assert _checks(_run(db, checks=[exported_rows_have_consent]))[CONSENT_CHECK.name] is True
    text = _export_text(cdp_env)
    assert "@example.se" in text and "+467" in text  # the others are exported
    for value in ("anna.berg@example.se", "+46701234567"):
        hashes = {hashlib.sha256(v.encode()).hexdigest() for v in (value, value.lstrip("+"))}
        assert value not in text and not any(h in text for h in hashes)

    def gate_without_ledger(con, destination, checked=False):  # the per-customer rule alone
        con.execute("""CREATE OR REPLACE TEMP TABLE gated_candidates AS
                       SELECT customer_id, CASE WHEN email_contactable THEN email END AS email,
                              CASE WHEN sms_contactable THEN phone END AS phone, first_name, loyalty_card_ids, segments
                       FROM export_candidates""")
        return 0

    monkeypatch.setattr(consent_gate, "gate_candidates", gate_without_ledger)
    delivered = _export_text(cdp_env)
    result = _run(db, checks=[exported_rows_have_consent], raise_on_error=False)
    assert _checks(result)[STAGED_CHECK.name] is False  # the bypass leaked into the staged files ...
    examples = _check_examples(result, STAGED_CHECK)
    assert "newsletter 2025-06-01 full: line" in examples and "sms_offers 2025-06-01 full: line" in examples
    assert _export_text(cdp_env) == delivered  # ... which never reached the destinations' folders
    assert "anna.berg@example.se" not in _export_text(cdp_env)
    with db.get_connection() as con:
        examples = "\n".join(_consent_violations(con))
    assert "customer c1: email blocked in golden.identifier_consent" in examples  # the table says it too


def test_without_the_ledger_nothing_is_exported_and_old_files_fail_the_check(cdp_env, db):
    _golden(db, sample_customers())
    assert _checks(_run(db, checks=[exported_rows_have_consent]))[CONSENT_CHECK.name] is True
    with db.get_connection() as con:
        con.execute("DROP TABLE golden.identifier_consent")
    result = exported_rows_have_consent(duckdb=db, settings=get_settings())
    assert result.passed is False and "golden.identifier_consent does not exist" in result.metadata["examples"].value
    assert not _run(db, checks=[], raise_on_error=False).success


def test_consent_check_fails_on_a_tampered_export_file_or_table(cdp_env, db):
    _golden(db, sample_customers())
    assert _checks(_run(db, checks=[exported_rows_have_consent]))[CONSENT_CHECK.name] is True
    full = cdp_env.export_dir / "newsletter" / "2025-06-01" / "full.csv"
    original = full.read_bytes()
    with open(full, "a", encoding="utf-8") as f:
        f.write("fred@example.se,Fred,at_risk\n")  # c6 has no email consent
    assert exported_rows_have_consent(duckdb=db, settings=get_settings()).passed is False
    full.write_bytes(original)
    assert exported_rows_have_consent(duckdb=db, settings=get_settings()).passed is True
    with db.get_connection() as con:
        con.execute(
            "INSERT INTO activation.export_members VALUES ('sms_offers', DATE '2025-06-01', 'c6', "
            "'+46701112222', '{}', false, true)"
        )
    result = exported_rows_have_consent(duckdb=db, settings=get_settings())
    assert result.passed is False
    assert "c6" in result.metadata["examples"].value


def test_consent_check_reports_missing_files_and_still_checks_the_table(cdp_env, db):
    """With no export file left to read, the check names the missing files and still compares
    activation.export_members with golden (its query needs the identifier functions the files'
    verification would otherwise have registered on the connection)."""
    _golden(db, sample_customers())
    assert _checks(_run(db, checks=[exported_rows_have_consent]))[CONSENT_CHECK.name] is True
    for path in cdp_env.export_dir.rglob("*.*"):
        path.unlink()
    with db.get_connection() as con:
        con.execute("UPDATE golden.customers SET email_contactable = false WHERE customer_id = 'c1'")
        problems = _consent_violations(con)
    assert problems and all("file missing" in p for p in problems if "export_members" not in p)
    assert "newsletter export_members: customer c1: destination requires email consent" in problems


def test_consent_check_reads_unchanged_files_against_current_consent(cdp_env, db):
    """Files as written (checksums fine) whose people have since withdrawn consent or left: the check
    (which compares unchanged files in DuckDB) fails and says which line of which file."""
    _golden(db, sample_customers())
    assert _checks(_run(db, checks=[exported_rows_have_consent]))[CONSENT_CHECK.name] is True
    emails = [r["Email Address"] for r in _csv(cdp_env.export_dir / "newsletter" / "2025-06-01" / "full.csv")]
    cards = [r["loyalty_card_id"] for r in _csv(cdp_env.export_dir / "pos_loyalty_flags" / "2025-06-01" / "full.csv")]
    with db.get_connection() as con:
        con.execute("UPDATE golden.customers SET email_contactable = false WHERE lower(email) = ?", [emails[1]])
        con.execute(
            "UPDATE golden.customers SET loyalty_card_ids = [] WHERE list_contains(loyalty_card_ids, ?)", [cards[-1]]
        )
    result = exported_rows_have_consent(duckdb=db, settings=get_settings())
    assert result.passed is False
    examples = result.metadata["examples"].value
    assert "newsletter 2025-06-01 full: line 3: Email Address is not a consented identifier" in examples
    assert "newsletter 2025-06-01 delta_added: line 3: Email Address is not a consented identifier" in examples
    assert (
        f"pos_loyalty_flags 2025-06-01 full: line {len(cards) + 1}: loyalty_card_id is not a consented identifier"
    ) in examples
    assert "checksum" not in examples


def test_a_bad_definition_fails_its_own_check_and_the_others_still_build(cdp_env, db, monkeypatch, tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "segments.yaml").write_text(
        "segments:\n"
        "  - {name: champions, description: best, predicate: \"rfm_segment = 'champions'\"}\n"
        "  - {name: evil, description: x, predicate: \"(SELECT count(*) FROM read_csv('/etc/passwd')) > 0\"}\n"
        '  - {name: numbers, description: x, predicate: "total_spend + 1"}\n'
    )
    (config / "destinations.yaml").write_text(
        "destinations:\n  - {name: newsletter, kind: esp, segments: [champions, evil]}\n"
    )
    monkeypatch.setenv("CDP_CONFIG_DIR", str(config))
    _golden(db, sample_customers())
    checks = [
        build_segment_definition_checks(["champions", "evil", "numbers"]),
        history_agrees_with_membership,
        exported_rows_have_consent,
    ]
    result = _run(db, checks=checks, raise_on_error=False)
    assert result.success
    outcome = _checks(result)
    assert outcome["segment_champions_valid"] is True
    assert outcome["segment_evil_valid"] is False and outcome["segment_numbers_valid"] is False
    assert outcome["all_segment_definitions_valid"] is False
    assert outcome["exported_rows_have_consent"] is True
    errors = dict(_rows(db, "SELECT segment, error FROM segments.definitions WHERE status = 'error'"))
    assert "'evil'" in errors["evil"] and "subqueries" in errors["evil"]
    assert "'numbers'" in errors["numbers"] and "boolean" in errors["numbers"]
    assert _rows(db, "SELECT segment, count(*) FROM segments.membership GROUP BY ALL") == [("champions", 2)]


def test_identifiers_with_surrounding_whitespace_are_exported_and_checked_in_one_normal_form(cdp_env, db):
    """A loyalty card written "\\t4242", an address and a number with spaces and tabs around them: exported
    trimmed, and the blocking consent check compares the same trimmed form, so it passes."""
    rows = {r["customer_id"]: r for r in sample_customers()}
    rows["c1"].update(email="\tAnna.Berg@example.se ", phone=" +46701234567\t", loyalty_card_ids=["\t4242"])
    _golden(db, list(rows.values()))
    result = _run(db, checks=[exported_rows_have_consent], raise_on_error=False)
    with db.get_connection() as con:
        problems = _consent_violations(con)
    assert problems == [] and _checks(result)[CONSENT_CHECK.name] is True
    day = cdp_env.export_dir
    assert "anna.berg@example.se" in [r["Email Address"] for r in _csv(day / "newsletter" / "2025-06-01" / "full.csv")]
    assert "+46701234567" in [r["phone"] for r in _csv(day / "sms_offers" / "2025-06-01" / "full.csv")]
    meta = _csv(day / "meta_top_spenders" / "2025-06-01" / "full.csv")
    assert {
        "email": hashlib.sha256(b"anna.berg@example.se").hexdigest(),
        "phone": hashlib.sha256(b"46701234567").hexdigest(),
    } in meta
    cards = [r["loyalty_card_id"] for r in _csv(day / "pos_loyalty_flags" / "2025-06-01" / "full.csv")]
    assert cards == ["4242", "LC-0002", "LC-0003", "LC-0006"]
    assert result.success  # nothing downstream of the check was held back


def test_a_blocked_address_written_with_whitespace_is_still_blocked(cdp_env, db):
    rows = {r["customer_id"]: r for r in sample_customers()}
    rows["c1"].update(email=" anna.berg@example.se\t", phone="\t+46701234567 ")
    with db.get_connection() as con:
        write_golden(con, list(rows.values()), blocked=[("email", "anna.berg@example.se"), ("sms", "+46701234567")])
    assert _checks(_run(db, checks=[exported_rows_have_consent]))[CONSENT_CHECK.name] is True
    text = _export_text(cdp_env)
    for value in ("anna.berg@example.se", "+46701234567"):
        hashes = {hashlib.sha256(v.encode()).hexdigest() for v in (value, value.lstrip("+"))}
        assert value not in text and not any(h in text for h in hashes)


def test_a_passing_night_moves_its_files_into_place_and_leaves_no_staging(cdp_env, db):
    left_by_a_killed_run = cdp_env.export_dir / ".staging" / "dead-run" / "newsletter" / "2025-05-31" / "full.csv"
    left_by_a_killed_run.parent.mkdir(parents=True)
    left_by_a_killed_run.write_text("email\nold@example.se\n")
    _golden(db, sample_customers())
    result = _run(db, checks=[exported_rows_have_consent])
    assert _checks(result) == {STAGED_CHECK.name: True, CONSENT_CHECK.name: True}
    assert sorted(p.name for p in cdp_env.export_dir.iterdir()) == [
        "google_winback",
        "meta_top_spenders",
        "newsletter",
        "pos_loyalty_flags",
        "sms_offers",
    ]
    assert sorted(_files(cdp_env.export_dir / "newsletter")) == [
        "2025-06-01/delta_added.csv",
        "2025-06-01/delta_removed.csv",
        "2025-06-01/full.csv",
        "2025-06-01/manifest.json",
    ]
    # the log names the files where they are, with the checksums of what is there
    logged = _rows(db, "SELECT path, sha256 FROM activation.export_log WHERE destination = 'newsletter'")
    assert len(logged) == 4
    for path, sha in logged:
        assert path.startswith(str(cdp_env.export_dir / "newsletter" / "2025-06-01"))
        with open(path, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha


def test_a_destination_whose_staged_files_fail_keeps_its_last_export_and_a_rerun_after_the_fix_delivers(
    cdp_env, db, monkeypatch
):
    _golden(db, sample_customers(date(2025, 6, 1)))
    assert all(_checks(_run(db)).values())
    newsletter = cdp_env.export_dir / "newsletter"
    delivered = _files(newsletter)

    _golden(db, _second_day())
    with monkeypatch.context() as m:
        m.setattr(consent_gate, "gate_candidates", _no_gate)
        failed = _run(db, raise_on_error=False)
    assert _checks(failed)[STAGED_CHECK.name] is False and not failed.success
    assert "newsletter 2025-06-02 full: line" in _check_examples(failed, STAGED_CHECK)
    # what an uploader reading exports/newsletter/ sees: yesterday's files, byte for byte, nothing of tonight
    assert _files(newsletter) == delivered
    assert not (cdp_env.export_dir / ".staging").exists()
    assert _rows(db, "SELECT DISTINCT run_date FROM activation.export_log WHERE destination = 'newsletter'") == [
        (date(2025, 6, 1),)
    ]

    fixed = _run(db)  # the gate fixed: the same night again
    assert all(_checks(fixed).values()), _checks(fixed)
    day2 = newsletter / "2025-06-02"
    assert [r["Email Address"] for r in _csv(day2 / "full.csv")] == [
        "anna.berg@example.se",
        "cia@example.se",
        "eva@example.se",
    ]
    manifest = json.loads((day2 / "manifest.json").read_text())
    # the delta is against the last export the destination received, not the failed attempt
    assert manifest["previous_run_date"] == "2025-06-01"
    assert manifest["delta"] == {"added": 1, "updated": 1, "removed": 1}
    assert _files(newsletter)["2025-06-01/full.csv"] == delivered["2025-06-01/full.csv"]
    assert not (cdp_env.export_dir / ".staging").exists()


def test_a_predicate_failing_on_row_values_never_reports_the_values(cdp_env, db, monkeypatch, tmp_path):
    """DuckDB's message quotes the row ("Could not convert string 'anna…' to INT32"): the error is
    reported by segment and error class only, in the table, the checks and the asset's metadata."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "segments.yaml").write_text(
        "segments:\n"
        "  - {name: champions, description: best, predicate: \"rfm_segment = 'champions'\"}\n"
        "  - {name: leak, description: x, predicate: \"CAST(email || ' ' || phone AS INTEGER) > 0\"}\n"
    )
    (config / "destinations.yaml").write_text(
        "destinations:\n  - {name: newsletter, kind: esp, segments: [champions]}\n"
    )
    monkeypatch.setenv("CDP_CONFIG_DIR", str(config))
    customers = sample_customers()
    _golden(db, customers)
    secrets = [v for c in customers for v in (c["email"], c["phone"]) if v]
    secrets += [s[1:] for s in secrets if s.startswith("+")]
    assert "anna.berg@example.se" in secrets
    checks = [build_segment_definition_checks(["champions", "leak"]), history_agrees_with_membership]
    result = _run(db, checks=checks, raise_on_error=False)
    assert result.success and _checks(result)["segment_leak_valid"] is False

    (error,) = [r[0] for r in _rows(db, "SELECT error FROM segments.definitions WHERE segment = 'leak'")]
    assert error == (
        "segment 'leak': predicate failed while evaluating customers: "
        "ConversionException: a value could not be converted"
    )
    texts = [
        error,
        *(str(v.value) for e in result.get_asset_check_evaluations() for v in e.metadata.values()),
        *(str(e.description) for e in result.get_asset_check_evaluations()),
    ]
    for node in ("segments__definitions", "segments__membership"):
        for mat in result.asset_materializations_for_node(node):
            texts += [str(v.value) for v in mat.metadata.values()]
    assert any("ConversionException" in t for t in texts[1:])  # the metadata was read
    texts += [str(e.message) for e in result.all_events]
    for secret in secrets:
        assert not [t for t in texts if secret in t], secret
