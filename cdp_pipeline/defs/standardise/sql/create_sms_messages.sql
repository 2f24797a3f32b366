-- SMS messages in and out, one row per message, with the customer's number and opt-out/in keyword.
CREATE OR REPLACE TABLE staging.sms_messages AS
WITH raw_messages AS (
    SELECT coalesce(nullif(trim(sid), ''),
                    md5(concat_ws('|', "from", "to", body, sent_date, direction))) AS message_id,
           CASE WHEN lower(trim(direction)) LIKE 'inbound%' THEN 'inbound' ELSE 'outbound' END AS direction,
           CASE WHEN lower(trim(direction)) LIKE 'inbound%' THEN "from" ELSE "to" END AS raw_phone,
           body,
           lower(nullif(trim(status), '')) AS status,
           sent_date,
           nullif(trim(error_code), '') AS error_code,
           _landing_date, _file, _line
    FROM raw.sms_messages
),
-- The standardisation functions are Python: each distinct number and send time is read
-- once (a number is on every message to it; a campaign's messages share their time).
-- MATERIALIZED keeps DuckDB from pushing `customer_phone IS NOT NULL` down to every row.
phones AS MATERIALIZED (
    SELECT raw_phone, std_phone(raw_phone, NULL) AS customer_phone
    FROM (SELECT DISTINCT raw_phone FROM raw_messages WHERE raw_phone IS NOT NULL)
),
sent_times AS MATERIALIZED (
    SELECT sent_date, std_timestamp(sent_date, 'UTC') AS sent_at
    FROM (SELECT DISTINCT sent_date FROM raw_messages WHERE sent_date IS NOT NULL)
),
messages AS (
    SELECT m.*, p.customer_phone, t.sent_at
    FROM raw_messages m
    JOIN phones p USING (raw_phone)
    LEFT JOIN sent_times t USING (sent_date)
)
SELECT message_id, 'sms' AS source, customer_phone AS source_record_id, direction, body, status, sent_at,
       CASE WHEN direction = 'inbound' THEN std_sms_keyword(body) END AS keyword,
       error_code
FROM messages
WHERE customer_phone IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY _landing_date DESC, _file DESC, _line DESC) = 1
ORDER BY sent_at, message_id
