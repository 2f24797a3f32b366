-- Accounts for every raw GA4 row: a staged event (once, however often delivered), or a consent-mode ping without a cookie (counted, not staged).
-- One pass over the raw rows (their cookie and time are parsed once, the staged events looked up by a mark join): counting
-- them, their pings and their missing events in three subqueries read and parsed raw.web_events three times.
WITH raw_rows AS (
    SELECT nullif(trim(user_pseudo_id), '') AS cookie,
           make_timestamp(TRY_CAST(event_timestamp AS BIGINT)) AS event_time, event_name
    FROM raw.web_events
)
SELECT count(*) AS raw_rows,
       count(*) FILTER (WHERE r.cookie IS NULL) AS cookieless_pings,
       (SELECT count(*) FROM staging.web_events) AS staged,
       count(*) FILTER (WHERE r.cookie IS NOT NULL
                          AND NOT EXISTS (SELECT 1 FROM staging.web_events s
                                          WHERE s.cookie = r.cookie AND s.event_time IS NOT DISTINCT FROM r.event_time
                                            AND s.event_name = r.event_name)) AS missing
FROM raw_rows AS r
