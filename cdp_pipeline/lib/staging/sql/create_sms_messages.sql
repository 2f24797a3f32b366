-- SMS and WhatsApp messages in and out, one row per message (none dropped), with the channel, the customer's number and opt-out/in keyword.
-- Its rows as a view over temp.raw_<table> (the whole raw table, or the affected keys' rows:
-- lib/staging/incremental.py); insert_staging_rows.sql writes them.
CREATE OR REPLACE TEMP VIEW sms_messages_rows AS
WITH raw_messages AS (
    SELECT coalesce(nullif(trim(sid), ''),
                    md5(concat_ws('|', "from", "to", body, sent_date, direction))) AS message_id,
           CASE WHEN lower(trim(direction)) LIKE 'inbound%' THEN 'inbound' ELSE 'outbound' END AS direction,
           CASE WHEN lower(trim(direction)) LIKE 'inbound%' THEN "from" ELSE "to" END AS raw_address,
           body,
           lower(nullif(trim(status), '')) AS status,
           -- a message not sent yet (queued, failed before sending) has no date_sent: its creation time
           coalesce(nullif(trim(sent_date), ''), nullif(trim(date_created), '')) AS sent_date,
           nullif(trim(error_code), '') AS error_code,
           _landing_date, _file, _line
    FROM temp.raw_sms_messages
),
latest AS (
    -- A message delivered again (in a later export) is read from its
    -- latest delivery: the latest (landing day, file, line) per message, found by grouping
    -- (cheaper than a window over every message) and joined back by it. A file's lines are
    -- unique, so that is one row per message.
    SELECT m.* FROM raw_messages m
    SEMI JOIN (SELECT message_id, max((_landing_date, _file, _line)) AS delivery FROM raw_messages GROUP BY message_id) k
        ON k.message_id = m.message_id AND k.delivery = (m._landing_date, m._file, m._line)
),
addressed AS (
    -- Twilio writes a channel address for other channels on the same account: `whatsapp:+27…`.
    -- The number after the prefix is the customer's phone; the prefix is the channel.
    SELECT *,
           CASE WHEN regexp_matches(raw_address, '^\s*[A-Za-z]+:')
                THEN lower(regexp_extract(raw_address, '^\s*([A-Za-z]+):', 1)) ELSE 'sms' END AS channel,
           regexp_replace(raw_address, '^\s*[A-Za-z]+:', '') AS raw_phone
    FROM latest
),
-- Each distinct number and send time is read once (a number is on every message to it; a
-- campaign's messages share their time): the number by phonenumbers, the time in SQL where
-- it carries its offset (lib/staging/macros.sql). MATERIALIZED keeps DuckDB from
-- pushing filters down to every row.
phones AS MATERIALIZED (
    -- read in the step before (add_sms_phones.sql): joined from staging.phone_lookup; the
    -- function reads only a number the lookup lacks (none, after that step)
    SELECT d.raw_phone, CASE WHEN l.phone_text IS NULL THEN std_phone(d.raw_phone, NULL) ELSE l.phone END AS customer_phone
    FROM (SELECT raw_phone, phone_text, std_phone_country(phone_text, NULL) AS country
          FROM (SELECT raw_phone, std_phone_text(raw_phone) AS phone_text
                FROM (SELECT DISTINCT raw_phone FROM addressed WHERE raw_phone IS NOT NULL))) d
    LEFT JOIN staging.phone_lookup l ON l.phone_text = d.phone_text AND l.country IS NOT DISTINCT FROM d.country
),
sent_times AS MATERIALIZED (
    SELECT sent_date, std_timestamp(sent_date, 'UTC') AS sent_at
    FROM (SELECT DISTINCT sent_date FROM addressed WHERE sent_date IS NOT NULL)
),
messages AS (
    SELECT m.*, p.customer_phone, t.sent_at
    FROM addressed m
    LEFT JOIN phones p USING (raw_phone)
    LEFT JOIN sent_times t USING (sent_date)
)
-- A message whose number cannot be read is kept, without a customer, flagged (it was sent or
-- received; it just belongs to nobody known).
SELECT message_id, 'sms' AS source, customer_phone AS source_record_id, channel, direction, body, status, sent_at,
       CASE WHEN direction = 'inbound' THEN std_sms_keyword(body) END AS keyword,
       error_code,
       -- the landing day of the delivery read: dates a STOP whose time cannot be read (create_consent_events.sql)
       CAST(_landing_date AS DATE) AS landing_date,
       list_filter([CASE WHEN customer_phone IS NULL THEN 'unreadable_number' END,
                    CASE WHEN sent_at IS NULL THEN 'unreadable_time' END], lambda f: f IS NOT NULL) AS dq_flags
FROM messages
