-- Every consent signal per channel: ESP status, SMS STOP/START, CRM flags, Shopify "Accepts Marketing".
CREATE OR REPLACE TABLE staging.consent_events AS
WITH esp AS (
    SELECT DISTINCT 'esp' AS source,
           coalesce(nullif(trim(leid), ''), std_email(email_address)) AS source_record_id,
           'email' AS channel,
           std_email(email_address) AS identifier,
           CASE lower(trim(status)) WHEN 'subscribed' THEN 'granted' ELSE 'revoked' END AS state,
           lower(trim(status)) AS reason,
           CASE lower(trim(status))
               WHEN 'unsubscribed' THEN coalesce(std_timestamp(unsub_time, 'UTC'), std_timestamp(last_changed, 'UTC'))
               WHEN 'cleaned' THEN coalesce(std_timestamp(clean_time, 'UTC'), std_timestamp(last_changed, 'UTC'))
               ELSE coalesce(std_timestamp(confirm_time, 'UTC'), std_timestamp(optin_time, 'UTC'),
                             std_timestamp(last_changed, 'UTC'))
           END AS event_time
    FROM raw.esp_members
    WHERE lower(trim(status)) IN ('subscribed', 'unsubscribed', 'cleaned')
),
sms AS (
    SELECT 'sms', source_record_id, 'sms', source_record_id,
           CASE keyword WHEN 'opt_out' THEN 'revoked' ELSE 'granted' END,
           CASE keyword WHEN 'opt_out' THEN 'sms_stop' ELSE 'sms_start' END,
           sent_at
    FROM staging.sms_messages
    WHERE keyword IN ('opt_out', 'opt_in')
),
crm_rows AS (
    SELECT DISTINCT trim(customer_id) AS customer_id, std_email(email) AS email, std_phone(phone, std_country(country)) AS phone,
           std_bool(consent_email) AS email_ok, std_bool(consent_sms) AS sms_ok,
           coalesce(std_timestamp(consent_updated_at, NULL), std_timestamp(updated_at, NULL)) AS changed_at
    FROM raw.crm_customers
    WHERE nullif(trim(customer_id), '') IS NOT NULL
),
crm AS (
    SELECT 'crm', customer_id, 'email', email, CASE WHEN email_ok THEN 'granted' ELSE 'revoked' END,
           CASE WHEN email_ok THEN 'crm_opt_in' ELSE 'crm_opt_out' END, changed_at
    FROM crm_rows WHERE email_ok IS NOT NULL AND email IS NOT NULL
    UNION ALL
    SELECT 'crm', customer_id, 'sms', phone, CASE WHEN sms_ok THEN 'granted' ELSE 'revoked' END,
           CASE WHEN sms_ok THEN 'crm_opt_in' ELSE 'crm_opt_out' END, changed_at
    FROM crm_rows WHERE sms_ok IS NOT NULL AND phone IS NOT NULL
),
shopify AS (
    -- Ticking "Accepts Marketing" at checkout is an implied opt-in; leaving it unticked withdraws nothing.
    SELECT 'pos', source_record_id, 'email', email, 'granted', 'accepts_marketing', ordered_at
    FROM staging.orders
    WHERE channel = 'online' AND accepts_marketing AND email IS NOT NULL
)
SELECT * FROM (
    SELECT * FROM esp UNION ALL SELECT * FROM sms UNION ALL SELECT * FROM crm UNION ALL SELECT * FROM shopify
)
WHERE identifier IS NOT NULL AND event_time IS NOT NULL
ORDER BY channel, identifier, event_time, source, reason, source_record_id
