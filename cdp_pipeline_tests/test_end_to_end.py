"""The whole night over a small generated sample with known truth, through `cdp run`.

One sample is generated and run once per session (about half a minute); the tests
then read the published warehouse, the Dagster instance and the truth.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cdp_pipeline import cli
from cdp_pipeline.lib.sample_data import generate_sample
from cdp_pipeline_tests.conftest import point_cdp_at
from cdp_pipeline_tests.lib.golden.test_comments import analyst_queries

pytestmark = pytest.mark.slow

CUSTOMERS, DAYS, SEED = 400, 6, 11


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """Generate a sample, run the nightly job once, yield what the tests need."""
    root = tmp_path_factory.mktemp("e2e")
    mp = pytest.MonkeyPatch()
    settings = point_cdp_at(root, mp)
    generate_sample(settings.landing_dir, customers=CUSTOMERS, days=DAYS, seed=SEED, truth_file=settings.truth_file)
    code = cli.main(["run"])
    yield {
        "settings": settings,
        "exit_code": code,
        "root": root,
        "manifest": json.loads((settings.truth_file.parent / "manifest.json").read_text()),
    }
    mp.undo()


def _con(night):
    return duckdb.connect(str(night["settings"].warehouse), read_only=True)


def _latest_run(instance: dg.DagsterInstance):
    return instance.get_runs(limit=1)[0]


def test_run_succeeds_and_is_recorded_in_the_dagster_instance(night):
    assert night["exit_code"] == 0
    with dg.DagsterInstance.get() as instance:
        run = _latest_run(instance)
        assert run.job_name == "nightly" and run.status == dg.DagsterRunStatus.SUCCESS
        checks = [
            e.asset_check_evaluation
            for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        ]
    failed = [
        (c.asset_key.to_user_string(), c.check_name)
        for c in checks
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
    ]
    assert checks and not failed


RUNS_OF_THE_JOB = """
query ($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline {
      pipelineSnapshotId
      runs { runId status pipelineSnapshotId repositoryOrigin { repositoryLocationName repositoryName } }
    }
  }
}
"""


def test_the_run_is_listed_under_the_nightly_job_of_the_code_location(night):
    """What the UI shows under Jobs › nightly › Runs (and on the Overview timeline): runs that
    carry the code location's origin, asked through the UI's GraphQL API on workspace.yaml.
    "Re-execute" reruns without a "may be a different version" warning when the run's origin
    and job snapshot match the loaded job's."""
    from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

    from cdp_pipeline_tests.conftest import REPO_ROOT

    with dg.DagsterInstance.get() as instance:
        run = _latest_run(instance)
        assert run.remote_job_origin is not None and run.job_code_origin is not None
        with define_out_of_process_context(str(REPO_ROOT / "workspace.yaml"), None, instance) as context:
            (location,) = context.code_location_names
            result = execute_dagster_graphql(
                context,
                RUNS_OF_THE_JOB,
                {
                    "selector": {
                        "repositoryLocationName": location,
                        "repositoryName": "__repository__",
                        "pipelineName": "nightly",
                    }
                },
            )
    job = result.data["pipelineOrError"]
    assert job["__typename"] == "Pipeline"
    listed = {r["runId"]: r for r in job["runs"]}
    assert run.run_id in listed
    assert listed[run.run_id]["status"] == "SUCCESS"
    assert listed[run.run_id]["repositoryOrigin"] == {
        "repositoryLocationName": location,
        "repositoryName": "__repository__",
    }
    assert listed[run.run_id]["pipelineSnapshotId"] == job["pipelineSnapshotId"]


def test_every_landed_day_is_a_partition_and_no_other(night):
    from cdp_pipeline.defs.partitions import landing_date_partitions
    from cdp_pipeline.lib.raw.landing import landing_days

    landed = landing_days(night["settings"].landing_dir)
    assert len(landed) == DAYS
    with dg.DagsterInstance.get() as instance:
        assert list(landing_date_partitions.get_partition_keys(dynamic_partitions_store=instance)) == landed


def test_every_layer_is_published(night):
    con = _con(night)
    try:
        schemas = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT schema_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
        }
        assert {"raw", "staging", "identity", "golden", "segments", "activation", "audit"} <= schemas
        customers = con.execute("SELECT count(*) FROM golden.customers").fetchall()[0][0]
        assert CUSTOMERS * 0.9 <= customers <= CUSTOMERS * 1.1
    finally:
        con.close()


