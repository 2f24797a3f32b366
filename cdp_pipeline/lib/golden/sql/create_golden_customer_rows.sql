-- Assemble one golden row per customer: survived attributes with provenance, identifier lists, traits, consent and contactability (the consent ledger's rows of the golden email and phone) (update_golden_ranks then sets what is relative to every buyer or to the date).
-- A view: create_golden_customers stores it as golden.customers, create_golden_customers_temp as a temp table.
CREATE OR REPLACE TEMP VIEW _golden_customer_rows AS
-- a tick-box grant after a protected opt-out of the person (_email_before.p, _sms_before.p) is revoked
SELECT * EXCLUDE (_email_before, _sms_before) REPLACE (
    CASE WHEN coalesce(struct_extract(_email_before, 'p'), false) THEN 'revoked' ELSE email_consent END AS email_consent,
    CASE WHEN coalesce(struct_extract(_email_before, 'p'), false) THEN struct_extract(_email_before, 't')
         ELSE email_consent_at END AS email_consent_at,
    CASE WHEN coalesce(struct_extract(_email_before, 'p'), false) THEN struct_extract(_email_before, 'src')
         ELSE email_consent_source END AS email_consent_source,
    CASE WHEN coalesce(struct_extract(_sms_before, 'p'), false) THEN 'revoked' ELSE sms_consent END AS sms_consent,
    CASE WHEN coalesce(struct_extract(_sms_before, 'p'), false) THEN struct_extract(_sms_before, 't')
         ELSE sms_consent_at END AS sms_consent_at,
    CASE WHEN coalesce(struct_extract(_sms_before, 'p'), false) THEN struct_extract(_sms_before, 'src')
         ELSE sms_consent_source END AS sms_consent_source,
    email_contactable AND NOT coalesce(struct_extract(_email_before, 'p'), false) AS email_contactable,
    sms_contactable AND NOT coalesce(struct_extract(_sms_before, 'p'), false) AS sms_contactable
) FROM (
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
       -- One source of truth: consent is about an address or number, so a customer's consent is the
       -- consent ledger's row of their golden email and phone (golden.identifier_consent: every signal
       -- about it, whatever customer carries it, bounces and opt-outs dated after the cutoff included);
       -- unknown without an address/number or without a ledger row (no join on a NULL). One exception,
       -- read from the ledger's rows too (create_customer_consent_vetoes.sql, applied below): a row granted
       -- by a tick box alone does not lift the person's protected opt-out of another of their addresses
       -- made at or before it; the customer is then revoked, at that opt-out's time and source.
       -- So the columns, contactability, segments and the export gate read one answer.
       coalesce(le.consent, 'unknown') AS email_consent, le.event_at AS email_consent_at,
       le.source AS email_consent_source,
       coalesce(lp.consent, 'unknown') AS sms_consent, lp.event_at AS sms_consent_at,
       lp.source AS sms_consent_source,
       -- contactable: granted (never an address or number whose deciding signal is an opt-out, bounce,
       -- cleaning or STOP) and not junk
       coalesce(le.consent = 'granted' AND p.email IS NOT NULL
                AND NOT list_contains(coalesce(j.junk_emails, []::VARCHAR[]), p.email), false) AS email_contactable,
       coalesce(lp.consent = 'granted' AND p.phone IS NOT NULL
                AND NOT list_contains(coalesce(j.junk_phones, []::VARCHAR[]), p.phone), false) AS sms_contactable,
       CAST(NULL AS DATE) AS as_of_date,
       -- the latest explicit ledger row of the customer's addresses/numbers at or before a tick-box grant
       CASE WHEN le.consent = 'granted' AND list_contains(ve.implied, p.email)
            THEN list_last(list_filter(ve.explicit_rows, lambda x: x.t <= le.event_at)) END AS _email_before,
       CASE WHEN lp.consent = 'granted' AND list_contains(vp.implied, p.phone)
            THEN list_last(list_filter(vp.explicit_rows, lambda x: x.t <= lp.event_at)) END AS _sms_before
FROM {profiles} AS p
LEFT JOIN {traits} AS t USING (customer_id)
LEFT JOIN {junk} AS j USING (customer_id)
LEFT JOIN {ledger} AS le ON le.channel = 'email' AND le.identifier = p.email
LEFT JOIN {ledger} AS lp ON lp.channel = 'sms' AND lp.identifier = p.phone
LEFT JOIN {vetoes} AS ve ON ve.customer_id = p.customer_id AND ve.channel = 'email'
LEFT JOIN {vetoes} AS vp ON vp.customer_id = p.customer_id AND vp.channel = 'sms')
