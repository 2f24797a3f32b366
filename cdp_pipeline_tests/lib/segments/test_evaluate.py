"""Segments evaluated in the sandbox: right members, helper columns, bad definitions isolated."""

from datetime import datetime

import duckdb

from cdp_pipeline.lib.segments.definitions import SegmentDefinition, load_segment_definitions
from cdp_pipeline.lib.segments.evaluate import (
    evaluate_definition,
    evaluate_segments,
    evaluate_segments_loading,
    open_sandbox,
    sandbox_columns,
)
from cdp_pipeline_tests.lib.segments.golden_fixture import customer, sample_customers, write_golden


def _arrow(rows):
    con = duckdb.connect()
    write_golden(con, rows)
    return con.sql("SELECT * FROM golden.customers").to_arrow_table()


def test_default_segments_find_the_hand_computed_members():
    results = {r.name: r for r in evaluate_segments(_arrow(sample_customers()), load_segment_definitions())}
    assert all(r.status == "ok" for r in results.values()), [r.error for r in results.values()]
    expected = {
        "champions": ["c1", "c3"],
        "loyal": ["c2"],
        "at_risk": ["c6"],
        "hibernating": ["c4"],
        "new_customers": [],
        "lapsed_buyers": ["c4", "c6"],  # last order before 2024-12-03
        "email_engaged_non_buyers": ["c5"],
        "cart_abandoners": ["c5"],
        "top_spenders_10pct": ["c1"],
        "sms_reachable": ["c1", "c3"],
    }
    assert {n: results[n].customer_ids for n in expected} == expected


def test_lapsed_buyers_count_local_days():
    # As of 2025-06-01, 180 days back is 2024-12-03. An order at 2024-12-02 23:30 UTC was placed at
    # 00:30 on 2024-12-03 in Stockholm: 180 local days ago (golden's days_since_last_order), not
    # lapsed; one on 2024-12-02 local (181 days) is. Its UTC time against as_of_date said lapsed.
    rows = [
        customer("edge", orders_count=1, last_order_at=datetime(2024, 12, 2, 23, 30), days_since_last_order=180),
        customer("old", orders_count=1, last_order_at=datetime(2024, 12, 2, 12, 0), days_since_last_order=181),
    ]
    lapsed = next(d for d in load_segment_definitions() if d.name == "lapsed_buyers")
    assert evaluate_segments(_arrow(rows), [lapsed])[0].customer_ids == ["old"]


def test_spend_percentile_is_the_top_tenth_of_buyers():
    rows = [customer(f"c{i:02d}", orders_count=1, total_spend=i * 10) for i in range(1, 21)]
    rows.append(customer("nobuy", orders_count=0, total_spend=0))
    top = evaluate_segments(_arrow(rows), [SegmentDefinition("top", "", "spend_percentile >= 0.9")])[0]
    assert top.customer_ids == ["c19", "c20"]


def test_a_bad_definition_fails_alone():
    defs = [
        SegmentDefinition("good", "", "has_abandoned_cart"),
        SegmentDefinition("evil", "", "getenv('HOME') IS NOT NULL"),
        SegmentDefinition("typed_wrong", "", "first_name"),
        SegmentDefinition("runtime", "", "CAST(first_name AS INTEGER) > 1"),
        SegmentDefinition("deep", "", "(" * 100 + "has_abandoned_cart" + ")" * 100),
    ]
    res = {r.name: r for r in evaluate_segments(_arrow(sample_customers()), defs)}
    assert res["deep"].status == "error" and "nested too deeply" in res["deep"].error
    assert res["good"].status == "ok" and res["good"].customer_ids == ["c5"]
    assert res["evil"].status == "error" and "getenv" in res["evil"].error and "'evil'" in res["evil"].error
    assert res["typed_wrong"].status == "error" and "boolean" in res["typed_wrong"].error
    assert res["runtime"].status == "error" and "'runtime'" in res["runtime"].error


def _full_sandbox_results(customers, definitions):
    """Every definition run over a sandbox holding every column: what evaluation used to copy."""
    con = open_sandbox(customers)
    try:
        columns = sandbox_columns(con)
        return [evaluate_definition(con, d, columns) for d in definitions]
    finally:
        con.close()


def test_only_the_columns_the_predicates_read_are_loaded():
    customers = _arrow(sample_customers())
    defs = [
        *load_segment_definitions(),
        SegmentDefinition("by_orders", "", "orders_percentile > 0.5 AND lower(first_name) LIKE 'a%'"),
        SegmentDefinition("evil", "", "getenv('HOME') IS NOT NULL"),
        # Fails on every row with the same message (which row fails first is DuckDB's choice).
        SegmentDefinition("runtime", "", "CAST(CAST(as_of_date AS VARCHAR) AS INTEGER) > 1"),
        SegmentDefinition("typed_wrong", "", "first_name"),
        SegmentDefinition("unknown", "", "no_such_column > 1"),
    ]
    loads = []

    def load(columns):
        loads.append(columns)
        return customers.select(columns)

    results = evaluate_segments_loading(customers.schema, load, defs)
    assert [(r.name, r.status, r.error, r.predicate_sql, r.customer_ids) for r in results] == [
        (r.name, r.status, r.error, r.predicate_sql, r.customer_ids) for r in _full_sandbox_results(customers, defs)
    ]
    assert {r.name: r for r in results}["by_orders"].customer_ids  # the helper was computed
    # One load, in golden's column order: the key, the helpers' inputs, the columns predicates name.
    assert loads == [
        [
            c
            for c in customers.schema.names
            if c
            in {
                "customer_id",
                "total_spend",
                "orders_count",
                "first_name",
                "rfm_segment",
                "days_since_last_order",
                "as_of_date",
                "email_opens_90d",
                "email_clicks_90d",
                "has_abandoned_cart",
                "sms_contactable",
            }
        ]
    ]


def test_nothing_is_loaded_when_no_definition_passes_the_guard():
    customers = _arrow(sample_customers())
    results = evaluate_segments_loading(
        customers.schema, lambda columns: 1 / 0, [SegmentDefinition("evil", "", "getenv('HOME') IS NOT NULL")]
    )
    assert [r.status for r in results] == ["error"]
