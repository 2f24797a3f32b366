"""blocking.py: the candidate pairs and their scores are Splink's own, found for less CPU."""

from __future__ import annotations

import logging

from splink import Linker

from cdp_pipeline.lib.identity.blocking import _same_keys, blocked_pairs_sql, predictions
from cdp_pipeline.lib.identity.splink_model import SPLINK_INPUT, splink_settings

from .synthetic import build_synthetic_splink_input


def _linker(con, config):
    sdf = build_synthetic_splink_input(con, config)
    linker = Linker(sdf, splink_settings(config), log_level=logging.WARNING)
    linker.training.estimate_u_using_random_sampling(max_pairs=config.splink.u_max_pairs, seed=config.splink.seed)
    for col in ("first_name_match", "last_name_match"):
        linker.table_management.compute_tf_table(col)  # as a night's training leaves them
    return linker, sdf


def _rows(con, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_the_candidate_pairs_are_splinks_each_under_its_first_rule(con, config):
    linker, sdf = _linker(con, config)
    splinks = linker.inference.compute_blocked_pairs_for_predict()
    rules = linker._settings_obj._blocking_rules_to_generate_predictions
    con.execute(f"CREATE TEMP TABLE ours AS {blocked_pairs_sql(rules, SPLINK_INPUT)}")

    expected = _rows(con, f"(SELECT match_key, join_key_l, join_key_r FROM {splinks.physical_name})")
    assert len(expected) > 400  # many pairs, found by many rules
    assert len({key for key, _, _ in expected}) > 10
    assert _rows(con, "temp.ours") == expected


def test_the_predictions_are_predict_withins(con, config):
    linker, sdf = _linker(con, config)
    splinks = linker.inference.predict_within(sdf, threshold_match_probability=0.01, warning_mode="never")
    expected = _rows(con, splinks.physical_name)
    assert len(expected) > 100

    with predictions(con, linker, sdf, threshold_match_probability=0.01) as ours:
        assert [r[0] for r in con.execute(f"DESCRIBE {ours}").fetchall()] == [
            r[0] for r in con.execute(f"DESCRIBE {splinks.physical_name}").fetchall()
        ]
        assert _rows(con, ours) == expected
    # nothing of it is left behind
    assert not con.execute("SELECT * FROM duckdb_views() WHERE view_name = '_id_predictions'").fetchall()


def test_block_on_rules_join_on_numbers_and_other_rules_as_written(config):
    rules = splink_settings(config).get_settings("duckdb")._blocking_rules_to_generate_predictions
    keys = [_same_keys(rule) for rule in rules]
    assert keys[0] == ['"first_name_match"', '"birth_date"']
    assert ["SUBSTRING(last_name_match, 1, 3)", "SUBSTRING(postcode, 1, 3)", "SUBSTRING(city, 1, 3)"] in keys
    # the rules written as SQL with a name against the other record's other column or a condition
    # that is no equality join as written; every column rule, and every SQL rule whose other
    # condition only tests a column for NULL (a record without a first name), joins on numbers
    null_tested = [
        not isinstance(rule, tuple) and rule.name.startswith("no first name") for rule in config.splink.blocking_rules
    ]
    as_sql = [
        not isinstance(rule, tuple) and not tested for rule, tested in zip(config.splink.blocking_rules, null_tested)
    ]
    assert sum(null_tested) == 3 and sum(as_sql) == 3
    assert [k is None for k in keys] == as_sql
    swapped = [rule for rule, k in zip(rules, keys) if k is None]
    assert swapped[0].blocking_rule_sql.startswith("l.first_name_match = r.last_name_match")
    sql = blocked_pairs_sql(rules, SPLINK_INPUT)
    assert "_keys AS MATERIALIZED" in sql and "ON l._k0 = r._k0" in sql


def test_rules_testing_columns_for_null_join_on_numbers_and_find_splinks_pairs(con):
    import splink.comparison_library as cl
    from splink import DuckDBAPI, SettingsCreator, block_on

    con.execute("""CREATE TABLE people AS SELECT * FROM (VALUES
        (1, NULL, 'garnett', 'caves beach', 'x'), (2, 'anna', 'garndt', 'caves beach', 'x'),
        (3, NULL, 'garnier', 'caves beach', NULL), (4, 'anna', 'garnett', 'caves beach', 'x'),
        (5, NULL, 'frusher', 'bayswater', 'y'), (6, NULL, 'frusher', 'bayswater', NULL),
        (7, 'lisa', 'frusher', 'bayswater', 'y'), (8, NULL, NULL, 'bayswater', 'z'))
        AS t(unique_id, first_name_match, last_name_match, city, email)""")
    rules = [
        block_on("email"),
        # either record without a first name: 1-2, 1-3, 1-4, 2-3, 3-4 (garnett / garndt /
        # garnier, not 2-4: both named) and 5-6, 5-7, 6-7 (8 has no surname)
        {
            "blocking_rule": "(l.first_name_match IS NULL OR r.first_name_match IS NULL)"
            " AND substr(l.last_name_match, 1, 3) = substr(r.last_name_match, 1, 3) AND l.city = r.city",
            "sql_dialect": "duckdb",
        },
        # both with an e-mail and not both named: 5-8 and 7-8 (no surname on 8), not 5-7 (found above)
        {
            "blocking_rule": "NOT (l.first_name_match IS NOT NULL AND r.first_name_match IS NOT NULL)"
            " AND l.city = r.city AND l.email IS NOT NULL AND r.email IS NOT NULL",
            "sql_dialect": "duckdb",
        },
    ]
    settings = SettingsCreator(
        link_type="dedupe_only", comparisons=[cl.ExactMatch("city")], blocking_rules_to_generate_predictions=rules
    )
    linker = Linker(DuckDBAPI(connection=con).register("people"), settings, log_level=logging.WARNING)
    rules = linker._settings_obj._blocking_rules_to_generate_predictions
    keys = [_same_keys(rule) for rule in rules]
    assert keys == [['"email"'], ["SUBSTRING(last_name_match, 1, 3)", '"city"'], ['"city"']]
    sql = blocked_pairs_sql(rules, "people")
    assert "_id_splink_input" not in sql and "FROM people AS l" not in sql  # every rule on numbers

    ours = _rows(con, f"({sql})")
    assert ours == [
        ("0", 1, 2), ("0", 1, 4), ("0", 2, 4), ("0", 5, 7),
        ("1", 1, 3), ("1", 2, 3), ("1", 3, 4), ("1", 5, 6), ("1", 6, 7),
        ("2", 5, 8), ("2", 7, 8),
    ]  # fmt: skip
    splinks = linker.inference.compute_blocked_pairs_for_predict()
    assert ours == _rows(con, f"(SELECT match_key, join_key_l, join_key_r FROM {splinks.physical_name})")
