-- Web sessions: one row per GA4 session (cookie + ga_session_id), with what happened in it.
-- Its rows as a view; insert_staging_rows.sql writes them (lib/staging/incremental.py).
CREATE OR REPLACE TEMP VIEW web_sessions_rows AS
SELECT session_id,
       'web' AS source,
       max(source_record_id) AS source_record_id,
       min(cookie) AS cookie,
       min(event_time) AS started_at,
       max(event_time) AS ended_at,
       count(*) AS events,
       count(*) FILTER (WHERE event_name = 'page_view') AS page_views,
       count(*) FILTER (WHERE event_name = 'add_to_cart') AS add_to_carts,
       count(*) FILTER (WHERE event_name = 'purchase') AS purchases
FROM staging.web_events
WHERE session_id IS NOT NULL
GROUP BY session_id
