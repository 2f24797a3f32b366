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


def test_em_sessions_find_the_levels_splink_finds_for_their_rules(config, monkeypatch):
    # inside the block an EM session's setup normalises only the levels that read nothing but
    # its rule's columns; the levels it finds must be Splink's own, for every rule the model
    # trains on, the prior's rules, and rules on one column of a multi-column comparison
    from splink import block_on
    from splink.internals.settings import Settings

    from cdp_pipeline.lib.identity.splink_model import blocking_rule

    comparisons = splink_settings(config).get_settings("duckdb").comparisons
    rules = [blocking_rule(r) for r in config.splink.em_rules] + [block_on(*r) for r in config.splink.prior_rules]
    rules += [block_on("postcode"), block_on("city", "email"), block_on("street", "postcode")]

    def found(rule) -> list[tuple[str, str]]:
        sql = rule.get_blocking_rule("duckdb").blocking_rule_sql
        levels = Settings._get_comparison_levels_corresponding_to_training_blocking_rule(sql, "duckdb", comparisons)
        return [(x["comparison"].output_column_name, x["level"].sql_condition) for x in levels]

    splinks = [found(rule) for rule in rules]
    exact, normalised = ComparisonLevel.__dict__["_is_exact_match"], []

    def counting_exact(level):
        normalised.append(level.sql_condition)
        return exact.fget(level)

    monkeypatch.setattr(ComparisonLevel, "_is_exact_match", property(counting_exact))
    with _sql_checks_once():
        ours = [found(rule) for rule in rules]
    assert ours == splinks
    # and the levels that read other columns were not normalised: the first name's "part of a
    # double name" (its word lists) and the address's long levels (street name and number)
    skipped = [
        lv.sql_condition
        for cc in comparisons
        for lv in cc.comparison_levels
        if lv.label_for_charts in ("part of a double name", "street name alike, no closer level")
    ]
    assert len(skipped) == 2 and normalised and not set(skipped) & set(normalised)
    # the rules do find levels: the names, the birth date, the postcode, the e-mail
    kept = {name for levels in splinks for name, _ in levels}
    assert {"first_name_match", "last_name_match", "birth_date", "address", "email"} <= kept
