-- The SMS accounting's fast figures: the raw rows, their distinct message keys (as create_sms_messages.sql makes them) and
-- staging.sms_messages' keys, each as a count and a hash sum. Equal counts and sums are every night's case: then each raw message
-- is staged (sms_message_accounting); otherwise select_sms_message_accounting.sql counts what is missing.
WITH raw_keys AS (
    SELECT coalesce(nullif(trim(sid), ''), md5(concat_ws('|', "from", "to", body, sent_date, direction))) AS message_id
    FROM raw.sms_messages
),
messages AS (
    SELECT DISTINCT message_id FROM raw_keys
)
SELECT (SELECT count(*) FROM raw_keys) AS raw_rows,
       (SELECT count(*) FROM messages) AS messages,
       (SELECT coalesce(sum(hash(message_id)), 0) FROM messages) AS message_hash_sum,
       (SELECT count(*) FROM staging.sms_messages) AS staged,
       (SELECT coalesce(sum(hash(message_id)), 0) FROM staging.sms_messages) AS staged_hash_sum,
       (SELECT count(*) FROM staging.sms_messages WHERE message_id IS NULL) AS staged_null_keys,
       (SELECT count(*) FROM staging.sms_messages WHERE channel <> 'sms') AS other_channels,
       (SELECT count(*) FROM staging.sms_messages WHERE list_contains(dq_flags, 'unreadable_number')) AS unreadable_number
