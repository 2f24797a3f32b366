"""The staging checks: fourteen checks, one step per staging table, each judging its table."""

import dagster as dg
import duckdb

from cdp_pipeline.defs.staging import checks as staging_checks


def test_the_fourteen_staging_checks_are_one_subsettable_step_per_table_with_blocking_key_checks():
    steps = staging_checks.staging_checks
    assert len(steps) == len(staging_checks.STAGING_KEYS) == 8
    keys, blocking = set(), set()
    for chk in steps:
        assert chk.can_subset
        assert len({k.asset_key for k in chk.check_keys}) == 1  # one table per step
        keys |= {(k.asset_key.path[-1], k.name) for k in chk.check_keys}
        blocking |= {(s.asset_key.path[-1], s.name) for s in chk.check_specs if s.blocking}
    assert keys == set(staging_checks.STAGING_CHECKS) and len(keys) == 14
    assert blocking == {(t, "key_is_unique") for t in staging_checks.STAGING_KEYS}


def test_the_nightly_job_names_its_check_steps_the_same_in_every_process():
    """The job's snapshot (what the UI compares to call a run the same version) must not depend
    on the process: op names of a split check step once came from a set's order."""
    import subprocess
    import sys

    program = (
        "from cdp_pipeline.definitions import defs\n"
        "job = defs().resolve_job_def('nightly')\n"
        "print(sorted(n.name for n in job.graph.node_defs))\n"
        "print(job.get_job_snapshot_id())\n"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", program],
            capture_output=True,
            text=True,
            check=True,
            env={**__import__("os").environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outs) == 1


def test_key_is_unique_fails_on_a_duplicated_or_null_key():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.orders AS SELECT * FROM (VALUES ('o1'), ('o2')) t(order_id)")
    ok = staging_checks.key_is_unique(con, "orders")
    assert ok.passed and ok.metadata["rows"] == dg.IntMetadataValue(2)
    con.execute("INSERT INTO staging.orders VALUES ('o2'), (NULL)")
    bad = staging_checks.key_is_unique(con, "orders")
    assert not bad.passed
    assert bad.metadata["duplicated_keys"] == dg.IntMetadataValue(1)
    assert bad.metadata["null_keys"] == dg.IntMetadataValue(1)


def test_the_step_reports_only_the_selected_checks_on_their_tables(tmp_path):
    from dagster_duckdb import DuckDBResource

    path = str(tmp_path / "w.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.orders AS SELECT * FROM (VALUES ('o1'), ('o1')) t(order_id)")
    con.execute("""CREATE TABLE staging.consent_events AS SELECT * FROM (VALUES
                   ('email', 'a@example.com', TIMESTAMP '2026-01-01', 'esp', 'r', '1', 'granted'),
                   ('fax', 'a@example.com', TIMESTAMP '2026-01-01', 'esp', 'r', '2', 'granted'))
                   t(channel, identifier, event_time, source, reason, source_record_id, state)""")
    con.close()
    selected = [
        dg.AssetCheckKey(dg.AssetKey(["staging", "orders"]), "key_is_unique"),
        dg.AssetCheckKey(dg.AssetKey(["staging", "consent_events"]), "key_is_unique"),
        dg.AssetCheckKey(dg.AssetKey(["staging", "consent_events"]), "consent_states_valid"),
    ]
    results = {}
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [
                *(dg.AssetSpec(["staging", t]) for t in ("orders", "consent_events")),
                *staging_checks.staging_checks,
            ],
            selection=dg.AssetSelection.checks(*selected),
            resources={"duckdb": DuckDBResource(database=path)},
            instance=instance,
            raise_on_error=False,  # a failed blocking check fails its step
        )
        for e in result.get_asset_check_evaluations():
            results[(e.asset_key.path[-1], e.check_name)] = e.passed
    assert results == {
        ("orders", "key_is_unique"): False,
        ("consent_events", "key_is_unique"): True,
        ("consent_events", "consent_states_valid"): False,
    }
