-- Identifiers golden.customers allows a destination to receive, in every export form (own SQL, not the
-- exporter's), of the kinds the consent check compares export files with ($kinds): temp table {table}.
-- An address or number blocked in the consent ledger (golden.identifier_consent) is never allowed,
-- whatever golden.customers says of its customer: a row that bypasses the rule fails the check.
-- Identifiers are taken in the one form the exporter writes them in (export_email, export_strip:
-- lib/activation/identifiers.py), so a card golden holds as '\t4242' is allowed as the '4242' exported.
CREATE OR REPLACE TEMP TABLE {table} AS
WITH blocked AS (
    SELECT channel, identifier FROM golden.identifier_consent WHERE blocked
),
customers AS (
    SELECT * REPLACE (
               coalesce(email_contactable, false)
                   AND coalesce(export_email(email) NOT IN (SELECT identifier FROM blocked WHERE channel = 'email'), true)
                   AS email_contactable,
               coalesce(sms_contactable, false)
                   AND coalesce(export_strip(phone) NOT IN (SELECT identifier FROM blocked WHERE channel = 'sms'), true)
                   AS sms_contactable)
    FROM golden.customers
),
eligible AS (
    SELECT * FROM customers
    WHERE (NOT $need_email OR email_contactable)
      AND (NOT $need_sms OR sms_contactable)
),
identifiers AS (
    SELECT 'email' AS identifier_kind, export_email(email) AS value FROM eligible WHERE email_contactable AND email IS NOT NULL
    UNION ALL
    SELECT 'email_sha256', sha256(export_email(email)) FROM eligible WHERE email_contactable AND email IS NOT NULL
    UNION ALL
    SELECT 'phone', export_strip(phone) FROM eligible WHERE sms_contactable AND phone IS NOT NULL
    UNION ALL
    SELECT 'meta_phone_sha256', sha256(ltrim(export_strip(phone), '+')) FROM eligible WHERE sms_contactable AND phone IS NOT NULL
    UNION ALL
    SELECT 'google_phone_sha256', sha256(export_strip(phone)) FROM eligible WHERE sms_contactable AND phone IS NOT NULL
    UNION ALL
    SELECT 'loyalty_card_id', export_strip(unnest(loyalty_card_ids)) FROM eligible WHERE loyalty_card_ids IS NOT NULL
)
SELECT identifier_kind, value FROM identifiers WHERE list_contains($kinds::VARCHAR[], identifier_kind)
