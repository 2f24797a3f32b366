-- Add the timeline rows of temp._golden_timeline_events to golden.customer_timeline: a whole build's, to the table create_customer_timeline made empty; an incremental one's, of the records being rebuilt (their old rows were deleted).
INSERT INTO golden.customer_timeline BY NAME
FROM temp._golden_timeline_events
ORDER BY customer_id, event_time, channel, event_type, event_ref
