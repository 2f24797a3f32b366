"""The identity assets and checks on a temporary build database."""

import duckdb
import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.identity.assets import IDENTITY_ASSETS, build_identity_assets
from cdp_pipeline.defs.identity.checks import (covers_each_identity_record_once, customer_id_churn,
                                               customers_respect_cardinality_rules)
from cdp_pipeline_tests.lib.identity.synthetic import build_synthetic, record, write_records, write_truth

CHECKS = [covers_each_identity_record_once, customer_id_churn, customers_respect_cardinality_rules]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CDP_MATCH_THRESHOLD", raising=False)
    db = tmp_path / "build.duckdb"
    return tmp_path, db


def _materialize(db, asset):
    return dg.materialize([asset, *CHECKS], resources={"duckdb": DuckDBResource(database=str(db))},
                          raise_on_error=True)


def _check_results(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_identity_assets_materialize_with_metadata_and_checks(env, monkeypatch):
    tmp_path, db = env
    truth = tmp_path / "data" / "sample_truth" / "truth.csv"
    truth.parent.mkdir(parents=True)
    with duckdb.connect(str(db)) as con:
        records = build_synthetic(con, n_people=80, seed=3)
        con.execute("""CREATE TABLE staging.web_events AS SELECT * FROM (VALUES
                       ('ck-anon', NULL), ('ck-anon', NULL), ('ck0a', 'CRM000001')) t(user_pseudo_id, user_id)""")
    write_truth(records, truth)
    # small training budgets: the shipped file is sized for production
    monkeypatch.setattr("cdp_pipeline.defs.identity.assets.load_identity_config",
                        lambda: _small_config())

    result = _materialize(db, build_identity_assets(deps=()))
    assert result.success
    mats = {tuple(e.materialization.asset_key.path): e.materialization
            for e in result.get_asset_materialization_events()}
    assert set(mats) == {("identity", t) for t in IDENTITY_ASSETS}
    meta = mats[("identity", "customer_map")].metadata
    assert meta["records"].value == len(records)
    # the evaluation is attached (accuracy itself is tested in lib/identity on a larger population:
    # an unsupervised model trained on 80 people is weak)
    assert 0.9 <= meta["eval_precision"].value <= 1.0 and "Pairwise" in meta["evaluation"].value
    assert meta["anonymous_visitors"].value == 1
    assert 0 < meta["eval_blocking_recall"].value <= 1
    links_meta = mats[("identity", "links")].metadata
    assert links_meta["model_json"].value.endswith("splink_model.json")
    assert "chart_match_weights" in links_meta
    checks = _check_results(result)
    assert all(c.passed for c in checks.values()), {k: c.metadata for k, c in checks.items()}

    # rerun: nothing changes, the churn check passes with zero churn
    result = _materialize(db, build_identity_assets(deps=()))
    checks = _check_results(result)
    assert checks["customer_id_churn"].passed
    assert checks["customer_id_churn"].metadata["records_changed_id"].value == 0


def _small_config():
    from cdp_pipeline.lib.identity.config import PACKAGED_CONFIG_PATH, load_identity_config

    return load_identity_config(PACKAGED_CONFIG_PATH).with_splink(u_max_pairs=5e4, em_max_pairs=None)


def test_checks_fail_on_broken_map_and_churn(env, monkeypatch):
    tmp_path, db = env
    monkeypatch.setenv("CDP_ID_CHANGE_WARN_SHARE", "0.1")
    with duckdb.connect(str(db)) as con:
        write_records(con, [record("pos", f"r{i}", None, loyalty_card_id="L1") for i in range(4)]
                      + [record("crm", "1", None, crm_customer_id="1", birth_date="1980-01-01"),
                         record("crm", "2", None, crm_customer_id="2", birth_date="1981-01-01"),
                         record("crm", "3", None, crm_customer_id="3", birth_date="1982-01-01")])
        con.execute("CREATE SCHEMA identity")
        # a hand-broken map: one record missing, one twice; one customer with three birth dates
        con.execute("""CREATE TABLE identity.customer_map AS SELECT * FROM (VALUES
            ('pos', 'r0', 'C-a'), ('pos', 'r1', 'C-a'), ('pos', 'r1', 'C-a'), ('pos', 'r2', 'C-b'),
            ('crm', '1', 'C-c'), ('crm', '2', 'C-c'), ('crm', '3', 'C-c')) t(source, source_record_id, customer_id)""")
        con.execute("""CREATE TABLE identity.runs AS SELECT 'r' AS run_id, TIMESTAMP '2025-01-01' AS "at",
                       7 AS records, 3 AS customers, 10 AS previous_records, 10 AS records_still_present,
                       4 AS records_changed_id, 0.4 AS id_change_share, 0 AS created, 1 AS merged,
                       0 AS split, 0 AS retired""")
    result = dg.materialize(CHECKS, resources={"duckdb": DuckDBResource(database=str(db))},
                            raise_on_error=False, selection=dg.AssetSelection.all_asset_checks())
    checks = _check_results(result)
    assert not checks["covers_each_identity_record_once"].passed
    assert checks["covers_each_identity_record_once"].metadata["unmapped_records"].value == 1  # r3
    assert checks["covers_each_identity_record_once"].metadata["records_mapped_twice"].value == 1
    assert not checks["customer_id_churn"].passed
    assert checks["customer_id_churn"].severity == dg.AssetCheckSeverity.WARN
    assert not checks["customers_respect_cardinality_rules"].passed
