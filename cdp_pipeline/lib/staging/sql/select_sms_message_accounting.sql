-- Accounts for every raw SMS row in staging.sms_messages: a message (its key as create_sms_messages.sql makes it) is in staging once, however often it was delivered.
-- The raw keys are made and grouped once (each message with its number of deliveries), and the figures read off the
-- groups: counting the rows, the distinct keys and the missing keys in three subqueries made the keys up to three times.
WITH raw_keys AS (
    SELECT coalesce(nullif(trim(sid), ''), md5(concat_ws('|', "from", "to", body, sent_date, direction))) AS message_id
    FROM raw.sms_messages
),
messages AS (
    SELECT message_id, count(*) AS deliveries FROM raw_keys GROUP BY message_id
)
SELECT coalesce(sum(deliveries), 0) AS raw_rows,
       count(message_id) AS messages,
       (SELECT count(*) FROM staging.sms_messages) AS staged,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM staging.sms_messages s WHERE s.message_id = r.message_id))
           AS missing,
       (SELECT count(*) FROM staging.sms_messages WHERE channel <> 'sms') AS other_channels,
       (SELECT count(*) FROM staging.sms_messages WHERE list_contains(dq_flags, 'unreadable_number')) AS unreadable_number
FROM messages AS r
