"""What the identity checks verify: the map covers each identity record once, how many customer IDs
the latest run changed, and that no customer breaks a cardinality rule (the Dagster checks in
``defs/identity/checks.py`` judge these figures)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import fetch_sql, fetch_sql_dicts, quote_ident, quote_literal
from cdp_pipeline.lib.identity.cardinality import close_dates, distinct_values, joined_values
from cdp_pipeline.lib.identity.config import CardinalityRule

SQL_DIR = Path(__file__).parent / "sql"


def customer_map_coverage(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """``identity_records``, ``mapped_rows``, ``unmapped_records``, ``records_mapped_twice``,
    ``mapped_records_not_in_staging``, ``null_customer_ids`` (select_customer_map_coverage.sql).

    The two tables' row counts and key hash sums first (select_customer_map_fingerprints.sql): when
    they agree, every map row's key hash is distinct and no key part or customer_id is NULL, the map
    holds each record once and nothing else, and the figures are the two counts and zeros. That
    is every night's case, and it costs less than half the grouping of both tables' key strings
    (0.19-0.28 against 0.52-0.61 CPU s at 1M records, on a loaded machine). As with golden's
    timeline check, two different key multisets of equal size whose 64-bit hashes sum to the same
    HUGEINT would pass; any other difference (and any duplicated map key, by its hash) is counted
    by the full query."""
    f = fetch_sql_dicts(con, SQL_DIR, "select_customer_map_fingerprints")[0]
    if (
        f["staging_rows"] == f["map_rows"] == f["map_distinct_hashes"]
        and f["staging_hash_sum"] == f["map_hash_sum"]
        and f["staging_null_keys"] == f["map_nulls"] == 0
    ):
        return {
            "identity_records": int(f["staging_rows"]),
            "mapped_rows": int(f["map_rows"]),
            "unmapped_records": 0,
            "records_mapped_twice": 0,
            "mapped_records_not_in_staging": 0,
            "null_customer_ids": 0,
        }
    return {k: int(v) for k, v in fetch_sql_dicts(con, SQL_DIR, "select_customer_map_coverage")[0].items()}


def latest_identity_run(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The latest row of ``identity.runs`` (its ID churn figures), None before the first run."""
    rows = fetch_sql_dicts(con, SQL_DIR, "select_latest_identity_run")
    return rows[0] if rows else None


def cardinality_sql_parts(rules: list[CardinalityRule] | tuple[CardinalityRule, ...]) -> dict[str, str]:
    """The parts of select_cardinality_violations.sql generated from the rules: the records that
    hold a value of a ruled column, the customers that may break each rule, with their distinct values for rules with a typo tolerance (decided in
    Python: ``cardinality_violations``), else at most 20 per rule (most distinct values first, then
    customer_id)."""

    def may_break(i: int, limit: int) -> str:
        # more than ``limit`` >= 1 distinct values needs two different ones; a limit of 0, any value
        if limit >= 1:
            return f"min(c{i}) < max(c{i})"
        return f"count(c{i}) > 0" if limit == 0 else "true"

    def violations(i: int, rule: CardinalityRule) -> str:
        tolerant = rule.tolerance != "exact"
        limit = "" if tolerant else " LIMIT 20"
        return (
            f"(SELECT customer_id, {quote_literal(rule.name)} AS rule, d{i} AS distinct_values, {i} AS rule_order, "
            f"v{i} AS vals FROM per_customer WHERE d{i} > {int(rule.max_distinct)} "
            f"ORDER BY d{i} DESC, customer_id{limit})"
        )

    limits = [int(r.max_distinct) for r in rules]
    return {
        "columns": ", ".join(f"s.{quote_ident(r.column)} AS c{i}" for i, r in enumerate(rules)),
        # a record without a value of any ruled column adds no distinct value to its customer; only a
        # rule allowing fewer than none (every customer breaks it) needs every customer's records
        "valued": " OR ".join(f"s.{quote_ident(r.column)} IS NOT NULL" for r in rules)
        if all(n >= 0 for n in limits)
        else "true",
        "suspect": " OR ".join(may_break(i, n) for i, n in enumerate(limits)),
        "distinct_counts": ", ".join(
            f"count(DISTINCT c{i}) AS d{i}, "
            + (
                f"list(DISTINCT c{i}::VARCHAR ORDER BY c{i}::VARCHAR) FILTER (WHERE c{i} IS NOT NULL)"
                if r.tolerance != "exact"
                else "NULL::VARCHAR[]"
            )
            + f" AS v{i}"
            for i, r in enumerate(rules)
        ),
        "violations": " UNION ALL ".join(violations(i, r) for i, r in enumerate(rules)),
    }


def cardinality_candidates(
    con: duckdb.DuckDBPyConnection, rules: list[CardinalityRule] | tuple[CardinalityRule, ...]
) -> list[tuple]:
    """``(customer_id, rule, distinct values, rule order, values)`` of the customers that may break a
    rule (select_cardinality_violations.sql over ``cardinality_sql_parts``)."""
    return fetch_sql(con, SQL_DIR, "select_cardinality_violations", **cardinality_sql_parts(rules))


def cardinality_violations(
    con: duckdb.DuckDBPyConnection, rules: list[CardinalityRule] | tuple[CardinalityRule, ...]
) -> list[tuple[str, str, int]]:
    """(customer_id, rule, distinct values) of customers breaking a rule, at most 20 per rule; a value
    written with a typo counts once under a typo tolerance, and so do two close dates (``close_dates``)."""
    if not rules:
        return []
    out: list[tuple[str, str, int]] = []
    by_rule: dict[str, int] = {}
    candidates = cardinality_candidates(con, rules)
    joined = {
        order: joined_values(con, rules[order].column, [c for c, _, _, o, _ in candidates if o == order])
        for order in {o for *_, o, _ in candidates}
        if rules[order].tolerance != "exact"
    }
    for customer_id, rule_name, n, order, vals in candidates:
        rule = rules[order]
        if rule.tolerance != "exact":
            values = sorted(set(vals or ()))
            pairs = tuple(joined[order].get(customer_id, ()))
            if rule.tolerance == "typo":
                # close values (a date mistyped twice) the rule may have counted as one: it does
                # when one side gives one of them on a single record (``_Groups.close_lone_values``)
                pairs += tuple((a, b) for k, a in enumerate(values) for b in values[k + 1 :] if close_dates(a, b))
            n = distinct_values(values, rule.tolerance, pairs)
            if n <= rule.max_distinct:
                continue
        if by_rule.get(rule_name, 0) < 20:
            by_rule[rule_name] = by_rule.get(rule_name, 0) + 1
            out.append((customer_id, rule_name, n))
    return out
