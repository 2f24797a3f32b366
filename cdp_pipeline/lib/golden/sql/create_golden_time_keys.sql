-- Find the records with a time between the kept build's cutoff and tonight's, or with a windowed trait's time as far before the start of that window: which side of the line such a time falls on has changed.
CREATE OR REPLACE TEMP TABLE _golden_time_keys AS
WITH times AS (
    -- timeline: the time decides whether a timeline row exists or what it says (an order cancelled before the cutoff);
    -- w30, w90: the time is one a trait of create_customer_traits.sql counts only within 30 (90) days before the
    -- cutoff: an ESP open or click (the email_opens/clicks_30d and _90d), a web session (web_sessions_30d) and an
    -- add-to-cart (has_abandoned_cart). The other times count on whichever side of the cutoff alone, so a record
    -- whose only time crosses a window's start keeps its customer's row (at 155,000 customers x 90 days a quiet
    -- night's time keys reach 13,770 customers instead of 22,664).
    SELECT source, source_record_id, ordered_at AS t, true AS timeline, false AS w30, false AS w90 FROM {orders}
    UNION ALL
    SELECT source, source_record_id, cancelled_at, true, false, false FROM {orders}
    UNION ALL
    SELECT source, source_record_id, event_time, true, action IN ('open', 'click'), action IN ('open', 'click')
    FROM {email_activity}
    UNION ALL
    SELECT source, source_record_id, sent_at, true, false, false FROM {sms_messages}
    UNION ALL
    SELECT source, source_record_id, started_at, true, true, false FROM {web_sessions}
    UNION ALL
    SELECT source, source_record_id, event_time, true, event_name = 'add_to_cart', false FROM {web_events}
    UNION ALL
    SELECT source, source_record_id, event_time, true, false, false FROM {consent_events}
    UNION ALL
    SELECT source, source_record_id, record_time, false, false, false FROM {identity_records}
)
-- Every time against the cutoff, and a windowed one against the start of its trait window (30 or 90 days before
-- the cutoff: incremental.TRAIT_WINDOWS_DAYS, kept equal to create_customer_traits.sql's by a test; which times
-- are windowed, by test_incremental.py's window tests).
SELECT hash(source, source_record_id) AS record_key,
       bool_or(timeline AND t >= CAST($lo AS TIMESTAMP) AND t < CAST($hi AS TIMESTAMP)) AS timeline
FROM times
WHERE (t >= CAST($lo AS TIMESTAMP) AND t < CAST($hi AS TIMESTAMP))
   OR (w30 AND t >= CAST($lo AS TIMESTAMP) - INTERVAL 30 DAY AND t < CAST($hi AS TIMESTAMP) - INTERVAL 30 DAY)
   OR (w90 AND t >= CAST($lo AS TIMESTAMP) - INTERVAL 90 DAY AND t < CAST($hi AS TIMESTAMP) - INTERVAL 90 DAY)
GROUP BY ALL
