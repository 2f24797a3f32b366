"""The prior's rule recall read from the trained model (identity/prior.py): known answers."""

import pytest

from cdp_pipeline.lib.identity.prior import equal_given_match, refined_prior, rules_recall


def _comparison(column: str, *levels: tuple[str, float | None]) -> dict:
    null = {"sql_condition": f'"{column}_l" IS NULL OR "{column}_r" IS NULL', "is_null_level": True}
    return {
        "output_column_name": column,
        "comparison_levels": [null] + [{"sql_condition": sql, "m_probability": m} for sql, m in levels],
    }


MODEL = {
    "probability_two_random_records_match": 1e-4,
    "comparisons": [
        _comparison(
            "first_name_match",
            ('"first_name_match_l" = "first_name_match_r"', 0.5),
            ('("first_name_match_l" = "last_name_match_r" AND "first_name_match_r" = "last_name_match_l")', 0.05),
            ("ELSE", 0.45),
        ),
        _comparison("last_name_match", ('"last_name_match_l" = "last_name_match_r"', 0.4), ("ELSE", 0.6)),
        _comparison("birth_date", ('"birth_date_l" = "birth_date_r"', 0.8), ("ELSE", 0.2)),
        _comparison(
            "email",
            ('"email_l" = "email_r" AND (first_name_match_l <> first_name_match_r)', 0.01),
            ('"email_l" = "email_r"', 0.89),
            ("ELSE", 0.1),
        ),
    ],
}
RULES = [("first_name_match", "last_name_match", "birth_date"), ("email", "first_name_match")]


def test_equal_given_match_sums_the_levels_that_require_the_column_equal():
    assert equal_given_match(MODEL, "first_name_match") == pytest.approx(0.5)  # not the swapped level
    assert equal_given_match(MODEL, "email") == pytest.approx(0.9)  # a household's shared inbox is equal too
    assert equal_given_match(MODEL, "phone") is None


def test_rules_recall_is_the_chance_some_rule_holds_with_columns_independent():
    equal = {"first_name_match": 0.5, "last_name_match": 0.4, "birth_date": 0.8, "email": 0.9}
    present = {"first_name_match": 1.0, "last_name_match": 1.0, "birth_date": 0.5, "email": 0.0}
    # no e-mails: first * last * birth date present on both (0.25) and equal
    assert rules_recall(RULES, equal, present) == pytest.approx(0.5 * 0.4 * 0.8 * 0.25)
    present["email"] = 1.0
    # first name equal and (last name and birth date, or e-mail)
    assert rules_recall(RULES, equal, present) == pytest.approx(0.5 * (1 - (1 - 0.4 * 0.8 * 0.25) * (1 - 0.9)))


def test_the_prior_grows_by_assumed_over_implied_recall_and_never_shrinks():
    present = {"first_name_match": 1.0, "last_name_match": 1.0, "birth_date": 1.0, "email": 0.0}
    prior, implied = refined_prior(MODEL, RULES, present, assumed_recall=0.7)
    assert implied == pytest.approx(0.16)
    assert prior == pytest.approx(1e-4 * 0.7 / 0.16)
    # data whose duplicates keep their fields: the rules find more than assumed, the prior stays
    present["email"] = 1.0
    assert refined_prior(MODEL, RULES, present, assumed_recall=0.3) is None
    # a rule column no comparison reads as equal: nothing to go by
    assert refined_prior(MODEL, [("phone", "first_name_match")], {"phone": 1.0, "first_name_match": 1.0}, 0.7) is None
