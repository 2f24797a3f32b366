-- Identifiers golden.customers allows a destination to receive, in every export form (own SQL, not the
-- exporter's), of the kinds the consent check compares export files with ($kinds): temp table {table}.
CREATE OR REPLACE TEMP TABLE {table} AS
WITH eligible AS (
    SELECT * FROM golden.customers
    WHERE (NOT $need_email OR coalesce(email_contactable, false))
      AND (NOT $need_sms OR coalesce(sms_contactable, false))
),
identifiers AS (
    SELECT 'email' AS identifier_kind, lower(trim(email)) AS value FROM eligible WHERE email_contactable AND email IS NOT NULL
    UNION ALL
    SELECT 'email_sha256', sha256(lower(trim(email))) FROM eligible WHERE email_contactable AND email IS NOT NULL
    UNION ALL
    SELECT 'phone', phone FROM eligible WHERE sms_contactable AND phone IS NOT NULL
    UNION ALL
    SELECT 'meta_phone_sha256', sha256(ltrim(phone, '+')) FROM eligible WHERE sms_contactable AND phone IS NOT NULL
    UNION ALL
    SELECT 'google_phone_sha256', sha256(phone) FROM eligible WHERE sms_contactable AND phone IS NOT NULL
    UNION ALL
    SELECT 'loyalty_card_id', unnest(loyalty_card_ids) FROM eligible WHERE loyalty_card_ids IS NOT NULL
)
SELECT identifier_kind, value FROM identifiers WHERE list_contains($kinds::VARCHAR[], identifier_kind)
