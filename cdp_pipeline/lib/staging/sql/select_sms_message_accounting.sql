-- Accounts for every raw SMS row in staging.sms_messages: a message (its key as create_sms_messages.sql makes it) is in staging once, however often it was delivered.
-- The raw rows' distinct keys are grouped once and read by both the message count and the look-up of missing
-- messages (each grouped them on its own before: two hash aggregates of every raw key, 0.04-0.09 CPU s at 1M records).
WITH raw_keys AS (
    SELECT coalesce(nullif(trim(sid), ''), md5(concat_ws('|', "from", "to", body, sent_date, direction))) AS message_id
    FROM raw.sms_messages
),
messages AS MATERIALIZED (
    SELECT DISTINCT message_id FROM raw_keys
)
SELECT (SELECT count(*) FROM raw_keys) AS raw_rows,
       (SELECT count(*) FROM messages) AS messages,
       (SELECT count(*) FROM staging.sms_messages) AS staged,
       (SELECT count(*) FROM messages r
        WHERE NOT EXISTS (SELECT 1 FROM staging.sms_messages s WHERE s.message_id = r.message_id)) AS missing,
       (SELECT count(*) FROM staging.sms_messages WHERE channel <> 'sms') AS other_channels,
       (SELECT count(*) FROM staging.sms_messages WHERE list_contains(dq_flags, 'unreadable_number')) AS unreadable_number
