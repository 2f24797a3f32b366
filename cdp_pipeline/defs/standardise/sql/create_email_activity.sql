-- ESP campaign activity (open, click, bounce), deduplicated and attached to the member record.
CREATE OR REPLACE TABLE staging.email_activity AS
WITH members AS (
    SELECT email, arg_min(source_record_id, source_record_id) AS source_record_id
    FROM staging.identity_records
    WHERE source = 'esp' AND email IS NOT NULL
    GROUP BY email
),
activity AS (
    SELECT std_email(email_address) AS email,
           lower(trim(action)) AS action,
           std_timestamp("timestamp", 'UTC') AS event_time,
           nullif(trim(campaign_id), '') AS campaign_id,
           nullif(trim(campaign_title), '') AS campaign_title,
           nullif(trim(url), '') AS url
    FROM raw.esp_activity
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
