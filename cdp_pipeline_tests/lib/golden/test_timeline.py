"""golden.customer_timeline: every mapped event once, with channel, type, summary and references."""

from datetime import datetime

import duckdb

from cdp_pipeline.lib.golden import quality, timeline
from cdp_pipeline.lib.golden.build import build_golden
from cdp_pipeline_tests.lib.golden.world import AS_OF, world_db


def test_rows_per_customer_channel_and_type(world):
    got = world.execute("""SELECT customer_id, channel, event_type, count(*) FROM golden.customer_timeline
                           GROUP BY ALL ORDER BY ALL""").fetchall()
    assert got == [
        ("C1", "email", "consent_granted", 2),
        ("C1", "email", "consent_revoked", 1),
        ("C1", "email", "email_click", 1),
        ("C1", "email", "email_open", 3),
        ("C1", "online", "online_order", 2),
        ("C1", "sms", "consent_granted", 2),
        ("C1", "sms", "consent_revoked", 1),
        ("C1", "sms", "sms_inbound", 2),
        ("C1", "sms", "sms_outbound", 2),
        ("C1", "store", "store_receipt", 2),
        ("C1", "web", "add_to_cart", 1),
        ("C1", "web", "login", 1),
        ("C1", "web", "web_session", 2),
        ("C1", "whatsapp", "whatsapp_inbound", 1),
        ("C2", "email", "consent_granted", 1),
        ("C2", "online", "online_order", 1),
        ("C3", "email", "consent_granted", 2),
        ("C3", "email", "consent_revoked", 1),
        ("C4", "web", "add_to_cart", 2),
    ]


def test_unmapped_anonymous_page_view_and_future_events_are_left_out(world):
    refs = {r[0] for r in world.execute("SELECT event_ref FROM golden.customer_timeline").fetchall()}
    # a5: a stranger's open; receipt:S1:R3 anonymous; s3 anonymous session; w1/w4 page views;
    # receipt:S2:R9 after the cutoff.
    assert not refs & {"a5", "receipt:S1:R3", "s3", "w1", "w4", "receipt:S2:R9"}


def test_a_row_carries_its_source_record_and_a_readable_summary(world):
    row = world.execute("""SELECT * FROM golden.customer_timeline WHERE event_ref = 'order:#1001'""").fetchone()
    assert row == (
        "C1",
        datetime(2025, 1, 7, 12),
        "online",
        "online_order",
        "Online order #1001: 500.00 SEK (refunded 100.00)",
        "pos",
        "order:#1001",
        "order:#1001",
    )
    consent = world.execute("""SELECT summary, event_ref FROM golden.customer_timeline
                               WHERE customer_id = 'C3' AND event_type = 'consent_revoked'""").fetchone()
    assert consent == (
        "Email consent revoked (cleaned) for cecilia@mail.se",
        "consent|email|cecilia@mail.se|revoked|cleaned|2025-01-03T10:00:00",
    )


def test_timeline_is_ordered_by_customer_then_time(world):
    rows = world.execute("SELECT customer_id, event_time FROM golden.customer_timeline").fetchall()
    assert rows == sorted(rows)


def test_completeness_check_passes_then_fails_when_an_event_is_lost_or_doubled(fresh_world):
    world = fresh_world
    assert quality.check_timeline_complete(world).passed
    world.execute("DELETE FROM golden.customer_timeline WHERE event_ref = 'm3'")
    world.execute("INSERT INTO golden.customer_timeline SELECT * FROM golden.customer_timeline WHERE event_ref = 'a1'")
    outcome = quality.check_timeline_complete(world)
    assert not outcome.passed
    assert outcome.metadata == {"email_activity_miscounted": 1, "sms_messages_missing": 1}


def test_one_statement_and_a_temp_table_store_the_same_rows_in_the_same_order(monkeypatch):
    """A whole build sorts and stores the timeline in one statement when the memory limit allows,
    through a temp table otherwise: the same rows, stored in the same order."""
    calls = []
    real = timeline.run_sql
    monkeypatch.setattr(
        timeline, "run_sql", lambda con, d, name, *a, **k: calls.append(name) or real(con, d, name, *a, **k)
    )
    stored = {}
    for per_row in (0, 10**15):
        monkeypatch.setattr(timeline, "_BYTES_PER_ROW_FOR_ONE_STATEMENT", per_row)
        calls.clear()
        con = world_db()
        build_golden(con, AS_OF, tz="UTC")
        stored[per_row] = con.execute("SELECT * FROM golden.customer_timeline").fetchall()
        con.close()
        one = "insert_customer_timeline_rows" in calls
        assert one == (per_row == 0) and ("create_timeline_events" in calls) == (not one)
    assert len(stored[0]) > 10 and stored[0] == stored[10**15]


def test_memory_limit_in_bytes():
    for limit, low, high in (("600MB", 599e6, 600e6), ("4GB", 3.9e9, 4.0e9)):
        con = duckdb.connect(config={"memory_limit": limit})
        assert low <= timeline.memory_limit_bytes(con) <= high
        con.close()
