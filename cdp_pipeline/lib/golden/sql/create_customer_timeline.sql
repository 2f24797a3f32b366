-- Store the timeline rows (temp._golden_timeline_events) as golden.customer_timeline.
CREATE OR REPLACE TABLE golden.customer_timeline AS
FROM temp._golden_timeline_events
ORDER BY customer_id, event_time, channel, event_type, event_ref
