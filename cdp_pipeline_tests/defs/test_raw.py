"""Raw assets and checks on a temporary DuckDB, run with dg.materialize."""

import logging

import dagster as dg
import duckdb as duckdb_module
import pytest
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.audit import assets as audit_assets
from cdp_pipeline.defs.partitions import LANDING_DAYS
from cdp_pipeline.defs.raw import assets as raw_assets
from cdp_pipeline.defs.raw import checks as raw_checks
from cdp_pipeline.defs.resources import settings_resource
from cdp_pipeline.lib.common.progress import PHASE_LOGGER
from cdp_pipeline.settings import get_settings

DAY1, DAY2 = "2026-10-01", "2026-10-02"
CRM = b"customer_id,first_name\n1,Anna\n2,Bo\n"
ESP_ACTIVITY = b"Email Address,Action,Timestamp\na@b.se,open,2026-10-01 10:00:00\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CDP_LANDING_DIR", str(tmp_path / "landing"))
    return tmp_path


@pytest.fixture
def instance():
    """A Dagster instance where both landing days are partitions, as the sensor or `cdp run` makes them."""
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions(LANDING_DAYS, [DAY1, DAY2])
        yield inst


def drop(root, source, day, name, data):
    p = root / "landing" / source / day / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def resources(root):
    return {"duckdb": DuckDBResource(database=str(root / "b.duckdb")), "settings": settings_resource(get_settings())}


def query(root, sql):
    with duckdb_module.connect(str(root / "b.duckdb")) as con:
        return con.execute(sql).fetchall()


ALL_ASSETS = [raw_assets.raw_sources, audit_assets.audit_files, audit_assets.audit_quarantine]
CRM_TABLE = dg.AssetSelection.assets(dg.AssetKey(["raw", "crm_customers"]))


def materialize_crm(env, instance, **kwargs):
    """raw/crm_customers alone (the UI's "Materialize" on that table): the CRM files only."""
    return dg.materialize(
        [raw_assets.raw_sources], selection=CRM_TABLE, resources=resources(env), instance=instance, **kwargs
    )


def test_asset_keys_groups_and_checks():
    keys = {k.to_user_string() for a in ALL_ASSETS for k in a.keys}
    assert keys == {
        "raw/crm_customers",
        "raw/esp_members",
        "raw/esp_activity",
        "raw/sms_messages",
        "raw/web_events",
        "raw/pos_orders",
        "raw/pos_receipts",
        "raw/pos_square_items",
        "audit/files",
        "audit/quarantine",
    }
    raw = raw_assets.raw_sources
    assert set(raw.group_names_by_key.values()) == {"raw"}
    assert raw.backfill_policy == dg.BackfillPolicy.single_run()
    assert raw.can_subset and raw.node_def.name == "raw_sources"
    check_keys = {(c.asset_key.to_user_string(), c.name) for chk in raw_checks.RAW_CHECKS for c in chk.check_keys}
    assert ("raw/crm_customers", "ledger_balances") in check_keys
    assert ("raw/web_events", "raw_rows_match_ledger") in check_keys
    assert len(check_keys) == 16


def test_materialize_one_partition_with_metadata_and_checks(env, instance):
    drop(env, "crm", DAY1, "customers.csv", CRM + b"3\n")
    drop(env, "crm", DAY1, "garbage.csv", b"\x00\x01\x02" * 100)
    crm_checks = [raw_checks.check_key("crm_customers", n) for n in ("ledger_balances", "raw_rows_match_ledger")]
    result = dg.materialize(
        [raw_assets.raw_sources, raw_checks.raw_ledger_checks],
        selection=CRM_TABLE | dg.AssetSelection.checks(*crm_checks),
        resources=resources(env),
        instance=instance,
        partition_key=DAY1,
    )
    assert result.success
    (mat,) = result.asset_materializations_for_node("raw_sources")
    md = mat.metadata
    assert md["rows_loaded"].value == 2 and md["rows_quarantined"].value == 1
    assert md["files_loaded"].value == 1 and md["source_files_rejected"].value == 1
    # The preview shows that first_name is filled, not who it is (it lands in Dagster's event log).
    assert "A•••" in md["preview"].value and "Anna" not in md["preview"].value
    evals = result.get_asset_check_evaluations()
    assert {e.check_name: e.passed for e in evals} == {"ledger_balances": True, "raw_rows_match_ledger": True}