def test_quarantine_holds_exactly_the_deliberately_broken_rows(night):
    expected = {(b["file"], b["line_number"]) for b in night["manifest"]["broken_rows"]}
    con = _con(night)
    try:
        got = set(con.execute("SELECT file, line_number FROM audit.quarantine").fetchall())
        unbalanced = con.execute(
            "SELECT count(*) FROM audit.files WHERE rows_read <> rows_loaded + rows_quarantined"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert expected and got == expected
    assert unbalanced == 0


def test_every_identity_record_has_exactly_one_customer(night):
    con = _con(night)
    try:
        missing, doubled = con.execute("""
            SELECT count(*) FILTER (WHERE m.n IS NULL), count(*) FILTER (WHERE m.n > 1)
            FROM staging.identity_records r
            LEFT JOIN (SELECT source, source_record_id, count(*) AS n FROM identity.customer_map GROUP BY ALL) m
            USING (source, source_record_id)""").fetchall()[0]
    finally:
        con.close()
    assert (missing, doubled) == (0, 0)


def test_accuracy_against_the_truth(night, capsys):
    code = cli.main(["evaluate", "--truth", str(night["settings"].truth_file), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pairwise"]["precision"] >= 0.99
    assert result["pairwise"]["recall"] >= 0.95


def test_analyst_queries_in_the_docs_run_on_the_sample_warehouse(night):
    con = _con(night)
    try:
        for sql in analyst_queries():
            assert con.execute(sql).fetchall(), sql
    finally:
        con.close()


def test_docs_tables_md_is_what_the_warehouse_comments_say(night):
    """docs/tables.md is generated from the COMMENTs (python -m cdp_pipeline.lib.publish.write_tables_md
    --warehouse data/warehouse/cdp.duckdb); this fails when code and docs drift apart."""
    from cdp_pipeline.lib.publish.tables_md import generate_tables_md

    con = _con(night)
    try:
        generated = generate_tables_md(con)
    finally:
        con.close()
    assert "|  |" not in generated, "a documented table has an uncommented column"
    assert generated == (Path(__file__).resolve().parent.parent / "docs" / "tables.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["customer_id", "email", "phone", "loyalty_card", "crm_id"])
def test_cdp_customer_finds_every_identifier_kind(night, capsys, kind):
    con = _con(night)
    try:
        customer_id, email, phone, card, crm_id = con.execute("""
            SELECT customer_id, email, phone, loyalty_card_ids[1], crm_customer_ids[1] FROM golden.customers
            WHERE email IS NOT NULL AND phone IS NOT NULL AND len(loyalty_card_ids) > 0
              AND len(crm_customer_ids) > 0
            ORDER BY customer_id LIMIT 1""").fetchall()[0]
    finally:
        con.close()
    # Phones are typed the way people type them; emails in any case.
    identifier = {
        "customer_id": customer_id,
        "email": email.upper(),
        "phone": "0" + phone[3:5] + "-" + phone[5:],
        "loyalty_card": card,
        "crm_id": crm_id,
    }[kind]
    if kind == "phone" and not phone.startswith("+46"):
        identifier = phone
    assert cli.main(["customer", identifier, "--json"]) == 0
    profile = json.loads(capsys.readouterr().out)
    assert profile["customer_id"] == customer_id and profile["other_matches"] == []


def test_cdp_customer_unknown_identifier_exits_1(night, capsys):
    assert cli.main(["customer", "nobody@nowhere.example"]) == 1
    assert "no customer" in capsys.readouterr().err


def test_cdp_explain_prints_the_links_of_a_customer(night, capsys):
    con = _con(night)
    try:
        customer_id = con.execute(
            "SELECT customer_id FROM identity.customer_map GROUP BY ALL "
            "HAVING count(*) > 2 ORDER BY customer_id LIMIT 1"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert cli.main(["explain", customer_id]) == 0
    out = capsys.readouterr().out
    assert customer_id in out


def test_rerun_while_an_analyst_reads_keeps_ids_and_never_blocks(night):
    """A second process holds the published file open read-only during a full run."""
    settings = night["settings"]
    con = _con(night)
    before_ids = con.execute(
        "SELECT source, source_record_id, customer_id FROM identity.customer_map ORDER BY ALL"
    ).fetchall()
    before_counts = _table_counts(con)
    con.close()

    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, duckdb
            con = duckdb.connect({str(settings.warehouse)!r}, read_only=True)
            n = con.execute("SELECT count(*) FROM golden.customers").fetchall()[0][0]
            print("ready", n, flush=True)
            sys.stdin.readline()   # hold the file open until the run has finished
            rows = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                               "WHERE database_name = current_database() ORDER BY 1").fetchall()
            for (t,) in rows:
                print(t, con.execute(f"SELECT count(*) FROM {{t}}").fetchall()[0][0], flush=True)
            print("done", flush=True)
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert reader.stdout.readline().startswith("ready")
        assert cli.main(["run"]) == 0
        reader.stdin.write("go\n")
        reader.stdin.flush()
        seen = {}
        for line in reader.stdout:
            if line.strip() == "done":
                break
            table, n = line.rsplit(" ", 1)
            seen[table] = int(n)
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)
    # The reader saw the old warehouse, complete: every table, every row.
    assert seen == before_counts

    con = _con(night)
    try:
        after_ids = con.execute(
            "SELECT source, source_record_id, customer_id FROM identity.customer_map ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    assert after_ids == before_ids


def _table_counts(con) -> dict[str, int]:
    tables = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() ORDER BY 1"
    ).fetchall()
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for (t,) in tables}


def test_erased_person_is_nowhere_after_the_next_run_even_when_sent_again(night):
    """Runs last in this module: it changes the night's data for good."""
    from cdp_pipeline.lib.audit.scan import scan_export_dir, scan_for_identifiers
    from cdp_pipeline.lib.common.warehouse import previous_path

    settings = night["settings"]
    con = _con(night)
    try:
        customer_id, email, phone, crm_id, crm_file = con.execute("""
            SELECT g.customer_id, g.email, g.phone, g.crm_customer_ids[1], any_value(r._file)
            FROM golden.customers g JOIN raw.crm_customers r ON r.customer_id = g.crm_customer_ids[1]
            WHERE g.email IS NOT NULL AND g.phone IS NOT NULL AND len(g.crm_customer_ids) = 1
            GROUP BY ALL ORDER BY g.customer_id LIMIT 1""").fetchall()[0]
    finally:
        con.close()
    identifiers = [customer_id, email, phone, crm_id]

    assert cli.main(["forget", email.upper()]) == 0
    # Last night's copy, as a publish keeps it for `cdp restore-previous`: it holds the person.
    shutil.copyfile(settings.warehouse, previous_path(settings.warehouse))
    assert cli.main(["run"]) == 0
    # The copy kept for restoring held the person: the erasure deleted it.
    assert not previous_path(settings.warehouse).exists()
    # ... and no byte of the build file (rewritten) or the warehouse copied from it holds them.
    for f in (settings.build_db, settings.warehouse):
        data = f.read_bytes().lower()
        assert [v for v in (email, phone) if v.lower().encode() in data] == []
    con = _con(night)
    try:
        assert scan_for_identifiers(con, identifiers) == []
        assert con.execute("SELECT count(*) FROM audit.erasure_log").fetchall() == [(1,)]
    finally:
        con.close()
    assert scan_export_dir(settings.export_dir, identifiers) == []

    # Tomorrow the CRM sends the person again (a new file: the same rows, other bytes).
    resent = settings.landing_dir / "crm" / "2026-10-20" / "customers_resent.csv"
    resent.parent.mkdir(parents=True)
    resent.write_bytes((settings.landing_dir / crm_file).read_bytes() + b"\r\n")
    assert cli.main(["run"]) == 0
    con = _con(night)
    try:
        assert scan_for_identifiers(con, identifiers) == []
        suppressed = con.execute("SELECT sum(rows_suppressed) FROM audit.files WHERE file LIKE '%resent%'").fetchall()[
            0
        ][0]
        assert suppressed >= 1
    finally:
        con.close()
    assert scan_export_dir(settings.export_dir, identifiers) == []


def test_every_table_asset_reports_dagster_standard_table_metadata(night):
    """Row-count badge, Columns section (with the tables' COMMENTs) and table name in the UI."""
    from cdp_pipeline.definitions import defs
    from cdp_pipeline.lib.publish.contract_comments import CONTRACT_COMMENTS

    keys = [k for k in defs().resolve_asset_graph().get_all_asset_keys() if k.path != ["publish", "warehouse"]]
    assert len(keys) > 25
    con = _con(night)
    try:
        with dg.DagsterInstance.get() as instance:
            for key in keys:
                event = instance.get_latest_materialization_event(key)
                assert event is not None, key
                md = event.asset_materialization.metadata
                schema, table = key.path
                assert md["dagster/table_name"].value == f"{schema}.{table}", key
                assert isinstance(md["dagster/row_count"].value, int), key
                columns = con.execute(
                    "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? "
                    "AND table_name = ? ORDER BY column_index",
                    [schema, table],
                ).fetchall()
                got = [(c.name, c.description) for c in md["dagster/column_schema"].schema.columns]
                if (schema, table) in CONTRACT_COMMENTS:  # commented by publish, after the asset ran
                    assert [n for n, _ in got] == [n for n, _ in columns], key
                else:
                    assert got == [(n, c or None) for n, c in columns], key
            customers = instance.get_latest_materialization_event(dg.AssetKey(["golden", "customers"]))
            links = instance.get_latest_materialization_event(dg.AssetKey(["identity", "links"]))
        assert (
            customers.asset_materialization.metadata["dagster/row_count"].value
            == con.execute("SELECT count(*) FROM golden.customers").fetchone()[0]
        )
        described = [
            c for c in customers.asset_materialization.metadata["dagster/column_schema"].schema.columns if c.description
        ]
        assert described  # golden comments its columns
        weights = links.asset_materialization.metadata["model_weights"].value
        assert "| comparison | level | m | u | match weight |" in weights and weights.count("\n") > 5
        assert not any(
            str(v.value).startswith("file://")
            for v in links.asset_materialization.metadata.values()
            if hasattr(v, "value")
        )
    finally:
        con.close()
