-- GA4 events with a cookie, deduplicated (at-least-once delivery), attached to the user_id their cookie is seen with (consent-mode pings without one stay in raw, counted).
-- Its rows as a view over temp.raw_<table> (the whole raw table, or the affected keys' rows:
-- lib/staging/incremental.py); insert_staging_rows.sql writes them.
CREATE OR REPLACE TEMP VIEW web_events_rows AS
WITH parsed AS (
    -- One parse of the line into the fields it needs: the event parameters and the ecommerce
    -- fields, as a struct (the ecommerce fields read as text: the text json_extract_string
    -- gives). GA4's ecommerce record has no currency: a purchase's currency is its event
    -- parameter `currency`, and purchase_revenue is in that currency.
    SELECT user_pseudo_id AS cookie,
           nullif(trim(user_id), '') AS user_id,
           event_name,
           TRY_CAST(event_timestamp AS BIGINT) AS event_micros,
           event_date,
           line.event_params AS params,
           line.ecommerce.transaction_id AS transaction_id,
           TRY_CAST(line.ecommerce.purchase_revenue AS DECIMAL(18, 2)) AS purchase_revenue
    FROM (
        SELECT *,
               from_json(event_json, '{"event_params": [{"key":"VARCHAR","value":{"string_value":"VARCHAR","int_value":"BIGINT","float_value":"DOUBLE","double_value":"DOUBLE"}}], "ecommerce": {"transaction_id": "VARCHAR", "purchase_revenue": "VARCHAR"}}') AS line
        FROM temp.raw_web_events
        WHERE nullif(trim(user_pseudo_id), '') IS NOT NULL AND TRY_CAST(event_timestamp AS BIGINT) IS NOT NULL
    )
),
events AS (
    SELECT *,
           coalesce(CAST(list_filter(params, lambda p: p.key = 'ga_session_id')[1].value.int_value AS VARCHAR),
                    list_filter(params, lambda p: p.key = 'ga_session_id')[1].value.string_value) AS ga_session_id,
           list_filter(params, lambda p: p.key = 'page_location')[1].value.string_value AS page_location,
           upper(nullif(trim(list_filter(params, lambda p: p.key = 'currency')[1].value.string_value), '')) AS currency,
           -- a purchase without ecommerce.purchase_revenue still has its parameter `value`
           coalesce(purchase_revenue, CASE WHEN event_name = 'purchase' THEN TRY_CAST(coalesce(
               list_filter(params, lambda p: p.key = 'value')[1].value.double_value,
               list_filter(params, lambda p: p.key = 'value')[1].value.float_value,
               list_filter(params, lambda p: p.key = 'value')[1].value.int_value) AS DECIMAL(18, 2)) END) AS revenue
    FROM parsed
),
deduplicated AS (
    SELECT * FROM events
    QUALIFY row_number() OVER (
        PARTITION BY cookie, event_micros, event_name, ga_session_id ORDER BY user_id NULLS LAST) = 1
),
cookie_owner AS (
    -- The user a cookie belongs to: the one it was last seen logged in as.
    SELECT cookie, arg_max(user_id, event_micros) AS owner
    FROM deduplicated WHERE user_id IS NOT NULL
    GROUP BY cookie
)
SELECT md5(concat_ws('|', d.cookie, d.event_micros, d.event_name, d.ga_session_id)) AS event_id,
       'web' AS source,
       coalesce(d.user_id, o.owner) AS source_record_id,
       d.cookie, d.user_id,
       CASE WHEN d.ga_session_id IS NOT NULL THEN d.cookie || ':' || d.ga_session_id END AS session_id,
       make_timestamp(d.event_micros) AS event_time,
       CAST(try_strptime(d.event_date, '%Y%m%d') AS DATE) AS event_date,  -- NULL, not an error, when unreadable
       d.event_name, d.page_location, d.transaction_id, d.revenue,
       coalesce(d.currency, getvariable('default_currency')) AS currency  -- none given: CDP_CURRENCY
FROM deduplicated d
LEFT JOIN cookie_owner o USING (cookie)
