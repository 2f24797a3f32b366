"""The segments schema's steps as plain functions on an in-memory warehouse: the run date, and a
failed definition that keeps its previous members."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb

from cdp_pipeline.lib.segments import store
from cdp_pipeline.lib.segments.evaluate import SegmentResult
from cdp_pipeline_tests.lib.segments.golden_fixture import sample_customers, write_golden


def test_run_date_is_goldens_as_of_date_and_today_in_the_business_zone_while_golden_is_empty():
    con = duckdb.connect()
    write_golden(con, sample_customers(date(2025, 6, 1)))
    con.execute("DELETE FROM golden.customers")
    assert store.run_date(con, "Pacific/Kiritimati") == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert store.run_date(con, "Pacific/Pago_Pago") == datetime.now(ZoneInfo("Pacific/Pago_Pago")).date()
    write_golden(con, sample_customers(date(2025, 6, 1)))
    assert store.run_date(con, "Pacific/Kiritimati") == date(2025, 6, 1)


def test_a_failed_definition_keeps_its_members_and_history_and_sizes_follow_membership():
    con = duckdb.connect()
    store.ensure_segment_tables(con)
    day1, day2 = date(2025, 6, 1), date(2025, 6, 2)
    store.write_membership(
        con,
        day1,
        [SegmentResult("vip", "ok", customer_ids=["c1", "c2"]), SegmentResult("all", "ok", customer_ids=["c1"])],
    )
    store.update_history(con, day1)
    change = store.write_membership(
        con, day2, [SegmentResult("vip", "error", error="boom"), SegmentResult("all", "ok", customer_ids=["c3"])]
    )
    assert change.previous == {"all": 1, "vip": 2} and change.current == {"all": 1, "vip": 2}
    assert change.kept == ["vip"] and change.sizes == {"vip": 2, "all": 1}
    history = store.update_history(con, day2)
    assert (history.entered, history.exited, history.stays) == (1, 1, 4)
    assert store.history_mismatches(con) == []
