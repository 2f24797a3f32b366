-- Store the timeline rows of every customer of the map (temp macro _golden_timeline_rows) as golden.customer_timeline.
CREATE OR REPLACE TABLE golden.customer_timeline AS
FROM _golden_timeline_rows($cutoff)
ORDER BY customer_id, event_time, channel, event_type, event_ref
