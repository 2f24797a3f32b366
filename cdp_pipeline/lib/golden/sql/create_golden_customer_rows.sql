-- Assemble one golden row per customer: survived attributes with provenance, identifier lists, traits, consent and contactability (per customer and per identifier: the consent ledger) (update_golden_ranks then sets what is relative to every buyer or to the date).
-- A view: create_golden_customers stores it as golden.customers, create_golden_customers_temp as a temp table.
CREATE OR REPLACE TEMP VIEW _golden_customer_rows AS
SELECT p.customer_id,
       p.first_name, p.first_name_source, p.first_name_source_record_id,
       p.last_name, p.last_name_source, p.last_name_source_record_id,
       p.email, p.email_source, p.email_source_record_id,
       p.phone, p.phone_source, p.phone_source_record_id,
       p.street, p.street_source, p.street_source_record_id,
       p.postcode, p.postcode_source, p.postcode_source_record_id,
       p.city, p.city_source, p.city_source_record_id,
       p.country, p.country_source, p.country_source_record_id,
       p.birth_date, p.birth_date_source, p.birth_date_source_record_id,
       p.emails, p.phones, p.loyalty_card_ids, p.crm_customer_ids, p.web_user_ids, p.cookies, p.sources,
       p.record_count,
       t.first_seen, t.last_seen,
       t.orders_count, t.online_orders_count, t.store_orders_count,
       t.total_spend, t.online_spend, t.store_spend, t.average_order_value,
       t.first_order_at, t.last_order_at, CAST(NULL AS BIGINT) AS days_since_last_order,
       CAST(NULL AS BIGINT) AS rfm_recency, CAST(NULL AS BIGINT) AS rfm_frequency,
       CAST(NULL AS BIGINT) AS rfm_monetary, CAST(NULL AS VARCHAR) AS rfm_segment,
       t.preferred_store, t.preferred_channel,
       t.email_opens_30d, t.email_clicks_30d, t.email_opens_90d, t.email_clicks_90d,
       t.sms_received, t.sms_replied,
       t.web_sessions_30d, t.last_web_visit, t.last_add_to_cart_at, t.has_abandoned_cart,
       coalesce(c.email_consent, 'unknown') AS email_consent, c.email_consent_at, c.email_consent_source,
       coalesce(c.sms_consent, 'unknown') AS sms_consent, c.sms_consent_at, c.sms_consent_source,
       -- An address or number blocked in the consent ledger (its own latest signal is an opt-out, a
       -- bounce, a cleaning or a STOP, on whatever customer) is never contactable.
       coalesce(c.email_consent = 'granted' AND p.email IS NOT NULL
                AND NOT list_contains(coalesce(j.junk_emails, []::VARCHAR[]), p.email)
                AND NOT coalesce(le.blocked, false), false) AS email_contactable,
       coalesce(c.sms_consent = 'granted' AND p.phone IS NOT NULL
                AND NOT list_contains(coalesce(j.junk_phones, []::VARCHAR[]), p.phone)
                AND NOT coalesce(lp.blocked, false), false) AS sms_contactable,
       CAST(NULL AS DATE) AS as_of_date
FROM {profiles} AS p
LEFT JOIN {traits} AS t USING (customer_id)
LEFT JOIN {consent} AS c USING (customer_id)
LEFT JOIN {junk} AS j USING (customer_id)
LEFT JOIN {ledger} AS le ON le.channel = 'email' AND le.identifier = p.email
LEFT JOIN {ledger} AS lp ON lp.channel = 'sms' AND lp.identifier = p.phone
