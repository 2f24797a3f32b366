-- Find the records with a time between the kept build's cutoff and tonight's, or as far before the start of a trait window: which side of the line such a time falls on has changed.
CREATE OR REPLACE TEMP TABLE _golden_time_keys AS
WITH times AS (
    -- timeline: the time decides whether a timeline row exists or what it says (an order cancelled before the cutoff)
    SELECT source, source_record_id, ordered_at AS t, true AS timeline FROM {orders}
    UNION ALL
    SELECT source, source_record_id, cancelled_at, true FROM {orders}
    UNION ALL
    SELECT source, source_record_id, event_time, true FROM {email_activity}
    UNION ALL
    SELECT source, source_record_id, sent_at, true FROM {sms_messages}
    UNION ALL
    SELECT source, source_record_id, started_at, true FROM {web_sessions}
    UNION ALL
    SELECT source, source_record_id, event_time, true FROM {web_events}
    UNION ALL
    SELECT source, source_record_id, event_time, true FROM {consent_events}
    UNION ALL
    SELECT source, source_record_id, record_time, false FROM {identity_records}
)
-- Every time against the cutoff and against the start of every trait window (30 and 90 days
-- before it: incremental.TRAIT_WINDOWS_DAYS, kept equal to create_customer_traits.sql's by a
-- test), whichever table the trait reads: more records than strictly needed, never fewer.
SELECT hash(source, source_record_id) AS record_key,
       bool_or(timeline AND t >= CAST($lo AS TIMESTAMP) AND t < CAST($hi AS TIMESTAMP)) AS timeline
FROM times
WHERE (t >= CAST($lo AS TIMESTAMP) AND t < CAST($hi AS TIMESTAMP))
   OR (t >= CAST($lo AS TIMESTAMP) - INTERVAL 30 DAY AND t < CAST($hi AS TIMESTAMP) - INTERVAL 30 DAY)
   OR (t >= CAST($lo AS TIMESTAMP) - INTERVAL 90 DAY AND t < CAST($hi AS TIMESTAMP) - INTERVAL 90 DAY)
GROUP BY ALL
