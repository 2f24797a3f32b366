"""The identity assets and checks on a temporary build database."""

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.identity.assets import IDENTITY_ASSETS, anonymous_visitors, build_identity_assets
from cdp_pipeline.defs.identity.checks import identity_checks
from cdp_pipeline.defs.resources import settings_resource
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.identity.synthetic import build_synthetic, record, write_records, write_truth

CHECKS = [identity_checks]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CDP_MATCH_THRESHOLD", raising=False)
    db = tmp_path / "build.duckdb"
    return tmp_path, db


def _materialize(db, asset):
    return dg.materialize(
        [asset, *CHECKS],
        resources={"duckdb": DuckDBResource(database=str(db)), "settings": settings_resource(get_settings())},
        raise_on_error=True,
    )


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
    monkeypatch.setattr("cdp_pipeline.defs.identity.assets.load_identity_config", lambda **_: _small_config())

    result = _materialize(db, build_identity_assets(deps=()))
    assert result.success
    mats = {
        tuple(e.materialization.asset_key.path): e.materialization for e in result.get_asset_materialization_events()
    }
    assert set(mats) == {("identity", t) for t in IDENTITY_ASSETS}
    meta = mats[("identity", "customer_map")].metadata
    assert meta["records"].value == len(records)
    # the evaluation is attached (accuracy itself is tested in lib/identity on a larger population:
    # an unsupervised model trained on 80 people is weak)
    assert 0.9 <= meta["eval_precision"].value <= 1.0 and "Pairwise" in meta["evaluation"].value
    assert "anonymous_visitors" not in meta  # their own step's (test below)
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


def test_anonymous_visitors_asset_counts_the_web_cookies_never_seen_with_a_user_id(env):
    _, db = env
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA staging; CREATE SCHEMA identity")
        con.execute("""CREATE TABLE staging.web_events AS SELECT * FROM (VALUES
                       ('ck-anon', NULL), ('ck-anon', NULL), ('ck0a', 'CRM000001'), ('ck0a', NULL),
                       (NULL, NULL)) t(user_pseudo_id, user_id)""")
    result = _materialize_alone(db, anonymous_visitors)
    (mat,) = result.asset_materializations_for_node("identity__anonymous_visitors")
    assert mat.metadata["anonymous_visitors"].value == 1 and mat.metadata["dagster/row_count"].value == 1
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT * FROM identity.anonymous_visitors").fetchall() == [("ck-anon", 2)]
        # no web events tonight: the table is emptied, not kept
        con.execute("DROP TABLE staging.web_events")
    result = _materialize_alone(db, anonymous_visitors)
    (mat,) = result.asset_materializations_for_node("identity__anonymous_visitors")
    assert mat.metadata["anonymous_visitors"].value == 0
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM identity.anonymous_visitors").fetchone() == (0,)


def _materialize_alone(db, asset):
    return dg.materialize(
        [asset],
        resources={"duckdb": DuckDBResource(database=str(db))},
        raise_on_error=True,
    )


def _small_config():
    from cdp_pipeline.lib.identity.config import PACKAGED_CONFIG_PATH, load_identity_config

    return load_identity_config(PACKAGED_CONFIG_PATH).with_splink(u_max_pairs=5e4, em_max_pairs=None)


