-- ESP campaign activity (open, click, bounce), deduplicated and attached to the member record.
-- lib/staging/incremental.py rebuilds only the activities in a night's files and re-attaches
-- the rest to changed members: its key must stay the same for all rows of an activity_id, and
-- its members statement as ``members`` computes them.
-- Its rows as a view over temp.raw_<table> (the whole raw table, or the affected keys' rows:
-- lib/staging/incremental.py); create_staging_table.sql or insert_staging_rows.sql writes them.
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
           nullif(trim(r.url), '') AS url
    FROM temp.raw_esp_activity r
    JOIN emails e USING (email_address)
    JOIN event_times t USING ("timestamp")
)
SELECT md5(concat_ws('|', a.email, a.action, a.event_time, a.campaign_id, a.url)) AS activity_id,
       'esp' AS source,
       coalesce(m.source_record_id, a.email) AS source_record_id,
       a.email, a.action, a.event_time, a.campaign_id, a.campaign_title, a.url
FROM activity a
LEFT JOIN members m USING (email)
WHERE a.email IS NOT NULL AND a.event_time IS NOT NULL AND a.action IN ('open', 'click', 'bounce')
QUALIFY row_number() OVER (PARTITION BY activity_id ORDER BY a.campaign_title NULLS LAST) = 1
ORDER BY event_time, activity_id
