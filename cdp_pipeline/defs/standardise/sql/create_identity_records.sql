-- One row per identity-bearing source record (its latest version), standardised for linkage.
CREATE OR REPLACE TABLE staging.identity_records AS
WITH crm_latest AS (
    SELECT *, trim(customer_id) AS record_key
    FROM raw.crm_customers
    WHERE nullif(trim(customer_id), '') IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY trim(customer_id)
        ORDER BY std_timestamp(updated_at, NULL) DESC NULLS LAST, _landing_date DESC, _file DESC, _line DESC) = 1
),
crm AS (
    SELECT 'crm' AS source, record_key AS source_record_id,
           coalesce(std_timestamp(updated_at, NULL), std_timestamp(created_at, NULL),
                    CAST(_landing_date AS TIMESTAMP)) AS record_time,
           first_name AS raw_first, last_name AS raw_last, email AS raw_email, phone AS raw_phone,
           street AS raw_street, postcode AS raw_postcode, city AS raw_city, country AS raw_country,
           birth_date AS raw_birth_date, nullif(trim(loyalty_card_id), '') AS loyalty_card_id,
           record_key AS crm_customer_id, CAST(NULL AS VARCHAR) AS web_user_id, CAST(NULL AS VARCHAR[]) AS cookies
    FROM crm_latest
),
esp_latest AS (
    SELECT *, coalesce(nullif(trim(leid), ''), std_email(email_address)) AS record_key
    FROM raw.esp_members
    WHERE coalesce(nullif(trim(leid), ''), std_email(email_address)) IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY coalesce(nullif(trim(leid), ''), std_email(email_address))
        ORDER BY std_timestamp(last_changed, 'UTC') DESC NULLS LAST, _landing_date DESC, _file DESC, _line DESC) = 1
),
esp AS (
    SELECT 'esp', record_key,
           coalesce(std_timestamp(last_changed, 'UTC'), std_timestamp(optin_time, 'UTC'), CAST(_landing_date AS TIMESTAMP)),
           first_name, last_name, email_address, phone, address, zip, city, NULL, birthday,
           NULL, NULL, NULL, NULL
    FROM esp_latest
),
sms_numbers AS (
    SELECT std_phone(CASE WHEN lower(trim(direction)) LIKE 'inbound%' THEN "from" ELSE "to" END, NULL) AS phone,
           max(std_timestamp(sent_date, 'UTC')) AS last_seen,
           max(CAST(_landing_date AS TIMESTAMP)) AS last_landed
    FROM raw.sms_messages
    GROUP BY ALL
    HAVING phone IS NOT NULL
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
    FROM raw.web_events
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
    FROM raw.pos_orders
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
           first(r.billing_phone ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_phone), '') IS NOT NULL),
           first(r.billing_street ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_street), '') IS NOT NULL),
           first(r.billing_zip ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_zip), '') IS NOT NULL),
           first(r.billing_city ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_city), '') IS NOT NULL),
           first(r.billing_country ORDER BY r._line) FILTER (WHERE nullif(trim(r.billing_country), '') IS NOT NULL),
           NULL, NULL, NULL, NULL, NULL
    FROM shopify_orders o
    JOIN raw.pos_orders r ON trim(r.name) = o.order_name AND r._file = o.file
    GROUP BY o.order_name, o.landing_date
),
receipts AS (
    SELECT 'pos', 'receipt:' || trim(store_id) || ':' || trim(receipt_id),
           coalesce(min(std_timestamp(ts_local, nullif(trim(tz), ''))), min(CAST(_landing_date AS TIMESTAMP))),
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           min(nullif(trim(loyalty_card_id), '')), NULL, NULL, NULL
    FROM raw.pos_receipts
    WHERE nullif(trim(receipt_id), '') IS NOT NULL AND nullif(trim(store_id), '') IS NOT NULL
    GROUP BY trim(store_id), trim(receipt_id)
    HAVING min(nullif(trim(loyalty_card_id), '')) IS NOT NULL
),
unioned AS (
    SELECT * FROM crm
    UNION ALL SELECT * FROM esp
    UNION ALL SELECT * FROM sms
    UNION ALL SELECT * FROM web
    UNION ALL SELECT * FROM shopify
    UNION ALL SELECT * FROM receipts
),
standardised AS (
    SELECT source, source_record_id, record_time,
           std_display_name(raw_first) AS first_name,
           std_display_name(raw_last) AS last_name,
           std_email(raw_email) AS email,
           std_country(raw_country) AS country,
           raw_phone, raw_postcode, raw_email, raw_first, raw_last, raw_birth_date,
           std_street(raw_street) AS street,
           std_city(raw_city) AS city,
           std_birth_date(raw_birth_date) AS birth_date,
           loyalty_card_id, crm_customer_id, web_user_id, cookies
    FROM unioned
)
SELECT source, source_record_id, record_time,
       first_name, last_name,
       std_match_name(first_name) AS first_name_match,
       std_match_name(last_name) AS last_name_match,
       email,
       std_phone(raw_phone, country) AS phone,
       street,
       std_postcode(raw_postcode, country) AS postcode,
       city,
       country,
       birth_date, loyalty_card_id, crm_customer_id, web_user_id, cookies,
       coalesce(is_junk_email(email), false) AS email_is_junk,
       coalesce(is_junk_phone(std_phone(raw_phone, country)), false) AS phone_is_junk,
       coalesce(is_junk_name(first_name), false) OR coalesce(is_junk_name(last_name), false) AS name_is_junk,
       list_sort(list_distinct(list_concat(
           coalesce(std_email_flags(raw_email), []),
           coalesce(std_phone_flags(raw_phone, country), []),
           coalesce(std_postcode_flags(raw_postcode, country), []),
           coalesce(std_birth_date_flags(raw_birth_date), []),
           CASE WHEN coalesce(is_junk_name(first_name), false) OR coalesce(is_junk_name(last_name), false)
                THEN ['junk_name'] ELSE [] END
       ))) AS dq_flags
FROM standardised
ORDER BY source, source_record_id
