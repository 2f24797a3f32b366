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
    # the rules written as SQL (a name against the other record's other column, a condition that is
    # no equality) join as written; every column rule joins on numbers
    as_sql = [not isinstance(rule, tuple) for rule in config.splink.blocking_rules]
    assert [k is None for k in keys] == as_sql
    swapped = [rule for rule, k in zip(rules, keys) if k is None]
    assert swapped[0].blocking_rule_sql.startswith("l.first_name_match = r.last_name_match")
    sql = blocked_pairs_sql(rules, SPLINK_INPUT)
    assert "_keys AS MATERIALIZED" in sql and "ON l._k0 = r._k0" in sql
