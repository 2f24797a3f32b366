"""The prior (two random records match) from the near-certain rules, with their recall read from the model.

Splink estimates the prior as the pairs the ``prior_rules`` bring up divided by a recall, the
share of true pairs those rules find. A fixed recall (``prior_recall``, 0.7) suits data whose
duplicates mostly keep first name, surname and birth date; where duplicates are corrupted more
(FEBRL-class data: about one true pair in six keeps all three), the prior comes out several times
too low, every pair judged only on names, birth date and address scores too low, and the
calibrated sparse threshold starves them.

After EM the model knows, per comparison, how often a true pair's two values are equal (the m
of the levels that require equality) and the data says how often a record has the value. Taking
fields as independent given a match, as the model does, the rules' recall is the chance that
every column of at least one rule is present and equal on both records. ``refined_prior`` scales
the prior by assumed / implied recall when the implied recall is lower than assumed (the
configured value stays an upper bound: clean data keep today's prior).
"""

from __future__ import annotations

import itertools
import re


def _equality_levels(comparison: dict, column: str) -> list[dict]:
    """The non-null levels whose condition requires ``column`` equal on both records."""
    # the column quoted as the backend's SQL quotes it: "x_l" in DuckDB, `x_l` in Spark
    q = '["`]?'
    col = re.escape(column)
    eq = re.compile(rf"^\(?{q}{col}_l{q}\s*=\s*{q}{col}_r{q}\)?(\s+AND\s|$)")
    return [
        lv
        for lv in comparison["comparison_levels"]
        if not lv.get("is_null_level") and eq.match(lv["sql_condition"].strip())
    ]


def equal_given_match(model: dict, column: str) -> float | None:
    """P(the column's two values are equal | a match, both present) per the model; None when no
    comparison has a level that requires the column equal (nothing to read)."""
    for comparison in model["comparisons"]:
        levels = _equality_levels(comparison, column)
        if levels:
            return min(1.0, sum(lv.get("m_probability") or 0.0 for lv in levels))
    return None


def rules_recall(rules: list[tuple[str, ...]], equal: dict[str, float], present: dict[str, float]) -> float:
    """P(some rule has all its columns present and equal on a true pair), columns independent:
    each column holds on a true pair with probability equal[c] * present[c] ** 2."""
    columns = sorted({c for rule in rules for c in rule})
    p = {c: equal[c] * present[c] ** 2 for c in columns}
    total = 0.0
    for holds in itertools.product((True, False), repeat=len(columns)):
        state = dict(zip(columns, holds))
        if any(all(state[c] for c in rule) for rule in rules):
            prob = 1.0
            for c in columns:
                prob *= p[c] if state[c] else 1 - p[c]
            total += prob
    return total


def refined_prior(
    model: dict, rules: list[tuple[str, ...]], present: dict[str, float], assumed_recall: float
) -> tuple[float, float] | None:
    """(prior, implied recall) when the model implies the prior rules find fewer true pairs than
    ``assumed_recall``; None when it cannot tell (a rule column without an equality level or a
    share of records holding it) or implies as many or more."""
    equal = {}
    for c in {c for rule in rules for c in rule}:
        e = equal_given_match(model, c)
        if e is None or c not in present:
            return None
        equal[c] = e
    implied = rules_recall(rules, equal, present)
    if not 0 < implied < assumed_recall:
        return None
    prior = model["probability_two_random_records_match"] * assumed_recall / implied
    return min(prior, 0.5), implied


def present_shares(sdf, columns: list[str]) -> dict[str, float]:
    """Share of the model's input records holding each column (a registered Splink input, any backend)."""
    from splink.internals.pipeline import CTEPipeline

    if not columns:
        return {}
    # unquoted: "x" is a column in DuckDB but a string literal in Spark SQL (every count = n)
    if bad := [c for c in columns if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c)]:
        raise ValueError(f"prior rule columns must be plain column names: {bad}")
    counts = ", ".join(f"count({c}) AS {c}" for c in columns)
    pipeline = CTEPipeline()
    pipeline.enqueue_sql(f"SELECT count(*) AS __n, {counts} FROM {sdf.physical_name}", "__cdp_present_shares")
    result = sdf.db_api.sql_pipeline_to_splink_dataframe(pipeline)
    row = result.as_record_list()[0]
    result.drop_table_from_database_and_remove_from_cache()
    n = row["__n"] or 0
    return {c: (row[c] / n if n else 0.0) for c in columns}
