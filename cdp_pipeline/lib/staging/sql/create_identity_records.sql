-- One row per identity-bearing source record (its latest version), standardised for linkage.
-- The standardisation functions are Python: each is called once per distinct value, which
-- is then joined back (a person's email is on their CRM, ESP and order records; a number is
-- on every message to it). The functions are pure, so this changes the speed, not the rows.
-- A *_checked function gives a value with its flags from one call. Addresses and timestamps
-- are read in SQL where SQL gives the Python's answer (lib/staging/macros.sql); phones,
-- names, postcodes and birth dates are Python.
-- Lookups are MATERIALIZED: else DuckDB pushes a filter on a result (phone IS NOT NULL) below
-- the DISTINCT and calls the function on every row again.
-- Its rows as a view over temp.raw_<table> (the whole raw table, or the affected keys' rows:
-- lib/staging/incremental.py); create_staging_table.sql or insert_staging_rows.sql writes them.
CREATE OR REPLACE TEMP VIEW identity_records_rows AS
WITH crm_versions AS (
    -- The key: the customer id without the apostrophe a spreadsheet put before a long number
    -- (Shopify's '5207765762223), else (a legacy Shopify export has no id) the e-mail address;
    -- create_consent_events.sql and staging_incremental._CRM_KEY key rows alike.
    SELECT *, coalesce(nullif(trim(ltrim(trim(customer_id), '''')), ''), 'email:' || std_email(email)) AS record_key,
           nullif(trim(ltrim(trim(customer_id), '''')), '') AS crm_id,
           std_timestamp(updated_at, NULL) AS updated_ts  -- once: it orders the versions and dates the record
    FROM temp.raw_crm_customers
),
crm_latest AS (
    SELECT * FROM crm_versions
    WHERE record_key IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY record_key
        ORDER BY updated_ts DESC NULLS LAST, _landing_date DESC, _file DESC, _line DESC) = 1
),
crm AS (
    SELECT 'crm' AS source, record_key AS source_record_id,
           coalesce(updated_ts, std_timestamp(created_at, NULL), CAST(_landing_date AS TIMESTAMP)) AS record_time,
           first_name AS raw_first, last_name AS raw_last, email AS raw_email,
           coalesce(nullif(trim(phone), ''), address_phone) AS raw_phone,
           street AS raw_street, postcode AS raw_postcode, city AS raw_city, country AS raw_country,
           birth_date AS raw_birth_date, nullif(trim(loyalty_card_id), '') AS loyalty_card_id,
           crm_id AS crm_customer_id, CAST(NULL AS VARCHAR) AS web_user_id, CAST(NULL AS VARCHAR[]) AS cookies
    FROM crm_latest
),
esp_versions AS (
    -- Mailchimp's LEID, Klaviyo's profile id, else the address (staging_incremental._ESP_MEMBER_KEY)
    SELECT *, coalesce(nullif(trim(leid), ''), nullif(trim(klaviyo_id), ''), std_email(email_address)) AS record_key,
           std_timestamp(last_changed, 'UTC') AS last_changed_ts  -- once: it orders the versions and dates the record
    FROM temp.raw_esp_members
),
esp_latest AS (
    SELECT * FROM esp_versions
    WHERE record_key IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY record_key
        ORDER BY last_changed_ts DESC NULLS LAST, _landing_date DESC, _file DESC, _line DESC) = 1
),
esp AS (
    SELECT 'esp', record_key,
           coalesce(last_changed_ts, std_timestamp(optin_time, 'UTC'), CAST(_landing_date AS TIMESTAMP)),
           -- Mailchimp's CC or Klaviyo's Country: the country a number without a country code is read in
           first_name, last_name, email_address, phone, address, zip, city,
           coalesce(nullif(trim(cc), ''), country), birthday,
           NULL, NULL, NULL, NULL
    FROM esp_latest
),
sms_raw AS (
    -- the customer's number, without a channel prefix (`whatsapp:+27…`), as create_sms_messages.sql reads it
    SELECT regexp_replace(CASE WHEN lower(trim(direction)) LIKE 'inbound%' THEN "from" ELSE "to" END,
                          '^\s*[A-Za-z]+:', '') AS raw_phone,
           coalesce(nullif(trim(sent_date), ''), nullif(trim(date_created), '')) AS sent_date,
           max(CAST(_landing_date AS TIMESTAMP)) AS last_landed
    FROM temp.raw_sms_messages
    GROUP BY ALL
),
sms_phones AS MATERIALIZED (
    SELECT raw_phone, std_phone(raw_phone, NULL) AS phone
    FROM (SELECT DISTINCT raw_phone FROM sms_raw WHERE raw_phone IS NOT NULL)
),
sms_times AS MATERIALIZED (
    -- Campaign messages share their send time.
    SELECT sent_date, std_timestamp(sent_date, 'UTC') AS sent_at
    FROM (SELECT DISTINCT sent_date FROM sms_raw WHERE sent_date IS NOT NULL)
),
sms_numbers AS (
    SELECT p.phone, max(t.sent_at) AS last_seen, max(r.last_landed) AS last_landed
    FROM sms_raw r
    JOIN sms_phones p USING (raw_phone)
    LEFT JOIN sms_times t USING (sent_date)
    WHERE p.phone IS NOT NULL
    GROUP BY p.phone
),
sms AS (
    SELECT 'sms', phone, coalesce(last_seen, last_landed),
           NULL, NULL, NULL, phone, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM sms_numbers
),
web_users AS (
    SELECT trim(user_id) AS user_id,
           list(DISTINCT user_pseudo_id ORDER BY user_pseudo_id) FILTER (WHERE user_pseudo_id IS NOT NULL) AS cookies,
           max(make_timestamp(TRY_CAST(event_timestamp AS BIGINT))) AS last_seen,
           max(CAST(_landing_date AS TIMESTAMP)) AS last_landed
    FROM temp.raw_web_events
    WHERE nullif(trim(user_id), '') IS NOT NULL
    GROUP BY ALL
),
web AS (
    SELECT 'web', user_id, coalesce(last_seen, last_landed),
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, user_id, user_id, cookies
    FROM web_users
),
shopify_orders AS (
    -- Order-level fields are on the first row of an order only; the latest delivery of an order wins.
    SELECT trim(name) AS order_name,
           arg_max(_file, CAST(_landing_date AS VARCHAR) || _file) AS file,
           max(_landing_date) AS landing_date
    FROM temp.raw_pos_orders
    WHERE nullif(trim(name), '') IS NOT NULL
    GROUP BY ALL
),
shopify AS (
    SELECT 'pos', 'order:' || o.order_name,
           coalesce(std_timestamp(first(r.created_at ORDER BY r._line) FILTER (WHERE nullif(trim(r.created_at), '') IS NOT NULL), NULL),
                    CAST(o.landing_date AS TIMESTAMP)),
           std_split_first(first(r.billing_name ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_name), '') IS NOT NULL)),
           std_split_last(first(r.billing_name ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_name), '') IS NOT NULL)),
           first(r.email ORDER BY r._line) FILTER (WHERE nullif(trim(r.email), '') IS NOT NULL),
           -- the billing number, else the order's contact number, else the recipient's
           coalesce(first(r.billing_phone ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_phone), '') IS NOT NULL),
                    first(r.phone ORDER BY r._line) FILTER (WHERE nullif(trim(r.phone), '') IS NOT NULL),
                    first(r.shipping_phone ORDER BY r._line) FILTER (WHERE nullif(trim(r.shipping_phone), '') IS NOT NULL)),
           first(r.billing_street ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_street), '') IS NOT NULL),
           first(r.billing_zip ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_zip), '') IS NOT NULL),
           first(r.billing_city ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_city), '') IS NOT NULL),
           coalesce(first(r.billing_country ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_country), '') IS NOT NULL),
                    first(r.shipping_country ORDER BY r._line) FILTER (WHERE nullif(trim(r.shipping_country), '') IS NOT NULL)),
           NULL, NULL, NULL, NULL, NULL
    FROM shopify_orders o
    JOIN temp.raw_pos_orders r ON trim(r.name) = o.order_name AND r._file = o.file
    GROUP BY o.order_name, o.landing_date
),
receipt_lines AS (
    SELECT trim(store_id) AS store_id, trim(receipt_id) AS receipt_id, ts_local, nullif(trim(tz), '') AS tz,
           CAST(_landing_date AS TIMESTAMP) AS landed, nullif(trim(loyalty_card_id), '') AS loyalty_card_id
    FROM temp.raw_pos_receipts
    WHERE nullif(trim(receipt_id), '') IS NOT NULL AND nullif(trim(store_id), '') IS NOT NULL
),
carded_receipts AS (
    -- Only a receipt with a loyalty card identifies anyone: the others' times are not read.
    SELECT store_id, receipt_id, min(landed) AS landed, min(loyalty_card_id) AS loyalty_card_id
    FROM receipt_lines
    GROUP BY ALL
    HAVING min(loyalty_card_id) IS NOT NULL
),
receipts AS (
    -- A receipt's lines share its time: each distinct time is read once.
    SELECT 'pos', 'receipt:' || c.store_id || ':' || c.receipt_id,
           coalesce(min(std_timestamp(t.ts_local, t.tz)), c.landed),
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           c.loyalty_card_id, NULL, NULL, NULL
    FROM carded_receipts c
    JOIN (SELECT DISTINCT store_id, receipt_id, ts_local, tz FROM receipt_lines) t USING (store_id, receipt_id)
    GROUP BY c.store_id, c.receipt_id, c.landed, c.loyalty_card_id
),
unioned AS (
    SELECT * FROM crm
    UNION ALL SELECT * FROM esp
    UNION ALL SELECT * FROM sms
    UNION ALL SELECT * FROM web
    UNION ALL SELECT * FROM shopify
    UNION ALL SELECT * FROM receipts
),
located AS MATERIALIZED (
    -- The record's country reads its phone number and postcode.
    SELECT *, std_country(raw_country) AS country FROM unioned
),
emails AS MATERIALIZED (
    -- check_email flags junk_email exactly when is_junk_email(its value) holds
    SELECT raw_email, checked.value AS email, checked.flags AS email_flags,
           list_contains(checked.flags, 'junk_email') AS email_is_junk
    FROM (SELECT raw_email, std_email_checked(raw_email) AS checked
          FROM (SELECT DISTINCT raw_email FROM located WHERE raw_email IS NOT NULL))
),
names AS MATERIALIZED (
    -- First and last names share one lookup (joined twice).
    SELECT *, std_match_name(name) AS name_match, is_junk_name(name) AS name_is_junk
    FROM (SELECT raw_name, std_display_name(raw_name) AS name
          FROM (SELECT raw_first AS raw_name FROM located UNION SELECT raw_last FROM located)
          WHERE raw_name IS NOT NULL)
),
phones AS MATERIALIZED (
    -- with is_junk_phone of the number from the same reading (it is false without a number)
    SELECT raw_phone, country, checked.value AS phone, checked.flags AS phone_flags,
           checked.is_junk AS phone_is_junk
    FROM (SELECT raw_phone, country, std_phone_checked_junk(raw_phone, country) AS checked
          FROM (SELECT DISTINCT raw_phone, country FROM located WHERE raw_phone IS NOT NULL))
),
postcodes AS MATERIALIZED (
    SELECT raw_postcode, country, checked.value AS postcode, checked.flags AS postcode_flags
    FROM (SELECT raw_postcode, country, std_postcode_checked(raw_postcode, country) AS checked
          FROM (SELECT DISTINCT raw_postcode, country FROM located WHERE raw_postcode IS NOT NULL))
),
birth_dates AS MATERIALIZED (
    SELECT raw_birth_date, checked.value AS birth_date, checked.flags AS birth_date_flags
    FROM (SELECT raw_birth_date, std_birth_date_checked(raw_birth_date) AS checked
          FROM (SELECT DISTINCT raw_birth_date FROM located WHERE raw_birth_date IS NOT NULL))
),
streets AS MATERIALIZED (
    SELECT raw_street, std_street(raw_street) AS street
    FROM (SELECT DISTINCT raw_street FROM located WHERE raw_street IS NOT NULL)
),
cities AS MATERIALIZED (
    SELECT raw_city, std_city(raw_city) AS city
    FROM (SELECT DISTINCT raw_city FROM located WHERE raw_city IS NOT NULL)
)
-- A NULL raw value finds no lookup row: its results are NULL, as the functions give for NULL.
SELECT l.source, l.source_record_id, l.record_time,
       fn.name AS first_name, ln.name AS last_name,
       fn.name_match AS first_name_match,
       ln.name_match AS last_name_match,
       e.email,
       p.phone,
       st.street,
       pc.postcode,
       ci.city,
       l.country,
       b.birth_date, l.loyalty_card_id, l.crm_customer_id, l.web_user_id, l.cookies,
       coalesce(e.email_is_junk, false) AS email_is_junk,
       coalesce(p.phone_is_junk, false) AS phone_is_junk,
       coalesce(fn.name_is_junk, false) OR coalesce(ln.name_is_junk, false) AS name_is_junk,
       list_sort(list_distinct(list_concat(
           coalesce(e.email_flags, []),
           coalesce(p.phone_flags, []),
           coalesce(pc.postcode_flags, []),
           coalesce(b.birth_date_flags, []),
           CASE WHEN coalesce(fn.name_is_junk, false) OR coalesce(ln.name_is_junk, false)
                THEN ['junk_name'] ELSE [] END
       ))) AS dq_flags
FROM located l
LEFT JOIN emails e ON e.raw_email = l.raw_email
LEFT JOIN names fn ON fn.raw_name = l.raw_first
LEFT JOIN names ln ON ln.raw_name = l.raw_last
LEFT JOIN phones p ON p.raw_phone = l.raw_phone AND p.country IS NOT DISTINCT FROM l.country
LEFT JOIN postcodes pc ON pc.raw_postcode = l.raw_postcode AND pc.country IS NOT DISTINCT FROM l.country
LEFT JOIN birth_dates b ON b.raw_birth_date = l.raw_birth_date
LEFT JOIN streets st ON st.raw_street = l.raw_street
LEFT JOIN cities ci ON ci.raw_city = l.raw_city
ORDER BY l.source, l.source_record_id