def test_partition_range_loads_every_day_in_one_run(env, instance):
    drop(env, "crm", DAY1, "customers.csv", CRM)
    drop(env, "crm", DAY2, "customers_2.csv", b"customer_id\n3\n")
    drop(env, "crm", DAY2, "customers_again.csv", CRM)
    result = dg.materialize(
        ALL_ASSETS,
        selection=CRM_TABLE | dg.AssetSelection.assets(audit_assets.audit_files, audit_assets.audit_quarantine),
        resources=resources(env),
        instance=instance,
        tags={"dagster/asset_partition_range_start": DAY1, "dagster/asset_partition_range_end": DAY2},
    )
    assert result.success
    assert query(env, "SELECT count(*) FROM raw.crm_customers") == [(3,)]
    assert query(env, "SELECT status, count(*) FROM audit.files GROUP BY 1 ORDER BY 1") == [
        ("duplicate", 1),
        ("loaded", 2),
    ]
    mats = result.asset_materializations_for_node("raw_sources")
    assert sorted(m.partition for m in mats) == [DAY1, DAY2]  # one materialization per day of the range
    mat = mats[0]
    assert mat.metadata["landing_days"].value == f"{DAY1} .. {DAY2}"
    assert mat.metadata["source_files_duplicate"].value == 1
    files_mat = result.asset_materializations_for_node("audit__files")[0]
    assert files_mat.metadata["files_in_days"].value == 3
    # rerunning the range gives the same tables
    assert materialize_crm(
        env, instance, tags={"dagster/asset_partition_range_start": DAY1, "dagster/asset_partition_range_end": DAY2}
    ).success
    assert query(env, "SELECT count(*) FROM raw.crm_customers") == [(3,)]


def test_every_source_loads_in_one_run(env, instance):
    drop(env, "esp", DAY1, "subscribed_members_export_x.csv", b"Email Address,First Name\na@b.se,Anna\n")
    drop(
        env,
        "esp",
        DAY1,
        "campaign_activity_20261001.csv",
        b"Email Address,Action,Timestamp\na@b.se,open,2026-10-01 10:00:00\n",
    )
    drop(env, "sms", DAY1, "log.csv", b"From,To,Body,SentDate,Direction\n+4670,+4671,STOP,2026-10-01,inbound\n")
    drop(env, "web", DAY1, "events_20261001.jsonl", b'{"event_timestamp":1,"event_name":"x","user_pseudo_id":"c"}\n')
    drop(env, "pos", DAY1, "receipts_1_20261001.csv", b"receipt_id;store_id;ts_local\nR1;1;2026-10-01 10:00\n")
    result = dg.materialize(
        ALL_ASSETS + raw_checks.RAW_CHECKS, resources=resources(env), instance=instance, partition_key=DAY1
    )
    assert result.success
    for table in ("esp_members", "esp_activity", "sms_messages", "web_events", "pos_receipts"):
        assert query(env, f"SELECT count(*) FROM raw.{table}") == [(1,)], table
    assert query(env, "SELECT count(*) FROM raw.pos_orders") == [(0,)]
    assert query(env, "SELECT status FROM raw.esp_members") == [("subscribed",)]
    assert all(e.passed for e in result.get_asset_check_evaluations())


def test_one_step_loads_the_sources_in_name_order_each_table_materialised_once(env, instance, caplog):
    drop(env, "web", DAY1, "events_20261001.jsonl", b'{"event_timestamp":1,"event_name":"x","user_pseudo_id":"c"}\n')
    drop(env, "crm", DAY1, "customers.csv", CRM)
    drop(env, "pos", DAY1, "receipts_1_20261001.csv", b"receipt_id;store_id;ts_local\nR1;1;2026-10-01 10:00\n")
    drop(env, "sms", DAY1, "log.csv", b"From,To,Body,SentDate,Direction\n+4670,+4671,STOP,2026-10-01,inbound\n")
    drop(env, "esp", DAY1, "campaign_activity_20261001.csv", ESP_ACTIVITY)
    # the same bytes in two sources: the one loading first keeps them, the other is a duplicate
    drop(env, "sms", DAY1, "zz_copy.csv", CRM)
    with caplog.at_level(logging.INFO, logger=PHASE_LOGGER):
        result = dg.materialize(ALL_ASSETS, resources=resources(env), instance=instance, partition_key=DAY1)
    assert result.success
    # `cdp run` prints a line as each source is written
    phases = [r.cdp_phase for r in caplog.records if hasattr(r, "cdp_phase")]
    assert [(stage, phase.split(" (")[0]) for stage, phase in phases] == [
        ("raw", "crm: 2 rows from 1 files"),
        ("raw", "esp: 1 rows from 1 files"),
        ("raw", "pos: 1 rows from 1 files"),
        ("raw", "sms: 1 rows from 2 files"),
        ("raw", "web: 1 rows from 1 files"),
    ]
    mats = result.asset_materializations_for_node("raw_sources")
    assert [m.asset_key.to_user_string() for m in mats] == [
        "raw/crm_customers",
        "raw/esp_members",
        "raw/esp_activity",
        "raw/pos_orders",
        "raw/pos_receipts",
        "raw/pos_square_items",
        "raw/sms_messages",
        "raw/web_events",
    ]
    assert [m.metadata["files_loaded"].value for m in mats] == [1, 0, 1, 0, 1, 0, 1, 1]
    # the ledger written source by source, in that order
    assert query(env, "SELECT source, status FROM audit.files ORDER BY rowid") == [
        ("crm", "loaded"),
        ("esp", "loaded"),
        ("pos", "loaded"),
        ("sms", "loaded"),
        ("sms", "duplicate"),
        ("web", "loaded"),
    ]