def test_checks_fail_on_broken_map_and_churn(env, monkeypatch):
    tmp_path, db = env
    monkeypatch.setenv("CDP_ID_CHANGE_WARN_SHARE", "0.1")
    with duckdb.connect(str(db)) as con:
        write_records(
            con,
            [record("pos", f"r{i}", None, loyalty_card_id="L1") for i in range(4)]
            + [
                record("crm", "1", None, crm_customer_id="1", birth_date="1980-01-01"),
                record("crm", "2", None, crm_customer_id="2", birth_date="1985-06-12"),
                record("crm", "3", None, crm_customer_id="3", birth_date="1992-11-30"),
            ],
        )
        con.execute("CREATE SCHEMA identity")
        # a hand-broken map: one record missing, one twice; one customer with three birth dates
        con.execute("""CREATE TABLE identity.customer_map AS SELECT * FROM (VALUES
            ('pos', 'r0', 'C-a'), ('pos', 'r1', 'C-a'), ('pos', 'r1', 'C-a'), ('pos', 'r2', 'C-b'),
            ('crm', '1', 'C-c'), ('crm', '2', 'C-c'), ('crm', '3', 'C-c')) t(source, source_record_id, customer_id)""")
        con.execute("""CREATE TABLE identity.runs AS SELECT 'r' AS run_id, TIMESTAMP '2025-01-01' AS "at",
                       7 AS records, 3 AS customers, 10 AS previous_records, 10 AS records_still_present,
                       4 AS records_changed_id, 0.4 AS id_change_share, 0 AS created, 1 AS merged,
                       0 AS split, 0 AS retired""")
    result = dg.materialize(
        CHECKS,
        resources={"duckdb": DuckDBResource(database=str(db)), "settings": settings_resource(get_settings())},
        raise_on_error=False,
        selection=dg.AssetSelection.all_asset_checks(),
    )
    checks = _check_results(result)
    assert not checks["covers_each_identity_record_once"].passed
    assert checks["covers_each_identity_record_once"].metadata["unmapped_records"].value == 1  # r3
    assert checks["covers_each_identity_record_once"].metadata["records_mapped_twice"].value == 1
    assert not checks["customer_id_churn"].passed
    assert checks["customer_id_churn"].severity == dg.AssetCheckSeverity.WARN
    assert not checks["customers_respect_cardinality_rules"].passed


# The checks' earlier one-query-per-question SQL: the reference the single-pass queries are held to.
_COVERAGE_REFERENCE = """
SELECT
    (SELECT count(*) FROM staging.identity_records) AS identity_records,
    (SELECT count(*) FROM identity.customer_map) AS mapped_rows,
    (SELECT count(*) FROM staging.identity_records s
        ANTI JOIN identity.customer_map m USING (source, source_record_id)) AS unmapped_records,
    (SELECT count(*) FROM (SELECT source, source_record_id FROM identity.customer_map
                           GROUP BY ALL HAVING count(*) > 1)) AS records_mapped_twice,
    (SELECT count(*) FROM identity.customer_map m
        ANTI JOIN staging.identity_records s USING (source, source_record_id)) AS mapped_records_not_in_staging,
    (SELECT count(*) FROM identity.customer_map WHERE customer_id IS NULL) AS null_customer_ids
"""
_CARDINALITY_REFERENCE = """
SELECT m.customer_id, '{rule}' AS rule, count(DISTINCT s."{column}") AS distinct_values
FROM identity.customer_map m
JOIN staging.identity_records s USING (source, source_record_id)
GROUP BY m.customer_id
HAVING count(DISTINCT s."{column}") > {max_distinct}
ORDER BY distinct_values DESC, m.customer_id
LIMIT 20
"""


def _edge_case_tables(con):
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE SCHEMA identity")
    con.execute("""CREATE TABLE staging.identity_records AS SELECT * FROM (VALUES
        ('crm', '1', DATE '1980-01-01', 'L1', 'crm-1'), ('crm', '2', DATE '1981-01-01', 'L2', 'crm-2'),
        ('crm', '3', DATE '1982-01-01', NULL, 'crm-3'), ('crm', '3', DATE '1982-01-01', NULL, 'crm-3'),
        ('pos', '4', NULL, 'L1', NULL), ('pos', NULL, NULL, 'L9', NULL), (NULL, '5', NULL, NULL, NULL),
        ('web', '6', NULL, NULL, NULL), ('web', '7', DATE '1990-05-05', NULL, NULL))
        t(source, source_record_id, birth_date, loyalty_card_id, crm_customer_id)""")
    con.execute("""CREATE TABLE identity.customer_map AS SELECT * FROM (VALUES
        ('crm', '1', 'C-a'), ('crm', '2', 'C-a'), ('crm', '3', 'C-a'), ('pos', '4', 'C-a'), ('pos', '4', 'C-b'),
        ('pos', NULL, 'C-c'), (NULL, '5', 'C-c'), ('web', '6', NULL), ('web', '8', 'C-d'), ('web', '7', 'C-e'))
        t(source, source_record_id, customer_id)""")


