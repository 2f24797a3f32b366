-- Add the timeline rows of the records being rebuilt (temp._golden_timeline_events; their old rows were deleted) to golden.customer_timeline.
INSERT INTO golden.customer_timeline
FROM temp._golden_timeline_events
ORDER BY customer_id, event_time, channel, event_type, event_ref
