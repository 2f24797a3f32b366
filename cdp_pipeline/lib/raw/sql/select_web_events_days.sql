-- The GA4 events days raw holds rows of: a delivery of any other day has no older delivery in raw to be replaced by or to replace.
SELECT DISTINCT events_day
FROM raw.web_events