def test_a_run_of_one_sources_tables_loads_that_source_only(env, instance):
    drop(env, "crm", DAY1, "customers.csv", CRM)
    drop(env, "esp", DAY1, "campaign_activity_20261001.csv", ESP_ACTIVITY)
    result = materialize_crm(env, instance, partition_key=DAY1)
    assert result.success
    assert [m.asset_key.path[-1] for m in result.asset_materializations_for_node("raw_sources")] == ["crm_customers"]
    assert query(env, "SELECT source, file FROM audit.files") == [("crm", f"crm/{DAY1}/customers.csv")]


def test_a_run_of_some_of_a_sources_tables_is_refused_before_anything_loads(env, instance):
    drop(env, "esp", DAY1, "campaign_activity_20261001.csv", ESP_ACTIVITY)
    result = dg.materialize(
        [raw_assets.raw_sources],
        selection=dg.AssetSelection.assets(dg.AssetKey(["raw", "esp_activity"])),
        resources=resources(env),
        instance=instance,
        partition_key=DAY1,
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "select raw/esp_members and raw/esp_activity together" in failure.event_specific_data.error.message
    assert not (env / "b.duckdb").exists() or query(
        env, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'audit'"
    ) == [(0,)]


def test_ledger_check_fails_when_rows_go_missing(env, instance):
    drop(env, "crm", DAY1, "customers.csv", CRM)
    assert materialize_crm(env, instance, partition_key=DAY1).success
    query(env, "UPDATE audit.files SET rows_read = rows_read + 1")
    query(env, "DELETE FROM raw.crm_customers WHERE customer_id = '1'")
    with duckdb_module.connect(str(env / "b.duckdb")) as con:
        results = {
            r.check_name: r
            for r in raw_checks.ledger_check_results(
                con, [raw_checks.check_key("crm_customers", n) for n in ("raw_rows_match_ledger", "ledger_balances")]
            )
        }
    balance, match = results["ledger_balances"], results["raw_rows_match_ledger"]
    assert not balance.passed and balance.severity == dg.AssetCheckSeverity.ERROR
    assert balance.metadata["imbalanced_files"].value == f"crm/{DAY1}/customers.csv"
    assert not match.passed and match.severity == dg.AssetCheckSeverity.WARN


def test_ledger_checks_are_one_subsettable_step():
    """Sixteen checks (two per raw table) run as one step; the UI can still run any of them alone."""
    (chk,) = raw_checks.RAW_CHECKS
    assert chk.can_subset and len(chk.check_keys) == 16
    assert {k.asset_key.path[-1] for k in chk.check_keys} == set(raw_checks.SOURCE_OF_TABLE)


def test_a_night_with_no_new_files_loads_its_day_again_only_where_a_file_changed(env, instance):
    """`cdp run` finding no new file tags its run (NO_NEW_FILES_TAG): the day's raw rows, ledger and
    quarantine stay as loaded; a file that changed since is loaded as any night loads it, and a
    run without the tag (`--day`, the schedule) loads the day again whatever its files."""
    from cdp_pipeline.defs.run_mode import NO_NEW_FILES_TAG

    drop(env, "crm", DAY1, "customers.csv", CRM)
    assert materialize_crm(env, instance, partition_key=DAY1).success
    ledger = "SELECT file, status, loaded_at FROM audit.files ORDER BY ALL"
    rows = "SELECT customer_id, _loaded_at FROM raw.crm_customers ORDER BY ALL"
    before = query(env, ledger), query(env, rows)

    quiet = materialize_crm(env, instance, partition_key=DAY1, tags={NO_NEW_FILES_TAG: "true"})
    assert quiet.success
    assert (query(env, ledger), query(env, rows)) == before
    (mat,) = quiet.asset_materializations_for_node("raw_sources")
    assert mat.metadata["days_loaded"].value == "" and mat.metadata["table_rows_total"].value == 2

    assert materialize_crm(env, instance, partition_key=DAY1).success  # untagged: loaded again
    assert query(env, rows) != before[1] and len(query(env, rows)) == 2

    drop(env, "crm", DAY1, "customers.csv", CRM + b"3,Cy\n")  # changed since its load
    changed = materialize_crm(env, instance, partition_key=DAY1, tags={NO_NEW_FILES_TAG: "true"})
    assert changed.success and query(env, "SELECT count(*) FROM raw.crm_customers") == [(3,)]
    (mat,) = changed.asset_materializations_for_node("raw_sources")
    assert mat.metadata["days_loaded"].value == DAY1 and mat.metadata["rows_loaded"].value == 3
