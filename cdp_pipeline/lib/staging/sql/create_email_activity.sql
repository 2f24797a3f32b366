-- ESP campaign activity (open, click, bounce; privacy_open: an open an ESP marks Apple Mail Privacy Protection's),
-- deduplicated and attached to the member record.
-- lib/staging/incremental.py rebuilds only the activities in a night's files and re-attaches
-- the rest to changed members: its key must stay the same for all rows of an activity_id, and
-- its members statement as ``members`` computes them.
-- Its rows as a view over temp.raw_<table> (the whole raw table, or the affected keys' rows:
-- lib/staging/incremental.py); insert_staging_rows.sql writes them.
CREATE OR REPLACE TEMP VIEW email_activity_rows AS
WITH members AS (
    SELECT email, arg_min(source_record_id, source_record_id) AS source_record_id
    FROM staging.identity_records
    WHERE source = 'esp' AND email IS NOT NULL
    GROUP BY email
),
-- Each distinct address and time is read once (a member has many activity rows; a campaign's
-- opens share timestamps), by the SQL macros of lib/staging/macros.sql, which hand only
-- the forms SQL does not read to the Python. MATERIALIZED keeps DuckDB from pushing the NULL
-- filters below (per row) into the function calls.
emails AS MATERIALIZED (
    SELECT email_address, std_email(email_address) AS email
    FROM (SELECT DISTINCT email_address FROM temp.raw_esp_activity WHERE email_address IS NOT NULL)
),
event_times AS MATERIALIZED (
    SELECT "timestamp", std_timestamp("timestamp", 'UTC') AS event_time
    FROM (SELECT DISTINCT "timestamp" FROM temp.raw_esp_activity WHERE "timestamp" IS NOT NULL)
),
activity AS (
    SELECT e.email,
           lower(trim(r.action)) AS action,
           t.event_time,
           nullif(trim(r.campaign_id), '') AS campaign_id,
           nullif(trim(r.campaign_title), '') AS campaign_title,
           nullif(trim(r.url), '') AS url,
           -- Klaviyo marks each open with Apple Privacy Open (True/False): opened in Apple Mail with Mail Privacy
           -- Protection, which fetches every message's images whether or not the person reads it. Not a column of
           -- the activity contract, so read from _extra under Klaviyo's header (or its snake_case spelling); in SQL,
           -- not by std_bool (a Python function called for every activity row).
           r._extra IS NOT NULL
           AND coalesce(lower(trim(coalesce(r._extra ->> '$."Apple Privacy Open"', r._extra ->> '$."apple_privacy_open"')))
                        IN ('true', 'yes', '1'), false) AS privacy_open
    FROM temp.raw_esp_activity r
    JOIN emails e USING (email_address)
    JOIN event_times t USING ("timestamp")
),
-- One row per activity_id: the row with the first campaign title (a title over none), found by
-- one aggregate per activity (cheaper than a window over every row); the rest of the order
-- only makes the choice between rows that differ otherwise (none in practice) deterministic.
-- Not min() of the struct with the title first, which picks the same rows 0.15 CPU s cheaper at 1M
-- records: at 10M (6.98M ESP rows) its aggregate ran out of DuckDB's 4 GB memory limit, where this
-- ordered aggregate passes (benchmarks/results/2026-12-06-s35-staging-1m.md).
deduplicated AS (
    SELECT activity_id,
           first({'email': email, 'action': action, 'event_time': event_time, 'campaign_id': campaign_id,
                  'campaign_title': campaign_title, 'url': url, 'privacy_open': privacy_open}
                 ORDER BY campaign_title NULLS LAST, email, action, event_time, campaign_id, url, privacy_open) AS a
    FROM (
        SELECT md5(concat_ws('|', email, action, event_time, campaign_id, url)) AS activity_id, *
        FROM activity
        WHERE email IS NOT NULL AND event_time IS NOT NULL AND action IN ('open', 'click', 'bounce')
    )
    GROUP BY activity_id
)
SELECT d.activity_id,
       'esp' AS source,
       coalesce(m.source_record_id, d.a.email) AS source_record_id,
       d.a.email AS email,
       -- an Apple Mail Privacy Protection open is action privacy_open (its activity_id the open's): a machine may
       -- have opened it, so the golden traits (email_opens_30d/_90d) and the engaged segments do not count it
       CASE WHEN d.a.action = 'open' AND d.a.privacy_open THEN 'privacy_open' ELSE d.a.action END AS action,
       d.a.event_time AS event_time, d.a.campaign_id AS campaign_id,
       d.a.campaign_title AS campaign_title, d.a.url AS url
FROM deduplicated d
LEFT JOIN members m ON m.email = d.a.email
