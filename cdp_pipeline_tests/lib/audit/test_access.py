"""Right of access: the person's data, nobody else's; and the CLI helpers behind it."""

import json
import stat

import duckdb

from cdp_pipeline.lib.audit import access_report
from cdp_pipeline.lib.audit.cli_support import EXIT_NO_WAREHOUSE, EXIT_NOT_FOUND, EXIT_OK, access, forget
from cdp_pipeline.lib.audit.requests import read_requests
from cdp_pipeline.lib.publish.warehouse_copy import publish_warehouse

from .fixture_warehouse import ANNA, BO, build


def test_access_report_holds_the_person_and_not_the_other(tmp_path):
    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    build(con, tmp_path / "exports")
    report = access_report(con, "070-123 45 67")
    text = json.dumps(report, default=str)
    assert report["found"] and report["customer_ids"] == [ANNA["customer_id"]]
    assert [g["email"] for g in report["golden_records"]] == [ANNA["email"]]
    assert {r["source"] for r in report["source_records"]} == {"crm", "web", "pos", "sms"}
    assert set(report["raw_records"]) >= {"crm_customers", "sms_messages", "web_events", "pos_orders", "pos_receipts"}
    assert len(report["raw_records"]["pos_orders"]) == 2  # both lines of her order
    assert report["timeline"] and report["consents"]["events"] and report["consents"]["current"]
    assert [m["segment"] for m in report["segments"]["current"]] == ["all"]
    assert report["exports"]["rows_sent"] and report["exports"]["files"]
    for value in (BO["email"], BO["phone"], BO["customer_id"], BO["card"], BO["cookie"], "Bo"):
        assert value not in text
    con.close()


def test_a_customer_id_merged_away_names_the_customer_it_lives_on(tmp_path):
    """`cdp access C-old` / `cdp forget C-old` for an id merged into Anna's on a later night
    (identity.id_history): the report and the erasure find Anna, not nothing."""
    from cdp_pipeline.lib.audit.erase import resolve_person

    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    build(con, tmp_path / "exports")
    con.execute(
        """CREATE TABLE identity.id_history AS SELECT * FROM (VALUES
        ('r2', 'C-000000000old', 'merged', ?, TIMESTAMP '2026-10-01 02:00'))
        t(run_id, customer_id, event, related_customer_id, "at")""",
        [ANNA["customer_id"]],
    )
    assert resolve_person(con, "C-000000000old").customer_ids == {ANNA["customer_id"]}
    report = access_report(con, "C-000000000old")
    assert report["found"] and report["customer_ids"] == [ANNA["customer_id"]]
    assert [g["email"] for g in report["golden_records"]] == [ANNA["email"]]
    assert not resolve_person(con, "C-000000000new").customer_ids
    con.close()


def test_a_person_golden_alone_knows_is_found_with_every_identifier_golden_lists(tmp_path):
    """golden.customers' identifier lists name the person and give her identifiers by themselves:
    without staging.identity_records and identity.customer_map she is found all the same."""
    from cdp_pipeline.lib.audit.erase import resolve_person

    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    build(con, tmp_path / "exports")
    con.execute("DROP TABLE staging.identity_records")
    con.execute("DROP TABLE identity.customer_map")
    person = resolve_person(con, ANNA["raw_email"])
    assert person.customer_ids == {ANNA["customer_id"]} and person.records == set()
    assert (person.emails, person.phones) == ({ANNA["email"]}, {ANNA["phone"]})
    assert person.ids == {ANNA["crm_id"], ANNA["card"], ANNA["cookie"]}
    con.close()


def test_access_report_orders_signals_of_one_time_by_their_other_columns(tmp_path):
    # staging tables are written unsorted (lib/staging/sql/insert_staging_rows.sql): two signals
    # of one time come in the order of their columns, whichever order the table stores them in
    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    build(con, tmp_path / "exports")
    at = "2026-10-09 08:00:00"
    for channel, identifier, state in (
        ("sms", ANNA["phone"], "revoked"),
        ("email", ANNA["email"], "revoked"),
        ("email", ANNA["email"], "granted"),
    ):
        con.execute(
            "INSERT INTO staging.consent_events VALUES ('crm', ?, ?, ?, ?, CAST(? AS TIMESTAMP))",
            [ANNA["crm_id"], channel, identifier, state, at],
        )
    report = access_report(con, ANNA["email"])
    same_time = [(e["channel"], e["state"]) for e in report["consents"]["events"] if str(e["event_time"]) == at]
    assert same_time == [("email", "granted"), ("email", "revoked"), ("sms", "revoked")]
    con.close()


def test_cli_access_reads_the_published_warehouse(cdp_env, tmp_path):
    out = tmp_path / "out" / "anna.json"
    assert access(ANNA["email"], out, cdp_env) == EXIT_NO_WAREHOUSE
    con = duckdb.connect(str(cdp_env.build_db))
    build(con)
    con.close()
    publish_warehouse(cdp_env.build_db, cdp_env.warehouse)
    assert access(ANNA["email"].upper(), out, cdp_env) == EXIT_OK
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["golden_records"][0]["customer_id"] == ANNA["customer_id"]
    assert access("nobody@telia.se", out, cdp_env) == EXIT_NOT_FOUND


def test_cli_forget_queues_a_request(cdp_env):
    message = forget(ANNA["email"], cdp_env, reference="T-9")
    assert "next run" in message and "suppress" in message
    (req,) = read_requests(cdp_env.inbox_dir)
    assert req.identifier == ANNA["email"] and req.reference == "T-9" and req.requested_at
