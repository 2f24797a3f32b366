-- Assemble one golden row per customer: survived attributes with provenance, identifier lists, traits, consent and contactability as of the date.
CREATE OR REPLACE TABLE golden.customers AS
WITH identifiers AS (
    SELECT customer_id,
           coalesce(array_agg(DISTINCT email ORDER BY email) FILTER (WHERE email IS NOT NULL), []) AS emails,
           coalesce(array_agg(DISTINCT phone ORDER BY phone) FILTER (WHERE phone IS NOT NULL), []) AS phones,
           coalesce(array_agg(DISTINCT loyalty_card_id ORDER BY loyalty_card_id) FILTER (WHERE loyalty_card_id IS NOT NULL), []) AS loyalty_card_ids,
           coalesce(array_agg(DISTINCT crm_customer_id ORDER BY crm_customer_id) FILTER (WHERE crm_customer_id IS NOT NULL), []) AS crm_customer_ids,
           coalesce(array_agg(DISTINCT web_user_id ORDER BY web_user_id) FILTER (WHERE web_user_id IS NOT NULL), []) AS web_user_ids,
           list_sort(list_distinct(flatten(list(coalesce(cookies, []::VARCHAR[]))))) AS cookies,
           coalesce(array_agg(DISTINCT source ORDER BY source) FILTER (WHERE source IS NOT NULL), []) AS sources,
           count(*) AS record_count,
           list_distinct(list(email) FILTER (WHERE email_is_junk)) AS junk_emails,
           list_distinct(list(phone) FILTER (WHERE phone_is_junk)) AS junk_phones
    FROM {records}
    GROUP BY customer_id
)
SELECT s.customer_id,
       s.first_name, s.first_name_source, s.first_name_source_record_id,
       s.last_name, s.last_name_source, s.last_name_source_record_id,
       s.email, s.email_source, s.email_source_record_id,
       s.phone, s.phone_source, s.phone_source_record_id,
       s.street, s.street_source, s.street_source_record_id,
       s.postcode, s.postcode_source, s.postcode_source_record_id,
       s.city, s.city_source, s.city_source_record_id,
       s.country, s.country_source, s.country_source_record_id,
       s.birth_date, s.birth_date_source, s.birth_date_source_record_id,
       i.emails, i.phones, i.loyalty_card_ids, i.crm_customer_ids, i.web_user_ids, i.cookies, i.sources,
       i.record_count,
       t.first_seen, t.last_seen,
       t.orders_count, t.online_orders_count, t.store_orders_count,
       t.total_spend, t.online_spend, t.store_spend, t.average_order_value,
       t.first_order_at, t.last_order_at, t.days_since_last_order,
       t.rfm_recency, t.rfm_frequency, t.rfm_monetary, t.rfm_segment,
       t.preferred_store, t.preferred_channel,
       t.email_opens_30d, t.email_clicks_30d, t.email_opens_90d, t.email_clicks_90d,
       t.sms_received, t.sms_replied,
       t.web_sessions_30d, t.last_web_visit, t.last_add_to_cart_at, t.has_abandoned_cart,
       coalesce(c.email_consent, 'unknown') AS email_consent, c.email_consent_at, c.email_consent_source,
       coalesce(c.sms_consent, 'unknown') AS sms_consent, c.sms_consent_at, c.sms_consent_source,
       coalesce(c.email_consent = 'granted' AND s.email IS NOT NULL
                AND NOT list_contains(coalesce(i.junk_emails, []::VARCHAR[]), s.email), false) AS email_contactable,
       coalesce(c.sms_consent = 'granted' AND s.phone IS NOT NULL
                AND NOT list_contains(coalesce(i.junk_phones, []::VARCHAR[]), s.phone), false) AS sms_contactable,
       CAST($as_of_date AS DATE) AS as_of_date
FROM {survived} AS s
LEFT JOIN identifiers AS i USING (customer_id)
LEFT JOIN {traits} AS t USING (customer_id)
LEFT JOIN {consent} AS c USING (customer_id)
ORDER BY s.customer_id
