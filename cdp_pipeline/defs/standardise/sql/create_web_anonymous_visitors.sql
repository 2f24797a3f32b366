-- Cookies never seen with a user_id: anonymous visitors, counted but not customers.
CREATE OR REPLACE TABLE staging.web_anonymous_visitors AS
SELECT cookie, min(event_time) AS first_seen, max(event_time) AS last_seen, count(*) AS events
FROM staging.web_events
WHERE source_record_id IS NULL
GROUP BY cookie
ORDER BY cookie
