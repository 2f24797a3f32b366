"""golden.customer_timeline: every mapped event once, with channel, type, summary and references."""

from datetime import datetime

from cdp_pipeline.lib.golden import quality


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
