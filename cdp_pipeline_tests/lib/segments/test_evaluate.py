"""Segments evaluated in the sandbox: right members, helper columns, bad definitions isolated."""

import duckdb

from cdp_pipeline.lib.segments.definitions import SegmentDefinition, load_segment_definitions
from cdp_pipeline.lib.segments.evaluate import evaluate_segments
from cdp_pipeline_tests.lib.segments.golden_fixture import customer, sample_customers, write_golden


def _arrow(rows):
    con = duckdb.connect()
    write_golden(con, rows)
    return con.sql("SELECT * FROM golden.customers").to_arrow_table()


def test_default_segments_find_the_hand_computed_members():
    results = {r.name: r for r in evaluate_segments(_arrow(sample_customers()), load_segment_definitions())}
    assert all(r.status == "ok" for r in results.values()), [r.error for r in results.values()]
    expected = {
        "champions": ["c1", "c3"], "loyal": ["c2"], "at_risk": ["c6"], "hibernating": ["c4"],
        "new_customers": [], "lapsed_buyers": ["c4", "c6"],  # last order before 2024-12-03
        "email_engaged_non_buyers": ["c5"], "cart_abandoners": ["c5"],
        "top_spenders_10pct": ["c1"], "sms_reachable": ["c1", "c3"],
    }
    assert {n: results[n].customer_ids for n in expected} == expected


def test_spend_percentile_is_the_top_tenth_of_buyers():
    rows = [customer(f"c{i:02d}", orders_count=1, total_spend=i * 10) for i in range(1, 21)]
    rows.append(customer("nobuy", orders_count=0, total_spend=0))
    top = evaluate_segments(_arrow(rows), [SegmentDefinition("top", "", "spend_percentile >= 0.9")])[0]
    assert top.customer_ids == ["c19", "c20"]


def test_a_bad_definition_fails_alone():
    defs = [SegmentDefinition("good", "", "has_abandoned_cart"),
            SegmentDefinition("evil", "", "getenv('HOME') IS NOT NULL"),
            SegmentDefinition("typed_wrong", "", "first_name"),
            SegmentDefinition("runtime", "", "CAST(first_name AS INTEGER) > 1")]
    res = {r.name: r for r in evaluate_segments(_arrow(sample_customers()), defs)}
    assert res["good"].status == "ok" and res["good"].customer_ids == ["c5"]
    assert res["evil"].status == "error" and "getenv" in res["evil"].error and "'evil'" in res["evil"].error
    assert res["typed_wrong"].status == "error" and "boolean" in res["typed_wrong"].error
    assert res["runtime"].status == "error" and "'runtime'" in res["runtime"].error
