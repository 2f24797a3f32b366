-- Every consent signal per channel: ESP status (a nonsubscribed member never opted in: no consent), Klaviyo's consent columns and suppressions, SMS STOP/START, CRM flags (and unsubscribed flags, and HubSpot's bounce and quarantine columns as 'bounce'), Shopify "Accepts Marketing".
-- An opt-out whose time cannot be read (an SMS STOP too) is dated by the day its file landed (it was true by then); a grant without a time is no grant.
-- Its rows as a view over temp.raw_<table> (the whole raw table, or the affected keys' rows:
-- lib/staging/incremental.py); insert_staging_rows.sql writes them.
CREATE OR REPLACE TEMP VIEW consent_events_rows AS
WITH esp_rows AS (
    SELECT coalesce(nullif(trim(leid), ''), nullif(trim(klaviyo_id), '')) AS leid, email_address, lower(trim(status)) AS status,
           unsub_time, clean_time, confirm_time, optin_time, last_changed, CAST(_landing_date AS TIMESTAMP) AS landed
    FROM temp.raw_esp_members
    WHERE lower(trim(status)) IN ('subscribed', 'unsubscribed', 'cleaned', 'nonsubscribed')
),
klaviyo_rows AS (
    -- A Klaviyo export has no status: Email/SMS Marketing Consent (SUBSCRIBED, UNSUBSCRIBED,
    -- NEVER_SUBSCRIBED, SUPPRESSED) when exported, else the channels listed in Consent (a
    -- channel not listed was not consented to), else Shopify's Accepts Marketing for e-mail.
    SELECT coalesce(nullif(trim(klaviyo_id), ''), std_email(email_address)) AS member_key, email_address,
           phone, coalesce(nullif(trim(cc), ''), country) AS country,
           upper(nullif(trim(email_marketing_consent), '')) AS email_status,
           upper(nullif(trim(sms_marketing_consent), '')) AS sms_status,
           CASE WHEN nullif(trim(consent), '') IS NOT NULL
                THEN regexp_matches(lower(consent), '\bemail\b') END AS consent_lists_email,
           CASE WHEN nullif(trim(consent), '') IS NOT NULL
                THEN regexp_matches(lower(consent), '\bsms\b') END AS consent_lists_sms,
           std_bool(accepts_marketing) AS accepts_marketing,
           std_timestamp(email_marketing_consent_timestamp, 'UTC') AS email_time,
           std_timestamp(date_added, 'UTC') AS added_time,  -- joining the list: a grant's time, never a revocation's
           std_timestamp(sms_consent_timestamp, 'UTC') AS sms_time,
           -- Email Suppressions ([UNSUBSCRIBE], [HARD_BOUNCE, SPAM_REPORT]): Klaviyo sends nothing
           -- to a suppressed address whatever its consent, so any reason listed revokes; an empty
           -- list (or a word meaning none) suppresses nothing. A row loaded before the column was
           -- read has it in _extra under Klaviyo's header.
           coalesce(nullif(trim(email_suppressions), ''), _extra ->> '$."Email Suppressions"') AS suppressions,
           CASE WHEN nullif(trim(suppressions), '') IS NOT NULL
                THEN len(list_filter(regexp_extract_all(upper(suppressions), '[A-Z_]+'),
                                     lambda w: w NOT IN ('NONE', 'NULL', 'FALSE', 'NO'))) > 0 END AS suppressed,
           CAST(_landing_date AS TIMESTAMP) AS landed
    FROM temp.raw_esp_members
    WHERE nullif(trim(klaviyo_id), '') IS NOT NULL AND nullif(trim(status), '') IS NULL
),
crm_raw AS (
    SELECT coalesce(nullif(trim(ltrim(trim(customer_id), '''')), ''), 'email:' || std_email(email)) AS customer_id,
           email, phone, country, consent_email, consent_sms,
           -- an opt-out flag (HubSpot "Unsubscribed from all email", Square "Email Unsubscribed"):
           -- true opts out; false ("not unsubscribed") grants nothing. Unsubscribed/Subscribed as
           -- words say the state itself (std_bool would read them as a consent flag, inverted).
           -- A row loaded before the column was read has the flag in _extra under the vendor's header.
           coalesce(nullif(trim(email_unsubscribed), ''), _extra ->> '$."Unsubscribed from all email"',
                    _extra ->> '$."Email Unsubscribed"') AS unsubscribed_text,
           CASE lower(trim(unsubscribed_text)) WHEN 'unsubscribed' THEN true WHEN 'subscribed' THEN false
                ELSE std_bool(unsubscribed_text) END AS email_unsubscribed,
           -- HubSpot will not send to the address: it hard-bounced (a reason is set), it is
           -- quarantined, or HubSpot marked it invalid. Not the person's opt-out: a 'bounce',
           -- as an ESP bounce (docs/sources.md). The count "Marketing emails bounced" is not
           -- read: it counts soft bounces too and never goes down. Rows loaded before the
           -- columns were read have them in _extra under HubSpot's headers.
           -- (the CASE reads them only on a row that has one of them: a CRM extract has none)
           CASE WHEN email_hard_bounce_reason IS NOT NULL OR email_quarantined IS NOT NULL OR email_invalid IS NOT NULL
                     OR _extra IS NOT NULL
                THEN coalesce(nullif(trim(coalesce(email_hard_bounce_reason,
                                                   _extra ->> '$."Email hard bounce reason"')), '') IS NOT NULL
                              OR std_bool(coalesce(email_quarantined, _extra ->> '$."Email Address Quarantined"'))
                              OR std_bool(coalesce(email_invalid, _extra ->> '$."Invalid email address"')), false)
                ELSE false END AS email_bounced,
           consent_updated_at, updated_at, CAST(_landing_date AS TIMESTAMP) AS landed
    FROM temp.raw_crm_customers
),
-- The standardisation functions are Python: each distinct address and number is read once
-- and joined back (a person's address is on their ESP and CRM rows, and on every CRM version).
-- MATERIALIZED keeps DuckDB from pushing filters on the results down to every row.
emails AS MATERIALIZED (
    SELECT raw_email, std_email(raw_email) AS email
    FROM (SELECT email_address AS raw_email FROM esp_rows UNION SELECT email FROM crm_raw
          UNION SELECT email_address FROM klaviyo_rows)
    WHERE raw_email IS NOT NULL
),
phone_pairs AS MATERIALIZED (
    SELECT phone AS raw_phone, country AS raw_country FROM crm_raw WHERE phone IS NOT NULL
    UNION SELECT phone, country FROM klaviyo_rows WHERE phone IS NOT NULL
),
-- a number is read in its row's country: each distinct country read once (a few values over
-- every pair), not once per pair
countries AS MATERIALIZED (
    SELECT raw_country, std_country(raw_country) AS hint
    FROM (SELECT DISTINCT raw_country FROM phone_pairs WHERE raw_country IS NOT NULL)
),
phones AS MATERIALIZED (
    -- read in the step before (add_consent_phones.sql): joined from staging.phone_lookup; the
    -- function reads only a pair the lookup lacks (none, after that step)
    SELECT d.raw_phone, d.raw_country,
           CASE WHEN l.phone_text IS NULL THEN std_phone(d.raw_phone, d.hint) ELSE l.phone END AS phone
    FROM (SELECT raw_phone, raw_country, hint, phone_text, std_phone_country(phone_text, hint) AS key_country
          FROM (SELECT p.raw_phone, p.raw_country, c.hint, std_phone_text(p.raw_phone) AS phone_text
                FROM phone_pairs p LEFT JOIN countries c USING (raw_country))) d
    LEFT JOIN staging.phone_lookup l ON l.phone_text = d.phone_text AND l.country IS NOT DISTINCT FROM d.key_country
),
esp AS (
    SELECT DISTINCT 'esp' AS source,
           coalesce(r.leid, e.email) AS source_record_id,
           'email' AS channel,
           e.email AS identifier,
           CASE r.status WHEN 'subscribed' THEN 'granted' ELSE 'revoked' END AS state,
           r.status AS reason,
           CASE r.status
               WHEN 'unsubscribed' THEN coalesce(std_timestamp(unsub_time, 'UTC'), std_timestamp(last_changed, 'UTC'), landed)
               WHEN 'cleaned' THEN coalesce(std_timestamp(clean_time, 'UTC'), std_timestamp(last_changed, 'UTC'), landed)
               WHEN 'nonsubscribed' THEN coalesce(std_timestamp(last_changed, 'UTC'), std_timestamp(optin_time, 'UTC'), landed)
               ELSE coalesce(std_timestamp(confirm_time, 'UTC'), std_timestamp(optin_time, 'UTC'),
                             std_timestamp(last_changed, 'UTC'))
           END AS event_time
    FROM esp_rows r
    LEFT JOIN emails e ON e.raw_email = r.email_address
),
klaviyo_states AS (
    SELECT k.member_key, e.email, p.phone, k.landed, k.suppressed,
           CASE WHEN k.email_status = 'SUBSCRIBED' THEN true
                WHEN k.email_status IN ('UNSUBSCRIBED', 'NEVER_SUBSCRIBED', 'SUPPRESSED') THEN false
                ELSE coalesce(k.consent_lists_email, k.accepts_marketing) END AS email_ok,
           CASE WHEN k.email_status IS NOT NULL THEN 'klaviyo_' || lower(k.email_status)
                WHEN k.consent_lists_email IS NOT NULL THEN 'klaviyo_consent'
                ELSE 'accepts_marketing' END AS email_reason,
           k.email_time, k.added_time,
           CASE WHEN k.sms_status = 'SUBSCRIBED' THEN true
                WHEN k.sms_status IN ('UNSUBSCRIBED', 'NEVER_SUBSCRIBED', 'SUPPRESSED') THEN false
                ELSE k.consent_lists_sms END AS sms_ok,
           CASE WHEN k.sms_status IS NOT NULL THEN 'klaviyo_' || lower(k.sms_status) ELSE 'klaviyo_consent' END AS sms_reason,
           k.sms_time
    FROM klaviyo_rows k
    LEFT JOIN emails e ON e.raw_email = k.email_address
    LEFT JOIN phones p ON p.raw_phone = k.phone AND p.raw_country IS NOT DISTINCT FROM k.country
),
klaviyo AS (
    SELECT DISTINCT 'esp', member_key, 'email', email, CASE WHEN email_ok THEN 'granted' ELSE 'revoked' END,
           email_reason, CASE WHEN email_ok THEN coalesce(email_time, added_time) ELSE coalesce(email_time, landed) END
    FROM klaviyo_states WHERE email_ok IS NOT NULL
    UNION ALL
    SELECT DISTINCT 'esp', member_key, 'sms', phone, CASE WHEN sms_ok THEN 'granted' ELSE 'revoked' END,
           sms_reason, CASE WHEN sms_ok THEN sms_time ELSE coalesce(sms_time, landed) END
    FROM klaviyo_states WHERE sms_ok IS NOT NULL
    UNION ALL
    -- a suppression has no time in the export: true by the landing day, and never older than the
    -- row's own consent time (a SUBSCRIBED row that is suppressed is not contactable)
    SELECT DISTINCT 'esp', member_key, 'email', email, 'revoked', 'klaviyo_suppression', greatest(landed, email_time)
    FROM klaviyo_states WHERE suppressed
),
sms AS (
    SELECT 'sms', source_record_id, 'sms', source_record_id,
           CASE keyword WHEN 'opt_out' THEN 'revoked' ELSE 'granted' END,
           CASE keyword WHEN 'opt_out' THEN 'sms_stop' ELSE 'sms_start' END,
           -- a STOP whose time cannot be read is dated by the day its message landed, as an ESP or
           -- CRM opt-out without a time is (dropped for want of a time, the number stayed contactable)
           coalesce(sent_at, CASE WHEN keyword = 'opt_out' THEN CAST(landing_date AS TIMESTAMP) END)
    FROM staging.sms_messages
    -- STOP on WhatsApp is about WhatsApp, START there grants no SMS consent (docs/sources.md)
    WHERE keyword IN ('opt_out', 'opt_in') AND channel = 'sms'
),
crm_hours AS MATERIALIZED (
    -- a CRM time's UTC offset once per local hour (49k hours of the 1M sample's 211k versions),
    -- joined to the times, not read by the Python once per batch of rows (as
    -- create_identity_records_located.sql; std_timestamp_at_offset in macros.sql)
    SELECT hour, std_utc_offset_py(hour, NULL) AS utc_offset
    FROM (SELECT std_local_hour(consent_updated_at) AS hour FROM temp.raw_crm_customers
          UNION SELECT std_local_hour(updated_at) FROM temp.raw_crm_customers)
    WHERE hour IS NOT NULL
),
crm_rows AS (
    SELECT DISTINCT c.customer_id, e.email, p.phone,
           -- an unsubscribed flag wins over the row's own consent field
           CASE WHEN c.email_unsubscribed THEN false ELSE std_bool(c.consent_email) END AS email_ok,
           coalesce(c.email_unsubscribed, false) AS email_unsubscribed, std_bool(c.consent_sms) AS sms_ok,
           coalesce(std_timestamp_at_offset(c.consent_updated_at, NULL, hc.utc_offset),
                    std_timestamp_at_offset(c.updated_at, NULL, hu.utc_offset)) AS changed_at,
           -- only when there is no time (else every delivery of a version would be an event of its own)
           CASE WHEN changed_at IS NULL THEN c.landed END AS landed
    FROM crm_raw c
    LEFT JOIN emails e ON e.raw_email = c.email
    LEFT JOIN phones p ON p.raw_phone = c.phone AND p.raw_country IS NOT DISTINCT FROM c.country
    LEFT JOIN crm_hours hc ON hc.hour = std_local_hour(c.consent_updated_at)
    LEFT JOIN crm_hours hu ON hu.hour = std_local_hour(c.updated_at)
),
crm_bounces AS (
    -- HubSpot gives no bounce time: true by the day the file landed (one event per delivery that
    -- still says so, as an undated opt-out)
    SELECT DISTINCT c.customer_id, e.email, c.landed
    FROM crm_raw c
    JOIN emails e ON e.raw_email = c.email
    WHERE c.email_bounced
),
crm AS (
    SELECT 'crm', customer_id, 'email', email, CASE WHEN email_ok THEN 'granted' ELSE 'revoked' END,
           CASE WHEN email_unsubscribed THEN 'crm_unsubscribed' WHEN email_ok THEN 'crm_opt_in' ELSE 'crm_opt_out' END,
           coalesce(changed_at, CASE WHEN NOT email_ok THEN landed END)
    FROM crm_rows WHERE email_ok IS NOT NULL AND email IS NOT NULL
    UNION ALL
    -- an address HubSpot will not send to: reason 'bounce' (blocks the address in the ledger,
    -- golden.identifier_consent, which a customer's consent columns read)
    SELECT 'crm', customer_id, 'email', email, 'revoked', 'bounce', landed
    FROM crm_bounces WHERE email IS NOT NULL
    UNION ALL
    SELECT 'crm', customer_id, 'sms', phone, CASE WHEN sms_ok THEN 'granted' ELSE 'revoked' END,
           CASE WHEN sms_ok THEN 'crm_opt_in' ELSE 'crm_opt_out' END,
           coalesce(changed_at, CASE WHEN NOT sms_ok THEN landed END)
    FROM crm_rows WHERE sms_ok IS NOT NULL AND phone IS NOT NULL
),
shopify AS (
    -- Ticking "Accepts Marketing" at checkout is an implied opt-in; leaving it unticked withdraws nothing.
    SELECT 'pos', source_record_id, 'email', email, 'granted', 'accepts_marketing', ordered_at
    FROM staging.orders
    WHERE channel = 'online' AND accepts_marketing AND email IS NOT NULL
)
SELECT * FROM (
    SELECT * FROM esp UNION ALL SELECT * FROM klaviyo UNION ALL SELECT * FROM sms UNION ALL SELECT * FROM crm
    UNION ALL SELECT * FROM shopify
)
WHERE identifier IS NOT NULL AND event_time IS NOT NULL
