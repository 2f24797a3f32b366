"""The predicate guard refuses anything but one boolean expression over known columns."""

import duckdb
import pytest

from cdp_pipeline.lib.segments.definitions import load_segment_definitions, parse_segment_definitions
from cdp_pipeline.lib.segments.evaluate import HELPER_COLUMNS, open_sandbox
from cdp_pipeline.lib.segments.predicate_guard import UnsafePredicateError, guard_predicate, guard_predicate_columns
from cdp_pipeline_tests.lib.segments.golden_fixture import GOLDEN_COLUMNS, sample_customers, write_golden

COLUMNS = {**{c.lower(): t for c, t in GOLDEN_COLUMNS.items()}, **{h: "DOUBLE" for h in HELPER_COLUMNS}}


@pytest.mark.parametrize(
    "predicate, problem",
    [
        ("1=1; DROP TABLE x", "found 2 statements"),
        ("(SELECT count(*) FROM read_csv('/etc/passwd')) > 0", "subqueries are not allowed"),
        ("read_csv('/etc/passwd') IS NOT NULL", "read_csv"),
        ("getenv('HOME') IS NOT NULL", "function getenv() is not allowed"),
        ("customer_id IN (SELECT customer_id FROM identity.customer_map)", "subqueries are not allowed"),
        ("EXISTS (SELECT 1 FROM golden.customers)", "subqueries are not allowed"),
        ("no_such_column > 1", "unknown column 'no_such_column'"),
        ("total_spend + 1", "not a boolean expression"),
        ("'yes'", "not a boolean expression"),
        ("identity.customer_map.customer_id IS NOT NULL", "qualified name"),
        ("c.total_spend > 1", "qualified name"),
        ("COPY golden.customers TO '/tmp/x.csv'", "statement"),
        ("ATTACH '/tmp/x.duckdb'", "statement"),
        ("INSTALL httpfs", "statement"),
        ("LOAD httpfs", "statement"),
        ("SELECT true", "statement"),
        ("query('SELECT 1') IS NOT NULL", "function query() is not allowed"),
        ("query_table('golden.customers') IS NOT NULL", "function query_table() is not allowed"),
        ("len(glob('/etc/*')) > 0", "glob"),
        ("read_parquet('x.parquet') IS NULL", "read_parquet"),
        ("total_spend > $1", "parameters are not allowed"),
        ("last_order_at < current_date - INTERVAL 180 DAY", "use as_of_date"),
        ("", "empty"),
        ("total_spend >", "does not parse"),
        # sqlglot recurses per level: this depth raised RecursionError, which failed every segment
        ("(" * 200 + "has_abandoned_cart" + ")" * 200, "nested too deeply"),
    ],
)
def test_hostile_or_wrong_predicates_are_refused_with_segment_and_problem(predicate, problem):
    with pytest.raises(UnsafePredicateError) as e:
        guard_predicate("evil_segment", predicate, COLUMNS)
    assert "evil_segment" in str(e.value)
    assert problem.lower() in str(e.value).lower()


@pytest.mark.parametrize(
    "predicate",
    [
        "rfm_segment = 'champions'",
        "orders_count > 0 AND last_order_at < as_of_date - INTERVAL 180 DAY",
        "coalesce(orders_count, 0) = 0 AND (email_opens_90d > 0 OR email_clicks_90d > 0)",
        "has_abandoned_cart",
        "NOT sms_contactable",
        "spend_percentile >= 0.9",
        "list_contains(sources, 'pos') AND rfm_recency BETWEEN 4 AND 5",
        "lower(city) IN ('stockholm', 'göteborg')",
        "date_diff('day', last_order_at, as_of_date) > 90",
        "CASE WHEN orders_count > 3 THEN true ELSE false END",
        "email ILIKE '%@example.se' AND country = 'SE'",
    ],
)
def test_ordinary_predicates_pass_and_come_back_quoted(predicate):
    sql = guard_predicate("ok", predicate, COLUMNS)
    assert sql and ";" not in sql


def test_every_shipped_default_passes_the_guard():
    defs = load_segment_definitions()
    names = {d.name for d in defs}
    assert {
        "champions",
        "loyal",
        "at_risk",
        "hibernating",
        "new_customers",
        "lapsed_buyers",
        "email_engaged_non_buyers",
        "cart_abandoners",
        "top_spenders_10pct",
        "sms_reachable",
    } <= names
    for d in defs:
        guard_predicate(d.name, d.predicate, COLUMNS)


def test_sandbox_cannot_reach_files_or_unlock_itself():
    con = duckdb.connect()
    write_golden(con, sample_customers())
    sandbox = open_sandbox(con.sql("SELECT * FROM golden.customers").to_arrow_table())
    try:
        with pytest.raises(duckdb.Error):
            sandbox.execute("SELECT * FROM read_csv('/etc/passwd')")
        with pytest.raises(duckdb.Error):
            sandbox.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.Error):
            sandbox.execute("ATTACH '/tmp/should_not_exist.duckdb'")
        assert sandbox.execute("SELECT count(*) FROM customers").fetchone()[0] == 6
    finally:
        sandbox.close()


def test_loader_keeps_a_malformed_entry_as_its_own_failure_and_refuses_duplicates():
    defs = parse_segment_definitions({"segments": [{"name": "a", "predicate": "has_abandoned_cart"}, {"name": "b"}]})
    assert defs[0].load_error is None
    assert "segment 'b'" in defs[1].load_error and "no predicate" in defs[1].load_error
    with pytest.raises(ValueError, match="defined twice"):
        parse_segment_definitions({"segments": [{"name": "a", "predicate": "true"}] * 2})
    with pytest.raises(ValueError, match="name"):
        parse_segment_definitions({"segments": [{"name": "Bad Name", "predicate": "true"}]})


def test_the_guard_names_the_columns_a_predicate_reads():
    columns = {"orders_count": "BIGINT", "Last_Order_At": "TIMESTAMP", "as_of_date": "DATE", "cookies": "VARCHAR[]"}
    sql, used = guard_predicate_columns(
        "s", "orders_count > 0 AND LAST_ORDER_AT < as_of_date - INTERVAL 180 DAY AND len(cookies) > 0", columns
    )
    assert used == {"orders_count", "last_order_at", "as_of_date", "cookies"}
    assert '"orders_count"' in sql
