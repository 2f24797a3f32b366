-- Add the timeline rows of the records being rebuilt (their old rows were deleted) to golden.customer_timeline.
INSERT INTO golden.customer_timeline
FROM _golden_timeline_rows($cutoff)
ORDER BY customer_id, event_time, channel, event_type, event_ref