def test_coverage_query_counts_as_the_reference_does(tmp_path):
    from cdp_pipeline.lib.common.sql_files import fetch_sql
    from cdp_pipeline.lib.identity.checks import SQL_DIR

    with duckdb.connect(str(tmp_path / "t.duckdb")) as con:
        _edge_case_tables(con)
        new = fetch_sql(con, SQL_DIR, "select_customer_map_coverage")
        assert new == con.execute(_COVERAGE_REFERENCE).fetchall()
        assert new == [(9, 10, 2, 1, 3, 1)]
        con.execute("DELETE FROM identity.customer_map")
        con.execute("DELETE FROM staging.identity_records")
        assert fetch_sql(con, SQL_DIR, "select_customer_map_coverage") == [(0, 0, 0, 0, 0, 0)]


def _coverage_reference(con) -> dict[str, int]:
    cur = con.execute(_COVERAGE_REFERENCE)
    return dict(zip([d[0] for d in cur.description], cur.fetchall()[0]))


@pytest.mark.parametrize(
    "change, full_query",
    [
        ("", False),  # the map holds each record once: the fast figures answer
        ("DELETE FROM identity.customer_map WHERE source_record_id = '7'", True),
        ("UPDATE identity.customer_map SET source_record_id = '8' WHERE source_record_id = '7'", True),
        ("UPDATE identity.customer_map SET source_record_id = '1' WHERE source_record_id = '2'", True),
        ("UPDATE identity.customer_map SET customer_id = NULL WHERE source_record_id = '6'", True),
        ("UPDATE staging.identity_records SET source_record_id = NULL WHERE source_record_id = '6'", True),
        ("INSERT INTO staging.identity_records VALUES ('crm', '1', NULL, NULL, NULL)", True),
    ],
)
def test_coverage_figures_are_the_references_whichever_query_gives_them(tmp_path, monkeypatch, change, full_query):
    """customer_map_coverage answers from the two tables' counts and key hash sums when the map holds
    each record once, and counts with the full query otherwise: the reference's figures either way."""
    from cdp_pipeline.lib.identity import checks

    queries = []
    fetch = checks.fetch_sql_dicts
    monkeypatch.setattr(checks, "fetch_sql_dicts", lambda con, d, name: queries.append(name) or fetch(con, d, name))
    with duckdb.connect(str(tmp_path / "t.duckdb")) as con:
        _edge_case_tables(con)
        # a map of every record once: records 1, 2, 4, 6, 7 of the edge cases, each mapped to one customer
        con.execute("DELETE FROM staging.identity_records WHERE source IS NULL OR source_record_id IS NULL")
        con.execute("DELETE FROM staging.identity_records WHERE source_record_id = '3'")
        con.execute("DELETE FROM identity.customer_map")
        con.execute(
            "INSERT INTO identity.customer_map SELECT source, source_record_id, 'C-' || source_record_id "
            "FROM staging.identity_records"
        )
        if change:
            con.execute(change)
        figures = checks.customer_map_coverage(con)
        assert figures == _coverage_reference(con)
    assert ("select_customer_map_coverage" in queries) == full_query
    if not change:
        assert figures == {
            "identity_records": 5,
            "mapped_rows": 5,
            "unmapped_records": 0,
            "records_mapped_twice": 0,
            "mapped_records_not_in_staging": 0,
            "null_customer_ids": 0,
        }


def test_coverage_of_the_edge_cases_is_the_references(tmp_path):
    from cdp_pipeline.lib.identity.checks import customer_map_coverage

    with duckdb.connect(str(tmp_path / "t.duckdb")) as con:
        _edge_case_tables(con)
        assert customer_map_coverage(con) == _coverage_reference(con)
        assert list(customer_map_coverage(con).values()) == [9, 10, 2, 1, 3, 1]


