"""Checks on the identity layer: the contract holds, IDs are stable, no customer breaks a rule."""

from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import DUCKDB_POOL
from cdp_pipeline.lib.identity import load_identity_config
from cdp_pipeline.lib.identity.cardinality import distinct_values, joined_values
from cdp_pipeline.lib.sql_files import load_sql, quote_ident, quote_literal
from cdp_pipeline.settings import get_settings

SQL_DIR = Path(__file__).parent / "sql"
CUSTOMER_MAP = dg.AssetKey(["identity", "customer_map"])


def covers_each_identity_record_once(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    cur = con.execute(load_sql(SQL_DIR, "select_customer_map_coverage"))
    names = [d[0] for d in cur.description]
    row = dict(zip(names, cur.fetchall()[0]))
    passed = (
        row["identity_records"] == row["mapped_rows"]
        and row["unmapped_records"] == 0
        and row["records_mapped_twice"] == 0
        and row["mapped_records_not_in_staging"] == 0
        and row["null_customer_ids"] == 0
    )
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={k: dg.MetadataValue.int(int(v)) for k, v in row.items()},
    )


def customer_id_churn(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    limit = get_settings().id_change_warn_share
    cur = con.execute(load_sql(SQL_DIR, "select_latest_identity_run"))
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if not rows:
        return dg.AssetCheckResult(
            passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={"note": "no identity run recorded yet"}
        )
    row = dict(zip(names, rows[0]))
    share = float(row["id_change_share"] or 0.0)
    return dg.AssetCheckResult(
        passed=share <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "id_change_share": dg.MetadataValue.float(share),
            "limit": dg.MetadataValue.float(limit),
            **{
                k: dg.MetadataValue.int(int(row[k] or 0))
                for k in ("records_still_present", "records_changed_id", "created", "merged", "split", "retired")
            },
        },
    )


def cardinality_violations_sql(rules) -> str:
    """One query for every cardinality rule (select_cardinality_violations.sql): the customers that may
    break each rule, with their distinct values for rules with a typo tolerance (decided in Python:
    ``cardinality_violations``), else at most 20 per rule (most distinct values first, then customer_id)."""

    def may_break(i: int, limit: int) -> str:
        # more than ``limit`` >= 1 distinct values needs two different ones; a limit of 0, any value
        if limit >= 1:
            return f"min(c{i}) < max(c{i})"
        return f"count(c{i}) > 0" if limit == 0 else "true"

    def violations(i: int, rule) -> str:
        tolerant = rule.tolerance != "exact"
        limit = "" if tolerant else " LIMIT 20"
        return (
            f"(SELECT customer_id, {quote_literal(rule.name)} AS rule, d{i} AS distinct_values, {i} AS rule_order, "
            f"v{i} AS vals FROM per_customer WHERE d{i} > {int(rule.max_distinct)} "
            f"ORDER BY d{i} DESC, customer_id{limit})"
        )

    limits = [int(r.max_distinct) for r in rules]
    return load_sql(
        SQL_DIR,
        "select_cardinality_violations",
        columns=", ".join(f"s.{quote_ident(r.column)} AS c{i}" for i, r in enumerate(rules)),
        suspect=" OR ".join(may_break(i, n) for i, n in enumerate(limits)),
        distinct_counts=", ".join(
            f"count(DISTINCT c{i}) AS d{i}, "
            + (
                f"list(DISTINCT c{i}::VARCHAR ORDER BY c{i}::VARCHAR) FILTER (WHERE c{i} IS NOT NULL)"
                if r.tolerance != "exact"
                else "NULL::VARCHAR[]"
            )
            + f" AS v{i}"
            for i, r in enumerate(rules)
        ),
        violations=" UNION ALL ".join(violations(i, r) for i, r in enumerate(rules)),
    )


def cardinality_violations(con: duckdb.DuckDBPyConnection, rules) -> list[tuple[str, str, int]]:
    """(customer_id, rule, distinct values) of customers breaking a rule, at most 20 per rule; a value
    written with a typo counts once under a typo tolerance."""
    if not rules:
        return []
    out: list[tuple[str, str, int]] = []
    by_rule: dict[str, int] = {}
    candidates = con.execute(cardinality_violations_sql(rules)).fetchall()
    joined = {
        order: joined_values(con, rules[order].column, [c for c, _, _, o, _ in candidates if o == order])
        for order in {o for *_, o, _ in candidates}
        if rules[order].tolerance != "exact"
    }
    for customer_id, rule_name, n, order, vals in candidates:
        rule = rules[order]
        if rule.tolerance != "exact":
            n = distinct_values(set(vals or ()), rule.tolerance, tuple(joined[order].get(customer_id, ())))
            if n <= rule.max_distinct:
                continue
        if by_rule.get(rule_name, 0) < 20:
            by_rule[rule_name] = by_rule.get(rule_name, 0) + 1
            out.append((customer_id, rule_name, n))
    return out


def customers_respect_cardinality_rules(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    rules = load_identity_config().cardinality_rules
    violations = cardinality_violations(con, rules)
    preview = "\n".join(
        ["| customer_id | rule | distinct values |", "| --- | --- | ---: |"]
        + [f"| {c} | {r} | {n} |" for c, r, n in violations[:20]]
    )
    return dg.AssetCheckResult(
        passed=not violations,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "violating_customers": dg.MetadataValue.int(len(violations)),
            "rules": dg.MetadataValue.int(len(rules)),
            "examples": dg.MetadataValue.md(preview),
        },
    )


# name -> (what it verifies, the function that checks it on a connection)
IDENTITY_CHECKS = {
    "covers_each_identity_record_once": (
        "identity.customer_map holds every row of staging.identity_records exactly once, each with a "
        "customer_id, and nothing else.",
        covers_each_identity_record_once,
    ),
    "customer_id_churn": (
        "Warns when more than CDP_ID_CHANGE_WARN_SHARE of the records seen in the previous run changed customer_id.",
        customer_id_churn,
    ),
    "customers_respect_cardinality_rules": (
        "No customer holds more distinct values of a ruled column (birth dates, CRM ids, …) than "
        "config/identity.yaml allows.",
        customers_respect_cardinality_rules,
    ),
}


# One step for the three (a step of its own costs more in Dagster's bookkeeping than most of
# these queries); subsettable, so the UI still runs any one of them.
@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(name=name, asset=CUSTOMER_MAP, description=description, blocking=False)
        for name, (description, _) in IDENTITY_CHECKS.items()
    ],
    name="identity_checks",
    can_subset=True,
    pool=DUCKDB_POOL,
)
def identity_checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource):
    selected = {key.name for key in context.selected_asset_check_keys}
    with duckdb.get_connection() as con:
        for name, (_, check) in IDENTITY_CHECKS.items():
            if name in selected:
                r = check(con)
                yield dg.AssetCheckResult(
                    asset_key=CUSTOMER_MAP,
                    check_name=name,
                    passed=r.passed,
                    severity=r.severity,
                    metadata=r.metadata,
                    description=r.description,
                )
