-- Accounts for every raw SMS row in staging.sms_messages: a message (its key as create_sms_messages.sql makes it) is in staging once, however often it was delivered.
WITH raw_keys AS (
    SELECT coalesce(nullif(trim(sid), ''), md5(concat_ws('|', "from", "to", body, sent_date, direction))) AS message_id
    FROM raw.sms_messages
)
SELECT (SELECT count(*) FROM raw_keys) AS raw_rows,
       (SELECT count(DISTINCT message_id) FROM raw_keys) AS messages,
       (SELECT count(*) FROM staging.sms_messages) AS staged,
       (SELECT count(*) FROM (SELECT DISTINCT message_id FROM raw_keys) r
        WHERE NOT EXISTS (SELECT 1 FROM staging.sms_messages s WHERE s.message_id = r.message_id)) AS missing,
       (SELECT count(*) FROM staging.sms_messages WHERE channel <> 'sms') AS other_channels,
       (SELECT count(*) FROM staging.sms_messages WHERE list_contains(dq_flags, 'unreadable_number')) AS unreadable_number