@pytest.mark.parametrize("limits", [(2, 3, 3), (1, 1, 1), (0, 0, 0), (-1, 5, 0), (1, 0, 2)])
def test_cardinality_query_finds_what_the_per_rule_reference_finds(tmp_path, limits):
    from cdp_pipeline.lib.identity.checks import cardinality_candidates
    from cdp_pipeline.lib.identity.config import CardinalityRule

    rules = [
        CardinalityRule("birth_dates", "birth_date", limits[0]),
        CardinalityRule("loyalty_cards", "loyalty_card_id", limits[1]),
        CardinalityRule("crm_customer's ids", "crm_customer_id", limits[2]),
    ]
    with duckdb.connect(str(tmp_path / "t.duckdb")) as con:
        _edge_case_tables(con)
        reference = []
        for r in rules:
            reference += con.execute(
                _CARDINALITY_REFERENCE.format(
                    rule=r.name.replace("'", "''"), column=r.column, max_distinct=r.max_distinct
                )
            ).fetchall()
        assert [row[:3] for row in cardinality_candidates(con, rules)] == reference
    if limits == (1, 1, 1):
        assert reference == [("C-a", "birth_dates", 3), ("C-a", "loyalty_cards", 2), ("C-a", "crm_customer's ids", 3)]


def test_the_checks_are_one_step_that_runs_any_one_alone(env):
    """The three checks share a step; the UI can run one (here the churn check, the only one
    whose table exists: the others would fail on a missing table)."""
    _, db = env
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA identity")
        con.execute("""CREATE TABLE identity.runs AS SELECT 'r' AS run_id, TIMESTAMP '2025-01-01' AS "at",
                       7 AS records, 3 AS customers, 10 AS previous_records, 10 AS records_still_present,
                       0 AS records_changed_id, 0.0 AS id_change_share, 0 AS created, 0 AS merged,
                       0 AS split, 0 AS retired""")
    (check,) = CHECKS
    assert check.can_subset and len(check.check_keys) == 3
    churn = dg.AssetCheckKey(dg.AssetKey(["identity", "customer_map"]), "customer_id_churn")
    result = dg.materialize(
        CHECKS,
        resources={"duckdb": DuckDBResource(database=str(db)), "settings": settings_resource(get_settings())},
        selection=dg.AssetSelection.checks(churn),
    )
    assert result.success and list(_check_results(result)) == ["customer_id_churn"]


def test_the_cardinality_check_counts_close_birth_dates_as_one(tmp_path):
    """Under ``typo`` tolerance the check counts two close dates (a date mistyped twice,
    ``cardinality.close_dates``) as one, as the birth-date rule may: C-a's 1904-12-26 and
    1905-10-26 are one date; C-b's 1904-12-26 and 1951-07-05 are two."""
    from cdp_pipeline.lib.identity.checks import cardinality_violations
    from cdp_pipeline.lib.identity.config import CardinalityRule

    with duckdb.connect(str(tmp_path / "t.duckdb")) as con:
        con.execute("CREATE SCHEMA staging")
        con.execute("CREATE SCHEMA identity")
        con.execute("""CREATE TABLE staging.identity_records AS SELECT * FROM (VALUES
            ('crm', '1', DATE '1904-12-26'), ('crm', '2', DATE '1904-12-26'), ('crm', '3', NULL),
            ('crm', '4', DATE '1905-10-26'), ('crm', '5', DATE '1904-12-26'), ('crm', '6', DATE '1951-07-05'))
            t(source, source_record_id, birth_date)""")
        con.execute("""CREATE TABLE identity.customer_map AS SELECT * FROM (VALUES
            ('crm', '1', 'C-a'), ('crm', '2', 'C-a'), ('crm', '3', 'C-a'), ('crm', '4', 'C-a'),
            ('crm', '5', 'C-b'), ('crm', '6', 'C-b')) t(source, source_record_id, customer_id)""")
        rules = [CardinalityRule("birth_dates", "birth_date", 1, "typo")]
        assert cardinality_violations(con, rules) == [("C-b", "birth_dates", 2)]
        exact = [CardinalityRule("birth_dates", "birth_date", 1, "exact")]
        assert cardinality_violations(con, exact) == [("C-a", "birth_dates", 2), ("C-b", "birth_dates", 2)]
