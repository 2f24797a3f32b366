"""The segments schema's steps as plain functions on an in-memory warehouse: the run date, and a
failed definition that keeps its previous members."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb
import pytest

from cdp_pipeline.lib.segments import store
from cdp_pipeline.lib.segments.evaluate import SegmentResult
from cdp_pipeline_tests.lib.segments.golden_fixture import sample_customers, write_golden


def test_run_date_is_goldens_as_of_date_and_today_in_the_business_zone_while_golden_is_empty():
    con = duckdb.connect()
    write_golden(con, sample_customers(date(2025, 6, 1)))
    con.execute("DELETE FROM golden.customers")
    # The two zones are 25 hours apart: their dates always differ, so only the zone's own date passes
    # both. Read before and after, in case midnight passes in between.
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        before = datetime.now(ZoneInfo(zone)).date()
        assert store.run_date(con, zone) in {before, datetime.now(ZoneInfo(zone)).date()}
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


def test_a_member_keeps_its_entry_date_and_a_run_as_of_an_earlier_day_dates_it_no_later():
    con = duckdb.connect()
    store.ensure_segment_tables(con)
    day1, day2, day3 = date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 3)

    def members_since(day, customer_ids):
        store.write_membership(con, day, [SegmentResult("vip", "ok", customer_ids=customer_ids)])
        return con.execute("SELECT customer_id, since FROM segments.membership ORDER BY ALL").fetchall()

    assert members_since(day2, ["c1"]) == [("c1", day2)]
    assert members_since(day3, ["c1", "c2"]) == [("c1", day2), ("c2", day3)]  # c1 entered on day 2
    # a rerun as of day 1 (an old day backfilled): nobody is a member since a later day than the run's
    assert members_since(day1, ["c1", "c2"]) == [("c1", day1), ("c2", day1)]


@pytest.mark.parametrize(
    "change, expected",
    [
        ("", []),
        ("DELETE FROM segments.history WHERE customer_id = 'c2'", [("member without one open stay", "vip", "c2")]),
        ("DELETE FROM segments.membership WHERE customer_id = 'c2'", [("open stay of a non-member", "vip", "c2")]),
        (
            "UPDATE segments.history SET customer_id = 'c9' WHERE customer_id = 'c2'",
            [("member without one open stay", "vip", "c2"), ("open stay of a non-member", "vip", "c9")],
        ),
        (
            "INSERT INTO segments.history VALUES ('vip', 'c2', DATE '2025-06-02', NULL)",
            [("member without one open stay", "vip", "c2")],
        ),
        (
            "INSERT INTO segments.history VALUES ('all', 'c1', DATE '2025-06-02', DATE '2025-06-01')",
            [("stay ends before it begins", "all", "c1")],
        ),
        # a member listed twice with its one open stay: not a disagreement for the per-row comparison
        ("INSERT INTO segments.membership SELECT * FROM segments.membership WHERE customer_id = 'c1' LIMIT 1", []),
    ],
)
def test_history_mismatches_are_the_per_row_comparisons_whichever_query_finds_them(monkeypatch, change, expected):
    """history_mismatches answers from counts and key hash sums when history and membership agree,
    and runs the per-row comparison otherwise: its rows either way."""
    queries = []
    fetch = store.fetch_sql
    monkeypatch.setattr(store, "fetch_sql", lambda con, d, name, *a, **k: queries.append(name) or fetch(con, d, name))
    con = duckdb.connect()
    store.ensure_segment_tables(con)
    store.write_membership(
        con,
        date(2025, 6, 1),
        [SegmentResult("vip", "ok", customer_ids=["c1", "c2"]), SegmentResult("all", "ok", customer_ids=["c1"])],
    )
    store.update_history(con, date(2025, 6, 1))
    if change:
        con.execute(change)
    queries.clear()
    found = store.history_mismatches(con)
    assert found == expected == fetch(con, store.SQL_DIR, "select_history_mismatches")
    assert queries == ([] if not change else ["select_history_mismatches"])
