-- Step 1 of staging.identity_records (lib/staging/incremental.py runs the steps): one row per
-- identity-bearing source record (its latest version) and its raw values (step 2 reads its country).
-- A temp table, not a MATERIALIZED CTE: DuckDB writes a table out to its temp directory when
-- memory runs short, but holds a CTE's rows in memory (create_identity_records.sql).
-- It reads temp.raw_<table> (the whole raw table, or the affected keys' rows:
-- lib/staging/incremental.py).
CREATE OR REPLACE TEMP TABLE identity_records_located AS
WITH crm_hours AS MATERIALIZED (
    -- a version's time's UTC offset once per local hour (49k hours of the 1M sample's 211k
    -- versions), joined to the times, not read by the Python once per batch of rows
    -- (std_timestamp_at_offset in macros.sql)
    SELECT hour, std_utc_offset_py(hour, NULL) AS utc_offset
    FROM (SELECT DISTINCT std_local_hour(updated_at) AS hour FROM temp.raw_crm_customers WHERE updated_at IS NOT NULL)
),
crm_versions AS (
    -- The key: the customer id without the apostrophe a spreadsheet put before a long number
    -- (Shopify's '5207765762223), else (a legacy Shopify export has no id) the e-mail address;
    -- create_consent_events.sql and staging_incremental._CRM_KEY key rows alike.
    SELECT c.*, coalesce(nullif(trim(ltrim(trim(c.customer_id), '''')), ''), 'email:' || std_email(c.email)) AS record_key,
           nullif(trim(ltrim(trim(c.customer_id), '''')), '') AS crm_id,
           -- once: it orders the versions and dates the record
           std_timestamp_at_offset(c.updated_at, NULL, h.utc_offset) AS updated_ts
    FROM temp.raw_crm_customers c
    LEFT JOIN crm_hours h ON h.hour = std_local_hour(c.updated_at)
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
           -- a whole name in one field (Stripe's, WooCommerce's Name) when the row has no other
           CASE WHEN nullif(trim(first_name), '') IS NULL AND nullif(trim(last_name), '') IS NULL
                     AND nullif(trim(full_name), '') IS NOT NULL
                THEN std_split_first(full_name) ELSE first_name END AS raw_first,
           CASE WHEN nullif(trim(first_name), '') IS NULL AND nullif(trim(last_name), '') IS NULL
                     AND nullif(trim(full_name), '') IS NOT NULL
                THEN std_split_last(full_name) ELSE last_name END AS raw_last,
           email AS raw_email,
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
    -- read in the step before (add_sms_phones.sql): joined from staging.phone_lookup; the
    -- function reads only a number the lookup lacks (none, after that step)
    SELECT d.raw_phone, CASE WHEN l.phone_text IS NULL THEN std_phone(d.raw_phone, NULL) ELSE l.phone END AS phone
    FROM (SELECT raw_phone, phone_text, std_phone_country(phone_text, NULL) AS country
          FROM (SELECT raw_phone, std_phone_text(raw_phone) AS phone_text
                FROM (SELECT DISTINCT raw_phone FROM sms_raw WHERE raw_phone IS NOT NULL))) d
    LEFT JOIN staging.phone_lookup l ON l.phone_text = d.phone_text AND l.country IS NOT DISTINCT FROM d.country
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
web_cookies AS (
    -- a user's cookies: each once (a user's events mostly repeat their cookie), before the list
    SELECT trim(user_id) AS user_id, user_pseudo_id,
           max(make_timestamp(TRY_CAST(event_timestamp AS BIGINT))) AS last_seen,
           max(CAST(_landing_date AS TIMESTAMP)) AS last_landed
    FROM temp.raw_web_events
    WHERE nullif(trim(user_id), '') IS NOT NULL
    GROUP BY ALL
),
web_users AS (
    -- list_sort of the distinct pairs' list, not list(DISTINCT ... ORDER BY) over the events:
    -- an ordered aggregate holds every event of every user in memory until it sorts them
    SELECT user_id,
           list_sort(list(user_pseudo_id) FILTER (WHERE user_pseudo_id IS NOT NULL)) AS cookies,
           max(last_seen) AS last_seen, max(last_landed) AS last_landed
    FROM web_cookies
    GROUP BY user_id
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
shopify_fields AS (
    -- Each field's first non-blank value in line order (a file's lines are unique), as a window
    -- over the order's rows: DuckDB sorts a window's rows on disk when memory runs short, but
    -- holds every group's state of first(... ORDER BY _line) or arg_min(text, _line) in memory.
    -- Only the order's rows with one of these fields (Shopify writes them on an order's first
    -- line) enter the window: the other rows give no value to any first_value, and the LEFT JOIN
    -- keeps an order none of whose rows has one (all NULL, as before). At 1M records 188k of the
    -- 375k rows: this step 3.50-3.54 -> 3.40-3.43 CPU s in the night's order (two pairs).
    SELECT o.order_name, o.landing_date, o.file,
           first_value(CASE WHEN nullif(trim(r.created_at), '') IS NOT NULL THEN r.created_at END IGNORE NULLS) OVER w AS created_at,
           first_value(CASE WHEN nullif(trim(r.billing_name), '') IS NOT NULL THEN r.billing_name END IGNORE NULLS) OVER w AS billing_name,
           first_value(CASE WHEN nullif(trim(r.billing_first_name), '') IS NOT NULL THEN r.billing_first_name END IGNORE NULLS) OVER w AS billing_first_name,
           first_value(CASE WHEN nullif(trim(r.billing_last_name), '') IS NOT NULL THEN r.billing_last_name END IGNORE NULLS) OVER w AS billing_last_name,
           first_value(CASE WHEN nullif(trim(r.email), '') IS NOT NULL THEN r.email END IGNORE NULLS) OVER w AS email,
           first_value(CASE WHEN nullif(trim(r.billing_phone), '') IS NOT NULL THEN r.billing_phone END IGNORE NULLS) OVER w AS billing_phone,
           first_value(CASE WHEN nullif(trim(r.phone), '') IS NOT NULL THEN r.phone END IGNORE NULLS) OVER w AS phone,
           first_value(CASE WHEN nullif(trim(r.shipping_phone), '') IS NOT NULL THEN r.shipping_phone END IGNORE NULLS) OVER w AS shipping_phone,
           first_value(CASE WHEN nullif(trim(r.billing_street), '') IS NOT NULL THEN r.billing_street END IGNORE NULLS) OVER w AS billing_street,
           first_value(CASE WHEN nullif(trim(r.billing_zip), '') IS NOT NULL THEN r.billing_zip END IGNORE NULLS) OVER w AS billing_zip,
           first_value(CASE WHEN nullif(trim(r.billing_city), '') IS NOT NULL THEN r.billing_city END IGNORE NULLS) OVER w AS billing_city,
           first_value(CASE WHEN nullif(trim(r.billing_country), '') IS NOT NULL THEN r.billing_country END IGNORE NULLS) OVER w AS billing_country,
           first_value(CASE WHEN nullif(trim(r.shipping_country), '') IS NOT NULL THEN r.shipping_country END IGNORE NULLS) OVER w AS shipping_country
    FROM shopify_orders o
    LEFT JOIN (SELECT * FROM temp.raw_pos_orders
               WHERE nullif(trim(created_at), '') IS NOT NULL
                     OR nullif(trim(billing_name), '') IS NOT NULL
                     OR nullif(trim(billing_first_name), '') IS NOT NULL
                     OR nullif(trim(billing_last_name), '') IS NOT NULL
                     OR nullif(trim(email), '') IS NOT NULL
                     OR nullif(trim(billing_phone), '') IS NOT NULL
                     OR nullif(trim(phone), '') IS NOT NULL
                     OR nullif(trim(shipping_phone), '') IS NOT NULL
                     OR nullif(trim(billing_street), '') IS NOT NULL
                     OR nullif(trim(billing_zip), '') IS NOT NULL
                     OR nullif(trim(billing_city), '') IS NOT NULL
                     OR nullif(trim(billing_country), '') IS NOT NULL
                     OR nullif(trim(shipping_country), '') IS NOT NULL) r
        ON trim(r.name) = o.order_name AND r._file = o.file
    WINDOW w AS (PARTITION BY o.order_name ORDER BY r._line ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    QUALIFY row_number() OVER w = 1
),
billing_names AS MATERIALIZED (
    -- each name split once (a customer's name is on all their orders): every billing name of
    -- the rows, a superset of the ones shopify_fields picks
    SELECT billing_name, std_split_first(billing_name) AS first_name, std_split_last(billing_name) AS last_name
    FROM (SELECT DISTINCT billing_name FROM temp.raw_pos_orders WHERE nullif(trim(billing_name), '') IS NOT NULL)
),
shopify AS (
    SELECT 'pos', 'order:' || f.order_name,
           -- in its file's date order (create_pos_month_first_files.sql), as staging.orders reads it
           coalesce(std_timestamp(std_date_in_order(f.created_at, f.file IN (SELECT _file FROM temp.pos_month_first_files)), NULL),
                    CAST(f.landing_date AS TIMESTAMP)),
           -- the billing name as written in two fields (WooCommerce), else Shopify's one split
           CASE WHEN f.billing_first_name IS NULL AND f.billing_last_name IS NULL THEN n.first_name ELSE f.billing_first_name END,
           CASE WHEN f.billing_first_name IS NULL AND f.billing_last_name IS NULL THEN n.last_name ELSE f.billing_last_name END,
           f.email,
           -- the billing number, else the order's contact number, else the recipient's
           coalesce(f.billing_phone, f.phone, f.shipping_phone),
           f.billing_street, f.billing_zip, f.billing_city, coalesce(f.billing_country, f.shipping_country),
           NULL, NULL, NULL, NULL, NULL
    FROM shopify_fields f
    LEFT JOIN billing_names n USING (billing_name)
),
receipt_lines AS (
    SELECT trim(store_id) AS store_id, trim(receipt_id) AS receipt_id,
           -- in its file's date order (create_pos_month_first_files.sql), as staging.orders reads it
           std_date_in_order(ts_local, _file IN (SELECT _file FROM temp.pos_month_first_files)) AS ts_local,
           nullif(trim(tz), '') AS tz,
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
receipt_hours AS MATERIALIZED (
    -- a local time's UTC offset once per hour (the 1M sample's receipt times fall on 330 hours),
    -- not by the Python once per batch of times (as create_orders.sql)
    SELECT hour, tz, std_utc_offset_py(hour, tz) AS utc_offset
    FROM (SELECT DISTINCT std_local_hour(ts_local) AS hour, tz FROM receipt_lines WHERE ts_local IS NOT NULL)
),
receipts AS (
    -- A receipt's lines share its time: each distinct time is read once.
    SELECT 'pos', 'receipt:' || c.store_id || ':' || c.receipt_id,
           coalesce(min(std_timestamp_at_offset(t.ts_local, t.tz, h.utc_offset)), c.landed),
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           c.loyalty_card_id, NULL, NULL, NULL
    FROM carded_receipts c
    JOIN (SELECT DISTINCT store_id, receipt_id, ts_local, tz FROM receipt_lines) t USING (store_id, receipt_id)
    LEFT JOIN receipt_hours h ON h.hour = std_local_hour(t.ts_local) AND h.tz IS NOT DISTINCT FROM t.tz
    GROUP BY c.store_id, c.receipt_id, c.landed, c.loyalty_card_id
),
square AS (
    -- A Square transaction with a Customer ID: the key of the Square customer export in crm/
    -- (its Square Customer ID, the CRM record's customer_id), so the record carries it as the CRM
    -- customer id that links the two (identifier kind crm_customer). Dated by its earliest time
    -- (Date, Time, Time Zone as create_orders.sql reads them), else its landing day. Its Customer
    -- Name (not a raw column: in _extra under Square's header) is split as a Shopify billing name,
    -- so the record carries the name too when the customer export is not delivered.
    SELECT 'pos', order_id, record_time,
           std_split_first(customer_name), std_split_last(customer_name), NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, crm_customer_id, NULL, NULL
    FROM (
        SELECT 'square:' || trim(transaction_id) AS order_id,
               coalesce(min(std_timestamp(trim("date") || ' '
                                          || coalesce(strftime(try_strptime(trim("time"), ['%H:%M:%S', '%H:%M', '%I:%M:%S %p', '%I:%M %p']),
                                                               '%H:%M:%S'), trim("time")),
                                          std_iana_zone(time_zone))),
                        min(CAST(_landing_date AS TIMESTAMP))) AS record_time,
               min(nullif(trim(_extra ->> '$."Customer Name"'), '')) AS customer_name,
               min(nullif(trim(customer_id), '')) AS crm_customer_id
        FROM temp.raw_pos_square_items
        WHERE nullif(trim(transaction_id), '') IS NOT NULL
        GROUP BY trim(transaction_id)
        HAVING min(nullif(trim(customer_id), '')) IS NOT NULL
    )
),
unioned AS (
    SELECT * FROM crm
    UNION ALL SELECT * FROM esp
    UNION ALL SELECT * FROM sms
    UNION ALL SELECT * FROM web
    UNION ALL SELECT * FROM shopify
    UNION ALL SELECT * FROM receipts
    UNION ALL SELECT * FROM square
)
SELECT * FROM unioned
