-- Accounts for every raw GA4 row: a staged event (once, however often delivered), or a consent-mode ping without a cookie (counted, not staged).
WITH raw_rows AS (
    SELECT nullif(trim(user_pseudo_id), '') AS cookie,
           make_timestamp(TRY_CAST(event_timestamp AS BIGINT)) AS event_time, event_name
    FROM raw.web_events
)
SELECT (SELECT count(*) FROM raw_rows) AS raw_rows,
       (SELECT count(*) FROM raw_rows WHERE cookie IS NULL) AS cookieless_pings,
       (SELECT count(*) FROM staging.web_events) AS staged,
       (SELECT count(*) FROM raw_rows r
        WHERE r.cookie IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM staging.web_events s
                          WHERE s.cookie = r.cookie AND s.event_time IS NOT DISTINCT FROM r.event_time
                            AND s.event_name = r.event_name)) AS missing
