-- SMS messages in and out, one row per message, with the customer's number and opt-out/in keyword.
CREATE OR REPLACE TABLE staging.sms_messages AS
WITH messages AS (
    SELECT coalesce(nullif(trim(sid), ''),
                    md5(concat_ws('|', "from", "to", body, sent_date, direction))) AS message_id,
           CASE WHEN lower(trim(direction)) LIKE 'inbound%' THEN 'inbound' ELSE 'outbound' END AS direction,
           std_phone(CASE WHEN lower(trim(direction)) LIKE 'inbound%' THEN "from" ELSE "to" END, NULL) AS customer_phone,
           body,
           lower(nullif(trim(status), '')) AS status,
           std_timestamp(sent_date, 'UTC') AS sent_at,
           nullif(trim(error_code), '') AS error_code,
           _landing_date, _file, _line
    FROM raw.sms_messages
)
SELECT message_id, 'sms' AS source, customer_phone AS source_record_id, direction, body, status, sent_at,
       CASE WHEN direction = 'inbound' THEN std_sms_keyword(body) END AS keyword,
       error_code
FROM messages
WHERE customer_phone IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY _landing_date DESC, _file DESC, _line DESC) = 1
ORDER BY sent_at, message_id
