"""Splink's per-level SQL checks worked out once per distinct level during a run (``_sql_checks_once``)."""

import pytest
from splink.internals.comparison_level import ComparisonLevel

from cdp_pipeline.lib.identity import splink_model
from cdp_pipeline.lib.identity.splink_model import _sql_checks_once, splink_settings


def _levels(config):
    return [
        level for cc in splink_settings(config).get_settings("duckdb").comparisons for level in cc.comparison_levels
    ]


def test_each_distinct_level_is_checked_once_and_answers_as_splink(config, monkeypatch):
    splinks = {(lv.sql_condition, lv._is_exact_match) for lv in _levels(config)}
    # count the calls of Splink's own checks (sqlglot parses), which the block wraps
    validate, exact = ComparisonLevel.__dict__["_validate_sql"], ComparisonLevel.__dict__["_is_exact_match"]
    validated, normalised = [], []

    def counting_validate(level):
        validated.append(level.sql_condition)
        return validate(level)

    def counting_exact(level):
        normalised.append(level.sql_condition)
        return exact.fget(level)

    monkeypatch.setattr(ComparisonLevel, "_validate_sql", counting_validate)
    monkeypatch.setattr(ComparisonLevel, "_is_exact_match", property(counting_exact))
    with _sql_checks_once():
        first = _levels(config)
        second = _levels(config)  # the same levels built again
        answers = {(lv.sql_condition, lv._is_exact_match) for lv in first + second}
        assert {(lv.sql_condition, lv._is_exact_match) for lv in second} == answers
    distinct = {lv.sql_condition for lv in first}
    assert len(first) > len(distinct)  # some levels repeat within one model (null levels, ELSE)
    assert sorted(validated) == sorted(distinct)
    assert sorted(normalised) == sorted(distinct)
    assert answers == splinks
    assert any(is_exact for _, is_exact in answers) and not all(is_exact for _, is_exact in answers)


def test_splinks_checks_are_back_after_the_block_and_bad_sql_still_fails(config):
    validate, exact = ComparisonLevel.__dict__["_validate_sql"], ComparisonLevel.__dict__["_is_exact_match"]
    with pytest.raises(RuntimeError), _sql_checks_once():
        assert ComparisonLevel.__dict__["_validate_sql"] is not validate
        raise RuntimeError("a failed training")
    assert ComparisonLevel.__dict__["_validate_sql"] is validate
    assert ComparisonLevel.__dict__["_is_exact_match"] is exact

    import splink.comparison_level_library as cll

    with _sql_checks_once(), pytest.raises(ValueError, match="Error parsing"):
        cll.CustomLevel("first_name_l = = first_name_r").get_comparison_level("duckdb")


def test_training_runs_inside_the_block():
    # train_and_predict wraps the whole training and scoring; a refactor dropping it would
    # silently bring the cost back
    import inspect

    assert "with _sql_checks_once()" in inspect.getsource(splink_model.train_and_predict)
